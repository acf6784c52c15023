"""search.whoosh_ext.execution: term-at-a-time scoring gives exactly Whoosh's results, only faster.

The reference is the same ``SearchIndex`` with ``fast=False`` (Whoosh's own collector), on
an index of several segments with deleted documents, for queries in both languages, with
translations, filters, paging and both query modes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import SEED_EN, SEED_SL, SEEDS
from whoosh import fields, index
from whoosh import query as wq
from whoosh.matching.binary import AndNotMatcher

from search.model import Document
from search.ranking import LanguageBM25F
from search.schema import document_fields
from search.searcher import SearchIndex
from search.storage import open_index
from search.whoosh_ext import fixes as whoosh_fixes
from search.whoosh_ext.execution import Executor

#: Paragraphs of the seed releases become documents, written in this many commits.
SEGMENTS = 3
#: Every n-th document is deleted afterwards (Whoosh keeps deleted postings until a merge).
DELETE_EVERY = 7

QUERIES = [
    "meja", "mejo", "border controls", "sodelovanje policij", "police cooperation",
    "saranovic", "Šaranović", "nadzor na notranjih mejah", "internal border checks",
    "police -migrants", "meja NOT Hrvaška", "border AND police", "policija OR migranti",
    "polic*", "title:meja", "lang:en police", "ministrstvo za notranje zadeve",
    "illegal migration Slovenia Croatia", "prebežniki", "a", "zzzzqqq",
]
VARIANTS = [{}, {"lang": "sl"}, {"lang": "en"}, {"page": 2, "per_page": 3},
            {"year": "2024"}]


def _paragraph_documents() -> list[Document]:
    docs = []
    for names, lang in ((SEED_EN, "en"), (SEED_SL, "sl")):
        for name in names:
            text = (SEEDS / name).read_text(encoding="utf-8")
            sentences = re.split(r"(?<=[.!?])\s+", text)
            chunks = sentences
            for i, para in enumerate(c for c in chunks if len(c) > 40):
                year = 2022 + i % 3
                docs.append(Document(id=f"{name}#{i}", title=para.split(".")[0][:80],
                                     text=para, lang=lang, date=f"{year}-01-0{1 + i % 9}"))
    return docs


@pytest.fixture(scope="module")
def segmented_index(tmp_path_factory: pytest.TempPathFactory, seed_index: Path) -> Path:
    """The seed index's layout, refilled with paragraph documents in several segments."""
    import shutil

    path = tmp_path_factory.mktemp("segmented") / "index"
    shutil.copytree(seed_index, path, symlinks=True)
    ix, _gen = open_index(path)
    docs = _paragraph_documents()
    assert len(docs) > 60, len(docs)
    with ix.writer() as writer:  # start empty: only the paragraph documents
        writer.delete_by_query(wq.Every())
    step = len(docs) // SEGMENTS + 1
    for start in range(0, len(docs), step):
        writer = ix.writer()
        for doc in docs[start:start + step]:
            writer.add_document(**document_fields(doc))
        writer.commit(merge=False)
    writer = ix.writer()
    for doc in docs[::DELETE_EVERY]:
        writer.delete_by_term("id", doc.id)
    writer.commit(merge=False)
    ix, _gen = open_index(path)
    with ix.searcher() as s:
        assert len(s.subsearchers or []) >= SEGMENTS, "the test needs several segments"
        assert s.reader().has_deletions()
    return path


def _results(idx: SearchIndex, q: str, variant: dict) -> tuple:
    r = idx.search(q, snippets=False, **variant)
    return r.total, r.facets, [(h.id, h.score) for h in r.hits]


@pytest.mark.parametrize("mode", ["or", "andish"])
def test_same_results_as_whoosh(segmented_index: Path, mode: str) -> None:
    fast = SearchIndex(segmented_index, mode=mode)
    slow = SearchIndex(segmented_index, mode=mode, fast=False)
    compared = nonempty = 0
    for q in QUERIES:
        for variant in VARIANTS:
            total, facets, hits = _results(fast, q, variant)
            ref_total, ref_facets, ref_hits = _results(slow, q, variant)
            assert (total, facets) == (ref_total, ref_facets), (q, variant)
            assert [i for i, _ in hits] == [i for i, _ in ref_hits], (q, variant)
            for (_, score), (_, ref) in zip(hits, ref_hits, strict=True):
                assert score == pytest.approx(ref, rel=1e-9), (q, variant)
            compared += 1
            nonempty += bool(hits)
    fast.close()
    slow.close()
    assert nonempty > compared // 2  # the comparison is about real results


def test_deleted_documents_never_match(segmented_index: Path) -> None:
    deleted = {d.id for d in _paragraph_documents()[::DELETE_EVERY]}
    with SearchIndex(segmented_index) as idx:
        for q in ("meja", "border", "policija", "police"):
            found = {h.id for h in idx.search(q, per_page=100, snippets=False).hits}
            assert found and not found & deleted


def test_unknown_query_shapes_are_left_to_whoosh(segmented_index: Path) -> None:
    ix, _gen = open_index(segmented_index)
    with ix.searcher(weighting=LanguageBM25F()) as s:
        executor = Executor(s)
        phrase = wq.Phrase("body_en", ["border", "control"])
        assert executor.run(phrase, limit=10) is None
        assert executor.run(wq.Or([wq.Term("body_en", "border"), phrase]), limit=10) is None
        assert executor.run(wq.Term("body_en", "border"), limit=10) is not None
    with ix.searcher() as s:  # Whoosh's own BM25F: only Whoosh knows how it scores
        assert Executor(s).run(wq.Term("body_en", "border"), limit=10) is None
    # ... and the searcher still answers them (through Whoosh's collector): exactly the live
    # documents that have the two words side by side ("border controls" stems alike).
    docs = _paragraph_documents()
    deleted = {d.id for d in docs[::DELETE_EVERY]}
    expected = {d.id for d in docs if d.id not in deleted
                and re.search(r"\bborder controls?\b", d.text, re.IGNORECASE)}
    assert expected
    with SearchIndex(segmented_index) as idx, SearchIndex(segmented_index, fast=False) as ref:
        results = idx.search('"border control"', per_page=50)
        assert {h.id for h in results.hits} == expected and results.total == len(expected)
        assert [(h.id, h.score) for h in results.hits] == [
            (h.id, h.score) for h in ref.search('"border control"', per_page=50).hits]
        # Both words, not side by side: no match for the phrase.
        assert idx.search('"control border"').total == 0


def test_matched_terms_report_which_words_a_document_has(segmented_index: Path) -> None:
    ix, _gen = open_index(segmented_index)
    with ix.searcher(weighting=LanguageBM25F()) as s:
        q = wq.Or([wq.Term("body_en", "border"), wq.Term("body_en", "polic")])
        found = Executor(s).run(q, limit=50, terms={("body_en", b"border"),
                                                    ("body_en", b"polic")})
        assert found is not None and found.top
        for docnum, _score in found.top:
            text = s.stored_fields(docnum)["text"].lower()
            matched = {t.decode() for _f, t in found.matched_terms(docnum)}
            assert ("border" in matched) == ("border" in text)
            assert ("polic" in matched) == ("polic" in text)


def test_whoosh_and_not_fix(tmp_path: Path) -> None:
    """The pinned Whoosh lets the first document of ``a ANDNOT b`` through when ``b``
    starts earlier; the fix removes it. If this fails on the *unpatched* side, Whoosh was
    fixed upstream and ``search/whoosh_ext/fixes.py`` can go."""
    schema = fields.Schema(t=fields.KEYWORD)
    ix = index.create_in(str(tmp_path), schema)
    with ix.writer() as w:
        for words in ("b", "a b", "a"):
            w.add_document(t=words)
    q = wq.AndNot(wq.Term("t", "a"), wq.Term("t", "b"))
    patched = AndNotMatcher._find_first
    try:
        AndNotMatcher._find_first = whoosh_fixes.ORIGINAL_FIND_FIRST
        with ix.searcher() as s:
            assert sorted(s.docs_for_query(q)) == [1, 2]  # the bug: doc 1 has "b"
    finally:
        AndNotMatcher._find_first = patched
    whoosh_fixes.apply()
    with ix.searcher() as s:
        assert sorted(s.docs_for_query(q)) == [2]


def test_cached_postings_give_the_same_results(segmented_index: Path) -> None:
    """The scored-postings cache changes speed only: cold, warm and cleared agree."""
    with SearchIndex(segmented_index) as idx:
        cold = [_results(idx, q, {}) for q in QUERIES]
        warm = [_results(idx, q, {}) for q in QUERIES]
        idx.clear_cache()
        cleared = [_results(idx, q, {}) for q in QUERIES]
    assert cold == warm == cleared
    assert any(hits for _total, _facets, hits in cold)


# -- pruning (search/whoosh_ext/pruning.py) and positions (search/whoosh_ext/positions.py) ----

def _long_queries() -> list[str]:
    """Paragraph-length queries (40 and 100 words) cut from the seed releases of both
    languages, as someone pasting a text into the box."""
    out = []
    for names in (SEED_EN, SEED_SL):
        for name in names[:2]:
            words = (SEEDS / name).read_text(encoding="utf-8").split()
            out += [" ".join(words[10:50]), " ".join(words[30:130])]
    return out


@pytest.fixture
def always_prune(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let pruning start before any term, however short its postings (the seed index is
    small: at the default threshold it would never start)."""
    import search.whoosh_ext.pruning

    monkeypatch.setattr(search.whoosh_ext.pruning, "PRUNE_MIN_POSTINGS", 0)


def _matches(found) -> tuple:
    return found.total, found.facets, [d for d, _ in found.top], [s for _, s in found.top]


def _assert_same(found, ref, what) -> None:
    total, facets, ids, scores = _matches(found)
    ref_total, ref_facets, ref_ids, ref_scores = _matches(ref)
    assert (total, facets) == (ref_total, ref_facets), what
    assert ids == ref_ids, what
    assert scores == pytest.approx(ref_scores, rel=1e-9), what


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
