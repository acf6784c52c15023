"""Bilingual (English + Slovenian) full-text search on Whoosh.

The library API::

    from search import SearchIndex, index_paths
    index_paths(["seeds/"], "index")            # build or update incrementally
    results = SearchIndex("index").search("meja", lang="sl")
    for hit in results.hits:
        print(hit.title, hit.snippet)
    with open_writer("index") as w:             # or SearchIndex(...).writer()
        w.add({"id": "note-1", "text": "..."})  # committed when the block ends
"""

from search.errors import (
    IncompatibleIndex,
    IndexLocked,
    IndexNotFound,
    InvalidDocument,
    SearchError,
)
from search.model import (
    UNKNOWN,
    Document,
    DocumentView,
    Hit,
    IndexReport,
    IndexStats,
    Problem,
    Results,
)

__version__ = "0.1.0"

__all__ = [
    "Document", "DocumentView", "Hit", "IndexReport", "IndexStats", "Problem", "Results",
    "IncompatibleIndex", "IndexLocked", "IndexNotFound", "InvalidDocument", "SearchError",
    "SearchIndex", "index_paths", "default_index_path", "IndexWriter", "open_writer",
    "UNKNOWN", "query_words", "__version__",
]


def __getattr__(name: str):
    # Lazy imports keep `import search` cheap (CLI cold start) and avoid import cycles.
    if name in ("SearchIndex",):
        from search.searcher import SearchIndex
        return SearchIndex
    if name in ("index_paths", "default_index_path"):
        from search import indexer
        return getattr(indexer, name)
    if name in ("IndexWriter", "open_writer"):
        from search import writer
        return getattr(writer, name)
    if name == "query_words":  # the words of a text as queries read them (letters, digits)
        from search.analysis.filters import words
        return words
    raise AttributeError(name)
