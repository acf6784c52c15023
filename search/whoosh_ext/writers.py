"""Whoosh's segment writers with the per-word work done in bulk.

Stock Whoosh (``SegmentWriter``, ``MpWriter``) analyses each field with a chain of Token
objects, keeps every posting as a tuple in a pool that it sorts at the end, and writes a
segment a posting at a time. The writers here write the same bytes (tests/
test_indexing_speed_equivalence.py compares whole indexes with stock Whoosh's) in less time;
``index_paths(..., fast=False)``-style callers use Whoosh's own writers.
"""

from __future__ import annotations

import pickle
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from hashlib import md5
from itertools import groupby
from operator import itemgetter
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
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.system import pack_int, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import PostingPool, SegmentWriter

from search.whoosh_ext.fast_analysis import ExistenceIndexer, field_indexer

# -- writers ----------------------------------------------------------------------------------
#
# Whoosh's own writers, with the per-word work done in bulk. What they write is what
# ``SegmentWriter`` writes, byte for byte (same terms, frequencies, positions, weights, block
# statistics, lengths, stored fields; tests/test_indexing_speed_equivalence.py compares
# whole indexes); only the way there is shorter:
#
# * text fields are analysed by :func:`search.whoosh_ext.fast_analysis.field_indexer` (one
#   regex pass and a cached word -> term map instead of a Token per word per filter), and a
#   text that several fields analyse (``body_sl``, ``body_sl_stem``) is split into words once;
# * the pool keeps postings grouped by field and term as they arrive (documents come in
#   docnum order, so each term's postings are already sorted): no sort of a million tuples,
#   and when the pool must spill to disk, runs are pickled in chunks, not tuple by tuple;
# * a field that only records which documents hold a term (``Existence``: the spelling
#   field) gets its distinct terms as a set and one shared posting per document, and the
#   spelling text "title\ntext" reuses the words of the text that the body fields found;
# * the segment's postings are written a term at a time (one call writes all of a term's
#   blocks and its term-index row, see ``_TermWriter``), and each field's length column is
#   read once instead of once per posting.

#: Postings per pickle in a spilled run.
RUN_CHUNK = 4096


class FastPostingPool(PostingPool):
    """Whoosh's posting pool, grouping postings by field and term as they are added."""

    def __init__(self, tempstore: Any, segment: Any, limitmb: int = 128, **kwargs: Any) -> None:
        super().__init__(tempstore, segment, limitmb=limitmb, **kwargs)
        #: field name -> term bytes -> [(docnum, weight, value bytes)]
        self._fields: dict[str, dict[bytes, list]] = {}
        #: Spelling-word postings (docnum -1) are only ever written by Whoosh's own loop.
        self._plain = False
        #: Whether Whoosh's own ``add`` (segment merges) put postings in: only then may a
        #: term's postings be out of docnum order (documents are added in docnum order).
        self._merged_in = False

    def terms_of(self, fieldname: str) -> dict[bytes, list]:
        terms = self._fields.get(fieldname)
        if terms is None:
            terms = self._fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        return terms

    def add(self, item: tuple) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        if docnum == -1:
            self._plain = True
        self._merged_in = True
        postings = self.terms_of(fieldname).setdefault(tbytes, [])
        postings.append((docnum, weight, vbytes))
        self.grew(150 + len(fieldname) + 2 * len(tbytes) + len(vbytes or b""))

    def add_items(self, fieldname: str, items: Iterable[tuple], docnum: int,
                  fieldboost: float, scorable: bool) -> int:
        """Add one field value's index items ``(term, freq, weight, value)`` of document
        ``docnum``; returns the field length."""
        terms = None
        length = size = 0
        base = 150 + len(fieldname)  # PostingPool.add's size estimate
        for tbytes, freq, weight, vbytes in items:
            if terms is None:
                terms = self.terms_of(fieldname)
            if scorable:
                length += freq
            posting = (docnum, weight * fieldboost, vbytes)
            postings = terms.get(tbytes)
            if postings is None:
                terms[tbytes] = [posting]
            else:
                postings.append(posting)
            size += base + 2 * len(tbytes) + len(vbytes or b"")
        if size:
            self.grew(size)
        return length

    def add_existence(self, fieldname: str, found: set[bytes], posting: tuple) -> None:
        """Add an ``Existence`` field's terms: every term of the value gets the same
        (immutable) posting, so none is built per term."""
        terms = self.terms_of(fieldname)
        get = terms.get
        for tbytes in found:
            postings = get(tbytes)
            if postings is None:
                terms[tbytes] = [posting]
            else:
                postings.append(posting)
        self.grew((150 + len(fieldname)) * len(found) + 2 * sum(map(len, found)))

    def grew(self, size: int) -> None:
        """Count ``size`` more bytes (PostingPool's estimate); spill a run when full."""
        self.currentsize += size
        if self.currentsize > self.limit:
            self.save()

    def _groups(self) -> Iterator[tuple[str, bytes, list]]:
        unordered = self._merged_in
        for fieldname in sorted(self._fields):
            terms = self._fields[fieldname]
            for tbytes in sorted(terms):
                postings = terms[tbytes]
                if unordered and len(postings) > 1:
                    postings.sort()
                yield fieldname, tbytes, postings

    def _sorted_items(self) -> Iterator[tuple]:
        for fieldname, tbytes, postings in self._groups():
            for docnum, weight, vbytes in postings:
                yield fieldname, tbytes, docnum, weight, vbytes

    def save(self) -> None:
        if self._fields:
            path, f = self._new_run()
            self._write_run(f, self._sorted_items())
            self._add_run(path)
            self._fields = {}
        self.currentsize = 0

    def _write_run(self, f: Any, items: Iterable[tuple]) -> None:
        chunk: list[tuple] = []
        for item in items:
            chunk.append(item)
            if len(chunk) >= RUN_CHUNK:
                pickle.dump(chunk, f, pickle.HIGHEST_PROTOCOL)
                chunk = []
        if chunk:
            pickle.dump(chunk, f, pickle.HIGHEST_PROTOCOL)
        f.close()

    def _read_run(self, path: str) -> Iterator[tuple]:
        f = self._open_run(path)
        try:
            while True:
                try:
                    chunk = pickle.load(f)
                except EOFError:
                    return
                yield from chunk
        finally:
            f.close()
            self._remove_run(path)

    def items(self, maxfiles: int = 128) -> Iterator[tuple]:
        if not self.runs:
            return self._sorted_items()
        self.save()
        if maxfiles < len(self.runs):
            self.reduce_to(maxfiles, maxfiles)
        runs = self.runs
        self.runs = []
        return self._merge_runs(runs)

    def groups(self) -> Iterator[tuple[str, bytes, list]] | None:
        """(field name, term bytes, [(docnum, weight, value)]) in index order, or None when
        the pool holds postings that only Whoosh's own writing loop handles."""
        if self._plain:
            return None
        if not self.runs:
            return self._groups()
        return ((fieldname, tbytes, [(d, w, v) for _, _, d, w, v in group])
                for (fieldname, tbytes), group in groupby(self.items(), key=itemgetter(0, 1)))


class FastSegmentWriter(SegmentWriter):
    """A :class:`~whoosh.writing.SegmentWriter` that indexes our text fields in bulk."""

    def __init__(self, ix: Any, limitmb: int = 128, **kwargs: Any) -> None:
        super().__init__(ix, limitmb=limitmb, **kwargs)
        self.pool = FastPostingPool(self._tempstorage, self.newsegment, limitmb=limitmb)

    def _fast_indexers(self) -> dict[str, Any] | None:
        """Field name -> fast indexer (or None); None for schemas we leave to Whoosh."""
        try:
            return self._fast
        except AttributeError:
            pass
        fields = list(self.schema.items())
        if any(f.separate_spelling() or f.vector for _, f in fields):
            self._fast = None
        else:
            self._fast = {name: field_indexer(field) for name, field in fields}
        return self._fast

    def add_document(self, **fields: Any) -> None:
        # SegmentWriter.add_document, with field.index() replaced by the fast indexer where
        # there is one, and the postings put in the pool's groups directly.
        fast = self._fast_indexers()
        if fast is None:
            return super().add_document(**fields)
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        pool = self.pool
        memo: dict = {}

        docboost = self._doc_boost(fields)
        fieldnames = sorted([name for name in fields if not name.startswith("_")])
        self._check_fields(schema, fieldnames)

        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]

                length = 0
                if field.indexed:
                    fieldboost = self._field_boost(fields, fieldname, docboost)
                    indexer = fast.get(fieldname)
                    if type(indexer) is ExistenceIndexer and type(value) is str:
                        found = indexer.terms(value, memo)
                        if found:
                            pool.add_existence(fieldname, found,
                                               (docnum, indexer.boost * fieldboost, b""))
                            if field.scorable:
                                length = len(found)  # Whoosh counts 1 per term
                    else:
                        if indexer is not None and type(value) is str:
                            items = indexer(value, memo)
                        else:
                            items = field.index(value)
                        length = pool.add_items(fieldname, items, docnum, fieldboost,
                                                field.scorable)
                # (Fields with spelling words or vectors make _fast_indexers() None.)

                customval = fields.get(f"_stored_{fieldname}", value)
                sv = customval if field.stored else None
                perdocwriter.add_field(fieldname, field, sv, length)

                column = field.column_type
                if column and customval is not None:
                    cv = field.to_column_value(customval)
                    perdocwriter.add_column_value(fieldname, column, cv)
        except ValueError:
            perdocwriter.cancel_doc()
            raise

        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        pdr = self.per_document_reader() if self.codec.length_stats else None
        lengths = _ColumnLengths(pdr) if pdr else pdr
        groups = self.pool.groups()
        if groups is not None and type(self.fieldwriter) is W3FieldWriter:
            _write_groups(self.fieldwriter, self.schema, lengths, groups)
        else:
            self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
        self.fieldwriter.close()
        if pdr:
            pdr.close()


def _write_groups(fieldwriter: W3FieldWriter, schema: Any, lengths: Any,
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


class _ColumnLengths:
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


class _FastSubWriterTask(SubWriterTask):
    """Whoosh's worker process, writing with :class:`FastSegmentWriter`."""

    def run(self) -> None:  # SubWriterTask.run with the writer class swapped
        ix = self.storage.open_index(self.indexname)
        writer = self.writer = FastSegmentWriter(ix, _lk=False, **self.kwargs)
        while self.running:
            jobinfo = self.jobqueue.get()
            if jobinfo is None:
                break
            self._process_file(*jobinfo)
        if not self.running:
            writer.cancel()
            return
        if self.multisegment:
            runname = None
            fieldnames = writer.pool.fieldnames
            segment = writer._finalize_segment()
        else:
            from whoosh.multiproc import finish_subsegment

            runname, fieldnames, segment = finish_subsegment(writer, self.kwargs.get("k", 64))
        self.resultqueue.put((runname, fieldnames, segment), timeout=5)


class FastMpWriter(MpWriter):
    """Whoosh's multi-process writer whose workers use :class:`FastSegmentWriter`."""

    def __init__(self, ix: Any, limitmb: int = 128, **kwargs: Any) -> None:
        super().__init__(ix, limitmb=limitmb, **kwargs)
        # Runs that workers hand back (without multisegment) are read with our pool's format.
        self.pool = FastPostingPool(self._tempstorage, self.newsegment, limitmb=limitmb)

    def _new_task(self) -> Any:
        if self.start_method is not None:
            return super()._new_task()
        task = _FastSubWriterTask(self.storage, self.indexname, self.jobqueue,
                                  self.resultqueue, self.subargs, self.multisegment)
        self.tasks.append(task)
        task.start()
        return task
