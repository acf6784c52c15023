"""Errors the engine raises on purpose; each carries a message a user can act on."""


class SearchError(Exception):
    """Base class of every error the engine raises deliberately."""


class IndexNotFound(SearchError):
    """There is no index at the given location yet."""


class IncompatibleIndex(SearchError):
    """The index was built by an engine version that this one cannot read."""


class IndexLocked(SearchError):
    """Another process is writing to the index and did not finish in time."""


class IndexNotWritable(SearchError):
    """The index folder cannot be written (a read-only file system, no permission...)."""


class BadInputFile(SearchError):
    """A file the user gave (queries, relevance judgements) is not what it should be."""
