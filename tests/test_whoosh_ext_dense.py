"""search.whoosh_ext.dense: numpy score arrays give the dictionaries' scores to the bit, and
Whoosh's results."""

from __future__ import annotations

from pathlib import Path

from test_whoosh_ext_execution import (
    QUERIES,
    _assert_same,
    _long_queries,
    _matches,
    segmented_index,
)

from search.searcher import SearchIndex
from search.whoosh_ext.execution import Executor

__all__ = ["segmented_index"]  # the fixture, shared with test_whoosh_ext_execution


def test_dense_arrays_give_the_dictionaries_scores_to_the_bit(segmented_index: Path) -> None:
    """search/whoosh_ext/dense.py (used for large indexes) against the dictionaries and Whoosh: the
    same totals, facets, documents and scores (bit for bit: the same operations in the same
    order), with filters, both languages, paragraph-long queries and both modes."""
    from search.results import _whoosh_match

    for mode in ("or", "andish", "and"):
        idx = SearchIndex(segmented_index, mode=mode)
        s = idx._searcher
        dense, dicts = Executor(s, dense=True), Executor(s, prune=False, dense=False)
        compared = nonempty = 0
        for text in QUERIES + _long_queries():
            q = idx.parse(text).query
            terms = {(f, s.schema[f].to_bytes(t)) for f, t in q.iter_all_terms()
                     if f in s.schema}
            for filters in ([], [("lang", "sl")], [("year", "2023")]):
                found = dense.run(q, limit=10, filters=filters, terms=terms)
                ref = dicts.run(q, limit=10, filters=filters, terms=terms)
                if ref is None:
                    assert found is None
                    continue
                assert _matches(found) == _matches(ref), (mode, text[:40], filters)
                matched = {d: found.matched_terms(d) for d, _ in found.top}
                assert matched == {d: ref.matched_terms(d) for d, _ in ref.top}
                nonempty += any(matched.values())
                compared += 1
            if ref is not None:
                whoosh = _whoosh_match(s, q, filters, 10, set(), "relevance")
                whoosh.top = whoosh.top[:10]
                _assert_same(found, whoosh, (mode, text[:40]))
        idx.close()
        assert compared > 60 and nonempty > 20
