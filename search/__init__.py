"""Bilingual (English + Slovenian) full-text search on Whoosh.

The library API::

    from search import SearchIndex, index_paths
    index_paths(["seeds/"], "index")            # build or update incrementally
    results = SearchIndex("index").search("meja", lang="sl")
    for hit in results.hits:
        print(hit.title, hit.snippet)
"""

from search.errors import IncompatibleIndex, IndexLocked, IndexNotFound, SearchError
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
    "IncompatibleIndex", "IndexLocked", "IndexNotFound", "SearchError",
    "SearchIndex", "index_paths", "default_index_path", "UNKNOWN", "__version__",
]


def __getattr__(name: str):
    # Lazy imports keep `import search` cheap (CLI cold start) and avoid import cycles.
    if name in ("SearchIndex",):
        from search.searcher import SearchIndex
        return SearchIndex
    if name in ("index_paths", "default_index_path"):
        from search import indexer
        return getattr(indexer, name)
    raise AttributeError(name)
