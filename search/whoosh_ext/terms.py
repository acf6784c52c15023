"""Every term of a field in one segment with its document frequency, read once for all.

Stock Whoosh lists a field's terms with ``reader.iter_field(name)``, which decodes each
term's info into a ``W3TermInfo`` object (weights, lengths, postings pointer) only for us to
ask it for ``doc_frequency()``. The spelling vocabulary (:mod:`search.spelling`) and the
completion table (:mod:`search.completion`) both need exactly that, for the ``spell_*``
fields of every segment. Here the term index is read directly: in whoosh3's layout each key
is a 2-byte field number followed by the term, and the document frequency sits at a fixed
offset of the value, so a field's terms are one range scan and one ``struct`` unpack per
term (about three times faster). A reader of another kind, or ``fast=False``, takes
Whoosh's ``iter_field``; ``tests/test_whoosh_ext_terms.py`` checks that both agree.

:class:`SegmentTerms` is the one per-segment reader the two share: a segment's tables are
read once and handed to both (the indexer makes both after a commit, with a reader that
lives only for that step), and a search process's reader keeps them while they are small
(:data:`MAX_KEPT_TERMS`: the segments of an update), so that rebuilding both after a commit
reads each new segment once without holding a large index's vocabulary twice.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterable
from typing import Any

__all__ = ["SegmentTerms", "field_frequencies", "segment_id"]

#: The document frequency in a whoosh3 term info (``W3TermInfo``: flags B, weight f, df I).
_TERMINFO_DF = struct.Struct("!I")
_TERMINFO_DF_OFFSET = 5
_FIELD_NUMBER = struct.Struct("!H")
#: Terms a long-lived :class:`SegmentTerms` keeps in memory at most (beyond, tables are not
#: kept: reading a large segment again costs less than holding its whole vocabulary twice).
MAX_KEPT_TERMS = 50_000


def field_frequencies(reader: Any, name: str, fast: bool = True) -> dict[str, int]:
    """Every term of field ``name`` in one segment's reader, with its document frequency.

    Reads the term index directly (see the module); ``fast=False``, or a reader of another
    kind, takes Whoosh's ``iter_field``.
    """
    if name not in reader.schema:
        return {}
    terms = getattr(reader, "_terms", None)
    tindex = getattr(terms, "_tindex", None)
    fieldmap = getattr(terms, "_fieldmap", None)
    if fast and isinstance(fieldmap, dict) and hasattr(tindex, "items_from"):
        number = fieldmap.get(name)
        if number is None:
            return {}
        prefix = _FIELD_NUMBER.pack(number)
        out: dict[str, int] = {}
        for key, value in tindex.items_from(prefix):
            if key[:2] != prefix:
                break
            out[key[2:].decode("utf-8")] = _TERMINFO_DF.unpack_from(value,
                                                                    _TERMINFO_DF_OFFSET)[0]
        return out
    return {(t.decode("utf-8") if isinstance(t, bytes) else t): info.doc_frequency()
            for t, info in reader.iter_field(name)}


def segment_id(leaf: Any) -> str | None:
    """The id of a leaf reader's segment (never reused: a segment's terms never change);
    None for a reader without one (an empty index's)."""
    try:
        segment = leaf.segment()
        return segment.segment_id() if segment is not None else None
    except (AttributeError, NotImplementedError):
        return None


class SegmentTerms:
    """The terms and document frequencies of fields, per segment, read once and shared.

    ``fast=False`` reads with Whoosh's ``iter_field`` (see :func:`field_frequencies`);
    ``max_kept``: terms kept at most (None: all, for a reader used for one step only).
    Thread-safe: the completion table is rebuilt in a background thread.
    """

    def __init__(self, fast: bool = True, max_kept: int | None = MAX_KEPT_TERMS) -> None:
        self.fast = fast
        self.max_kept = max_kept
        #: (segment id, field name) -> term -> document frequency
        self._tables: dict[tuple[str, str], dict[str, int]] = {}
        self._kept = 0
        self._lock = threading.Lock()

    def frequencies(self, leaf: Any, name: str) -> dict[str, int]:
        """:func:`field_frequencies` of one leaf reader (do not change the dict)."""
        sid = segment_id(leaf)
        key = (sid, name) if sid is not None else None
        if key is not None:
            with self._lock:
                table = self._tables.get(key)
            if table is not None:
                return table
        table = field_frequencies(leaf, name, self.fast)
        if key is not None:
            with self._lock:
                room = self.max_kept is None or self._kept + len(table) <= self.max_kept
                if key not in self._tables and room:
                    self._tables[key] = table
                    self._kept += len(table)
        return table

    def retain(self, segment_ids: Iterable[str | None]) -> None:
        """Forget the segments not in ``segment_ids`` (merged away since)."""
        live = set(segment_ids)
        with self._lock:
            for key in [k for k in self._tables if k[0] not in live]:
                self._kept -= len(self._tables.pop(key))
