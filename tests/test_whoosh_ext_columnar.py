"""search.whoosh_ext.columnar: the columns hold exactly Whoosh's postings, and the executor
reading them scores exactly as it does from Whoosh's blocks.

The index has several segments and deleted documents (the ``segmented_index`` of
test_whoosh_ext_execution.py); the threshold for columns is lowered so that most terms get them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from test_whoosh_ext_execution import QUERIES, _long_queries, _matches, segmented_index  # noqa: F401

from search.indexer import index_paths
from search.results import _whoosh_match
from search.searcher import SearchIndex
from search.storage import open_index
from search.whoosh_ext import columnar, term_postings
from search.whoosh_ext.execution import Executor
from search.whoosh_ext.positions import whoosh_positions


@pytest.fixture(scope="module")
def columns_index(segmented_index: Path, tmp_path_factory: pytest.TempPathFactory  # noqa: F811
                  ) -> Path:
    """A copy of the segmented index with columns for every term of 2 or more postings."""
    path = tmp_path_factory.mktemp("columns") / "index"
    shutil.copytree(segmented_index, path, symlinks=True)
    ix, gen = open_index(path)
    for old in Path(gen).glob(columnar.PREFIX + "*"):  # written by the indexer, at MIN_POSTINGS
        old.unlink()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(columnar, "MIN_POSTINGS", 2)
        assert columnar.save_columns(ix, gen) >= 3  # one per segment
    return path


def _whoosh_postings(leaf, fieldname: str, btext: bytes) -> tuple[list[int], list[float]]:
    """All of a segment's postings of a term, deleted documents' too (as the columns hold
    them: the executor drops deleted documents itself), through Whoosh's matcher."""
    m = leaf._terms.matcher(fieldname, btext, leaf.schema[fieldname].format, scorer=None)
    ids, weights = [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return ids, weights


def test_columns_equal_whoosh_postings(columns_index: Path) -> None:
    ix, gen = open_index(columns_index)
    checked = 0
    with ix.reader() as reader:
        for leaf, _base in reader.leaf_readers():
            cols = columnar.open_columns(gen, leaf.segment().segment_id())
            assert cols is not None
            for fieldname, fieldobj in ix.schema.items():
                if not fieldobj.scorable or fieldname not in leaf.indexed_field_names():
                    continue
                for btext, info in leaf.iter_field(fieldname):
                    found = cols.get((fieldname, btext))
                    if info.doc_frequency() < 2:
                        assert found is None
                        continue
                    assert found is not None, (fieldname, btext)
                    ids, weights = _whoosh_postings(leaf, fieldname, btext)
                    assert found[0].tolist() == ids
                    assert found[1].tolist() == weights
                    checked += 1
    assert checked > 500


@pytest.mark.parametrize("dense", [False, True])
def test_executor_same_with_and_without_columns(columns_index: Path, dense: bool,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The same totals, facets, documents and scores (bit for bit) from the columns as from
    Whoosh's blocks, and the same documents as Whoosh's own collector; the columns are
    really read (counted), also for the terms whose positions re-ranking wants (which
    otherwise keep the blocks read while scoring when they have few postings)."""
    monkeypatch.setattr(term_postings, "KEPT_WITH_COLUMNS", 0)
    for mode in ("or", "and"):
        idx = SearchIndex(columns_index, mode=mode)
        s = idx._searcher
        with_columns = Executor(s, dense=dense)
        without = Executor(s, dense=dense, columns=False)
        compared = 0
        for text in QUERIES + _long_queries():
            q = idx.parse(text).query
            terms = {(f, s.schema[f].to_bytes(t)) for f, t in q.iter_all_terms()
                     if f in s.schema}
            for filters in ([], [("lang", "sl")]):
                found = with_columns.run(q, limit=10, filters=filters, terms=terms)
                ref = without.run(q, limit=10, filters=filters, terms=terms)
                if ref is None:
                    assert found is None
                    continue
                assert _matches(found) == _matches(ref), (mode, text[:40], filters)
                compared += 1
            if ref is not None:
                whoosh = _whoosh_match(s, q, [], 10, set(), "relevance")
                ours = with_columns.run(q, limit=10, terms=terms)
                assert [d for d, _ in ours.top] == [d for d, _ in whoosh.top[:10]], text[:40]
        assert compared > 40
        assert with_columns.column_reads > 100 and without.column_reads == 0
        idx.close()


def test_indexer_writes_columns_and_drops_merged_ones(tmp_path: Path) -> None:
    """After each commit the indexer writes the columns of new segments; a merge removes
    those of the segments merged away."""
    words = ["meja", "policija", "border", "police"]
    docs = tmp_path / "docs.jsonl"
    import json

    with open(docs, "w", encoding="utf-8") as fh:
        for i in range(40):
            fh.write(json.dumps({"id": f"d{i}", "title": f"doc {i}",
                                 "text": " ".join(words[: 1 + i % 4]),
                                 "lang": "sl" if i % 2 else "en"}) + "\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(columnar, "MIN_POSTINGS", 2)
        index_paths([docs], tmp_path / "index")
        ix, gen = open_index(tmp_path / "index")
        with ix.reader() as reader:
            ids = {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}
        on_disk = {p.name.split(".", 1)[0][len(columnar.PREFIX):]
                   for p in Path(gen).glob(columnar.PREFIX + "*")}
        assert on_disk == ids
        cols = columnar.open_columns(gen, next(iter(ids)))
        assert cols is not None and any(key[0].startswith("body_") for key in cols._table)
        # Merge everything into one new segment: the old columns go.
        writer = ix.writer()
        writer.delete_by_term("id", "d0")
        writer.commit(optimize=True)
        ix, gen = open_index(tmp_path / "index")
        columnar.save_columns(ix, gen)
        with ix.reader() as reader:
            now = {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}
        on_disk = {p.name.split(".", 1)[0][len(columnar.PREFIX):]
                   for p in Path(gen).glob(columnar.PREFIX + "*")}
        assert on_disk == now and not ids & now


def test_columns_of_another_format_are_ignored(columns_index: Path, tmp_path: Path) -> None:
    ix, gen = open_index(columns_index)
    with ix.reader() as reader:
        segment_id = reader.leaf_readers()[0][0].segment().segment_id()
    folder = tmp_path / "gen"
    folder.mkdir()
    for path in Path(gen).glob(f"{columnar.PREFIX}{segment_id}*"):
        shutil.copy(path, folder / path.name)
    assert columnar.open_columns(folder, segment_id) is not None
    import marshal

    table = folder / f"{columnar.PREFIX}{segment_id}.terms.marshal"
    _version, *data = marshal.loads(table.read_bytes())
    table.write_bytes(marshal.dumps((columnar.FORMAT + 1, *data)))
    assert columnar.open_columns(folder, segment_id) is None
    table.write_bytes(b"garbage")
    assert columnar.open_columns(folder, segment_id) is None
    assert np.load(folder / f"{columnar.PREFIX}{segment_id}.ids.npy").dtype == np.uint32


def test_positions_through_columns_equal_whoosh(columns_index: Path) -> None:
    """Positions read from the blocks the columns point at are Whoosh's, for every document
    of a sample of terms (deleted documents included)."""
    idx = SearchIndex(columns_index)
    s = idx._searcher
    ex = Executor(s)
    compared = 0
    for fieldname in ("body_en", "body_sl", "title_sl"):
        for btext in list(s.reader().lexicon(fieldname))[::5]:
            if s.doc_frequency(fieldname, btext) < 2:
                continue
            docnums = range(s.doc_count_all())
            expected = whoosh_positions(s, fieldname, btext, docnums)
            assert ex.positions((fieldname, btext), docnums) == expected, (fieldname, btext)
            compared += bool(expected)
    assert compared > 50
    idx.close()
