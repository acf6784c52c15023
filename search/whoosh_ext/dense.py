"""Query evaluation into dense score arrays (numpy), for large indexes.

The executor's dictionaries of document scores cost a Python step per posting; at 200,000
documents a frequent word has a hundred thousand postings in each of its fields, and a long
query has hundreds of terms. Here every clause's result is a pair of arrays over all document
numbers (scores, and whether the document matched), and a term's scores are added to them
in one vectorised step. The arithmetic is the executor's, operation for operation (a term's
score times its boost, added in the same order), so the scores are the same to the last bit;
``tests/test_execution.py`` compares both with Whoosh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from whoosh import query as wq

from search.whoosh_ext.execution import FACETS, Matches, Unsupported

if TYPE_CHECKING:
    from search.whoosh_ext.execution import Executor

__all__ = ["DENSE_MIN_DOCS", "run_dense"]

#: Indexes with at least this many documents (deleted ones included) are evaluated densely:
#: below it, the arrays cost more to clear than the dictionaries' Python steps.
DENSE_MIN_DOCS = 20_000

Dense = tuple[np.ndarray, np.ndarray]  # (scores float64, matched bool), one per docnum


def run_dense(ex: Executor, q: wq.Query, limit: int, filters: list[tuple[str, str]],
              leaves: dict) -> Matches:
    """As :meth:`Executor.run` (which calls it), on arrays; raises Unsupported likewise."""
    n = ex.searcher.doc_count_all()
    scores, matched = _eval(ex, q, leaves, n)
    deleted = ex.deleted()
    if deleted:
        matched[np.fromiter(deleted, dtype=np.int64, count=len(deleted))] = False
    for name, value in filters:
        matched &= _mask(ex, name, value, n)
    docs = np.flatnonzero(matched)
    facets = {}
    for name in FACETS:
        values, codes = ex._facet_codes(name)
        codes_np = np.frombuffer(codes, dtype=np.uint8 if isinstance(codes, bytearray)
                                 else np.uint32)
        counts = np.bincount(codes_np[docs], minlength=len(values))
        pairs = [(values[code], int(c)) for code, c in enumerate(counts.tolist()) if code and c]
        facets[name] = dict(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))
    top: list[tuple[int, float]] = []
    if limit > 0 and len(docs):
        values_ = scores[docs]
        if limit < len(docs):  # as execution._top: the cut-off, then the tie-break
            cutoff = np.partition(values_, len(docs) - limit)[len(docs) - limit]
            keep = values_ >= cutoff
            docs, values_ = docs[keep], values_[keep]
        top = sorted(zip(docs.tolist(), values_.tolist(), strict=True),
                     key=lambda item: (-item[1], item[0]))[:limit]
    return Matches(total=len(np.flatnonzero(matched)), facets=facets, top=top,
                   _leaves={k: v for k, v in leaves.items() if v})


def _mask(ex: Executor, name: str, value: str, n: int) -> np.ndarray:
    key = ("dense", name, value)
    cache: dict[Any, np.ndarray] = ex.__dict__.setdefault("_dense_masks", {})
    if key not in cache:
        if len(cache) > 64:
            cache.clear()
        ids = ex.docset(name, value)
        mask = np.zeros(n, dtype=bool)
        mask[np.fromiter(ids, dtype=np.int64, count=len(ids))] = True
        cache[key] = mask
    return cache[key].copy()


def _empty(n: int) -> Dense:
    return np.zeros(n, dtype=np.float64), np.zeros(n, dtype=bool)


def _add_term(ex: Executor, q: wq.Term, into: Dense, boost: float, leaves: dict) -> None:
    scored = ex._term_scores(q)
    if scored is None:
        return
    ids, scores = scored
    idx = np.frombuffer(ids, dtype=np.uint32)
    values = np.frombuffer(scores, dtype=np.float64)
    if boost != 1.0:
        values = values * boost
    into[0][idx] += values
    into[1][idx] = True
    ex._note_leaf(q, ids, leaves)


def _eval(ex: Executor, q: wq.Query, leaves: dict, n: int) -> Dense:
    """As :meth:`Executor._eval`, clause by clause."""
    if isinstance(q, wq.Term):
        out = _empty(n)
        _add_term(ex, q, out, q.boost, leaves)
        return out
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        return _empty(n)
    if type(q) is wq.Or:
        if q.minmatch or q.scale:
            raise Unsupported
        subs = q.subqueries
        if len(subs) == 1:
            return _eval(ex, subs[0], leaves, n)
        out = _empty(n)
        for sub in subs:
            if type(sub) is wq.Term:
                _add_term(ex, sub, out, sub.boost * q.boost, leaves)
                continue
            scores, matched = _eval(ex, sub, leaves, n)
            if q.boost != 1.0:
                scores *= q.boost
            out[0][:] += scores
            out[1][:] |= matched
        return out
    if type(q) is wq.And:
        subs = q.subqueries
        if any(isinstance(s, wq.Not) for s in subs):
            raise Unsupported
        if len(subs) == 1:
            return _eval(ex, subs[0], leaves, n)
        parts = sorted((_eval(ex, s, leaves, n) for s in subs),
                       key=lambda p: int(np.count_nonzero(p[1])))
        scores, matched = parts[0]
        for part_scores, part_matched in parts[1:]:
            matched = matched & part_matched
            scores = np.where(matched, scores + part_scores, 0.0)
        return _boosted(scores, q.boost), matched
    if type(q) is wq.AndNot:
        scores, matched = _eval(ex, q.a, leaves, n)
        if matched.any():
            excluded = ex._ids(q.b)
            if excluded:
                idx = np.fromiter(excluded, dtype=np.int64, count=len(excluded))
                matched[idx] = False
                scores[idx] = 0.0
        return _boosted(scores, q.boost), matched
    if type(q) is wq.AndMaybe:
        scores, matched = _eval(ex, q.a, leaves, n)
        if matched.any():
            extra, extra_matched = _eval(ex, q.b, leaves, n)
            scores = scores + np.where(matched & extra_matched, extra, 0.0)
        return _boosted(scores, q.boost), matched
    raise Unsupported


def _boosted(scores: np.ndarray, boost: float) -> np.ndarray:
    return scores if boost == 1.0 else scores * boost
