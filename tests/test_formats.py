"""PDF, DOCX and ODT files on real files made by real converters (see ``format_files`` in
conftest.py): the same text, title, date and language as the seed they were made from, the
page of a PDF hit, unreadable files reported by name, incremental updates."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import (
    FORMAT_EPOCH,
    FORMAT_EPOCH_DATE,
    PDF_EN_TITLE,
    PDF_SEEDS,
    REPO_ROOT,
    search_cli,
)

from search.documents import find_sources, read_source
from search.documents.pdf import unwrap_lines
from search.indexer import index_paths
from search.model import Source
from search.searcher import SearchIndex

SEED_LANGS = {"000": "en", "001": "en", "002": "sl", "003": "sl", "004": "en"}


def _seed(name: str) -> Path:
    return next((REPO_ROOT / "seeds").glob(f"{name}_*.txt"))


def _one(path: Path, **kwargs):
    """The single document read from ``path`` (failing with its problems otherwise)."""
    (source,) = [s for s in find_sources([path]) if isinstance(s, Source)]
    result = read_source(source, **kwargs)
    assert len(result.documents) == 1, result.problems
    return result.documents[0]


def _words(text: str) -> list[str]:
    return text.split()


def _pdf_creation_date(path: Path) -> str:
    """The PDF's /CreationDate as qpdf reads it, as an ISO day."""
    out = subprocess.run(["qpdf", "--json=2", "--json-key=qpdf", str(path)], check=True,
                         capture_output=True, text=True).stdout
    for obj in json.loads(out)["qpdf"][1].values():
        value = obj.get("value", {}) if isinstance(obj, dict) else {}
        created = value.get("/CreationDate") if isinstance(value, dict) else None
        if created:
            digits = created.removeprefix("u:").removeprefix("D:")
            return f"{digits[:4]}-{digits[4:6]}-{digits[6:8]}"
    raise AssertionError("no /CreationDate")


@pytest.mark.parametrize("ext", ["docx", "odt"])
@pytest.mark.parametrize("seed", sorted(SEED_LANGS))
def test_word_and_opendocument_read_as_their_seed_text(format_files, ext, seed):
    doc = _one(format_files / ext / f"{seed}.{ext}")
    txt = _one(_seed(seed))
    assert _words(doc.text) == _words(txt.text)
    assert doc.title == txt.title
    assert doc.lang == txt.lang == SEED_LANGS[seed]
    # A dateline in the text first ("SLOVENIA, October 29 -", "date 2024-07"), else the
    # file's creation date from its metadata.
    assert doc.date == (txt.date or FORMAT_EPOCH_DATE)
    assert doc.pages is None
    assert doc.id == f"{seed}.{ext}"


@pytest.mark.parametrize("ext", ["docx", "odt"])
def test_title_from_the_metadata_else_the_first_heading(format_files, ext):
    titled = _one(format_files / ext / f"titled.{ext}")
    assert (titled.title, titled.lang) == ("Poklukar v Tirani o policijskem sodelovanju", "sl")
    headed = _one(format_files / ext / f"heading.{ext}")
    assert (headed.title, headed.lang) == ("Talks in Vilnius", "en")
    assert "Lithuania is an important partner" in headed.text


@pytest.mark.parametrize("name", sorted(PDF_SEEDS))
def test_pdf_pages_hold_their_seeds_text(format_files, name):
    path = format_files / "pdf" / name
    doc = _one(path)
    seeds = PDF_SEEDS[name]
    assert doc.pages is not None and len(doc.pages) == len(seeds)
    ends = [*doc.pages[1:], len(doc.text)]
    for seed, start, end in zip(seeds, doc.pages, ends, strict=True):
        assert _words(doc.text[start:end]) == _words(_one(_seed(seed)).text)
    lang = SEED_LANGS[seeds[0]]
    assert doc.lang == lang
    if lang == "en":
        assert doc.title == PDF_EN_TITLE  # the PDF's metadata title
        assert doc.date == _pdf_creation_date(path)  # no dateline: the metadata's date
    else:
        first = _one(_seed(seeds[0]))
        assert doc.title == first.title  # no metadata title: as for the text
        assert doc.date == "2024-07"  # the dateline beats the metadata
        assert "Danilu Šaranoviću" in doc.text and "črnogorskem" in doc.text


def test_a_pdf_from_a_debian_package(format_files):
    doc = _one(format_files / "pdf" / "libtasn1.pdf")
    assert doc.title == "Libtasn1"
    assert doc.lang == "en"
    assert doc.date == "2025-02-08" == _pdf_creation_date(format_files / "pdf" / "libtasn1.pdf")
    assert len(doc.pages) == 36
    # Lines are joined back into paragraphs, and words hyphenated at a line end mended.
    assert "(DER) manipulation." in doc.text
    assert "Abstract Syntax Notation One (ASN.1) library for the GNU system" in doc.text


def test_a_pdf_encrypted_without_a_user_password_is_read(format_files):
    doc = _one(format_files / "pdf" / "open-protected.pdf")
    assert doc.lang == "sl" and "Šaranoviću" in doc.text


def test_unwrapping_pdf_lines():
    page = ("The ministers agreed that the coopera-\ntion of the police forces of both\n"
            "countries next year.\nA second paragraph starts here and it\n"
            "runs on for a while longer than that.\n• a bullet\n• another one")
    assert unwrap_lines(page).split("\n") == [
        "The ministers agreed that the cooperation of the police forces of both countries "
        "next year.",
        "A second paragraph starts here and it runs on for a while longer than that.",
        "• a bullet", "• another one"]


@pytest.fixture(scope="module")
def pdf_index(format_files, tmp_path_factory) -> Path:
    index = tmp_path_factory.mktemp("pdf-index") / "index"
    report = index_paths([format_files / "pdf"], index)
    assert report.problems == [] and report.added == 4
    return index


@pytest.mark.parametrize(("query", "lang", "pdf", "page"), [
    ("Vilnius", "en", "seeds-en.pdf", 1), ("Italian", "en", "seeds-en.pdf", 2),
    ("Burundi", "en", "seeds-en.pdf", 3), ("Šaranović", "sl", "seeds-sl.pdf", 1),
    ("Podgorica", "sl", "seeds-sl.pdf", 1), ("Tirana", "sl", "seeds-sl.pdf", 2),
])
def test_a_pdf_hit_says_which_page_matched(pdf_index, query, lang, pdf, page):
    with SearchIndex(pdf_index) as ix:
        hits = [h for h in ix.search(query, lang=lang).hits if h.id == pdf]
        assert hits and hits[0].page == page
        assert hits[0].to_dict()["page"] == page
        view = ix.document(pdf, query=query)
        assert view.page == page and view.page_count == len(PDF_SEEDS[pdf])
        assert view.to_dict()["page"] == page
        # Unpaged documents and documents without a match have no page.
        assert ix.document(pdf).page is None


def test_the_page_is_shown_in_the_cli_and_on_the_web(pdf_index):
    def cli(*args: str) -> str:
        return subprocess.run([*search_cli(), *args, "--index", str(pdf_index)], check=True,
                              capture_output=True, text=True).stdout

    assert "seeds-en.pdf · page 3" in cli("query", "Burundi")
    assert json.loads(cli("query", "Burundi", "--json"))["hits"][0]["page"] == 3

    from web import create_app, index_holder

    app = create_app({"TESTING": True, "SEARCH_INDEX": str(pdf_index)})
    try:
        client = app.test_client()
        for ui, label in (("en", "page 3"), ("sl", "stran 3")):
            html = client.get(f"/search?q=Burundi&ui={ui}").get_data(as_text=True)
            assert f'<span class="hit-page">{label}</span>' in html
            html = client.get(f"/doc/seeds-en.pdf?q=Burundi&ui={ui}").get_data(as_text=True)
            assert f'<dd class="doc-match-page">{label}</dd>' in html
        api = client.get("/api/search?q=Tirana&lang=sl").get_json()
        assert {h["id"]: h["page"] for h in api["hits"]} == {"seeds-sl.pdf": 2,
                                                             "open-protected.pdf": 2}
    finally:
        index_holder(app).close()


def test_unreadable_files_are_reported_by_name_and_the_rest_indexed(format_files, tmp_path):
    report = index_paths([format_files], tmp_path / "index")
    reasons = {Path(p.source).name: p.reason for p in report.problems}
    assert set(reasons) == {"locked.pdf", "truncated.pdf", "empty.pdf", "scanned.pdf",
                            "empty.docx", "broken.docx", "locked.docx", "blank.odt"}, reasons
    assert reasons["locked.pdf"].startswith("encrypted: the PDF needs a password")
    assert reasons["truncated.pdf"].startswith("corrupt PDF: truncated")
    assert reasons["empty.pdf"] == "empty file"
    assert reasons["scanned.pdf"].startswith("no text: an image-only (scanned) PDF")
    assert reasons["empty.docx"] == "empty file"
    assert reasons["broken.docx"].startswith("corrupt DOCX")
    assert reasons["locked.docx"].startswith("not a DOCX package: password-protected")
    assert reasons["blank.odt"] == "no text in the document"
    good = [p for p in format_files.rglob("*") if p.is_file() and p.parent.name != "bad"]
    assert report.added == len(good) == 5 + 2 + 5 + 2 + 4
    with SearchIndex(tmp_path / "index") as ix:
        assert len(ix) == len(good)


def test_a_changed_docx_is_updated_incrementally(format_files, tmp_path):
    import _documents as mk

    folder = tmp_path / "docs"
    shutil.copytree(format_files / "docx", folder)
    index = tmp_path / "index"
    first = index_paths([folder], index)
    assert first.added == 7 and not first.problems
    again = index_paths([folder], index)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 7)

    text = _seed("002").read_text(encoding="utf-8") + "\nMinistra sta govorila tudi o kvokah."
    mk.pandoc(mk.text_html([text]), folder / "002.docx", epoch=FORMAT_EPOCH + 86400)
    changed = index_paths([folder], index)
    assert (changed.added, changed.updated, changed.unchanged) == (0, 1, 6)
    with SearchIndex(index) as ix:
        hits = ix.search("kvoka", lang="sl").hits
        assert [h.id for h in hits] == ["002.docx"]
        assert hits[0].date == "2021-06-16"  # the new file's creation date
    (folder / "002.docx").unlink()
    assert index_paths([folder], index).deleted == 1


def test_pdf_reading_is_capped_and_reports_its_pages(format_files, monkeypatch):
    import search.documents.pdf as pdf

    path = format_files / "pdf" / "libtasn1.pdf"
    calls: list[tuple[int, int]] = []
    doc = _one(path, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(n, 36) for n in range(1, 37)]
    monkeypatch.setattr(pdf, "MAX_PDF_PAGES", 3)
    (source,) = find_sources([path])
    result = read_source(source)
    assert len(result.documents[0].pages) == 3
    assert result.documents[0].text == doc.text[:len(result.documents[0].text)]
    assert [p.reason for p in result.problems] == ["only the first 3 of 36 pages are indexed"]


def test_pdf_reading_stops_at_the_character_cap(format_files, monkeypatch):
    import search.documents.pdf as pdf

    monkeypatch.setattr(pdf, "MAX_TEXT_CHARS", 5000)
    (source,) = find_sources([format_files / "pdf" / "libtasn1.pdf"])
    pages: list[int] = []
    result = read_source(source, progress=lambda done, total: pages.append(done))
    assert 1 < len(pages) < 10  # stopped reading pages once past the cap
    assert len(result.documents[0].pages) == len(pages)
    assert [p.reason.split(":")[0] for p in result.problems] == ["truncated"]
