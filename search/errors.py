"""Errors the engine raises on purpose; each carries a message a user can act on."""

from __future__ import annotations


class SearchError(Exception):
    """Base class of every error the engine raises deliberately."""


class IndexNotFound(SearchError):
    """There is no index at the given location yet."""


class IncompatibleIndex(SearchError):
    """The index was built by an engine version that this one cannot read."""


class IndexLocked(SearchError):
    """Another process is writing to the index and did not finish in time."""


class InvalidDocument(ValueError):
    """A document given to the writer (:mod:`search.writer`) is not valid.

    ``field`` names the offending field (None when the document as a whole is wrong);
    ``problem`` is a stable code (``missing``, ``type``, ``empty``, ``too_long``, ``control``,
    ``lang``, ``date``, ``not_object``, ``unindexable``) with ``params`` for a translated
    message; ``index`` (position in a batch) and ``doc_id`` say which document it was.
    """

    def __init__(self, field: str | None, problem: str, reason: str, *,
                 index: int | None = None, doc_id: str | None = None,
                 **params: object) -> None:
        self.field = field
        self.problem = problem
        self.reason = reason
        self.index = index
        self.doc_id = doc_id
        self.params = params
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.index is not None:
            where.append(f"document {self.index}")
        if self.doc_id is not None:
            where.append(f"id {self.doc_id!r}")
        prefix = f"{' '.join(where)}: " if where else ""
        subject = f"field '{self.field}': " if self.field else ""
        return f"{prefix}{subject}{self.reason}"

    def located(self, index: int | None = None, doc_id: str | None = None) -> InvalidDocument:
        """The same error, saying which document of a batch it was."""
        return InvalidDocument(self.field, self.problem, self.reason,
                               index=self.index if index is None else index,
                               doc_id=self.doc_id if doc_id is None else doc_id,
                               **self.params)


class IndexNotWritable(SearchError):
    """The index folder cannot be written (a read-only file system, no permission...)."""


class BadInputFile(SearchError):
    """A file the user gave (queries, relevance judgements) is not what it should be."""
