"""Progress by document and page (search/progress.py, search/cli_progress.py): one large file
shows its documents or pages advancing; the CLI shows it on a terminal and stays quiet when
its output is not one."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
from pathlib import Path

from conftest import REPO_ROOT, search_cli

from search.indexer import index_paths
from search.progress import IndexProgress


def _jsonl(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            lang = "en" if i % 2 else "sl"
            text = (f"Report {i} on the border police." if lang == "en"
                    else f"Poročilo {i} o mejni policiji.")
            f.write(json.dumps({"id": f"r{i}", "lang": lang, "text": text}) + "\n")
    return path


def test_one_large_jsonl_file_shows_its_documents_advancing(tmp_path):
    seen: list[IndexProgress] = []
    files: list[tuple[int, int]] = []
    index_paths([_jsonl(tmp_path / "big.jsonl", 50)], tmp_path / "index",
                progress=lambda done, total: files.append((done, total)),
                on_progress=seen.append)
    during = [p for p in seen if p.files_done == 0 and p.file]
    # One update per document while the only file is still being read, counting up by one.
    assert [p.documents for p in during] == list(range(51))
    assert all(p.file.endswith("big.jsonl") and p.files_total == 1 for p in during)
    assert seen[-1] == IndexProgress(1, 1, 50)
    assert files == [(1, 1)]  # the per-file callback is still called as before


def test_a_pdf_shows_its_pages_advancing(format_files, tmp_path):
    pdf = tmp_path / "manual.pdf"
    shutil.copy(format_files / "pdf" / "libtasn1.pdf", pdf)
    seen: list[IndexProgress] = []
    index_paths([pdf], tmp_path / "index", on_progress=seen.append)
    pages = [(p.pages_done, p.pages_total) for p in seen if p.pages_total]
    assert pages == [(n, 36) for n in range(1, 37)]
    assert seen[-1].documents == 1


def _run_on_a_terminal(args: list[str], cwd: Path) -> tuple[str, str]:
    """Run search-cli with stderr on a pseudo-terminal: (stdout, what the terminal showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([*search_cli(), *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=slave, stdin=subprocess.DEVNULL, text=True)
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        shown += chunk
    out = proc.stdout.read() if proc.stdout else ""
    proc.wait(timeout=60)
    os.close(master)
    return out, shown.decode("utf-8", "replace")


def test_the_cli_shows_progress_on_a_terminal_only(tmp_path):
    data = _jsonl(tmp_path / "big.jsonl", 300)
    queries = tmp_path / "q.jsonl"
    queries.write_text("".join(json.dumps({"id": str(i), "text": w}) + "\n"
                               for i, w in enumerate(["police", "policija", "border"])),
                       encoding="utf-8")
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("0 0 r1 1\n1 0 r0 1\n2 0 r3 1\n", encoding="utf-8")
    index = str(tmp_path / "index")

    _, shown = _run_on_a_terminal(["index", str(data), "--index", index], REPO_ROOT)
    assert "Indexing: 1/1 files, 300 documents" in shown
    out, shown = _run_on_a_terminal(["run", "--queries", str(queries), "--index", index],
                                    REPO_ROOT)
    assert "Queries: 3/3" in shown and out.count(" Q0 ") > 3
    out, shown = _run_on_a_terminal(["eval", "--queries", str(queries), "--qrels", str(qrels),
                                     "--index", index], REPO_ROOT)
    assert "Queries: 3/3" in shown and "RR@10" in out

    # Not a terminal: nothing but the results (and, for index, its summary on stdout).
    for args in (["index", str(data), "--index", index, "--rebuild"],
                 ["run", "--queries", str(queries), "--index", index],
                 ["eval", "--queries", str(queries), "--qrels", str(qrels), "--index", index]):
        done = subprocess.run([*search_cli(), *args], capture_output=True, text=True,
                              cwd=REPO_ROOT, check=True)
        assert done.stderr == "", args


def test_index_quiet_shows_no_progress_even_on_a_terminal(tmp_path):
    data = _jsonl(tmp_path / "big.jsonl", 20)
    _, shown = _run_on_a_terminal(["index", str(data), "--index", str(tmp_path / "index"),
                                   "-q"], REPO_ROOT)
    assert "Indexing:" not in shown


def test_the_status_line_names_the_file_and_its_page():
    from search.cli_progress import describe

    assert describe(IndexProgress(2, 10, 12345, "/data/reports/big.pdf", 230, 500)) == (
        "Indexing: 2/10 files, 12,345 documents · big.pdf page 230/500")
    assert describe(IndexProgress(0, 1, 7, "/data/big.jsonl")) == (
        "Indexing: 0/1 files, 7 documents · big.jsonl")
    assert describe(IndexProgress(1, 1, 7)) == "Indexing: 1/1 files, 7 documents"
