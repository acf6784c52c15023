"""search.storage's reading storage: the same index contents as Whoosh's own, without copies."""

from __future__ import annotations

import io
import pickle
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.filedb.filestore import FileStorage
from whoosh.index import FileIndex

from search.searcher import SearchIndex
from search.storage import open_index
from search.whoosh_ext.pread import INDEX_NAME, PreadFile, PreadStructFile, ReadStorage

# -- the file object ------------------------------------------------------------------------

DATA = bytes(range(256)) * 40 + b"line one\nline two\n\nlast"


@pytest.fixture()
def data_file(tmp_path: Path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"HEAD" + DATA + b"TAIL")
    with open(path, "rb") as fh:
        yield fh


def _view(fh) -> PreadFile:
    return PreadFile(fh, 4, len(DATA), "data")  # DATA without HEAD and TAIL


OPS = st.lists(st.one_of(
    st.tuples(st.just("read"), st.integers(-1, 9000)),
    st.tuples(st.just("seek"), st.integers(0, len(DATA) + 10)),
    st.tuples(st.just("seek_cur"), st.integers(-100, 100)),
    st.tuples(st.just("seek_end"), st.integers(-len(DATA), 0)),
    st.tuples(st.just("readline"), st.integers(-1, 50)),
    st.tuples(st.just("peek"), st.just(0)),
), max_size=40)


@settings(max_examples=200, deadline=None)
@given(ops=OPS)
def test_reads_like_an_in_memory_file(tmp_path_factory, ops) -> None:
    path = tmp_path_factory.mktemp("pread") / "data.bin"
    path.write_bytes(b"HEAD" + DATA + b"TAIL")
    with open(path, "rb") as fh:
        ours, model = _view(fh), io.BytesIO(DATA)
        for op, n in ops:
            if op == "read":
                assert ours.read(n) == model.read(n)
            elif op == "seek":
                assert ours.seek(n) == model.seek(n)
            elif op == "seek_cur":
                n = max(n, -model.tell())
                assert ours.seek(n, 1) == model.seek(n, 1)
            elif op == "seek_end":
                assert ours.seek(n, 2) == model.seek(n, 2)
            elif op == "readline":
                assert ours.readline(n) == model.readline(n)
            else:
                at = model.tell()
                assert DATA[at:].startswith(ours.peek()) and (ours.peek() or at >= len(DATA))
            assert ours.tell() == model.tell()


def test_read_to_the_end_from_past_the_end_stays_put(data_file) -> None:
    # Found by the property test above: reading "the rest" from beyond the end moved the
    # position back by one.
    ours = _view(data_file)
    ours.seek(len(DATA) - 1, 0)
    ours.peek()
    ours.seek(len(DATA) + 1)
    assert ours.read(-1) == b"" and ours.tell() == len(DATA) + 1


def test_parts_have_their_own_positions(data_file) -> None:
    whole = PreadStructFile(_view(data_file), name="data")
    a, b = whole.subset(0, 100), whole.subset(1000, 100)
    assert a.read(3) == DATA[:3] and b.read(3) == DATA[1000:1003]
    assert a.read(3) == DATA[3:6]  # b's read did not move a
    assert a.get(50, 4) == DATA[50:54] and a.tell() == 6
    assert b.read(1000) == DATA[1003:1100]  # a part ends where it ends
    assert a.read_varint() == DATA[6]


def test_pickles_read_through_peek(data_file, tmp_path: Path) -> None:
    objects = [{"a": list(range(100))}, "x" * 10_000, (1, 2.5, None)]
    path = tmp_path / "pickles.bin"
    with open(path, "wb") as fh:
        for obj in objects:
            pickle.dump(obj, fh)
    with open(path, "rb") as fh:
        f = PreadStructFile(PreadFile(fh, 0, path.stat().st_size, "p"))
        assert [f.read_pickle() for _ in objects] == objects
        assert f.read(1) == b""


def test_reading_after_close_fails_instead_of_reading_another_file(data_file) -> None:
    whole = PreadStructFile(_view(data_file), name="data", owner=data_file)
    part = whole.subset(0, 10)
    whole.close()
    with pytest.raises(ValueError):
        part.read(5)


def test_threads_reading_parts_of_one_file_do_not_mix_them_up(data_file) -> None:
    whole = PreadStructFile(_view(data_file), name="data")
    errors = []

    def work(start: int) -> None:
        part = whole.subset(start, 256)
        for _ in range(2000):
            part.seek(0)
            if part.read(256) != DATA[start:start + 256]:
                errors.append(start)
                return

    threads = [threading.Thread(target=work, args=(i * 256,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# -- a whole index --------------------------------------------------------------------------

def _contents(ix) -> dict:
    with ix.reader() as r:
        out = {"docs": sorted(tuple(sorted(d.items())) for d in r.all_stored_fields()),
               "count": r.doc_count(), "fields": {}}
        for name in sorted(r.indexed_field_names()):
            terms = list(r.lexicon(name))
            postings = {t: list(r.postings(name, t).items_as("weight")) for t in terms[:200]}
            out["fields"][name] = (terms, postings, r.field_length(name))
        return out


def test_an_index_reads_the_same_as_with_whoosh_storage(seed_index: Path) -> None:
    ours, gen = open_index(seed_index)
    assert isinstance(ours.storage, ReadStorage)
    theirs = FileIndex(FileStorage(str(gen)), indexname=INDEX_NAME)
    assert _contents(ours) == _contents(theirs)


def test_searches_are_the_same_as_with_whoosh_storage(seed_index: Path, monkeypatch) -> None:
    queries = ["meja", "policija sodelovanje", '"border police"', "saranovic", "minist*",
               "title:policija", "-meja policija", "year:2024 lang:sl"]

    def run() -> list:
        with SearchIndex(seed_index) as ix:
            return [(r.total, r.facets, r.suggestion,
                     [(h.id, h.score, h.snippet, h.translated_terms) for h in r.hits])
                    for r in (ix.search(q) for q in queries)]

    ours = run()
    import search.storage

    monkeypatch.setattr(search.storage, "ReadStorage",
                        lambda path, readonly=False: FileStorage(path, readonly=readonly))
    assert run() == ours
