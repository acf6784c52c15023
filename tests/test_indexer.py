"""search.indexer / search.storage: incremental updates, broken inputs, generations, errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import SEED_EN, SEED_SL

from search import searcher as searcher_module
from search.errors import IncompatibleIndex, IndexLocked, IndexNotFound
from search.indexer import index_paths
from search.searcher import SearchIndex
from search.storage import ENGINE_FILE, IndexLayout, open_index

SEED_COUNT = len(SEED_EN) + len(SEED_SL)


def ids_matching(index_dir: Path, query: str) -> set[str]:
    with SearchIndex(index_dir) as ix:
        return {h.id for h in ix.search(query, per_page=100, snippets=False).hits}


def doc_ids(index_dir: Path) -> set[str]:
    ix, _ = open_index(index_dir)
    with ix.searcher() as s:
        return {fields["id"] for fields in s.all_stored_fields()}


def touch_later(path: Path) -> None:
    """Make sure the file's mtime differs from what was indexed, even on coarse clocks."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


@pytest.fixture()
def built(seed_workspace: tuple[Path, Path]) -> tuple[Path, Path]:
    """(documents folder, index folder) of a fresh index of a private copy of the seeds."""
    return seed_workspace


# -- building and incremental updates -------------------------------------------------------

def test_build_from_seeds(built):
    docs, index_dir = built
    assert doc_ids(index_dir) == set(SEED_EN) | set(SEED_SL)
    gen = IndexLayout(index_dir).current()
    info = json.loads((gen / ENGINE_FILE).read_text())
    assert info["languages"] == ["en", "sl"]
    assert set(info["analyzers"]) >= {"body_en", "body_sl", "body_sl_stem"}


def test_progress_is_reported(seed_copy, tmp_path):
    calls = []
    index_paths([seed_copy], tmp_path / "index", progress=lambda done, total: calls.append(
        (done, total)))
    assert calls == [(i, SEED_COUNT) for i in range(1, SEED_COUNT + 1)]


def test_reindexing_an_unchanged_folder_does_nothing(built):
    docs, index_dir = built
    gen = IndexLayout(index_dir).current()
    report = index_paths([docs], index_dir)
    assert (report.added, report.updated, report.deleted) == (0, 0, 0)
    assert report.unchanged == SEED_COUNT
    assert report.problems == []
    assert IndexLayout(index_dir).current() == gen  # updated in place, no new generation


def test_touched_but_identical_file_is_not_reindexed(built):
    docs, index_dir = built
    touch_later(docs / SEED_EN[0])
    report = index_paths([docs], index_dir)
    assert (report.added, report.updated, report.deleted, report.unchanged) == (
        0, 0, 0, SEED_COUNT)


def test_editing_a_file_updates_just_it(built):
    docs, index_dir = built
    edited = docs / SEED_SL[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nZebrasti kenguru je pobegnil.\n",
                      encoding="utf-8")
    touch_later(edited)
    report = index_paths([docs], index_dir)
    assert (report.added, report.updated, report.deleted) == (0, 1, 0)
    assert report.unchanged == SEED_COUNT - 1
    assert ids_matching(index_dir, "kenguru") == {SEED_SL[0]}
    assert len(doc_ids(index_dir)) == SEED_COUNT


def test_replacing_a_files_content_forgets_the_old_words(built):
    docs, index_dir = built
    assert SEED_EN[0] in ids_matching(index_dir, "lithuania")
    target = docs / SEED_EN[0]
    target.write_text("Quokka census\n\nRangers counted the quokkas on the island.\n",
                      encoding="utf-8")
    touch_later(target)
    index_paths([docs], index_dir)
    assert ids_matching(index_dir, "lithuania") == set()
    assert ids_matching(index_dir, "quokka") == {SEED_EN[0]}


def test_deleting_a_file_removes_its_documents(built):
    docs, index_dir = built
    (docs / SEED_SL[1]).unlink()  # 003, the only document about Šaranović
    report = index_paths([docs], index_dir)
    assert (report.added, report.updated, report.deleted) == (0, 0, 1)
    assert ids_matching(index_dir, "saranovic") == set()
    assert doc_ids(index_dir) == (set(SEED_EN) | set(SEED_SL)) - {SEED_SL[1]}


def test_renaming_a_file_is_delete_plus_add(built):
    docs, index_dir = built
    (docs / SEED_SL[1]).rename(docs / "renamed.txt")
    report = index_paths([docs], index_dir)
    assert (report.added, report.deleted, report.updated) == (1, 1, 0)
    assert ids_matching(index_dir, "saranovic") == {"renamed.txt"}
    assert len(doc_ids(index_dir)) == SEED_COUNT


def test_renaming_a_jsonl_file_keeps_its_documents(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    record = {"id": "quokka-1", "lang": "en", "title": "Quokka census",
              "text": "Rangers counted the quokkas on the island."}
    (docs / "a.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    index_paths([docs], index_dir)
    (docs / "a.jsonl").rename(docs / "b.jsonl")
    report = index_paths([docs], index_dir)
    assert report.problems == []
    with SearchIndex(index_dir) as ix:
        hits = ix.search("quokka").hits
        assert [(h.id, Path(h.path).name) for h in hits] == [("quokka-1", "b.jsonl")]
    # And the next run sees nothing to do.
    again = index_paths([docs], index_dir)
    assert (again.added, again.updated, again.deleted, again.unchanged) == (0, 0, 0, 1)


def test_documents_of_other_folders_are_left_alone(tmp_path, seed_copy):
    other = tmp_path / "other"
    other.mkdir()
    (other / "quokka.txt").write_text("Quokka census\n\nRangers counted quokkas.\n",
                                      encoding="utf-8")
    index_dir = tmp_path / "index"
    index_paths([seed_copy, other], index_dir)
    report = index_paths([seed_copy], index_dir)  # only one of the two folders this time
    assert report.deleted == 0
    assert ids_matching(index_dir, "quokka") == {"quokka.txt"}


def test_duplicate_ids_across_files_are_reported(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in (("a.jsonl", "Quokkas on the island."), ("b.jsonl", "Quokkas again.")):
        record = {"id": "same", "lang": "en", "title": name, "text": text}
        (docs / name).write_text(json.dumps(record) + "\n", encoding="utf-8")
    report = index_paths([docs], tmp_path / "index")
    assert report.added == 1
    assert [Path(p.source).name for p in report.problems] == ["b.jsonl"]
    assert "duplicate id" in report.problems[0].reason


# -- broken inputs --------------------------------------------------------------------------

BROKEN = {
    "binary.txt": b"\x00\x01\x02PNG\x00\x00 not text at all \x00\xff",
    # Invalid UTF-8, and bytes cp1250 does not define (0x81, 0x83, 0x88, 0x90, 0x98).
    "garbled.txt": b"Meja \x81\x83\x88\x90\x98 \x81\x83 policija \x90\x98\x88 tekst",
    "empty.txt": b"",
    "blank.txt": b"   \n\n\t  \n",
    "empty.html": b"",
    "nothing.jsonl": b"",
}


def test_broken_files_are_reported_by_name_and_the_rest_indexed(seed_copy, tmp_path):
    for name, data in BROKEN.items():
        (seed_copy / name).write_bytes(data)
    report = index_paths([seed_copy], tmp_path / "index")
    assert report.added == SEED_COUNT
    problems = {Path(p.source).name: p.reason for p in report.problems}
    assert set(problems) == set(BROKEN)
    assert "binary" in problems["binary.txt"]
    assert "UTF-8" in problems["garbled.txt"]
    assert "empty" in problems["empty.txt"]
    for problem in report.problems:
        assert str(problem).startswith(str(seed_copy))  # a path the user can find
    assert doc_ids(tmp_path / "index") == set(SEED_EN) | set(SEED_SL)


def test_cp1250_text_is_not_a_problem(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    text = "Policija je varovala mejo s Hrvaško. Šaranović in Čestnik sta govorila o žici."
    (docs / "sl.txt").write_bytes(text.encode("cp1250"))
    report = index_paths([docs], tmp_path / "index")
    assert (report.added, report.problems) == (1, [])
    assert ids_matching(tmp_path / "index", "Šaranović") == {"sl.txt"}


def test_a_file_that_breaks_keeps_its_old_documents_and_is_retried(built):
    docs, index_dir = built
    target = docs / SEED_SL[1]
    good = target.read_bytes()
    target.write_bytes(b"\x00\x00binary now\x00")
    touch_later(target)
    report = index_paths([docs], index_dir)
    assert [Path(p.source).name for p in report.problems] == [SEED_SL[1]]
    assert ids_matching(index_dir, "saranovic") == {SEED_SL[1]}
    # Fixed again: read again, no problem left.
    target.write_bytes(good)
    touch_later(target)
    report = index_paths([docs], index_dir)
    assert report.problems == []


def test_missing_path_is_a_problem_not_a_crash(tmp_path, seed_copy):
    report = index_paths([seed_copy, tmp_path / "does-not-exist"], tmp_path / "index")
    assert report.added == SEED_COUNT
    assert [Path(p.source).name for p in report.problems] == ["does-not-exist"]


# -- generations ----------------------------------------------------------------------------

def _generations(index_dir: Path) -> set[str]:
    return {p.name for p in index_dir.glob("gen-*")}


@pytest.mark.parametrize("relative", [False, True], ids=["absolute", "relative"])
def test_rebuild_swaps_generations_and_keeps_only_the_previous(built, monkeypatch, relative):
    docs, index_dir = built
    if relative:  # the CLI's default index folder is the relative path "index"
        monkeypatch.chdir(index_dir.parent)
        index_dir = Path(index_dir.name)
    first = os.readlink(index_dir / "current")
    assert _generations(index_dir) == {first}

    report = index_paths([docs], index_dir, rebuild=True)
    assert report.added == SEED_COUNT
    second = os.readlink(index_dir / "current")
    assert second != first
    assert _generations(index_dir) == {first, second}  # readers may still use the first

    index_paths([docs], index_dir, rebuild=True)
    third = os.readlink(index_dir / "current")
    assert _generations(index_dir) == {second, third}
    assert doc_ids(index_dir) == set(SEED_EN) | set(SEED_SL)


def test_open_searcher_survives_a_rebuild(built, monkeypatch):
    # Only the explicit refresh below may switch (a search refreshes by itself after
    # REFRESH_INTERVAL, which a first search plus a rebuild can take on a loaded machine).
    monkeypatch.setattr(searcher_module, "REFRESH_INTERVAL", float("inf"))
    docs, index_dir = built
    with SearchIndex(index_dir) as ix:
        before = {h.id for h in ix.search("policija").hits}
        index_paths([docs], index_dir, rebuild=True)
        # The old generation is still there, so the old searcher still works...
        assert {h.id for h in ix.search("policija").hits} == before
        # ...and a refresh switches to the new one.
        assert ix.refresh(force=True)
        assert {h.id for h in ix.search("policija").hits} == before


# -- errors ---------------------------------------------------------------------------------

def test_missing_index(tmp_path):
    with pytest.raises(IndexNotFound, match="search-cli index"):
        SearchIndex(tmp_path / "nothing-here")
    with pytest.raises(IndexNotFound):
        open_index(tmp_path / "nothing-here")


def _set_format(index_dir: Path, value: object) -> None:
    engine = IndexLayout(index_dir).current() / ENGINE_FILE
    info = json.loads(engine.read_text())
    info["format"] = value
    engine.write_text(json.dumps(info))


@pytest.mark.parametrize("fmt", [999, 0, None])
def test_wrong_format_is_incompatible_with_a_rebuild_hint(built, fmt):
    docs, index_dir = built
    _set_format(index_dir, fmt)
    for attempt in (lambda: SearchIndex(index_dir), lambda: index_paths([docs], index_dir)):
        with pytest.raises(IncompatibleIndex) as info:
            attempt()
        message = str(info.value)
        assert "--rebuild" in message and str(index_dir) in message


def test_following_the_rebuild_hint_works(built):
    docs, index_dir = built
    _set_format(index_dir, 999)
    report = index_paths([docs], index_dir, rebuild=True)
    assert report.added == SEED_COUNT
    with SearchIndex(index_dir) as ix:
        assert len(ix) == SEED_COUNT


def test_unreadable_schema_is_incompatible_not_a_pickle_error(built):
    # What an engine version that renamed an analysis class would meet.
    _, index_dir = built
    gen = IndexLayout(index_dir).current()
    (toc,) = gen.glob("*.toc")
    data = toc.read_bytes()
    assert b"search.analysis.filters" in data
    toc.write_bytes(data.replace(b"search.analysis.filters", b"search.analysis.filterz"))
    with pytest.raises(IncompatibleIndex, match="--rebuild") as info:
        SearchIndex(index_dir)
    assert not isinstance(info.value, ModuleNotFoundError)


def test_old_flat_layout_is_incompatible(tmp_path):
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    (index_dir / "_MAIN_1.toc").write_bytes(b"old")
    with pytest.raises(IncompatibleIndex, match="--rebuild"):
        SearchIndex(index_dir)


def test_second_writer_gets_index_locked(built):
    docs, index_dir = built
    ix, _ = open_index(index_dir)
    writer = ix.writer()
    try:
        (docs / "new.txt").write_text("Quokka census\n\nRangers counted quokkas.\n",
                                      encoding="utf-8")
        with pytest.raises(IndexLocked) as info:
            index_paths([docs], index_dir, timeout=0.5)
        message = str(info.value)
        assert "another process" in message and "0.5 s" in message
        assert str(index_dir) in message
    finally:
        writer.cancel()
    # Once the other writer is gone, indexing goes through.
    report = index_paths([docs], index_dir, timeout=0.5)
    assert report.added == 1
