"""A segment's postings written a whole term at a time: the bytes Whoosh writes a posting at
a time.

Stock Whoosh's ``W3FieldWriter`` writes a segment's postings with one ``start_term``, one
``add`` per posting and one ``finish_term`` per term, each a chain of Python calls, and its
``OrderedHashWriter`` adds each term-index row with an MD5 hex digest and a file ``tell()``;
the length of each posting's field is read from the length column once per posting.
:func:`write_groups` takes the postings grouped by field and term (as
:class:`~search.whoosh_ext.writers.FastPostingPool` keeps them) and writes each term's blocks
and its term-index row in one call, with each field's length column read once
(:class:`ColumnLengths`). The bytes are Whoosh's (``tests/test_whoosh_ext_writers.py``
compares whole segments, byte for byte); a postings writer of another kind gets Whoosh's
own calls.
"""

from __future__ import annotations

import pickle
import zlib
from array import array
from collections.abc import Callable, Iterable
from hashlib import md5
from typing import Any

from whoosh import columns
from whoosh.codec.whoosh3 import (
    COMPRESSION_MIN_SIZE,
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3FieldWriter,
    W3PostingsWriter,
    W3TermInfo,
    _lenfield,
)
from whoosh.filedb.filetables import OrderedHashWriter, md5_hash
from whoosh.filedb.filetables import _lengths as _KEY_VALUE_LENGTHS
from whoosh.system import pack_int, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

__all__ = ["ColumnLengths", "write_groups"]


def write_groups(fieldwriter: W3FieldWriter, schema: Any, lengths: Any,
                 groups: Iterable[tuple[str, bytes, list]]) -> None:
    """``fieldwriter.add_postings`` for postings grouped by field and term: the same calls to
    the field writer, or (with Whoosh's own postings writer) the same bytes written a whole
    term at a time (see :class:`_TermWriter`)."""
    lastfn = None
    dfl: Callable[[int], Any] = _zero_length
    direct = False
    for fieldname, tbytes, postings in groups:
        if fieldname != lastfn:
            if lastfn is not None:
                fieldwriter.finish_field()
            fieldobj = schema[fieldname]
            fieldwriter.start_field(fieldname, fieldobj)
            lastfn = fieldname
            dfl = lengths.doc_field_length_reader(fieldname) if lengths else _zero_length
            postwriter = fieldwriter._postwriter
            direct = (type(postwriter) is W3PostingsWriter and not postwriter._byteids
                      and postwriter._inlinelimit <= 1)
            if direct:
                term = _TermWriter(fieldwriter, postwriter, fieldobj.format, dfl)
        if direct:
            term.write(tbytes, postings)
            continue
        fieldwriter.start_term(tbytes)
        for docnum, weight, vbytes in postings:
            fieldwriter.add(docnum, weight, vbytes or b"", dfl(docnum))
        fieldwriter.finish_term()
    if lastfn is not None:
        fieldwriter.finish_field()


def _zero_length(docnum: int) -> int:
    return 0


class _TermWriter:
    """Writes one term's postings as ``W3FieldWriter.start_term``, ``add`` per posting and
    ``finish_term`` write them, byte for byte, without the per-posting calls.

    Mirrors ``W3PostingsWriter`` (whoosh3 3.54.0, pinned): blocks of ``blocklimit`` postings,
    each ``(delta-encoded ids, weights or one weight or None, values)`` pickled and, from
    ``COMPRESSION_MIN_SIZE`` bytes, compressed; per block a pickled info tuple; per term the
    block statistics folded into a ``W3TermInfo``, added to the term index as
    ``OrderedHashWriter.add`` adds it. Weights pass through ``array("f")`` as in Whoosh's
    buffer. (Whoosh's inlining of short posting lists is off at ``inlinelimit=1``, its
    default; other settings take the generic path.) A term's bytes are written in one call.
    """

    def __init__(self, fieldwriter: W3FieldWriter, postwriter: W3PostingsWriter, fmt: Any,
                 dfl: Callable[[int], Any]) -> None:
        self.fieldid = pack_ushort(fieldwriter._fieldid)
        tindex = fieldwriter._tindex
        self.add_row: Callable[[bytes, bytes], None] = (
            _TermRows(tindex).add
            if type(tindex) is OrderedHashWriter and tindex.hashfn is md5_hash else tindex.add)
        self.postfile = postwriter._postfile
        #: Where the next term's postings start. Kept here: only this object writes to the
        #: postings file while the field is written, and each ``tell()`` is a system call.
        self.offset = self.postfile.tell()
        self.limit = postwriter._blocklimit
        self.compression = postwriter._compression
        fixed = fmt.fixed_value_size()
        #: How a block's values are minified (``W3PostingsWriter._mini_values``).
        self.values_kind = "tuple" if fixed is None or fixed < 0 else (
            "none" if fixed == 0 else "join")
        self.dfl = dfl

    def write(self, tbytes: bytes, postings: list) -> None:
        start = self.offset
        info = W3TermInfo()
        limit = self.limit
        total = len(postings)
        if total <= limit:
            data = WHOOSH3_HEADER_MAGIC + self._block(info, postings, last=True)
        else:
            data = WHOOSH3_HEADER_MAGIC + b"".join([
                self._block(info, postings[begin:begin + limit], last=begin + limit >= total)
                for begin in range(0, total, limit)])
        self.postfile.write(data)
        self.offset = start + len(data)
        info.set_extent(start, len(data))
        self.add_row(self.fieldid + tbytes, info.to_bytes())

    def _block(self, info: W3TermInfo, chunk: list, last: bool) -> bytes:
        """Adds one block's statistics to ``info``; returns the block's bytes."""
        ids, raw, vals = zip(*chunk, strict=True)
        count = len(raw)
        if raw[0] == 1.0 and raw.count(1.0) == count:
            # Every weight 1.0 (all of a spelling word's, most of a rare word's): the same
            # sum, maximum and block encoding as below, without converting each weight.
            total: float = float(count)
            maxweight: Any = 1.0
            mini_weights: Any = None
        else:
            weights = array("f", raw).tolist()
            total = sum(weights)
            top = max(raw)
            maxweight = top if top > 0 else 0
            # (W3PostingsWriter._write_block)
            first = weights[0]
            if first == 1.0 and weights.count(1.0) == count:
                mini_weights = None
            elif weights.count(first) == count:
                mini_weights = first
            else:
                mini_weights = tuple(weights)
        if self.dfl is _zero_length:  # a field without lengths
            minlength = None
            maxlength = 0
        else:
            found = [n for n in map(self.dfl, ids) if n]
            minlength = min(found) if found else None
            maxlength = max(found) if found else 0

        # W3TermInfo.add_block
        info._weight += total
        info._df += len(ids)
        if info._minlength is None:
            info._minlength = minlength
        else:
            info._minlength = min(info._minlength, minlength)
        info._maxlength = max(info._maxlength, maxlength)
        info._maxweight = max(info._maxweight, maxweight)
        if info._minid is None:
            info._minid = ids[0]
        info._maxid = ids[-1]

        # W3PostingsWriter._write_block
        kind = self.values_kind
        if kind == "none":
            mini_values: Any = None
        else:
            values = vals if all(vals) else tuple(filter(None, vals))  # empty ones dropped
            mini_values = values if kind == "tuple" else b"".join(values)
        deltas = ids if count == 1 else tuple(
            [b - a for a, b in zip((0, *ids), ids, strict=False)])
        databytes = pickle.dumps((deltas, mini_weights, mini_values), 2)
        comp = self.compression
        if len(databytes) < COMPRESSION_MIN_SIZE:
            comp = 0
        if comp:
            databytes = zlib.compress(databytes, comp)
        infobytes = pickle.dumps((len(ids), ids[-1], maxweight, comp, length_to_byte(minlength),
                           length_to_byte(maxlength)), 2)
        size = len(infobytes) + len(databytes)
        return pack_int(-size if last else size) + infobytes + databytes


class _TermRows:
    """``OrderedHashWriter.add`` for one field's term-index rows: the same bytes and hash
    table entries, each row in one write, ``md5_hash`` (the low 32 bits of the key's MD5)
    without going through hex digits, and the file position counted instead of asked for
    (nothing else writes to the term index while a field's terms are written)."""

    def __init__(self, tindex: OrderedHashWriter) -> None:
        self.tindex = tindex
        self.pos = tindex.dbfile.tell()

    def add(self, key: bytes, value: bytes) -> None:
        tindex = self.tindex
        if key <= tindex.lastkey:
            raise ValueError(f"Keys must increase: {tindex.lastkey!r}..{key!r}")
        pos = self.pos
        tindex.index.append(pos)
        row = _KEY_VALUE_LENGTHS.pack(len(key), len(value)) + key + value
        tindex.dbfile.write(row)
        self.pos = pos + len(row)
        h = int.from_bytes(md5(key, usedforsecurity=False).digest()[-4:], "big")
        tindex.buckets[h & 255].append((h, pos))
        tindex.lastkey = key


class ColumnLengths:
    """Per-document field lengths for ``FieldWriter.add_postings``: each field's length column
    is read once into a list (the stock reader reads it from the file for every posting)."""

    def __init__(self, pdr: Any) -> None:
        self._pdr = pdr

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> Any:
        return self._pdr.doc_field_length(docnum, fieldname, default)

    def doc_field_length_reader(self, fieldname: str, default: int = 0) -> Callable:
        pdr = self._pdr
        reader = pdr._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if reader is None and not default:
            return _zero_length  # no length column (a field that is not scorable)
        if (type(reader) is not columns.NumericColumn.Reader or reader._typecode != "B"
                or reader._reverse):
            return pdr.doc_field_length_reader(fieldname, default)
        count = reader._count
        raw = reader._dbfile.get(reader._basepos, count) if count else b""
        # As the stock reader: a zero byte (no length stored) reads as None.
        table = [None] + [byte_to_length(b) for b in range(1, 256)]
        values = [table[b] for b in raw]

        def get(docnum: int) -> Any:
            return values[docnum] if docnum < count else None

        return get
