"""The library writer (search/writer.py): add, replace, delete, all-or-nothing commits, the
writer lock, visibility to open indexes, and coexistence with folder syncs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import REPO_ROOT, search_cli

from search import IndexLocked, IndexNotFound, InvalidDocument, SearchIndex, open_writer
from search.indexer import index_paths
from search.storage import IndexLayout, open_index
from search.writer import prepare_document

#: One document per language: (lang, text, a query word that finds it, one that does not).
DOCS = {
    "sl": ("Policija je na meji pri Obrežju prijela skupino tihotapcev ljudi. Pri tem so "
           "sodelovali tudi hrvaški policisti, ki so nadzorovali promet.", "meja", "gora"),
    "en": ("The border police stopped a group of smugglers near the crossing. Officers from "
           "both countries checked the traffic together.", "border", "mountain"),
}
#: A replacement text per language, found by the other word of DOCS.
REPLACEMENTS = {
    "sl": "Planinci so se v megli povzpeli na goro nad dolino in se zvečer vrnili v koče.",
    "en": "The climbers reached the top of the mountain above the valley before the fog.",
}


def ids(ix: SearchIndex, query: str) -> list[str]:
    return [h.id for h in ix.search(query, per_page=50).hits]


def generation(index_dir: Path) -> int:
    ix, _ = open_index(index_dir)
    return ix.latest_generation()


@pytest.fixture()
def index_dir(tmp_path: Path) -> Path:
    """An index holding one API document per language."""
    path = tmp_path / "index"
    with open_writer(path) as w:
        for lang, (text, _, _) in DOCS.items():
            w.add({"id": f"api/{lang}", "text": text, "title": f"Title {lang}"})
    return path


# -- adding, replacing, deleting --------------------------------------------------------------

@pytest.mark.parametrize("lang", sorted(DOCS))
def test_added_document_is_found_with_detected_language(index_dir: Path, lang: str) -> None:
    text, word, _ = DOCS[lang]
    with SearchIndex(index_dir) as ix:
        assert ids(ix, word)[0] == f"api/{lang}"
        doc = ix.document(f"api/{lang}")
        assert doc is not None
        assert doc.lang == lang  # not given: detected on the text
        assert doc.title == f"Title {lang}" and doc.text == text
        assert doc.path is None  # no source file


def test_missing_index_is_created_by_the_first_commit(tmp_path: Path) -> None:
    path = tmp_path / "new" / "index"
    with pytest.raises(IndexNotFound), open_writer(path, create=False):
        pass
    with open_writer(path) as w:
        w.add({"id": 1, "text": DOCS["en"][0], "date": "2024-07-03",
               "url": "https://example.org/1", "lang": "en-GB"})
    assert w.report is not None and w.report.added == 1
    with SearchIndex(path) as ix:
        doc = ix.document("1")  # integer ids become text, as in JSONL files
        assert doc is not None
        assert (doc.lang, doc.date, doc.url) == ("en", "2024-07-03", "https://example.org/1")


@pytest.mark.parametrize("lang", sorted(DOCS))
def test_add_replaces_by_id(index_dir: Path, lang: str) -> None:
    _, word, new_word = DOCS[lang]
    with SearchIndex(index_dir) as ix:
        assert f"api/{lang}" not in ids(ix, new_word)
        with ix.writer() as w:
            w.add({"id": f"api/{lang}", "text": REPLACEMENTS[lang], "title": "Replaced"})
        assert w.report.updated == 1 and w.report.added == 0
        # The old words no longer find it, the new ones do; still one document of that id.
        assert f"api/{lang}" not in ids(ix, word)
        assert ids(ix, new_word)[0] == f"api/{lang}"
        assert len(ix) == 2
        assert ix.document(f"api/{lang}").title == "Replaced"


def test_same_document_again_is_unchanged_and_commits_nothing(index_dir: Path) -> None:
    before = generation(index_dir)
    with open_writer(index_dir) as w:
        w.add({"id": "api/en", "text": DOCS["en"][0], "title": "Title en"})
    assert (w.report.unchanged, w.report.updated, w.report.added) == (1, 0, 0)
    assert generation(index_dir) == before


def test_delete(index_dir: Path) -> None:
    with SearchIndex(index_dir) as ix:
        with ix.writer() as w:
            w.delete("api/sl")
            w.delete("no/such/document")
        assert w.report.deleted == 1  # only documents that were there are counted
        assert ix.document("api/sl") is None
        assert "api/sl" not in ids(ix, "meja")  # (api/en is found through translation)
        assert ix.document("api/en") is not None


def test_last_change_of_an_id_in_one_writer_wins(index_dir: Path) -> None:
    with SearchIndex(index_dir) as ix:
        with ix.writer() as w:
            w.add({"id": "twice", "text": "First version about quokkas."})
            w.add({"id": "twice", "text": "Second version about wombats."})
            w.add({"id": "gone", "text": "Added and deleted in the same batch."})
            w.delete("gone")
            w.delete("api/en")
            w.add({"id": "api/en", "text": "Deleted, then written again about otters."})
        assert ids(ix, "wombats") == ["twice"] and ids(ix, "quokkas") == []
        assert ix.document("gone") is None
        assert ids(ix, "otters") == ["api/en"]
        assert len(ix) == 3  # api/sl, twice, api/en: no duplicates


# -- all or nothing ---------------------------------------------------------------------------

def test_an_exception_in_the_block_commits_nothing(index_dir: Path) -> None:
    before = generation(index_dir)
    with pytest.raises(RuntimeError, match="stop"), open_writer(index_dir) as w:
        w.add({"id": "new", "text": "A document that must never appear."})
        w.delete("api/en")
        raise RuntimeError("stop")
    assert generation(index_dir) == before
    with SearchIndex(index_dir) as ix:
        assert ix.document("new") is None and ix.document("api/en") is not None


def test_an_exception_on_a_new_index_leaves_no_index(tmp_path: Path) -> None:
    path = tmp_path / "index"
    with pytest.raises(RuntimeError), open_writer(path) as w:
        w.add({"id": "x", "text": DOCS["en"][0]})
        raise RuntimeError("stop")
    assert IndexLayout(path).current() is None
    assert not list(path.glob("gen-*"))


@pytest.mark.parametrize(("doc", "field", "problem"), [
    ({"text": "no id"}, "id", "missing"),
    ({"id": "  ", "text": "blank id"}, "id", "missing"),
    ({"id": True, "text": "a boolean id"}, "id", "type"),
    ({"id": "a\nb", "text": "an id with a newline"}, "id", "control"),
    ({"id": "x" * 513, "text": "a long id"}, "id", "too_long"),
    ({"id": "x"}, "text", "missing"),
    ({"id": "x", "text": 5}, "text", "type"),
    ({"id": "x", "text": " \n\t "}, "text", "empty"),
    ({"id": "x", "text": "t", "title": ["a"]}, "title", "type"),
    ({"id": "x", "text": "t", "lang": "de"}, "lang", "lang"),
    ({"id": "x", "text": "t", "date": "yesterday"}, "date", "date"),
    ({"id": "x", "text": "t", "date": "2024-02-30"}, "date", "date"),
    ({"id": "x", "text": "t", "url": {"href": "x"}}, "url", "type"),
    ("just a string", None, "not_object"),
])
def test_invalid_documents_raise_value_error_naming_the_field(doc, field, problem) -> None:
    with pytest.raises(ValueError) as caught:
        prepare_document(doc)
    exc = caught.value
    assert isinstance(exc, InvalidDocument)
    assert (exc.field, exc.problem) == (field, problem)
    if field:
        assert f"'{field}'" in str(exc)


def test_an_invalid_document_fails_the_whole_batch(index_dir: Path) -> None:
    before = generation(index_dir)
    with pytest.raises(InvalidDocument) as caught, open_writer(index_dir) as w:
        w.add({"id": "good-1", "text": "A good document about lynxes."})
        w.add_many([{"id": "good-2", "text": "Another good one."},
                    {"id": "bad", "text": "Its date is wrong.", "date": "soon"}])
    assert (caught.value.index, caught.value.doc_id, caught.value.field) == (1, "bad", "date")
    assert "document 1" in str(caught.value) and "'bad'" in str(caught.value)
    assert generation(index_dir) == before
    with SearchIndex(index_dir) as ix:
        assert ix.document("good-1") is None and ix.document("good-2") is None


def test_writer_outside_a_with_block_refuses(index_dir: Path) -> None:
    w = open_writer(index_dir)
    with pytest.raises(RuntimeError, match="with"):
        w.add({"id": "x", "text": "y"})


# -- the lock ---------------------------------------------------------------------------------

def test_writer_holds_the_index_lock(index_dir: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(DOCS["en"][0], encoding="utf-8")
    with open_writer(index_dir) as w:
        w.add({"id": "held", "text": "Written while the lock is held."})
        # Another writer of this process waits, then gives up...
        with pytest.raises(IndexLocked), open_writer(index_dir, timeout=0.2):
            pass
        with pytest.raises(IndexLocked):
            index_paths([docs], index_dir, timeout=0.2)
        # ... and so does search-cli index in another process.
        result = subprocess.run([*search_cli(), "index", str(docs), "--index", str(index_dir),
                                 "--timeout", "0.5"], capture_output=True, text=True,
                                timeout=120, cwd=REPO_ROOT)
        assert result.returncode == 1, result.stderr
        assert "being updated by another process" in result.stderr
        assert "Traceback" not in result.stderr
    # Released by the commit: the folder can be indexed now.
    report = index_paths([docs], index_dir, timeout=5)
    assert report.added == 1
    with SearchIndex(index_dir) as ix:
        assert ix.document("held") is not None and ix.document("a.txt") is not None


def test_the_lock_is_released_after_an_error(index_dir: Path) -> None:
    with pytest.raises(InvalidDocument), open_writer(index_dir) as w:
        w.add({"id": "x"})
    with open_writer(index_dir, timeout=0.2) as w:  # would raise IndexLocked otherwise
        w.add({"id": "x", "text": "Now with a text."})
    assert w.report.added == 1


# -- visibility -------------------------------------------------------------------------------

def test_commit_is_visible_to_every_open_index(index_dir: Path) -> None:
    with SearchIndex(index_dir) as own, SearchIndex(index_dir) as other:
        assert ids(own, "pangolin") == ids(other, "pangolin") == []
        with own.writer() as w:
            w.add({"id": "p", "text": "A pangolin was seen near the river."})
        assert ids(own, "pangolin") == ["p"]  # the writer's own index at once
        # Another open index checks for commits at most every REFRESH_INTERVAL; forcing the
        # check shows it without waiting.
        assert other.refresh(force=True)
        assert ids(other, "pangolin") == ["p"]
    with open_writer(index_dir) as w:  # a writer without a SearchIndex
        w.delete("p")
    with SearchIndex(index_dir) as fresh:
        assert ids(fresh, "pangolin") == []


# -- coexisting with folders ------------------------------------------------------------------

def test_folder_sync_never_deletes_writer_documents(seed_workspace: tuple[Path, Path]) -> None:
    docs, index_dir = seed_workspace
    files = sorted(docs.glob("*.txt"))
    with open_writer(index_dir) as w:
        w.add({"id": "api/note", "text": "A note about lynxes, added through the writer."})
        # An id that a file holds too: now a writer document; deleting the file keeps it.
        w.add({"id": files[1].name, "text": "Replaced through the writer: about otters."})
    files[0].unlink()
    files[1].unlink()
    report = index_paths([docs], index_dir)
    assert report.deleted == 1  # files[0]'s document only
    report = index_paths([docs], index_dir)  # and again: nothing else goes
    assert report.deleted == 0
    with SearchIndex(index_dir) as ix:
        assert ids(ix, "lynxes") == ["api/note"]
        assert ids(ix, "otters") == [files[1].name]
        assert ix.document(files[0].name) is None
        assert len(ix) == len(files) - 2 + 2
    # A rebuild reads the files again and carries the writer's documents over.
    report = index_paths([docs], index_dir, rebuild=True)
    assert report.added == len(files) - 2 + 2 and not report.problems
    with SearchIndex(index_dir) as ix:
        assert ids(ix, "lynxes") == ["api/note"]
        assert ix.document("api/note").path is None
        assert ids(ix, "otters") == [files[1].name]
        assert len(ix) == len(files) - 2 + 2


def test_in_a_rebuild_a_file_replaces_a_writer_document_of_its_id(
        seed_workspace: tuple[Path, Path]) -> None:
    docs, index_dir = seed_workspace
    name = sorted(docs.glob("*.txt"))[0].name
    with open_writer(index_dir) as w:
        w.add({"id": name, "text": "Written through the writer: about otters."})
        w.add({"id": "api/keep", "text": "Kept through the rebuild: about lynxes."})
    index_paths([docs], index_dir)  # the file did not change: the written one stays
    with SearchIndex(index_dir) as ix:
        assert ids(ix, "otters") == [name]
    report = index_paths([docs], index_dir, rebuild=True, procs=2)  # every file is read
    assert report.added == 5 + 1, report
    with SearchIndex(index_dir) as ix:
        assert ids(ix, "otters") == [] and ix.document(name).path is not None
        assert ids(ix, "lynxes") == ["api/keep"]
