"""``fast=False`` switches every replacement of search/whoosh_ext/ back to stock Whoosh.

One switch, taken by the public entry points (``index_paths``, ``IndexWriter``/
``SearchIndex.writer()``, ``SearchIndex``), selects Whoosh's own writers (and so its
analysis chains), its file storage, its query parser, its collector and its term reading.
With every replacement made to fail if it is constructed or called, an index of the seeds
and a subset of the help pages (both languages) is built, updated and searched with
``fast=False``: the index has the same contents as the fast path's, and searches, spelling,
completions, documents and statistics give the same results.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SEEDS
from test_whoosh_ext_writers import _content

from search.indexer import index_paths
from search.searcher import SearchIndex
from search.storage import IndexLayout

HELP = Path(__file__).resolve().parents[2] / "shared" / "eval" / "libreoffice-help"
#: Help pages of each language taken (the first ones of the collection's order).
PAGES = 150
#: Queries taken from each help task, and queries of our own for the seeds and the features
#: (a typo corrected, stop words only in common, a prefix, a phrase, an exclusion, filters).
TASK_QUERIES = 8
OWN_QUERIES = ["meja", "nadzor na notranjih mejah", "border controls", "saranovic",
               "police -migrants", "meja NOT Hrvaška", '"border control"', "polic*",
               "lang:en police", "year:2024", "passwrd", "policjia", "kaj je makro",
               "the dialog of the macro", "title:dialog", "pogovorno okno"]
COMPLETIONS = ["mej", "pol", "dia", "sar", "makr"]


def _corpus(folder: Path) -> Path:
    if not (HELP / "docs.jsonl").exists():
        pytest.skip(f"{HELP} is missing (the shared evaluation data)")
    folder.mkdir(parents=True)
    for seed in SEEDS.iterdir():
        (folder / seed.name).write_bytes(seed.read_bytes())
    taken = {"en": 0, "sl": 0}
    with open(HELP / "docs.jsonl", encoding="utf-8") as fh, \
            open(folder / "help.jsonl", "w", encoding="utf-8") as out:
        for line in fh:
            record = json.loads(line)
            if taken.get(record["lang"], PAGES) < PAGES:
                taken[record["lang"]] += 1
                out.write(line)
    return folder


def _queries() -> list[str]:
    out = list(OWN_QUERIES)
    for task in ("keyword_sl", "keyword_en", "clir_en2sl", "known_item_sl"):
        lines = (HELP / task / "queries.jsonl").read_text(encoding="utf-8").splitlines()
        out += [json.loads(line)["text"] for line in lines[:TASK_QUERIES]]
    return out


def _forbid(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every replacement of search/whoosh_ext/ fail when used; returns the log of
    fast term reads attempted (there must be none)."""
    import search.query
    import search.whoosh_ext.execution as execution
    import search.whoosh_ext.pread as pread
    import search.whoosh_ext.terms as terms
    import search.whoosh_ext.writers as writers

    def never(name: str):  # noqa: ANN202
        def fail(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            raise AssertionError(f"{name} was used with fast=False")
        return fail

    for cls in (writers.FastSegmentWriter, writers.FastMpWriter, pread.ReadStorage,
                pread.PreadFile, execution.Executor):
        monkeypatch.setattr(cls, "__init__", never(cls.__name__))
    monkeypatch.setattr(writers, "field_indexer", never("the compiled analysis"))
    monkeypatch.setattr(execution, "block_positions", never("block_positions"))
    monkeypatch.setattr(execution, "positions_from_blocks", never("positions_from_blocks"))
    monkeypatch.setattr(search.query, "plain_words_query", never("the direct query builder"))
    fast_reads: list[str] = []
    real = terms.field_frequencies

    def stock_reads_only(reader, name, fast=True):  # noqa: ANN001, ANN202
        if fast:
            fast_reads.append(name)
        return real(reader, name, fast)

    monkeypatch.setattr(terms, "field_frequencies", stock_reads_only)
    return fast_reads


def _answers(idx: SearchIndex, queries: list[str]) -> list:
    out = []
    for q in queries:
        for variant in ({}, {"lang": "sl"}, {"sort": "newest", "per_page": 5}):
            r = idx.search(q, **variant)
            # Newest first, documents of the same date are in score order on the fast path
            # and in index order in Whoosh's sorting collector: compare the dates only.
            hits = ([(h.id, round(h.score, 9), h.snippet, h.translated_terms) for h in r.hits]
                    if "sort" not in variant else [h.date for h in r.hits])
            out.append((q, variant, r.total, r.facets, r.suggestion, r.corrected, hits))
    for prefix in COMPLETIONS:
        out.append((prefix, [c.to_dict() for c in idx.complete(prefix)]))
    out.append(("spelling", idx._understanding._spelling().vocabulary.tables()))
    first = idx.search("meja").hits[0].id
    view = idx.document(first, query="meja")
    out.append(("document", view.id, view.html, view.translation_id))
    stats = idx.stats()
    out.append(("stats", stats.doc_count, stats.by_lang, stats.by_year))
    return out


def _without_caches(index: Path) -> None:
    """Remove the spelling and completion tables kept with the generation, so that the
    searcher makes them itself (with its own term reading)."""
    gen = IndexLayout(index).current()
    for path in [*gen.glob("spelling*.marshal"), *gen.glob("completions*.marshal")]:
        path.unlink()


def test_fast_false_is_stock_whoosh_with_the_same_results(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = _corpus(tmp_path / "docs")
    queries = _queries()
    fast_index = tmp_path / "fast"
    report = index_paths([corpus], fast_index, procs=1)
    assert report.added > 2 * PAGES and not report.problems
    built = _content(IndexLayout(fast_index).current())
    _without_caches(fast_index)
    with SearchIndex(fast_index) as idx:
        expected = _answers(idx, queries)
        with idx.writer() as w:
            w.add({"id": "api/1", "text": "Kolesarska steza ob reki je odprta.", "lang": "sl"})
            w.delete(idx.search("meja").hits[0].id)
        updated = _answers(idx, ["kolesarska steza", "meja"])

    fast_reads = _forbid(monkeypatch)
    stock_index = tmp_path / "stock"
    stock_report = index_paths([corpus], stock_index, procs=1, fast=False)
    assert (stock_report.added, stock_report.problems) == (report.added, [])
    assert _content(IndexLayout(stock_index).current()) == built
    _without_caches(stock_index)
    with SearchIndex(stock_index, fast=False) as idx:
        assert _answers(idx, queries) == expected
        assert sum(r[2] > 0 for r in expected if len(r) == 7) > len(queries)  # real results
        with idx.writer() as w:  # the writer of a fast=False index is stock Whoosh's too
            w.add({"id": "api/1", "text": "Kolesarska steza ob reki je odprta.", "lang": "sl"})
            w.delete(idx.search("meja").hits[0].id)
        assert _answers(idx, ["kolesarska steza", "meja"]) == updated
    assert _content(IndexLayout(stock_index).current()) == _content(
        IndexLayout(fast_index).current())
    assert fast_reads == []


def test_the_stock_writers_are_whooshs(tmp_path: Path) -> None:
    from whoosh.multiproc import MpWriter
    from whoosh.writing import SegmentWriter

    from search.storage import create_index
    from search.whoosh_ext.opening import segment_writer
    from search.whoosh_ext.writers import FastMpWriter, FastSegmentWriter

    ix = create_index(tmp_path)
    for procs, stock, ours in ((1, SegmentWriter, FastSegmentWriter),
                               (2, MpWriter, FastMpWriter)):
        writer = segment_writer(ix, fast=False, procs=procs)
        assert type(writer) is stock
        writer.cancel()
        writer = segment_writer(ix, fast=True, procs=procs)
        assert type(writer) is ours
        writer.cancel()
