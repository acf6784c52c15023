"""search.documents.sources: what is found under the paths given, and what is named instead.

Named pipes, sockets, link loops and broken links are reported by name with what they are,
and never opened: opening a named pipe waits for a writer, which would stop the whole run.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from search.documents import find_sources, read_source
from search.model import Problem, Source

TEXTS = {
    "en": "Border crossing\n\nThe border police checked every lorry at the crossing today.\n",
    "sl": "Nadzor na meji\n\nPolicisti so danes na meji pregledali vse tovornjake.\n",
}


def found(paths) -> tuple[list[str], dict[str, str]]:
    """(keys of the sources, file name -> reason of each problem)."""
    keys, problems = [], {}
    for item in find_sources(paths):
        if isinstance(item, Problem):
            problems[Path(item.source).name] = item.reason
        else:
            keys.append(item.key)
    return keys, problems


@pytest.fixture()
def odd_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for lang, text in TEXTS.items():
        (folder / f"{lang}.txt").write_text(text, encoding="utf-8")
    os.mkfifo(folder / "pipe.txt")
    os.symlink("self.txt", folder / "self.txt")
    os.symlink("loop-b.jsonl", folder / "loop-a.jsonl")
    os.symlink("loop-a.jsonl", folder / "loop-b.jsonl")
    os.symlink("nowhere.html", folder / "dangling.html")
    os.symlink(".", folder / "again")  # a symlinked folder: not followed, not a problem
    os.mkfifo(folder / "pipe-without-extension")  # not a file we would read: not reported
    return folder


def test_special_files_in_a_folder_are_named_with_what_they_are(odd_folder: Path) -> None:
    keys, problems = found([odd_folder])
    assert keys == ["en.txt", "sl.txt"]
    assert problems == {
        "pipe.txt": "not a regular file: a named pipe (FIFO)",
        "self.txt": "a symbolic link loop (too many levels of symbolic links)",
        "loop-a.jsonl": "a symbolic link loop (too many levels of symbolic links)",
        "loop-b.jsonl": "a symbolic link loop (too many levels of symbolic links)",
        "dangling.html": "a broken symbolic link (to nowhere.html, which does not exist)",
    }


def test_a_socket_is_named(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "server.html"))
        assert found([tmp_path]) == ([], {"server.html": "not a regular file: a socket"})


@pytest.mark.parametrize("name, reason", [
    ("self.txt", "a symbolic link loop (too many levels of symbolic links)"),
    ("pipe.txt", "not a regular file: a named pipe (FIFO)"),
    ("dangling.html", "a broken symbolic link (to nowhere.html, which does not exist)"),
    ("missing.txt", "not found: no such file or folder"),
])
def test_special_files_given_directly_say_what_they_are(odd_folder: Path, name: str,
                                                        reason: str) -> None:
    assert found([odd_folder / name]) == ([], {name: reason})


@pytest.mark.parametrize("lang", ["en", "sl"])
def test_a_file_replaced_by_a_pipe_after_the_scan_is_refused_not_waited_on(
        tmp_path: Path, lang: str) -> None:
    """Between finding a file and reading it, it may become a named pipe. Opening a pipe
    waits for a writer; here a writer is waiting, so an ``open`` that blocks would read
    its text (and the test fail), while the reader must refuse the pipe untouched."""
    path = tmp_path / f"{lang}.txt"
    path.write_text(TEXTS[lang], encoding="utf-8")
    [source] = [s for s in find_sources([tmp_path]) if isinstance(s, Source)]
    path.unlink()
    os.mkfifo(path)

    def writer() -> None:
        try:
            with open(path, "wb") as pipe:  # waits for any reader
                pipe.write(TEXTS[lang].encode())
        except BrokenPipeError:  # the reader looked and went away: what should happen
            pass

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        result = read_source(source)
    finally:
        # Release the writer whatever happened (a reader that opens without blocking).
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        thread.join(30)
        os.close(fd)
    assert result.documents == []
    assert [(p.source, p.reason) for p in result.problems] == [
        (str(path), "unreadable: not a regular file: a named pipe (FIFO)")]
