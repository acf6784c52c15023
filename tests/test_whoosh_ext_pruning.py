"""search.whoosh_ext.pruning: exact MaxScore pruning gives the unpruned executor's and
Whoosh's results (documents, order, scores, totals, facets), whatever the boosts, and the
bounds it relies on hold for every posting."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_whoosh_ext_execution import (
    QUERIES,
    _assert_same,
    _long_queries,
    segmented_index,
)
from whoosh import query as wq

from search.ranking import LanguageBM25F
from search.searcher import SearchIndex
from search.storage import open_index
from search.whoosh_ext.execution import Executor

__all__ = ["segmented_index"]  # the fixture, shared with test_whoosh_ext_execution


@pytest.fixture
def always_prune(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let pruning start before any term, however short its postings (the seed index is
    small: at the default threshold it would never start)."""
    import search.whoosh_ext.pruning

    monkeypatch.setattr(search.whoosh_ext.pruning, "PRUNE_MIN_POSTINGS", 0)


@pytest.mark.parametrize("mode", ["or", "andish"])
def test_pruning_gives_the_unpruned_and_whoosh_results(segmented_index: Path, mode: str,
                                                       always_prune: None) -> None:
    """Top 1, 3 and 10 of short and paragraph-long queries, both languages, with filters:
    the same documents, order, scores, total and facets as scoring every posting and as
    Whoosh's collector; and pruning did skip terms."""
    from search.results import _whoosh_match

    idx = SearchIndex(segmented_index, mode=mode)
    s = idx._searcher
    pruned, full = Executor(s), Executor(s, prune=False)
    compared = 0
    for text in QUERIES + _long_queries():
        q = idx.parse(text).query
        for filters in ([], [("lang", "sl")], [("year", "2023")]):
            for limit in (1, 3, 10):
                found = pruned.run(q, limit=limit, filters=filters)
                ref = full.run(q, limit=limit, filters=filters)
                if ref is None:  # a phrase or another shape left to Whoosh
                    assert found is None
                    continue
                what = (text[:40], filters, limit)
                _assert_same(found, ref, what)
                assert len(found.top) == min(limit, found.total), what
                compared += 1
            if ref is not None:  # (Whoosh's collector is slow: at one limit only)
                whoosh = _whoosh_match(s, q, filters, limit, set(), "relevance")
                whoosh.top = whoosh.top[:limit]  # with facets, Whoosh lists all matches
                _assert_same(found, whoosh, what)
    idx.close()
    assert compared > 150
    assert pruned.pruned_terms > 50  # the comparison is about pruned runs


def test_pruning_is_exact_whatever_the_boosts(segmented_index: Path,
                                              always_prune: None) -> None:
    """Random weights on every term and nested OR (as ranking changes may set them), an
    AND NOT at the root, a zero weight: pruned and unpruned agree; a negative weight (no
    bound holds) is scored in full."""
    import random

    rng = random.Random(12)
    ix, _gen = open_index(segmented_index)
    with ix.searcher(weighting=LanguageBM25F()) as s:
        words = [("body_en", "border"), ("body_en", "polic"), ("title_en", "border"),
                 ("body_sl", "meja"), ("body_sl", "policija"), ("body_en", "migrant"),
                 ("body_en", "the"), ("body_en", "slovenia"), ("title_sl", "policija"),
                 ("body_sl", "sodelovanje"), ("body_en", "ministri")]
        pruned, full = Executor(s), Executor(s, prune=False)
        for trial in range(60):
            chosen = rng.sample(words, rng.randint(3, len(words)))
            terms = [wq.Term(f, t, boost=rng.choice([0.0, 0.3, 1.0, 2.5, rng.random()]))
                     for f, t in chosen]
            mid = rng.randint(1, len(terms) - 1)
            q: wq.Query = wq.Or([wq.Or(terms[:mid], boost=rng.random() * 2),
                                 *terms[mid:]], boost=rng.choice([1.0, 0.7]))
            if trial % 3 == 0:
                q = wq.AndNot(q, wq.Term("body_en", "police"))
                q.boost = rng.choice([1.0, 1.5])
            for limit in (1, 2, 5):
                _assert_same(pruned.run(q, limit=limit), full.run(q, limit=limit),
                             (trial, limit))
        before = pruned.pruned_terms
        negative = wq.Or([wq.Term("body_en", "border", boost=-1.0),
                          wq.Term("body_en", "polic"), wq.Term("body_en", "the")])
        _assert_same(pruned.run(negative, limit=1), full.run(negative, limit=1), "negative")
        assert pruned.pruned_terms == before
    assert before > 0


def test_term_bounds_hold_for_every_posting(segmented_index: Path) -> None:
    """The bound pruning relies on (from Whoosh's term infos) is never below a real score."""
    from search.whoosh_ext.pruning import term_bound

    ix, _gen = open_index(segmented_index)
    with ix.searcher(weighting=LanguageBM25F()) as s:
        ex = Executor(s)
        checked = 0
        for fieldname in ("body_en", "title_en", "body_sl", "title_sl", "body_sl_stem"):
            for btext in list(s.reader().lexicon(fieldname)):
                term = wq.Term(fieldname, btext.decode("utf-8"))
                bound = term_bound(Executor(s), term)
                scored = ex._term_scores(term)
                assert bound is not None and scored is not None
                assert max(scored[1]) <= bound[0], term
                assert bound[1] >= len(scored[0])
                checked += 1
        assert checked > 500
