"""Where an index is opened for reading or writing: our replacements, or stock Whoosh.

**Reading.** Stock Whoosh opens a folder with ``whoosh.index.open_dir``: a ``FileStorage``
that maps each segment file and copies the parts it opens into memory. :func:`open_generation`
opens it with :class:`~search.whoosh_ext.pread.ReadStorage` instead (positional reads,
nothing copied), or, with ``fast=False``, exactly as ``open_dir`` does. Either way it first
applies :func:`search.whoosh_ext.fixes.apply` (idempotent): the fix of Whoosh's
``AndNotMatcher`` is made where an index is opened, not as a side effect of importing a
module, and is applied for ``fast=False`` too, since it corrects results rather than
speeding them up (``tests/test_whoosh_ext_fixes.py``).

**Writing.** Stock Whoosh's ``ix.writer()`` is a ``SegmentWriter`` (``MpWriter`` with
``procs``); :func:`segment_writer` gives ours (:mod:`search.whoosh_ext.writers`: the same
bytes, written in less time), or with ``fast=False`` exactly what ``ix.writer()`` gives.
``tests/test_whoosh_ext_switch.py`` checks that ``fast=False`` uses none of ours.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from whoosh import index

from search.whoosh_ext import fixes
from search.whoosh_ext.pread import INDEX_NAME, ReadStorage

__all__ = ["open_generation", "segment_writer"]


def open_generation(gen: str | Path, fast: bool = True) -> index.Index:
    """The Whoosh index in generation folder ``gen``: read through
    :class:`~search.whoosh_ext.pread.ReadStorage`, or Whoosh's own ``FileStorage`` with
    ``fast=False``. Raises what Whoosh raises (``EmptyIndexError``, unpickling errors)."""
    fixes.apply()
    if fast:
        return index.FileIndex(ReadStorage(str(gen)), indexname=INDEX_NAME)
    return index.open_dir(str(gen), indexname=INDEX_NAME)


def segment_writer(ix: index.Index, *, fast: bool = True, procs: int = 1,
                   **kwargs: Any) -> Any:
    """A writer on ``ix``: ours (``FastMpWriter`` with ``procs`` > 1, else
    ``FastSegmentWriter``), or Whoosh's own ``ix.writer(procs=procs, **kwargs)`` with
    ``fast=False``; ``kwargs`` are Whoosh's (``timeout``, ``limitmb``, ``multisegment``).
    Raises ``whoosh.index.LockError`` when another writer holds Whoosh's lock."""
    if not fast:
        return ix.writer(procs=procs, **kwargs)
    from search.whoosh_ext.writers import FastMpWriter, FastSegmentWriter

    if procs > 1:
        return FastMpWriter(ix, procs=procs, **kwargs)
    return FastSegmentWriter(ix, **kwargs)
