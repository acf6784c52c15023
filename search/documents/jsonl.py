"""JSON Lines collections: one document per line, each broken line reported on its own.

The file is streamed line by line, so a collection of any size costs memory for one record at
a time; a broken line never stops the lines after it from being read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from search.documents.sources import open_regular
from search.documents.text import SNIFF_BYTES, ReadError, is_binary

#: After this many broken lines in one file the rest are summed up in one final problem.
MAX_PROBLEMS_PER_FILE = 50


@dataclass(frozen=True)
class Record:
    """One good line: a JSON object with a non-empty ``text`` or ``title``."""

    lineno: int
    data: dict[str, Any]


@dataclass(frozen=True)
class BadLine:
    """One broken line and why."""

    lineno: int
    reason: str  #: starts with "line N: "


def _describe(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean",
            type(None): "null"}.get(type(value), "number")


def check_record(lineno: int, raw: bytes) -> Record | BadLine | None:
    """Parse one line: a :class:`Record`, a :class:`BadLine`, or None for a blank line."""
    if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        return None
    if is_binary(raw):
        return BadLine(lineno, f"line {lineno}: binary data (NUL bytes)")
    try:
        line = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as e:
        return BadLine(lineno, f"line {lineno}: not valid UTF-8 at byte {e.start}")
    try:
        data = json.loads(line)
    except json.JSONDecodeError as e:
        return BadLine(lineno, f"line {lineno}: invalid JSON: {e.msg} (column {e.colno})")
    except RecursionError:
        return BadLine(lineno, f"line {lineno}: invalid JSON: nested too deeply")
    if not isinstance(data, dict):
        return BadLine(lineno, f"line {lineno}: not a JSON object (got {_describe(data)})")
    title = data.get("title")
    has_title = isinstance(title, str) and bool(title.strip())
    if data.get("text") is None:
        if not has_title:
            return BadLine(lineno, f"line {lineno}: missing 'text'")
        data["text"] = ""  # a title alone is still worth finding
    if not isinstance(data["text"], str):
        return BadLine(lineno, f"line {lineno}: 'text' is not a string "
                               f"(got {_describe(data['text'])})")
    if not data["text"].strip() and not has_title:
        return BadLine(lineno, f"line {lineno}: empty 'text' and no title")
    return Record(lineno, data)


def looks_binary(head: bytes, whole: bool = False) -> bool:
    """Whether the start of a file (``whole``: all of it) is binary data rather than JSON
    Lines: NUL bytes, and not one whole line that is a good record. (A JSONL file with a NUL
    byte in some line is judged line by line: that line is reported, the others indexed.)"""
    if not is_binary(head):
        return False
    lines = head.split(b"\n")
    if not whole:
        lines.pop()  # may be cut off
    return not any(isinstance(check_record(n, raw), Record)
                   for n, raw in enumerate(lines, start=1))


def iter_records(path) -> Iterator[Record | BadLine]:
    """Records and broken lines of a JSONL file, in file order. Raises OSError/ReadError."""
    with open_regular(path) as f:
        head = f.read(SNIFF_BYTES)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ReadError("UTF-16 is not supported for JSONL; save it as UTF-8")
        if looks_binary(head, whole=len(head) < SNIFF_BYTES):
            raise ReadError("binary file (NUL bytes)")
        f.seek(0)
        for lineno, raw in enumerate(f, start=1):
            item = check_record(lineno, raw)
            if item is not None:
                yield item
