"""Columnar postings: each frequent term's document numbers and frequencies as flat arrays.

Whoosh keeps a term's postings in blocks of about a hundred, each pickled and compressed
with its positions. Scoring a term means reading every block: a read, a decompression and an
unpickling per block, so a word with 100,000 postings costs some 800 of each, and our
queries search each word in six fields. At 200,000 documents that reading was most of a
query's time.

So for each segment the indexer also writes, after the commit, the postings of every term
with at least :data:`MIN_POSTINGS` of them (a block) in a scorable field as two arrays (document
numbers, uint32; frequencies, float32 where that is exact) and a table of where each term
starts. The executor memory-maps them and takes a term's postings as two slices: no
per-block work at all. Positions stay in Whoosh's blocks, but the columns also keep where
each block starts in the postings file and which posting it starts with, so re-ranking
reads a top hit's positions from the one block holding it (:meth:`SegmentColumns.blocks_of`)
instead of walking every block's header to find it. Terms with fewer postings, and
segments without columns (an index made before them, a write that failed), are read from
Whoosh's blocks as before; the arrays are checked equal to Whoosh's postings by
``tests/test_whoosh_ext_columnar.py``.

Whoosh segments never change once written, so the columns of a segment are made once; those
of segments merged away are deleted by :func:`save_columns`.
"""

from __future__ import annotations

import marshal
import os
from collections.abc import Iterator
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import ListMatcher

__all__ = ["MIN_POSTINGS", "SegmentColumns", "decode_postings", "open_columns",
           "save_columns"]

#: Terms with at least this many postings in a segment get columns: below it, Whoosh's
#: blocks are few and cheap to read.
MIN_POSTINGS = 128
#: Bump when the layout of the files changes (older files are then ignored and remade).
FORMAT = 2
#: File names in the index's generation folder, per segment id.
PREFIX = "columns-"
_IDS, _TFS, _TABLE = ".ids.npy", ".tfs.npy", ".terms.marshal"


def decode_postings(reader: Any, key: tuple[str, bytes], info: Any, fmt: Any,
                    values: list[Any] | None = None, where: list[int] | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """One segment's postings of a term, from Whoosh's blocks: (local document numbers as
    int64, weights as float64). ``values`` receives each block's (local ids, encoded
    values), for positions; ``where`` each block's (offset in the postings file, postings)
    (nothing for postings kept in the term table). Raises TypeError for a kind of
    postings it does not know."""
    terms = reader._terms
    m = terms._codec.postings_reader(terms._postfile, info, fmt, term=key, scorer=None)
    if isinstance(m, W3LeafMatcher):
        deltas: list[Any] = []
        weights: list[Any] = []
        counts: list[int] = []
        data_values: list[Any] = []
        position = m._baseoffset
        while m.is_active():
            if where is not None:
                where.append((position, m._blocklength))
            position = m._nextoffset
            if m._data is None:
                m._read_data()
            data = m._data
            n = m._blocklength
            deltas.append(data[0])
            w = data[1]
            weights.append(repeat(1.0 if w is None else w, n)
                           if w is None or isinstance(w, float) else w)
            counts.append(n)
            if values is not None:
                data_values.append(data[2])
            m._next_block()
        total = sum(counts)
        flat = np.fromiter(chain.from_iterable(deltas), dtype=np.int64, count=total)
        ends = np.cumsum(counts)
        if m._byteids:
            ids = flat
        else:  # each block's deltas start from 0: take off the sum of the blocks before
            summed = np.cumsum(flat)
            base = np.zeros(len(counts), dtype=np.int64)
            base[1:] = summed[ends[:-1] - 1]
            ids = summed - np.repeat(base, counts)
        tfs = np.fromiter(chain.from_iterable(weights), dtype=np.float64, count=total)
        if values is not None:
            local = ids.tolist()
            starts = [0, *ends.tolist()]
            for start, end, vals in zip(starts[:-1], starts[1:], data_values, strict=True):
                values.append((local[start:end], vals))
        return ids, tfs
    if isinstance(m, ListMatcher):
        ids_ = m._ids
        if values is not None:
            values.append((ids_, m._values))
        ids = np.fromiter(ids_, dtype=np.int64, count=len(ids_))
        tfs = (np.full(len(ids_), m._all_weights or 1.0) if m._weights is None
               else np.fromiter(m._weights, dtype=np.float64, count=len(ids_)))
        return ids, tfs
    raise TypeError(f"postings of {type(m).__name__}")


class SegmentColumns:
    """The columns of one segment, memory-mapped."""

    def __init__(self, ids: np.ndarray, tfs: np.ndarray, starts: np.ndarray,
                 offsets: np.ndarray, table: dict[tuple[str, bytes], tuple[int, ...]]) -> None:
        self._ids, self._tfs, self._table = ids, tfs, table
        #: Per block of Whoosh's postings: its first posting (an index into ``_ids``) and
        #: where it is in the postings file.
        self._starts, self._offsets = starts, offsets

    def get(self, key: tuple[str, bytes]) -> tuple[np.ndarray, np.ndarray] | None:
        """(local document numbers, weights as float64) of a term with columns, else None."""
        where = self._table.get(key)
        if where is None:
            return None
        start, end = where[0], where[1]
        return self._ids[start:end].astype(np.int64), self._tfs[start:end].astype(np.float64)

    def blocks_of(self, key: tuple[str, bytes], local: list[int]) -> dict[int, list[int]] | None:
        """Which of Whoosh's blocks hold the documents of ``local`` (local docnums) that have
        the term: {block offset in the postings file: [docnum, ...]}; None without columns
        or block table for the term (postings kept in the term table have no blocks)."""
        where = self._table.get(key)
        if where is None or where[2] == where[3]:
            return None
        start, end, bstart, bend = where
        ids = self._ids[start:end]
        wanted = np.asarray(local, dtype=np.int64)
        j = np.searchsorted(ids, wanted)
        inside = j < len(ids)
        present = np.zeros(len(wanted), dtype=bool)
        present[inside] = ids[j[inside]] == wanted[inside]
        starts = self._starts[bstart:bend]
        block = np.searchsorted(starts, j[present] + start, side="right") - 1
        out: dict[int, list[int]] = {}
        for b, d in zip(self._offsets[bstart:bend][block].tolist(),
                        wanted[present].tolist(), strict=True):
            out.setdefault(b, []).append(d)
        return out

    def __contains__(self, key: tuple[str, bytes]) -> bool:
        return key in self._table


def _paths(folder: Path, segment_id: str) -> tuple[Path, Path, Path]:
    base = folder / f"{PREFIX}{segment_id}"
    return (base.with_name(base.name + _IDS), base.with_name(base.name + _TFS),
            base.with_name(base.name + _TABLE))


def open_columns(folder: str | Path | None, segment_id: str | None) -> SegmentColumns | None:
    """The columns of a segment, or None (none written, another format, unreadable)."""
    if folder is None or segment_id is None:
        return None
    ids_path, tfs_path, table_path = _paths(Path(folder), segment_id)
    try:
        with open(table_path, "rb") as fh:
            version, table, starts, offsets = marshal.load(fh)
        if version != FORMAT:
            return None
        ids = np.load(ids_path, mmap_mode="r") if table else np.zeros(0, np.uint32)
        tfs = np.load(tfs_path, mmap_mode="r") if table else np.zeros(0, np.float32)
        starts_np = np.frombuffer(starts, dtype=np.int64)
        offsets_np = np.frombuffer(offsets, dtype=np.int64)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    return SegmentColumns(ids, tfs, starts_np, offsets_np, table)


def _segment_terms(leaf: Any, schema: Any) -> Iterator[tuple[tuple[str, bytes], Any, Any]]:
    """((field, term), term info, format) of the segment's terms that get columns."""
    for fieldname, fieldobj in schema.items():
        if not fieldobj.scorable or fieldname not in leaf.indexed_field_names():
            continue
        for btext, info in leaf.iter_field(fieldname):
            if info.doc_frequency() >= MIN_POSTINGS:
                yield (fieldname, btext), info, fieldobj.format


def write_segment(leaf: Any, schema: Any, folder: Path, segment_id: str) -> None:
    """Write the columns of one segment (the table last: its presence means complete)."""
    id_parts: list[np.ndarray] = []
    tf_parts: list[np.ndarray] = []
    table: dict[tuple[str, bytes], tuple[int, int, int, int]] = {}
    starts: list[int] = []
    offsets: list[int] = []
    at = 0
    for key, info, fmt in _segment_terms(leaf, schema):
        where: list[tuple[int, int]] = []
        try:
            ids, tfs = decode_postings(leaf, key, info, fmt, where=where)
        except TypeError:
            continue
        narrow = tfs.astype(np.float32)
        if not np.array_equal(narrow.astype(np.float64), tfs):
            continue  # a weight float32 cannot hold: this term stays with Whoosh's blocks
        id_parts.append(ids.astype(np.uint32))
        tf_parts.append(narrow)
        first = len(starts)
        posting = at
        for offset, count in where:
            starts.append(posting)
            offsets.append(offset)
            posting += count
        table[key] = (at, at + len(ids), first, len(starts))
        at += len(ids)
    ids_path, tfs_path, table_path = _paths(folder, segment_id)
    for path, parts, dtype in ((ids_path, id_parts, np.uint32), (tfs_path, tf_parts, np.float32)):
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, np.concatenate(parts) if parts else np.zeros(0, dtype))
        os.replace(tmp, path)
    tmp = table_path.with_name(table_path.name + ".tmp")
    with open(tmp, "wb") as fh:
        marshal.dump((FORMAT, table, np.asarray(starts, dtype=np.int64).tobytes(),
                      np.asarray(offsets, dtype=np.int64).tobytes()), fh)
    os.replace(tmp, table_path)


def save_columns(ix: Any, folder: str | Path) -> int:
    """Write the columns of every segment of index ``ix`` that has none yet, in its
    generation ``folder``, and delete those of segments no longer in it. Returns how many
    segments were written. The indexer calls this after each commit."""
    folder = Path(folder)
    written = 0
    with ix.reader() as reader:
        schema = ix.schema
        live = set()
        for leaf, _base in reader.leaf_readers():
            segment = leaf.segment() if hasattr(leaf, "segment") else None
            if segment is None or not hasattr(leaf, "_terms"):
                continue
            segment_id = segment.segment_id()
            live.add(segment_id)
            if open_columns(folder, segment_id) is None:
                write_segment(leaf, schema, folder, segment_id)
                written += 1
    for path in folder.glob(PREFIX + "*"):
        segment_id = path.name[len(PREFIX):].split(".", 1)[0]
        if segment_id not in live:
            path.unlink(missing_ok=True)
    return written
