"""A progress line on the terminal for ``search-cli`` (index, run, eval).

Written to stderr, rewritten in place at most ``INTERVAL`` seconds apart, and only when
stderr is a terminal: piped or redirected output (scripts, CI, log files) stays clean.
"""

from __future__ import annotations

import sys
import time
from typing import IO

from search.progress import IndexProgress

#: Seconds between two redraws (a JSONL file reads thousands of documents a second).
INTERVAL = 0.1


class StatusLine:
    """One line of status, redrawn in place; a no-op unless ``stream`` is a terminal."""

    def __init__(self, stream: IO[str] | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._last = 0.0
        self._pending: str | None = None
        self._width = 0

    def show(self, text: str, force: bool = False) -> None:
        """Show ``text`` now if the last redraw is ``INTERVAL`` old (or ``force``), else
        keep it for the next redraw or :meth:`close`."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < INTERVAL:
            self._pending = text
            return
        self._draw(text)
        self._last = now

    def _draw(self, text: str) -> None:
        self._pending = None
        pad = max(0, self._width - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._width = len(text)

    def close(self) -> None:
        """Draw the last state and end the line, so what follows starts on its own."""
        if not self.enabled or (self._pending is None and not self._width):
            return
        if self._pending is not None:
            self._draw(self._pending)
        self.stream.write("\n")
        self.stream.flush()
        self._width = 0

    def __enter__(self) -> StatusLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def describe(p: IndexProgress) -> str:
    """``Indexing: 3/10 files, 12,345 documents · big.pdf page 230/500``."""
    text = f"Indexing: {p.files_done:,}/{p.files_total:,} files, {p.documents:,} documents"
    if p.file:
        name = p.file.rsplit("/", 1)[-1]
        if len(name) > 40:
            name = "…" + name[-39:]
        text += f" · {name}"
        if p.pages_total:
            text += f" page {p.pages_done:,}/{p.pages_total:,}"
    return text
