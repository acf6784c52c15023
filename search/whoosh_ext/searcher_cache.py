"""Values computed from one Whoosh searcher, kept as long as that searcher lives.

Stock Whoosh's ``Searcher`` has no place for an application's values derived from its view
of the index: the ranking asks, for every term it scores, how many documents each language
has (:func:`search.ranking.language_doc_count`), two term look-ups each time. Here such
values are kept in the searcher object itself (in its ``__dict__``, under a name Whoosh does
not use), so they are computed once per searcher, are dropped with it, and a searcher opened
after a commit never sees a stale value; no module-level cache is needed
(``tests/test_whoosh_ext_searcher_cache.py``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["searcher_cache"]


def searcher_cache(searcher: Any, name: str) -> dict[Any, Any]:
    """The dict ``name`` kept inside ``searcher`` (created empty on first use)."""
    return searcher.__dict__.setdefault(f"_{name}", {})
