"""The one open search index a web process shares between its request threads.

Opening an index is slow next to a query, so it is opened once, lazily: a server may start
before its index exists, and then keeps answering 503 (re-trying the open every few
seconds) until someone builds it. ``SearchIndex`` itself is thread-safe and picks up new
commits on its own (it checks before each call), so a reindex made by ``search-cli index``
shows up without a restart.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from search.errors import SearchError

if TYPE_CHECKING:
    from search.searcher import SearchIndex


class IndexHolder:
    """Opens the index on first use and re-tries (at most every ``retry_seconds``) on failure."""

    def __init__(self, path: str | None, retry_seconds: float = 2.0,
                 options: dict | None = None) -> None:
        self.path = path
        self.options = dict(options or {})  # SearchIndex options (e.g. synonyms)
        self.retry_seconds = retry_seconds
        self._index: SearchIndex | None = None
        self._lock = threading.Lock()
        self._failed_at = 0.0
        self._error: SearchError | None = None

    def get(self) -> SearchIndex:
        """The open index; raises the engine's SearchError when it cannot be opened."""
        index = self._index
        if index is not None:
            return index
        with self._lock:
            if self._index is not None:
                return self._index
            now = time.monotonic()
            if self._error is not None and now - self._failed_at < self.retry_seconds:
                raise self._error
            from search.searcher import SearchIndex

            try:
                self._index = SearchIndex(self.path, **self.options)
            except SearchError as exc:
                self._error, self._failed_at = exc, now
                raise
            self._error = None
            return self._index

    def close(self) -> None:
        """Release the index files (tests, shutdown)."""
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None
