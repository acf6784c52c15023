"""Exact early termination for wide OR queries (MaxScore, term at a time).

A long query (a pasted paragraph) searches every word in six fields, and a query at 200,000
documents has frequent words with a hundred thousand postings each; scoring every posting is
what such queries cost. Yet once the rarest terms have been scored, the frequent ones rarely
change the top documents: each adds at most its *upper bound* (BM25 with the term's highest
frequency and shortest field length, from Whoosh's term info) to a document's score.

So the terms of the query's OR are scored one at a time, highest bound first. When the sum of
the bounds of the terms still to come is below the score of the ``limit``-th document so far
(the threshold), no document outside the accumulator can reach the top any more, nor can one
inside it whose score plus that sum stays below the threshold. From then on the remaining
terms only add their scores to the few documents that still can (the candidates, found in
each block of postings by bisection); the documents they match are still collected, unscored,
so the total and the facets stay exact.

The result is the same as scoring everything: the same documents in the same order with the
same scores (only sums may differ in the last bit, from the order of addition), and as many
of them as the query matches up to ``limit``. ``tests/test_execution.py`` compares it with the
unpruned executor and with Whoosh's collector. Negative boosts (which would break the bounds)
and shapes other than an OR at the root (or an AND NOT of one) are evaluated unpruned.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

from whoosh import query as wq

from search.execution import BOUND_MARGIN, PRUNE_MIN_POSTINGS, _merge

if TYPE_CHECKING:
    from search.execution import Executor

__all__ = ["eval_pruned"]


def eval_pruned(ex: Executor, q: wq.Query, leaves: dict | None, limit: int,
                filters: list[tuple[str, str]]
                ) -> tuple[dict[int, float], set[int]] | None:
    """``(scores, others)`` for ``q``: exact scores for every document that can be among the
    top ``limit`` (partial ones, lower, for some others), and a set of further documents it
    matches, unscored. None when pruning cannot apply: the caller evaluates ``q`` in full.
    """
    if limit <= 0 or not _nonnegative(q):
        return None
    excluded: wq.Query | None = None
    root = q
    if type(root) is wq.AndNot:
        excluded, root = root.b, root.a
    if type(root) is not wq.Or or root.minmatch or root.scale:
        return None
    boost = q.boost if excluded is not None else 1.0
    terms: list[tuple[wq.Term, float]] = []
    opaque: list[tuple[wq.Query, float]] = []
    _flatten(root, boost, terms, opaque)
    if len(terms) < 2:
        return None
    units = []
    for term, weight in terms:
        bound = ex.term_bound(term)
        if bound is not None:
            units.append((bound[0] * weight, bound[1], term, weight))
    units.sort(key=lambda u: -u[0])
    rest = [0.0] * (len(units) + 1)  # rest[k]: the sum of the bounds of units k, k+1, ...
    for k in range(len(units) - 1, -1, -1):
        rest[k] = rest[k + 1] + units[k][0]
    excluded_ids = ex._ids(excluded) if excluded is not None else set()
    blocked = excluded_ids.union(ex.deleted())
    required = [ex.docset(name, value) for name, value in filters]

    acc: dict[int, float] = {}
    for sub, weight in opaque:  # nested shapes (AND NOT of translations...): in full
        part = ex._eval(sub, leaves)
        _merge(acc, part if weight == 1.0 else {d: s * weight for d, s in part.items()})
    others: set[int] = set()
    candidates: list[int] | None = None
    threshold = 0.0
    for k, (_bound, postings, term, weight) in enumerate(units):
        if candidates is None and postings >= PRUNE_MIN_POSTINGS and acc:
            # Worth checking: this term and the rest cost more to score than the check.
            theta = _threshold(acc, limit, rest[k], blocked, required)
            if theta is not None:
                threshold = theta
                reach = rest[k]
                candidates = sorted(d for d, s in acc.items()
                                    if s + reach >= threshold
                                    and _allowed(d, blocked, required))
        if candidates is None:
            ex._add_term(term, acc, weight, leaves)
            continue
        ex.add_candidates(term, weight, acc, candidates, others, leaves)
        if len(candidates) > limit:
            threshold = max(threshold, heapq.nlargest(limit, map(acc.__getitem__,
                                                                 candidates))[-1])
            reach = rest[k + 1]
            candidates = [d for d in candidates if acc[d] + reach >= threshold]
    for docnum in excluded_ids:  # (deleted documents are left to the caller)
        acc.pop(docnum, None)
    others.difference_update(excluded_ids)
    return acc, others


def _flatten(q: wq.Or, boost: float, terms: list[tuple[wq.Term, float]],
             opaque: list[tuple[wq.Query, float]]) -> None:
    """The OR's children as (term, weight) and (other query, weight), nested ORs opened,
    each weight as :meth:`Executor._eval_or` applies it."""
    subs = q.subqueries
    if len(subs) == 1:  # as Whoosh: a lone child ignores its parent's boost
        sub = subs[0]
        if type(sub) is wq.Term:
            terms.append((sub, sub.boost * boost))
        elif type(sub) is wq.Or and not sub.minmatch and not sub.scale:
            _flatten(sub, boost, terms, opaque)
        else:
            opaque.append((sub, boost))
        return
    inner = q.boost * boost
    for sub in subs:
        if type(sub) is wq.Term:
            terms.append((sub, sub.boost * inner))
        elif type(sub) is wq.Or and not sub.minmatch and not sub.scale:
            _flatten(sub, inner, terms, opaque)
        elif sub is wq.NullQuery or isinstance(sub, type(wq.NullQuery)):
            continue
        else:
            opaque.append((sub, inner))


def _nonnegative(q: wq.Query) -> bool:
    """Whether no boost in ``q`` is negative (a bound on a sum needs every part >= 0)."""
    if getattr(q, "boost", 1.0) < 0:
        return False
    return all(_nonnegative(c) for c in q.children())


def _allowed(docnum: int, blocked: set[int], required: list[Any]) -> bool:
    return docnum not in blocked and all(docnum in s for s in required)


def _threshold(acc: dict[int, float], limit: int, reach: float, blocked: set[int],
               required: list[Any]) -> float | None:
    """The ``limit``-th best score among the documents ``acc`` holds that may be shown, if
    no document scoring at most ``reach`` more can reach it any more; else None."""
    if max(acc.values()) <= reach * (1 + BOUND_MARGIN):
        return None  # cheap: not even the best document is out of reach
    if blocked or required:
        values: Any = [s for d, s in acc.items() if _allowed(d, blocked, required)]
    else:
        values = acc.values()
    if len(values) < limit:
        return None
    theta = heapq.nlargest(limit, values)[-1]
    return theta if reach * (1 + BOUND_MARGIN) < theta else None
