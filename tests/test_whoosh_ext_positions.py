"""search.whoosh_ext.positions: positions read by skipping blocks, or from the blocks the
executor kept, are Whoosh's own; re-ranking by them ranks as Whoosh's matcher does."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_whoosh_ext_execution import (
    _long_queries,
    _results,
    segmented_index,
)
from whoosh import query as wq

from search.ranking import LanguageBM25F
from search.searcher import SearchIndex
from search.storage import open_index
from search.whoosh_ext.execution import Executor

__all__ = ["segmented_index"]  # the fixture, shared with test_whoosh_ext_execution


def test_positions_from_blocks_equal_whoosh_positions(segmented_index: Path) -> None:
    """The re-ranking's positions, read by skipping blocks or from the blocks the executor
    kept while scoring, are Whoosh's own, in both languages."""
    from search.whoosh_ext.positions import block_positions, whoosh_positions

    ix, _gen = open_index(segmented_index)
    with ix.searcher(weighting=LanguageBM25F()) as s:
        total = s.doc_count_all()
        wanted = list(range(0, total, 3))
        checked = 0
        frequent = [(name, t.decode("utf-8")) for name in ("body_en", "body_sl")
                    for _n, t in s.reader().most_frequent_terms(name, 2)]
        for fieldname, text in (("body_en", "border"), ("body_en", "polic"),
                                ("body_sl", "meja"), ("title_sl", "policija"), *frequent):
            btext = text.encode("utf-8")
            ref = whoosh_positions(s, fieldname, btext, wanted)
            assert ref, (fieldname, text)
            assert block_positions(s, fieldname, btext, wanted) == ref
            found = Executor(s, prune=False).run(wq.Term(fieldname, text), limit=5,
                                                  terms={(fieldname, btext)})
            assert found is not None and (fieldname, btext) in found._blocks
            assert found.positions(s, (fieldname, btext), wanted) == ref
            checked += sum(map(len, ref.values()))
        assert checked > 50


def test_long_queries_rank_as_whoosh_with_positions(segmented_index: Path) -> None:
    """A pasted paragraph through the whole search (re-ranking by positions included): the
    fast path and Whoosh's collector with Whoosh's positions list the same hits."""
    fast = SearchIndex(segmented_index)
    slow = SearchIndex(segmented_index, fast=False)
    for text in _long_queries():
        for variant in ({}, {"lang": "sl"}, {"per_page": 5, "page": 2}):
            total, facets, hits = _results(fast, text, variant)
            ref_total, ref_facets, ref_hits = _results(slow, text, variant)
            assert (total, facets) == (ref_total, ref_facets), (text[:40], variant)
            assert [i for i, _ in hits] == [i for i, _ in ref_hits], (text[:40], variant)
            assert [s for _, s in hits] == pytest.approx([s for _, s in ref_hits], rel=1e-9)
            assert hits
    fast.close()
    slow.close()
