"""One term's postings, read and scored: the part of the executor that touches Whoosh's
postings (see :mod:`search.whoosh_ext.execution`, whose :class:`Executor` this is a base of).

Stock Whoosh reads a term's postings through a matcher, one posting at a time, unpickling
and decompressing each block as it goes, and scores each posting with a method call. Here a
term's postings come a segment at a time, from the segment's columns where written (see
:mod:`search.whoosh_ext.columnar`: two array slices) or else from Whoosh's blocks read
whole, and are scored in bulk with the 256-value length table of BM25F; the term infos and
the scored postings of recent terms are kept between queries (bounded). The scores are the
ones Whoosh's matchers compute (``tests/test_whoosh_ext_execution.py`` and
``tests/test_whoosh_ext_columnar.py``).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from itertools import accumulate
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.matching import ListMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from search.whoosh_ext.columnar import SegmentColumns, decode_postings, open_columns
from search.whoosh_ext.positions import (
    Block,
    positions_at,
    segment_positions,
)

#: Field-length byte -> length, as Whoosh decodes it.
_LENGTHS = [byte_to_length(b) for b in range(256)]
#: Postings whose scores are kept between queries (12 bytes each: about 24 MB).
CACHED_POSTINGS = 2_000_000
#: Terms whose term infos are kept between queries (a few hundred bytes each).
CACHED_INFOS = 50_000
#: The blocks of postings read while scoring are kept for the re-ranking's positions
#: (:meth:`Matches.positions`) for terms with at most this many postings; longer ones are
#: read again, only the blocks holding a top hit.
KEPT_POSTINGS = 20_000
#: The same when the segments' columns (:mod:`search.whoosh_ext.columnar`) can be read
#: instead: beyond a few dozen blocks, reading only the blocks of the top hits afterwards
#: costs less than reading every block now.
KEPT_WITH_COLUMNS = 4_096


class Unsupported(Exception):
    """A query shape this executor does not evaluate (the caller falls back to Whoosh)."""


class TermPostings:
    """Reading and scoring single terms' postings, over the segments of one searcher (the
    attributes it uses are made by :class:`~search.whoosh_ext.execution.Executor`)."""

    def _term_scores(self, q: wq.Term) -> tuple[array, array] | None:
        """A term's documents and unboosted BM25F scores (None: not in the index).

        Cached, up to :data:`CACHED_POSTINGS` postings for all terms together: frequent
        words recur across queries, and their reading (unpickling, decompressing) is what
        costs most.
        """
        found = self._scorable_term(q)
        if found is None:
            return None
        key, fieldobj, cached = found
        if cached is not None:
            return cached
        fieldname, btext = key
        keep: list[Block] | None = None
        if key in self._keep and self._postings_count(key) <= (
                KEPT_WITH_COLUMNS if self.columns else KEPT_POSTINGS):
            keep = self._blocks[key] = []
        params = None
        id_parts: list[np.ndarray] = []
        score_parts: list[np.ndarray] = []
        for offset, lengths, ids, tfs in self._term_arrays(fieldname, btext, fieldobj.format,
                                                           keep):
            if lengths is None:
                raise Unsupported
            if params is None:
                params = idf, b, k1, avgfl = self._parameters(self.searcher, fieldname, btext)
                k1p1 = k1 + 1
                norm = self._norm_array(b, k1, avgfl)
            # Whoosh: idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl))), the
            # same operations in the same order on float64: the same bits.
            score_parts.append(idf * ((tfs * k1p1) / (tfs + norm[lengths[ids]])))
            id_parts.append(ids + offset if offset else ids)
        if params is None:
            return None
        all_ids = array("I", (np.concatenate(id_parts) if len(id_parts) > 1 else id_parts[0])
                        .astype(np.uint32).tobytes())
        all_scores = array("d", (np.concatenate(score_parts) if len(score_parts) > 1
                                 else score_parts[0]).tobytes())
        self._cached += len(all_ids)
        if self._cached > CACHED_POSTINGS:
            self._scores.clear()
            self._maxima.clear()
            self._cached = len(all_ids)
        self._scores[key] = (all_ids, all_scores)
        return all_ids, all_scores

    def _term_arrays(self, fieldname: str, btext: bytes, fmt: Any,
                     keep: list[Block] | None = None
                     ) -> Iterator[tuple[int, np.ndarray | None, np.ndarray, np.ndarray]]:
        """(docnum offset, length bytes as an array, local ids, weights) for each segment
        holding the term, each as one numpy array (int64, float64): from the segment's
        columns (:mod:`search.whoosh_ext.columnar`) when it has the term's, else from
        Whoosh's blocks, unpickled one by one but decoded in bulk. With ``keep`` (which
        receives the blocks, for positions) the blocks are read."""
        key = (fieldname, btext)
        for index, info in self._term_infos(key):
            reader, offset = self._segments[index]
            lens = self._field_lengths_array(index, reader, fieldname)
            columns = self._columns(index) if self.columns and keep is None else None
            found = columns.get(key) if columns is not None else None
            if found is not None:
                self.column_reads += 1
                yield offset, lens, found[0], found[1]
                continue
            values: list[Any] | None = [] if keep is not None else None
            try:
                ids, tfs = decode_postings(reader, key, info, fmt, values)
            except TypeError:
                raise Unsupported from None
            if keep is not None:
                keep.extend((offset, local, vals) for local, vals in values or ())
            yield offset, lens, ids, tfs

    def positions(self, term: tuple[str, bytes], docnums: Iterable[int]
                  ) -> dict[int, list[int]]:
        """A term's positions in each of ``docnums`` that holds it (as
        :func:`~search.whoosh_ext.positions.block_positions`): in a segment with the term's
        columns, the blocks holding the documents are known and read directly."""
        fieldname, btext = term
        fmt = self.searcher.schema[fieldname].format
        wanted = sorted(docnums)
        infos = dict(self._term_infos(term))
        out: dict[int, list[int]] = {}
        for index, (reader, offset) in enumerate(self._segments):
            if index not in infos:
                continue
            end = offset + reader.doc_count_all()
            local = [d - offset for d in wanted if offset <= d < end]
            if not local:
                continue
            columns = self._columns(index) if self.columns else None
            blocks = columns.blocks_of(term, local) if columns is not None else None
            if blocks is not None:
                positions_at(reader, term, infos[index], fmt, blocks, offset, out)
            else:
                segment_positions(self.searcher, reader, offset, fieldname, btext, fmt, local,
                                  out)
        return out

    def _columns(self, index: int) -> SegmentColumns | None:
        """The columns of segment ``index`` (None: it has none)."""
        if index not in self._segment_columns:
            reader, _offset = self._segments[index]
            segment = reader.segment() if hasattr(reader, "segment") else None
            self._segment_columns[index] = open_columns(
                self._folder, segment.segment_id() if segment is not None else None)
        return self._segment_columns[index]

    def _field_lengths_array(self, index: int, reader: Any, fieldname: str
                             ) -> np.ndarray | None:
        """:meth:`_field_lengths` as a numpy array of bytes (None: not readable)."""
        key = (index, fieldname, "np")
        if key not in self._lengths:
            raw = self._field_lengths(index, reader, fieldname)
            self._lengths[key] = None if raw is None else np.frombuffer(raw, dtype=np.uint8)
        return self._lengths[key]

    def _norm_array(self, b: float, k1: float, avgfl: float) -> np.ndarray:
        """:meth:`_norm` as a numpy array."""
        key = (b, k1, avgfl, "np")
        if key not in self._norms:
            self._norms[key] = np.array(self._norm(b, k1, avgfl), dtype=np.float64)
        return self._norms[key]

    def _term_infos(self, key: tuple[str, bytes]) -> list[tuple[int, Any]]:
        """(segment index, term info) of each segment holding the term; looked up once
        (the look-up is what a term costs most when it has few postings, and the terms of
        frequent words recur from query to query)."""
        infos = self._infos.get(key)
        if infos is None:
            if len(self._infos) >= CACHED_INFOS:
                self._infos.clear()
            infos = []
            for index, (reader, _offset) in enumerate(self._segments):
                if not hasattr(reader, "_terms"):  # an empty or another kind of reader
                    raise Unsupported
                try:
                    infos.append((index, reader._terms.term_info(*key)))
                except TermNotFound:  # not in this segment
                    continue
            self._infos[key] = infos
        return infos

    def _scorable_term(self, q: wq.Term
                       ) -> tuple[tuple[str, bytes], Any, tuple[array, array] | None] | None:
        """``(key, field object, cached scores or None)`` of a term the executor scores
        itself; None when it cannot match here. Raises :class:`Unsupported` for a term whose
        scores are not cached and that only Whoosh knows how to score (an unscorable field,
        a weighting without :meth:`parameters`). Scoring and the pruning bound both start
        here."""
        found = self._term_key(q)
        if found is None:
            return None
        key, fieldobj = found
        cached = self._scores.get(key)
        if cached is None and (not fieldobj.scorable or not self._parameters):
            raise Unsupported
        return key, fieldobj, cached

    def _postings_count(self, key: tuple[str, bytes]) -> int:
        cached = self._scores.get(key)
        if cached is not None:
            return len(cached[0])
        return sum(info.doc_frequency() for _index, info in self._term_infos(key))

    def _norm(self, b: float, k1: float, avgfl: float) -> list[float]:
        """BM25's length part ``K1 * ((1 - B) + B * fl / avgfl)`` for each length byte."""
        key = (b, k1, avgfl)
        if key not in self._norms:
            self._norms[key] = [k1 * ((1 - b) + b * fl / avgfl) for fl in _LENGTHS]
        return self._norms[key]

    def _postings(self, fieldname: str, btext: bytes, fmt: Any, scored: bool = True,
                  keep: list[Block] | None = None
                  ) -> Iterator[tuple[int, bytes | None, Any, Any]]:
        """(docnum offset, length bytes, ids, weights) for each block of postings; without
        ``scored``, lengths and weights are None (only the ids are decoded). ``keep``
        receives each block's (offset, ids, encoded values), for positions."""
        key = (fieldname, btext)
        for index, info in self._term_infos(key):
            reader, offset = self._segments[index]
            terms = reader._terms
            m = terms._codec.postings_reader(terms._postfile, info, fmt, term=key, scorer=None)
            lens = self._field_lengths(index, reader, fieldname) if scored else None
            if isinstance(m, W3LeafMatcher):
                while m.is_active():
                    if m._ids is None:  # as W3LeafMatcher._read_ids, with the sum in C
                        if m._data is None:
                            m._read_data()
                        m._ids = m._data[0] if m._byteids else tuple(accumulate(m._data[0]))
                    if scored and m._weights is None:
                        m._read_weights()
                    if keep is not None:
                        keep.append((offset, m._ids, m._data[2]))
                    yield offset, lens, m._ids, m._weights if scored else None
                    m._next_block()
            elif isinstance(m, ListMatcher):
                ids = m._ids
                weights = m._weights
                if weights is None and scored:
                    weights = [m._all_weights or 1.0] * len(ids)
                if keep is not None:
                    keep.append((offset, ids, m._values))
                yield offset, lens, ids, weights if scored else None
            else:
                raise Unsupported

    def _field_lengths(self, index: int, reader: Any, fieldname: str) -> bytes | None:
        """Each document's encoded length of ``fieldname`` in one segment, one byte each."""
        key = (index, fieldname)
        if key not in self._lengths:
            self._lengths[key] = _length_bytes(reader, fieldname)
        return self._lengths[key]


def _length_bytes(reader: Any, fieldname: str) -> bytes | None:
    """The raw length column of one field in one segment (None: not readable that way)."""
    perdoc = getattr(reader, "_perdoc", None)
    try:
        column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    except Exception:  # noqa: BLE001 - another codec: let Whoosh score instead
        return None
    total = reader.doc_count_all()
    if column is None:
        return bytes([1]) * total  # Whoosh's default length for a field without lengths
    try:
        count = column._count
        raw = column._dbfile.get(column._basepos, count) if count else b""
    except AttributeError:
        return None
    return bytes(raw) + bytes(max(0, total - count))
