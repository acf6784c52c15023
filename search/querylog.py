"""What people searched for: an append-only log of searches, and what it says.

Site owners want to know which searches found nothing (content to write, or a synonym to
add) and which first pages nobody looked past. ``QueryLog`` appends one JSON line per search
to a file, rotated by size; :func:`summarize` turns such files into the top queries, the top
queries without results and the queries whose results nobody paged past.

What a line records, and nothing more: the time (UTC, to the second), the query text, the
language and year filters, the sort order, the number of results, the page and page size,
whether a correction was suggested or searched instead, and where the search came from
(``page`` or ``api``). No IP address, cookie, user agent, referrer or other request data is
written. The query text itself is whatever people typed, so it may name people: keep the log
as you would keep any record of what visitors typed.

Several server processes (``serve --workers N``) may append to the same file: each line is
written with one ``write`` under an exclusive ``flock`` of ``FILE.lock`` beside it, and
rotation happens under that lock too, so lines are never interleaved or lost at a rotation.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Rotate when the file reaches this size (bytes), keeping this many older files
#: (``FILE.1`` is the newest of them).
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_BACKUPS = 5
#: Longest query text recorded (characters); the web API refuses longer queries anyway.
MAX_QUERY_CHARS = 500


@dataclass(frozen=True)
class LogEntry:
    """One search as recorded."""

    time: str  #: ISO 8601 UTC, e.g. "2026-12-01T10:00:00Z"
    query: str
    results: int
    page: int = 1
    per_page: int = 10
    lang: str | None = None
    year: str | None = None
    sort: str = "relevance"
    suggested: bool = False  #: a "did you mean" was shown
    corrected: bool = False  #: a corrected query was searched instead of the original
    source: str = "api"  #: "page" (the web page) or "api" (the JSON API)

    @classmethod
    def from_results(cls, results: Any, source: str) -> LogEntry:
        """The entry for a :class:`search.model.Results` (duck-typed: any object with its
        attributes)."""
        return cls(time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   query=str(results.query)[:MAX_QUERY_CHARS], results=int(results.total),
                   page=int(results.page), per_page=int(results.per_page),
                   lang=results.lang, year=results.year, sort=results.sort,
                   suggested=bool(getattr(results, "suggestion", None)),
                   corrected=bool(getattr(results, "corrected", None)), source=source)


class QueryLog:
    """Appends :class:`LogEntry` lines to ``path``, rotating it at ``max_bytes``.

    Thread-safe and safe to share between processes. A failure to write (disk full, a
    removed folder) is counted in ``errors`` and never reaches the search that was logged.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> log = QueryLog(folder / "q.jsonl", max_bytes=200, backups=1)
    >>> for n in range(5):
    ...     log.append(LogEntry(time="2026-01-01T00:00:00Z", query=f"meja {n}", results=n))
    >>> sorted(p.name for p in folder.iterdir())
    ['q.jsonl', 'q.jsonl.1', 'q.jsonl.lock']
    """

    def __init__(self, path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES,
                 backups: int = DEFAULT_BACKUPS) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        if backups < 0:
            raise ValueError("backups must not be negative")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backups = backups
        self.errors = 0
        self._lock = threading.Lock()

    def record(self, results: Any, source: str = "api") -> None:
        """Log one search from its results."""
        self.append(LogEntry.from_results(results, source))

    def append(self, entry: LogEntry) -> None:
        line = (json.dumps(asdict(entry), ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            try:
                self._write(line)
            except OSError:
                self.errors += 1

    def _write(self, line: bytes) -> None:
        # One lock file beside the log, never rotated itself: every process takes it for
        # the size check, the rotation and the append, so nothing races a rotation.
        lock = os.open(self.path.with_name(self.path.name + ".lock"),
                       os.O_WRONLY | os.O_CREAT, 0o640)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                size = os.stat(self.path).st_size
            except FileNotFoundError:
                size = 0
            if size and size + len(line) > self.max_bytes:
                self._rotate()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        finally:
            os.close(lock)  # also releases the lock

    def _rotate(self) -> None:
        """FILE.(n-1) -> FILE.n ... FILE -> FILE.1; the oldest beyond ``backups`` goes."""
        if self.backups == 0:
            os.truncate(self.path, 0)
            return
        for n in range(self.backups - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{n}")
            if older.exists():
                os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
        os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))


def log_files(path: str | Path) -> list[Path]:
    """``path`` and its rotated predecessors (``path.1``, ``path.2``...), oldest first."""
    path = Path(path)
    rotated = []
    for older in path.parent.glob(f"{path.name}.*"):
        suffix = older.name[len(path.name) + 1:]
        if suffix.isdigit():
            rotated.append((int(suffix), older))
    return [p for _, p in sorted(rotated, reverse=True)] + ([path] if path.exists() else [])


def read_entries(paths: Iterable[str | Path],
                 problems: list[str] | None = None) -> Iterator[LogEntry]:
    """The entries of log files; a line that is not an entry is reported in ``problems``
    as ``file:line: reason`` and skipped."""
    names = {f.name for f in LogEntry.__dataclass_fields__.values()}
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                    if not isinstance(raw, dict):
                        raise ValueError("not a JSON object")
                    entry = LogEntry(**{k: v for k, v in raw.items() if k in names})
                    if not isinstance(entry.query, str) or not isinstance(entry.results, int):
                        raise ValueError("query or results of the wrong type")
                except (ValueError, TypeError) as exc:
                    if problems is not None:
                        problems.append(f"{path}:{number}: {exc}")
                    continue
                yield entry


def normalize(query: str) -> str:
    """How queries are grouped: case and spacing do not make a different query.

    >>> normalize("  Mejni   PREHOD ")
    'mejni prehod'
    """
    return " ".join(query.casefold().split())


@dataclass(frozen=True)
class QueryCount:
    query: str  #: normalised (see :func:`normalize`)
    searches: int  #: first-page searches
    results: int  #: results of the latest of them


@dataclass
class Insights:
    """What a query log says (see :func:`summarize`)."""

    searches: int = 0  #: first-page searches (paging through results is not a new search)
    page_views: int = 0  #: every logged request, later pages included
    distinct: int = 0  #: distinct queries
    no_results: int = 0  #: first-page searches that found nothing
    corrected: int = 0  #: searches answered with a corrected query
    top: list[QueryCount] = field(default_factory=list)
    top_no_results: list[QueryCount] = field(default_factory=list)
    #: queries with more than one page of results whose later pages nobody opened
    not_paged: list[QueryCount] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(entries: Iterable[LogEntry], top: int = 10) -> Insights:
    """Top queries, top queries with no results, and queries nobody paged past.

    >>> e = [LogEntry("t", "Meja", 3), LogEntry("t", "meja", 3), LogEntry("t", "xyz", 0)]
    >>> s = summarize(e)
    >>> [(q.query, q.searches) for q in s.top], [q.query for q in s.top_no_results]
    ([('meja', 2), ('xyz', 1)], ['xyz'])
    """
    searches: Counter[str] = Counter()
    empty: Counter[str] = Counter()
    multi_page: Counter[str] = Counter()
    paged: set[str] = set()
    latest: dict[str, int] = {}
    out = Insights()
    for entry in entries:
        out.page_views += 1
        query = normalize(entry.query)
        if not query:
            continue
        if entry.page > 1:
            paged.add(query)
            continue
        out.searches += 1
        out.corrected += entry.corrected
        searches[query] += 1
        latest[query] = entry.results
        if entry.results == 0:
            out.no_results += 1
            empty[query] += 1
        elif entry.results > entry.per_page:
            multi_page[query] += 1
    out.distinct = len(searches)

    def counts(counter: Counter[str]) -> list[QueryCount]:
        ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        return [QueryCount(q, n, latest[q]) for q, n in ranked]

    out.top = counts(searches)
    out.top_no_results = counts(empty)
    out.not_paged = counts(Counter({q: n for q, n in multi_page.items() if q not in paged}))
    return out
