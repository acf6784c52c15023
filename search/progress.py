"""Progress of an indexing run by document and page, not only by file.

One large JSONL or PDF file is most of some runs: a count of finished files would sit at 0/1
until the end. The indexer tells a :class:`ProgressTracker` about every document it reads and
every page of a paged file, and the tracker passes an :class:`IndexProgress` to the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: ``progress(files done, files to read)``, called as each file is finished.
FileProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class IndexProgress:
    """Where an indexing run is."""

    files_done: int
    files_total: int  #: files to read (changed or new ones)
    documents: int  #: documents read so far in this run
    file: str | None = None  #: the file being read
    pages_done: int = 0  #: pages of ``file`` read so far (PDF), else 0
    pages_total: int = 0  #: pages of ``file`` to read (PDF), else 0


class ProgressTracker:
    """Counts what the indexer reads and reports it to ``on_files`` (per file, the classic
    ``(done, total)`` callback) and ``on_progress`` (an :class:`IndexProgress` per document,
    page and file). Either may be None."""

    def __init__(self, on_files: FileProgress | None = None,
                 on_progress: Callable[[IndexProgress], None] | None = None) -> None:
        self.on_files = on_files
        self.on_progress = on_progress
        self.files_done = self.files_total = self.documents = 0
        self.file: str | None = None

    def _report(self, pages_done: int = 0, pages_total: int = 0) -> None:
        if self.on_progress:
            self.on_progress(IndexProgress(self.files_done, self.files_total, self.documents,
                                           self.file, pages_done, pages_total))

    def start(self, files_total: int) -> None:
        """A (re)started pass over ``files_total`` files."""
        self.files_done, self.files_total, self.documents, self.file = 0, files_total, 0, None
        self._report()

    def reading(self, path: str) -> None:
        self.file = path
        self._report()

    def document(self) -> None:
        self.documents += 1
        self._report()

    def pages(self, done: int, total: int) -> None:
        """A page progress callback for :func:`search.documents.iter_source`."""
        self._report(done, total)

    def file_done(self, done: int) -> None:
        self.files_done = done
        self.file = None
        if self.on_files:
            self.on_files(done, self.files_total)
        self._report()
