"""Shared pytest fixtures.

Web fixtures (``web_*``): one real index per test session, built with the engine's
``index_paths`` from the repository's seeds plus small documents made for the web tests
(an EN/SL translation pair, 24 documents for paging and facets, and hostile markup for the
XSS tests).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

#: Property tests draw the same examples on every run, so a red run can be repeated and CI
#: does not fail by chance; ``HYPOTHESIS_PROFILE=explore`` searches new examples (how the
#: read-ahead bug pinned in tests/test_storage_read.py was found).
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

REPO_ROOT = Path(__file__).resolve().parents[1]
# The benchmarks' helpers for running search-cli and servers serve the tests too.
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from _results import search_cli, stop_server  # noqa: E402,F401

#: How many "quokka" documents the web corpus has: 12 English and 12 Slovenian, 8 a year.
WEB_QUOKKA_DOCS = 24
WEB_XSS_TITLE = "Security notice about <script>alert(1)</script> tags"
WEB_XSS_BODY = ("The zanzibar form accepted <img src=x onerror=alert(1)> and "
                "<script>document.title='pwned'</script> as input. Both were stored as plain "
                "text and must be displayed as text, never run.")


def _web_records() -> list[dict]:
    records = [
        {"id": "pair/en/karavanke-tunnel", "pair_id": "karavanke-tunnel", "lang": "en",
         "date": "2023-05-10", "url": "https://www.gov.si/en/news/karavanke-tunnel/",
         "title": "Karavanke tunnel reopens after the joint border inspection",
         "text": "The Karavanke tunnel between Slovenia and Austria reopened today after a "
                 "joint inspection by the police of both countries.\n\nThe ministers agreed "
                 "that traffic controls at the border will stay light and that cooperation "
                 "between the two police forces will continue."},
        {"id": "pair/sl/karavanke-tunnel", "pair_id": "karavanke-tunnel", "lang": "sl",
         "date": "2023-05-10", "url": "https://www.gov.si/novice/karavanke-predor/",
         "title": "Predor Karavanke po skupnem pregledu znova odprt",
         "text": "Predor Karavanke med Slovenijo in Avstrijo je bil danes po skupnem pregledu "
                 "policij obeh držav znova odprt.\n\nMinistra sta se dogovorila, da bo nadzor "
                 "prometa na meji ostal blag in da se bo sodelovanje med policijama "
                 "nadaljevalo."},
        {"id": "odd/javascript-url", "lang": "en", "date": "2022-02-02",
         "url": "javascript:alert(1)",
         "title": "\"><svg onload=alert(1)> Harmless title with a hostile source link",
         "text": "This record has a javascript: source URL that must never become a link. "
                 "The word mongoose appears only here."},
    ]
    for i in range(WEB_QUOKKA_DOCS):
        year = 2021 + i // 8
        day = 1 + i % 8
        if i % 2 == 0:
            records.append({
                "id": f"bulk/en/quokka-{i:02d}", "lang": "en", "date": f"{year}-03-{day:02d}",
                "title": f"Quokka report number {i}",
                "text": f"Report number {i} about the quokka colony on the island. The quokka "
                        "is a small marsupial; rangers counted the animals and checked their "
                        "health. Visitors are asked not to feed them."})
        else:
            records.append({
                "id": f"bulk/sl/quokka-{i:02d}", "lang": "sl", "date": f"{year}-03-{day:02d}",
                "title": f"Poročilo o kvokah številka {i}",
                "text": f"Poročilo številka {i} o koloniji živali quokka na otoku. Quokka je "
                        "majhen vrečar; nadzorniki so živali prešteli in preverili njihovo "
                        "zdravje. Obiskovalce prosijo, naj jih ne hranijo."})
    return records


@pytest.fixture(scope="session")
def web_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of documents for the web tests (seeds + made-up fixtures)."""
    root = tmp_path_factory.mktemp("web-corpus")
    shutil.copytree(REPO_ROOT / "seeds", root / "seeds")
    with open(root / "fixtures.jsonl", "w", encoding="utf-8") as f:
        for record in _web_records():
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    (root / "xss").mkdir()
    (root / "xss" / "evil.txt").write_text(f"{WEB_XSS_TITLE}\n\n{WEB_XSS_BODY}\n",
                                           encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def web_index(web_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real index of ``web_corpus``, built once per session."""
    from search.indexer import index_paths

    path = tmp_path_factory.mktemp("web-index") / "index"
    report = index_paths([web_corpus], path)
    assert report.indexed >= 5 + 3 + WEB_QUOKKA_DOCS + 1, report.problems
    return path


#: Documents for how results are told apart and shown: three with one title (from a web
#: page, a hostile ``javascript:`` source and no source at all), and one whose title and text
#: hold right-to-left overrides (U+202E) left open, as a forged file name would.
WEB_SAME_TITLE = "Vstavljanje slik"
WEB_BIDI_TITLE = "Invoice \u202egpj.exe"
WEB_BIDI_TEXT = ("The walrus invoice arrived as \u202efdp.exe and looked like a PDF. "
                 + "Nothing else happened that day. " * 12
                 + "Later the \u2067walrus\u202b file was opened again.")


def _display_records() -> list[dict]:
    body = ("Slike vstavite v besedilo z ukazom Vstavi. Ukaz okapi deluje v vseh "
            "urejevalnikih.")
    return [
        {"id": "help/writer/slike", "lang": "sl", "title": WEB_SAME_TITLE, "text": body,
         "url": "https://help.example.org/sl/writer/slike/"},
        {"id": "help/calc/slike", "lang": "sl", "title": WEB_SAME_TITLE, "text": body + " Calc.",
         "url": "javascript:alert(document.domain)"},
        {"id": "help/impress/slike", "lang": "sl", "title": WEB_SAME_TITLE,
         "text": body + " Impress."},
        {"id": "odd/bidi", "lang": "en", "title": WEB_BIDI_TITLE, "text": WEB_BIDI_TEXT},
    ]


@pytest.fixture(scope="session")
def web_display_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small real index of :func:`_display_records`."""
    from search.indexer import index_paths

    root = tmp_path_factory.mktemp("web-display")
    with open(root / "display.jsonl", "w", encoding="utf-8") as f:
        for record in _display_records():
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    report = index_paths([root / "display.jsonl"], root / "index")
    assert report.indexed == len(_display_records()), report.problems
    return root / "index"


@pytest.fixture(scope="session")
def web_app(web_index: Path):
    """The Flask app on the session's index."""
    from web import create_app, index_holder

    app = create_app({"TESTING": True, "SEARCH_INDEX": str(web_index)})
    yield app
    index_holder(app).close()


@pytest.fixture()
def web_client(web_app):
    """A fresh test client (own cookie jar) per test."""
    return web_app.test_client()


def start_server(command: list[str], cwd: Path = REPO_ROOT, timeout: float = 90.0,
                 env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Run a server command and return (process, the base URL it printed when listening)."""
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line:
            break
        lines.append(line)
        match = re.search(r"Serving on (http://\S+/)", line)
        if match:
            return proc, match.group(1)
    proc.kill()
    proc.wait(timeout=10)
    raise RuntimeError(f"{' '.join(command[:3])} did not start:\n" + "".join(lines))


def _start_web_server(args: list[str], cwd: Path = REPO_ROOT,
                      timeout: float = 90.0) -> tuple[subprocess.Popen, str]:
    """Run ``python -m web.server ARGS`` and return (process, base URL it printed)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)}
    return start_server([sys.executable, "-m", "web.server", *args], cwd, timeout, env)


@pytest.fixture()
def served() -> Iterator[list[subprocess.Popen]]:
    """Processes a test starts (append them); stopped whatever happens."""
    procs: list[subprocess.Popen] = []
    yield procs
    for proc in procs:
        stop_server(proc)


@pytest.fixture()
def web_server_factory() -> Iterator[Callable[..., str]]:
    """Start real servers (``python -m web.server``); all are stopped after the test."""
    started: list[subprocess.Popen] = []

    def start(args: list[str], cwd: Path = REPO_ROOT) -> str:
        proc, base = _start_web_server(args, cwd)
        started.append(proc)
        return base

    yield start
    for proc in started:
        stop_server(proc)


@pytest.fixture(scope="session")
def web_server(web_index: Path) -> Iterator[str]:
    """Base URL of a real waitress server on the session's index (port chosen by the OS)."""
    proc, base = _start_web_server(["--port", "0", "--index", str(web_index)])
    yield base
    stop_server(proc)


# -- engine fixtures (``seed_*``): the repository's seeds/, indexed once per session ---------

#: The seed press releases by language, as ``search-cli index seeds/`` indexes them.
SEEDS = REPO_ROOT / "seeds"
SEED_EN = ("000_eec3f92ade572638.txt", "001_e3db343228e9354f.txt", "004_e1092b4b94e7fb06.txt")
SEED_SL = ("002_4e8de5448a03a96d.txt", "003_21c0dd849a38b783.txt")


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of seeds/, built once per session. Tests must not modify it."""
    from search.indexer import index_paths

    path = tmp_path_factory.mktemp("seed-index") / "index"
    report = index_paths([SEEDS], path)
    assert report.added == len(SEED_EN) + len(SEED_SL), report
    assert not report.problems, report.problems
    return path


@pytest.fixture(scope="session")
def seed_search(seed_index: Path):
    """A ``SearchIndex`` open on ``seed_index`` for the whole session."""
    from search.searcher import SearchIndex

    ix = SearchIndex(seed_index)
    yield ix
    ix.close()


@pytest.fixture()
def seed_copy(tmp_path: Path) -> Path:
    """A private, writable copy of seeds/ (for tests that edit, delete or rename files)."""
    folder = tmp_path / "docs"
    shutil.copytree(SEEDS, folder)
    return folder


@pytest.fixture(scope="session")
def _seed_workspace_snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(workspace, pristine snapshot): seeds/ copied into ``workspace/docs`` and indexed into
    ``workspace/index`` once; the snapshot is a byte-for-byte copy (mtimes included)."""
    from search.indexer import index_paths

    workspace = tmp_path_factory.mktemp("seed-workspace")
    shutil.copytree(SEEDS, workspace / "docs")
    report = index_paths([workspace / "docs"], workspace / "index")
    assert report.added == len(SEED_EN) + len(SEED_SL), report
    snapshot = tmp_path_factory.mktemp("seed-workspace-snapshot") / "copy"
    shutil.copytree(workspace, snapshot, symlinks=True)
    return workspace, snapshot


def _background_writers() -> list[threading.Thread]:
    """Threads of a ``SearchIndex`` that write into its index folder (cognate rebuilds)."""
    return [t for t in threading.enumerate() if t.name == "cognate-index" and t.is_alive()]


@pytest.fixture()
def seed_workspace(_seed_workspace_snapshot: tuple[Path, Path]) -> Iterator[tuple[Path, Path]]:
    """(documents folder, index folder): a fresh, writable index of a copy of seeds/.

    Restored from a snapshot for each test instead of re-indexed (much faster). The absolute
    paths are the same in every test, as the index records them, so the workspace is shared
    state: the whole of it is replaced before each test (an error, not silence, if that
    fails), and a test must leave nothing writing into it: any SearchIndex it opens must be
    closed by its end (``close`` waits for a background cognate rebuild, which writes into
    the index folder and once made the next test's restore fail with FileExistsError).
    """
    workspace, snapshot = _seed_workspace_snapshot
    assert not _background_writers(), "a SearchIndex of an earlier test is still writing"
    for entry in list(workspace.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for name in ("docs", "index"):
        shutil.copytree(snapshot / name, workspace / name, symlinks=True)
    yield workspace / "docs", workspace / "index"
    assert not _background_writers(), "the test left a SearchIndex writing into its folder"


# -- PDF, DOCX and ODT files made from the seeds by real converters (tests/test_formats.py) --

#: The creation date pandoc writes into the DOCX/ODT fixtures (SOURCE_DATE_EPOCH): 2021-06-15.
FORMAT_EPOCH = 1623715200
FORMAT_EPOCH_DATE = "2021-06-15"
#: Which seeds each fixture PDF prints, one seed a page (page N = the N-th seed listed).
PDF_SEEDS = {"seeds-en.pdf": ("000", "001", "004"), "seeds-sl.pdf": ("003", "002")}
PDF_EN_TITLE = "Ministry of the Interior: press releases"


@pytest.fixture(scope="session")
def format_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of real documents, made once per session: ``docx/`` and ``odt/`` (each seed
    by pandoc, creation date ``FORMAT_EPOCH_DATE``; ``titled.*`` with a metadata title,
    ``heading.*`` with a first heading), ``pdf/`` (``PDF_SEEDS`` printed by Chromium, the
    Debian package's libtasn1.pdf, ``open-protected.pdf`` encrypted without a user password)
    and ``bad/`` (password-locked, truncated, empty and scanned PDFs, an empty, a broken and
    a password-protected DOCX, an ODT without text)."""
    import _documents as mk

    if not mk.CHROMIUM.exists() or not mk.DEBIAN_PDF.exists() or not shutil.which("pandoc") \
            or not shutil.which("qpdf"):
        pytest.skip("needs chromium, pandoc, qpdf and libtasn1-doc (see APT_PACKAGES in .ci/run)")
    root = tmp_path_factory.mktemp("formats")
    seeds = {p.name[:3]: p.read_text(encoding="utf-8") for p in sorted(
        (REPO_ROOT / "seeds").glob("*.txt"))}
    for kind in ("docx", "odt", "pdf", "bad"):
        (root / kind).mkdir()
    for name, text in seeds.items():
        page = mk.text_html([text])
        for ext in ("docx", "odt"):
            mk.pandoc(page, root / ext / f"{name}.{ext}", epoch=FORMAT_EPOCH)
    # A Slovenian document with a metadata title, an English one with only a heading.
    mk.pandoc(mk.text_html([seeds["002"]]), root / "docx" / "titled.docx",
              title="Poklukar v Tirani o policijskem sodelovanju", epoch=FORMAT_EPOCH)
    mk.pandoc(mk.text_html([seeds["002"]]), root / "odt" / "titled.odt",
              title="Poklukar v Tirani o policijskem sodelovanju", epoch=FORMAT_EPOCH)
    for ext in ("docx", "odt"):
        mk.pandoc(mk.text_html([seeds["000"]], headings=["Talks in Vilnius"]),
                  root / ext / f"heading.{ext}", epoch=FORMAT_EPOCH)
    pdfs = [(mk.text_html([seeds[n] for n in names],
                          title=PDF_EN_TITLE if name == "seeds-en.pdf" else None),
             root / "pdf" / name) for name, names in PDF_SEEDS.items()]
    mk.print_pdfs(pdfs)
    for name, names in PDF_SEEDS.items():
        assert mk.page_count(root / "pdf" / name) == len(names), "a seed spilled onto 2 pages"
    shutil.copy(mk.DEBIAN_PDF, root / "pdf" / mk.DEBIAN_PDF.name)
    mk.encrypt_pdf(root / "pdf" / "seeds-sl.pdf", root / "pdf" / "open-protected.pdf",
                   "", "owner-secret")
    bad = root / "bad"
    mk.encrypt_pdf(root / "pdf" / "seeds-sl.pdf", bad / "locked.pdf", "user-secret",
                   "owner-secret")
    data = mk.DEBIAN_PDF.read_bytes()
    (bad / "truncated.pdf").write_bytes(data[: len(data) // 2])
    (bad / "empty.pdf").write_bytes(b"")
    mk.scanned_pdf(bad / "scanned.pdf", ["SCANNED PAGE", "Notranji minister Poklukar"])
    (bad / "empty.docx").write_bytes(b"")
    docx = (root / "docx" / "000.docx").read_bytes()
    (bad / "broken.docx").write_bytes(docx[: len(docx) // 2])
    mk.encrypt_office(root / "docx" / "000.docx", bad / "locked.docx", "user-secret")
    mk.pandoc("<html><body></body></html>", bad / "blank.odt", epoch=FORMAT_EPOCH)
    return root
