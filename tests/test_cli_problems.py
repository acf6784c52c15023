"""search.cli on bad input: what each command says, its exit status, and what it leaves alone.

Missing and empty paths, empty indexes, broken query and qrels files, a read-only index
folder, and the counts the commands print (1 result, 2 results).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SEED_SL, SEEDS, search_cli

from search import storage
from search.cli import EXIT_NOTHING, EXIT_SKIPPED, cli
from search.storage import IndexLayout

SL_003 = SEED_SL[1]
#: One short document per language, to index where a test needs its own index.
TEXTS = {
    "en": "Border crossing\n\nThe border police checked every lorry at the crossing today.\n",
    "sl": "Nadzor na meji\n\nPolicisti so danes na meji pregledali vse tovornjake.\n",
}
QUERY = {"en": "border", "sl": "meja"}


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: object):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every entry under ``folder`` with its (size, mtime): to show nothing changed."""
    return {str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


# -- paths that do not exist or hold nothing ---------------------------------------------

def test_index_of_a_missing_path_creates_nothing(runner, tmp_path):
    index_dir = tmp_path / "ix"
    result = invoke(runner, "index", tmp_path / "no" / "such" / "folder", "--index", index_dir)
    assert result.exit_code == EXIT_NOTHING == 4
    assert f"skipped: {tmp_path}/no/such/folder: not found" in result.stderr
    assert "Nothing to index" in result.stderr and "not created" in result.stderr
    assert "Indexed" not in result.stdout and "Traceback" not in result.output
    assert not index_dir.exists()


def test_index_of_a_missing_path_leaves_an_existing_index_alone(runner, seed_workspace):
    docs, index_dir = seed_workspace
    before = tree(index_dir)
    result = invoke(runner, "index", docs / "gone", docs.parent / "typo", "--index", index_dir)
    assert result.exit_code == EXIT_NOTHING
    assert result.stderr.count("not found") == 2
    assert tree(index_dir) == before  # not even the lock file or an orphan clean-up


@pytest.mark.parametrize("lang", ["en", "sl"])
def test_index_of_an_empty_folder_warns_and_the_empty_index_answers(runner, tmp_path, lang):
    empty, index_dir = tmp_path / "emptydir", tmp_path / "x2"
    empty.mkdir()
    (empty / "notes.pdf").write_bytes(b"%PDF-1.4 not a format we read")
    result = invoke(runner, "index", empty, "--index", index_dir)
    assert result.exit_code == EXIT_NOTHING
    assert f"warning: no documents found in {empty}" in result.stderr
    assert ".txt" in result.stderr and ".jsonl" in result.stderr
    assert "Indexed 0 documents" in result.stdout
    # The empty index can be searched (it crashed with EmptyReader has no '_terms').
    query = invoke(runner, "query", QUERY[lang], "--index", index_dir, "--lang", lang)
    assert query.exit_code == 0 and f"No results for {QUERY[lang]!r}." in query.stdout
    data = json.loads(invoke(runner, "query", QUERY[lang], "--index", index_dir,
                             "--json").stdout)
    assert (data["total"], data["hits"]) == (0, [])
    assert "Documents: 0" in invoke(runner, "stats", "--index", index_dir).stdout


def test_index_of_a_folder_of_unreadable_files_is_nothing_indexed(runner, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "binary.txt").write_bytes(b"\x00\x01binary\x00")
    result = invoke(runner, "index", docs, "--index", tmp_path / "ix")
    assert result.exit_code == EXIT_NOTHING
    assert "skipped:" in result.stderr and "1 input skipped, see above" in result.stderr


# -- counts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "sl"])
def test_counts_are_singular_for_one(runner, tmp_path, lang):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / f"{lang}.txt").write_text(TEXTS[lang], encoding="utf-8")
    (docs / "broken.txt").write_bytes(b"\x00binary\x00")
    result = invoke(runner, "index", docs, "--index", tmp_path / "ix")
    assert result.exit_code == EXIT_SKIPPED
    assert result.stdout.startswith("Indexed 1 document into ")
    assert "1 input skipped; see above." in result.stderr
    assert "(s)" not in result.output
    query = invoke(runner, "query", QUERY[lang], "--index", tmp_path / "ix")
    assert query.stdout.startswith(f"1 result ({lang}: 1); showing 1, ")
    (docs / "second.txt").write_text(TEXTS[lang].replace("\n\n", " again\n\n"),
                                     encoding="utf-8")
    result = invoke(runner, "index", docs, "--index", tmp_path / "ix")
    assert result.stdout.startswith("Indexed 1 document into ")
    assert "1 unchanged" in result.stdout
    query = invoke(runner, "query", QUERY[lang], "--index", tmp_path / "ix")
    assert query.stdout.startswith(f"2 results ({lang}: 2); showing 1-2, ")


def test_seed_query_with_one_result(runner, seed_index):
    result = invoke(runner, "query", "saranovic", "--index", seed_index)
    assert result.stdout.startswith("1 result (sl: 1); showing 1, ")
    assert SL_003 in result.stdout


# -- run and eval with bad files -------------------------------------------------------------

BAD_QUERY_LINES = {
    "invalid JSON": ("not json", "invalid JSON: Expecting value (column 1)"),
    "not an object": ("[1, 2]", 'not a JSON object with "id" and "text"'),
    "no id": ('{"text": "meja"}', 'missing "id" (a string or a number)'),
    "no text": ('{"id": "q9"}', 'missing "text" (a string)'),
    "text not a string": ('{"id": "q9", "text": 5}', 'missing "text" (a string)'),
    "duplicate id": ('{"id": "q1", "text": "again"}', "duplicate id 'q1' (first used on line 1)"),
    "NUL byte": ('{"id": "q9", "text": "me\x00ja"}', "binary data (NUL bytes)"),
}


@pytest.mark.parametrize("lang", ["en", "sl"])
@pytest.mark.parametrize("case", sorted(BAD_QUERY_LINES))
@pytest.mark.parametrize("command", ["run", "eval"])
def test_a_bad_query_line_is_named_by_file_and_line(runner, seed_index, tmp_path, case, lang,
                                                    command):
    line, reason = BAD_QUERY_LINES[case]
    queries = tmp_path / "bad.jsonl"
    queries.write_bytes((json.dumps({"id": "q1", "text": QUERY[lang]}) + "\n\n"
                         + line + "\n").encode())
    qrels = tmp_path / "qrels.txt"
    qrels.write_text(f"q1 0 {SL_003} 1\n")
    out = tmp_path / "run.trec"
    args = (["--output", out] if command == "run" else ["--qrels", qrels])
    result = invoke(runner, command, "--index", seed_index, "--queries", queries, *args)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {queries}:3: {reason}\n"
    assert not out.exists()  # nothing half-written


@pytest.mark.parametrize("content, reason", [
    (b"", "no queries"),
    (b'{"id": "q1", "text": "caf\xe9"}\n', "1: not valid UTF-8 at byte 25"),
])
def test_an_empty_or_undecodable_query_file_is_refused(runner, seed_index, tmp_path, content,
                                                       reason):
    queries = tmp_path / "q.jsonl"
    queries.write_bytes(content)
    result = invoke(runner, "run", "--index", seed_index, "--queries", queries)
    assert result.exit_code == 1 and reason in result.stderr and str(queries) in result.stderr


def test_many_bad_query_lines_are_listed_up_to_a_limit(runner, seed_index, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text("oops\n" * 25)
    result = invoke(runner, "run", "--index", seed_index, "--queries", queries)
    lines = result.stderr.splitlines()
    assert lines[0] == f"Error: {queries}:1: invalid JSON: Expecting value (column 1)"
    assert lines[9].startswith(f"{queries}:10: ") and lines[10] == "... and 15 more bad lines"


@pytest.mark.parametrize("content, reason", [
    ("vm\n", "1: expected 4 columns (query id, iteration, document id, relevance), found 1"),
    (f"q1 0 {SL_003} 1\nq1 0 {SL_003}\n", "2: expected 4 columns"),
    (f"q1 0 {SL_003} yes\n", "1: relevance 'yes' is not a whole number"),
    ("\n\n", "no relevance judgements"),
])
def test_a_bad_qrels_file_is_named_by_file_and_line(runner, seed_index, tmp_path, content,
                                                    reason):
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"id": "q1", "text": "saranovic"}) + "\n")
    qrels = tmp_path / "hostname"  # like /etc/hostname: one word
    qrels.write_text(content)
    result = invoke(runner, "eval", "--index", seed_index, "--queries", queries,
                    "--qrels", qrels)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {qrels}:{reason}" if reason[0].isdigit()
                                    else f"Error: {qrels}: {reason}")
    assert "Traceback" not in result.output


def test_a_pipe_as_queries_file_is_refused_without_waiting(runner, seed_index, tmp_path):
    fifo = tmp_path / "queries.jsonl"
    os.mkfifo(fifo)
    result = invoke(runner, "run", "--index", seed_index, "--queries", fifo)
    assert result.exit_code == 1
    assert f"{fifo}: cannot be read: not a regular file: a named pipe (FIFO)" in result.stderr


# -- a read-only index folder ----------------------------------------------------------------

READ_ONLY = "Cannot write to the index folder"


def _can_mount_read_only(tmp_path: Path) -> bool:
    """Whether this process may make a private mount namespace with a read-only bind mount
    (root in a container that allows ``unshare -m``)."""
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c",
         f'mount --bind "{probe}" "{probe}" && mount -o remount,bind,ro "{probe}" "{probe}" '
         f'&& ! touch "{probe}/x" 2>/dev/null'], capture_output=True)
    return done.returncode == 0


@pytest.mark.parametrize("rebuild", [False, True])
def test_a_read_only_index_folder_is_a_clear_error_on_a_real_read_only_mount(tmp_path,
                                                                             rebuild):
    """A real read-only file system: the index folder bind-mounted read-only inside a
    private mount namespace (``unshare -m``), where ``search-cli`` runs. Writing fails
    with one clear line and exit status 1; searching still works."""
    if not _can_mount_read_only(tmp_path):
        pytest.skip("needs a private mount namespace (unshare -m, as root) for a read-only "
                    "mount; test_a_read_only_lock_file_is_a_clear_error simulates it")
    docs, index_dir = tmp_path / "docs", tmp_path / "index"
    shutil.copytree(SEEDS, docs)
    assert subprocess.run([*search_cli(), "index", str(docs), "--index", str(index_dir),
                           "-q"]).returncode == 0
    (docs / "new.txt").write_text(TEXTS["sl"], encoding="utf-8")
    before = tree(index_dir)
    cli_line = " ".join(f"'{a}'" for a in search_cli())
    script = (f'mount --bind "{index_dir}" "{index_dir}" && '
              f'mount -o remount,bind,ro "{index_dir}" "{index_dir}" && '
              f'{cli_line} index "{docs}" --index "{index_dir}"'
              f'{" --rebuild" if rebuild else ""}; echo "index exit $?"; '
              f'{cli_line} query saranovic --index "{index_dir}"')
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True,
                          text=True)
    assert "index exit 1" in done.stdout, done.stdout + done.stderr
    assert f"Error: {READ_ONLY} {index_dir}: Read-only file system." in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert "1 result (sl: 1)" in done.stdout  # searching a read-only index works
    assert tree(index_dir) == before


def test_a_read_only_lock_file_is_a_clear_error(runner, seed_workspace, monkeypatch):
    """Simulated at the system call: opening the lock file fails with EROFS, as it does on
    a read-only file system (the tests run as root, whom chmod does not stop)."""
    docs, index_dir = seed_workspace
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):
        if Path(path).name == storage.LOCK_FILE:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(storage.os, "open", read_only)
    result = invoke(runner, "index", docs, "--index", index_dir)
    assert result.exit_code == 1
    assert result.stderr == (f"Error: {READ_ONLY} {index_dir}: Read-only file system. Nothing "
                             "was changed. Make it writable, or choose another folder with "
                             "--index DIR.\n")


def test_an_os_error_while_indexing_is_a_clear_error(runner, seed_workspace, monkeypatch):
    """A write that fails after the lock was taken (a disk that fills up) ends as one line
    naming the folder, not a traceback; the index is left as it was."""
    from search import indexer

    docs, index_dir = seed_workspace
    (docs / "new.txt").write_text(TEXTS["en"], encoding="utf-8")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(indexer, "write_json", disk_full)
    gen = IndexLayout(index_dir).current()
    result = invoke(runner, "index", docs, "--index", index_dir, "--rebuild")
    assert result.exit_code == 1
    assert f"{READ_ONLY} {index_dir}: No space left on device." in result.stderr
    assert IndexLayout(index_dir).current() == gen


# -- a file cut at the size cap is a warning, not a skip --------------------------------------

@pytest.mark.parametrize("lang", ["en", "sl"])
@pytest.mark.parametrize("suffix", [".txt", ".html"])
def test_a_file_cut_at_the_cap_is_indexed_with_a_warning(runner, tmp_path, monkeypatch, lang,
                                                         suffix):
    """The cap (5 MB) lowered to 2,000 bytes here, so the test needs no 5 MB file."""
    from search.documents import reader
    from search.indexer import index_paths

    monkeypatch.setattr(reader, "MAX_TEXT_BYTES", 2000)
    monkeypatch.setattr(reader, "MAX_HTML_BYTES", 2000)
    docs = tmp_path / "docs"
    docs.mkdir()
    title, body = TEXTS[lang].split("\n\n")
    long_body = (body.strip() + " ") * 100
    path = docs / f"long{suffix}"
    path.write_text(long_body if suffix == ".txt" else
                    f"<html><head><title>{title}</title></head><body><p>{long_body}</p>"
                    "</body></html>", encoding="utf-8")
    result = invoke(runner, "index", docs, "--index", tmp_path / "ix")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"warning: {path}: truncated: only the first")
    assert "skipped" not in result.output
    assert "Indexed 1 document into" in result.stdout
    query = invoke(runner, "query", QUERY[lang], "--index", tmp_path / "ix")
    assert query.stdout.startswith(f"1 result ({lang}: 1)")
    report = index_paths([docs], tmp_path / "ix2")
    assert report.problems == [] and report.added == 1
    assert [w.source for w in report.warnings] == [str(path)]
