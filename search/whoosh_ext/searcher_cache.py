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

__all__ = ["doc_frequency", "searcher_cache"]


def searcher_cache(searcher: Any, name: str) -> dict[Any, Any]:
    """The dict ``name`` kept inside ``searcher`` (created empty on first use)."""
    return searcher.__dict__.setdefault(f"_{name}", {})


#: Document frequencies one searcher keeps (a long query looks up a few hundred terms, most
#: of them again and again: understanding, weighing, scoring and pruning each ask).
MAX_FREQUENCIES = 200_000


def doc_frequency(searcher: Any, fieldname: str, text: str | bytes) -> int:
    """``searcher.doc_frequency(fieldname, text)``, kept inside ``searcher``.

    Stock Whoosh looks the term up in every segment's term table each time it is asked
    (tens of microseconds per segment); a 40-word query asked about 600 times, a third of
    them repeats. Emptied when it reaches :data:`MAX_FREQUENCIES` entries, so memory stays
    bounded however many distinct terms are asked about.
    """
    cache = searcher_cache(searcher, "doc_frequencies")
    key = (fieldname, text)
    found = cache.get(key)
    if found is None:
        if len(cache) >= MAX_FREQUENCIES:
            cache.clear()
        found = cache[key] = searcher.doc_frequency(fieldname, text)
    return found
