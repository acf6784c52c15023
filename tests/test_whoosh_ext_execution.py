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
from whoosh import query as wq

from search.model import Document
from search.ranking import LanguageBM25F
from search.schema import document_fields
from search.searcher import SearchIndex
from search.storage import open_index
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


def test_cached_postings_give_the_same_results(segmented_index: Path) -> None:
    """The scored-postings cache changes speed only: cold, warm and cleared agree."""
    with SearchIndex(segmented_index) as idx:
        cold = [_results(idx, q, {}) for q in QUERIES]
        warm = [_results(idx, q, {}) for q in QUERIES]
        idx.clear_cache()
        cleared = [_results(idx, q, {}) for q in QUERIES]
    assert cold == warm == cleared
    assert any(hits for _total, _facets, hits in cold)


# -- shared with test_whoosh_ext_pruning, _positions and _dense ------------------------------

def _long_queries() -> list[str]:
    """Paragraph-length queries (40 and 100 words) cut from the seed releases of both
    languages, as someone pasting a text into the box."""
    out = []
    for names in (SEED_EN, SEED_SL):
        for name in names[:2]:
            words = (SEEDS / name).read_text(encoding="utf-8").split()
            out += [" ".join(words[10:50]), " ".join(words[30:130])]
    return out


def _matches(found) -> tuple:
    return found.total, found.facets, [d for d, _ in found.top], [s for _, s in found.top]


def _assert_same(found, ref, what) -> None:
    total, facets, ids, scores = _matches(found)
    ref_total, ref_facets, ref_ids, ref_scores = _matches(ref)
    assert (total, facets) == (ref_total, ref_facets), what
    assert ids == ref_ids, what
    assert scores == pytest.approx(ref_scores, rel=1e-9), what


@pytest.mark.parametrize("lang", ["en", "sl", None])
def test_facets_counted_with_numpy_equal_the_counter(segmented_index: Path, lang, monkeypatch
                                                     ) -> None:
    """Many documents (a stop-word tail) are counted with numpy: the same counts as one by
    one, for each language's documents and for all of them."""
    import search.whoosh_ext.execution as execution

    ix, _gen = open_index(segmented_index)
    with ix.searcher(weighting=LanguageBM25F()) as s:
        executor = Executor(s)
        docs = {d for d in s.reader().all_doc_ids()
                if lang is None or s.stored_fields(d).get("lang") == lang}
        assert len(docs) > 10
        monkeypatch.setattr(execution, "NUMPY_FACETS", 10**9)
        one_by_one = executor.facets(docs)
        monkeypatch.setattr(execution, "NUMPY_FACETS", 1)
        with_numpy = executor.facets(docs)
    assert with_numpy == one_by_one and list(with_numpy["lang"]) == list(one_by_one["lang"])
    assert sum(with_numpy["lang"].values()) == len(docs)
    if lang is not None:
        assert with_numpy["lang"] == {lang: len(docs)}
