"""A fix for a bug in the pinned Whoosh (whoosh3 3.54.0), applied when the searcher loads.

``AndNotMatcher`` ("a ANDNOT b") checks its first document against ``b`` only when ``b``
happens to be positioned on exactly that document: when ``b`` starts on an earlier one, the
first document of ``a`` is returned even if ``b`` contains it. Every cross-language clause
of our queries is such an AND NOT (a translation, minus documents that already hold the
original word), so one wrong document per clause leaked into results. Found by comparing
Whoosh's collector with :mod:`search.whoosh_ext.execution`, which does not share the bug; the test
``tests/test_execution.py`` pins the fix.
"""

from __future__ import annotations

from whoosh.matching.binary import AndNotMatcher

__all__ = ["apply"]

#: Whoosh's own version, kept so a test can show the bug is still there upstream.
ORIGINAL_FIND_FIRST = AndNotMatcher._find_first


def _find_first(self: AndNotMatcher) -> None:
    # Whoosh's version: ``if a.is_active() and b.is_active() and a.id() == b.id()``.
    # ``_find_next`` itself skips ``b`` forward to ``a``'s document and steps past matches.
    if self.a.is_active() and self.b.is_active():
        self._find_next()


def apply() -> None:
    """Patch Whoosh in this process (idempotent)."""
    AndNotMatcher._find_first = _find_first
