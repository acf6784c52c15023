"""Exact early termination for wide OR queries (MaxScore, term at a time).

Stock Whoosh prunes document at a time: its top-N collector, walking the matcher tree,
skips blocks of postings whose quality (best possible score) cannot enter the top N, and
then cannot count the matches, which our totals and facets need. The term-at-a-time executor
(:mod:`search.whoosh_ext.execution`) has no matcher tree, so it prunes by terms instead.

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
of them as the query matches up to ``limit``. ``tests/test_whoosh_ext_pruning.py``
compares it with the unpruned executor and with Whoosh's collector. Negative boosts (which
would break the bounds) and shapes other than an OR at the root (or an AND NOT of one) are
evaluated unpruned.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from typing import TYPE_CHECKING, Any

import numpy as np
from whoosh import query as wq
from whoosh.util.numeric import length_to_byte

from search.whoosh_ext.execution import BOUND_MARGIN, PRUNE_MIN_POSTINGS, Unsupported, _merge

#: Checks whether pruning can start, at most, per query (each is a pass over the scores).
MAX_CHECKS = 4

if TYPE_CHECKING:
    from search.whoosh_ext.execution import Executor

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
        bound = term_bound(ex, term)
        if bound is not None:
            units.append((bound[0] * weight, bound[1], term, weight))
    units.sort(key=lambda u: -u[0])
    rest = [0.0] * (len(units) + 1)  # rest[k]: the sum of the bounds of units k, k+1, ...
    left = [0] * (len(units) + 1)  # left[k]: their postings
    for k in range(len(units) - 1, -1, -1):
        rest[k] = rest[k + 1] + units[k][0]
        left[k] = left[k + 1] + units[k][1]
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
    checks = 0
    for k, (_bound, postings, term, weight) in enumerate(units):
        if (candidates is None and checks < MAX_CHECKS and postings >= PRUNE_MIN_POSTINGS
                and acc and left[k] * 2 >= len(acc)):
            # Worth checking: the rest costs more to score than the check (a pass over acc).
            checks += 1
            found = _candidates(acc, limit, rest[k], blocked, required)
            if found is not None:
                threshold, candidates = found
        if candidates is None:
            ex._add_term(term, acc, weight, leaves)
            continue
        add_candidates(ex, term, weight, acc, candidates, others, leaves)
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


def _candidates(acc: dict[int, float], limit: int, reach: float, blocked: set[int],
                required: list[Any]) -> tuple[float, list[int]] | None:
    """``(threshold, candidates)`` when no document outside ``acc`` can reach the top any
    more: the ``limit``-th best score among the documents ``acc`` holds that may be shown,
    and those of them (sorted) that may still reach it, scoring at most ``reach`` more."""
    margin = reach * (1 + BOUND_MARGIN)
    if max(acc.values()) <= margin:
        return None  # cheap: not even the best document is out of reach
    docs = np.fromiter(acc.keys(), dtype=np.int64, count=len(acc))
    scores = np.fromiter(acc.values(), dtype=np.float64, count=len(acc))
    if blocked or required:
        keep = np.fromiter((_allowed(d, blocked, required) for d in acc), dtype=bool,
                           count=len(acc))
        docs, scores = docs[keep], scores[keep]
    if len(scores) < limit:
        return None
    theta = float(np.partition(scores, len(scores) - limit)[len(scores) - limit])
    if not margin < theta:
        return None
    chosen = np.sort(docs[scores + reach >= theta])
    return theta, chosen.tolist()


def term_bound(ex: Executor, q: wq.Term) -> tuple[float, int] | None:
    """An upper bound of the term's unboosted score in any document, and how many
    postings it has (None: it matches nothing here).

    From the term info of each segment: BM25 grows with the term's frequency and shrinks
    with the field's length, so the highest frequency and the shortest length of any
    document holding it bound every score (exactly the largest score once the term's
    scores are cached).
    """
    found = ex._scorable_term(q)
    if found is None:
        return None
    key, _fieldobj, cached = found
    if cached is not None:
        if key not in ex._maxima:
            ex._maxima[key] = max(cached[1]) if cached[1] else 0.0
        return ex._maxima[key], len(cached[0])
    infos = ex._term_infos(key)
    if not infos:
        return None
    idf, b, k1, avgfl = ex._parameters(ex.searcher, *key)
    if idf < 0:
        raise Unsupported
    norm = ex._norm(b, k1, avgfl)
    bound = 0.0
    for _index, info in infos:
        tf = info.max_weight()
        shortest = norm[length_to_byte(info.min_length())]
        bound = max(bound, idf * ((tf * (k1 + 1)) / (tf + shortest)))
    return bound * (1 + BOUND_MARGIN), sum(info.doc_frequency() for _i, info in infos)


def add_candidates(ex: Executor, q: wq.Term, boost: float, acc: dict[int, float],
                   candidates: list[int], others: set[int], leaves: dict | None) -> None:
    """Add the term's scores (times ``boost``) to the ``candidates`` (sorted docnums)
    only; every document it matches goes into ``others``, unscored (for the total and
    the facets). The scores are those :meth:`Executor._add_term` would add, to the last bit."""
    found = ex._term_key(q)
    if found is None:
        return
    ex.pruned_terms += 1
    scored = ex._term_scores(q)  # read and cached as in full: later queries reuse it
    if scored is None:
        return
    ids, scores = scored
    others.update(ids)
    if len(candidates) * 8 < len(ids):  # few candidates: find each by bisection
        n = len(ids)
        for docnum in candidates:
            j = bisect_left(ids, docnum)
            if j < n and ids[j] == docnum:
                sc = scores[j]
                acc[docnum] += sc if boost == 1.0 else sc * boost
    else:
        wanted = set(candidates)
        for docnum, sc in zip(ids, scores, strict=True):
            if docnum in wanted:
                acc[docnum] += sc if boost == 1.0 else sc * boost
    if leaves is not None:
        ex._note_leaf(q, ids, leaves)
