"""Whoosh's segment writers with the per-word work done in bulk.

Stock Whoosh (``SegmentWriter``, ``MpWriter``) analyses each field with a chain of Token
objects, keeps every posting as a tuple in a pool that it sorts at the end, and writes a
segment a posting at a time. The writers here write the same bytes
(``tests/test_whoosh_ext_writers.py`` compares whole indexes with stock Whoosh's) in less
time; ``fast=False`` (``index_paths``, ``IndexWriter``) uses Whoosh's own writers, through
:func:`search.whoosh_ext.opening.segment_writer`.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any

from whoosh.codec.whoosh3 import W3FieldWriter
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.writing import PostingPool, SegmentWriter

from search.whoosh_ext.fast_analysis import ExistenceIndexer, field_indexer
from search.whoosh_ext.postings_writer import ColumnLengths, write_groups

# -- writers ----------------------------------------------------------------------------------
#
# Whoosh's own writers, with the per-word work done in bulk. What they write is what
# ``SegmentWriter`` writes, byte for byte (same terms, frequencies, positions, weights, block
# statistics, lengths, stored fields; tests/test_whoosh_ext_writers.py compares
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
#   blocks and its term-index row, see :mod:`search.whoosh_ext.postings_writer`), and each
#   field's length column is read once instead of once per posting.

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
        lengths = ColumnLengths(pdr) if pdr else pdr
        groups = self.pool.groups()
        if groups is not None and type(self.fieldwriter) is W3FieldWriter:
            write_groups(self.fieldwriter, self.schema, lengths, groups)
        else:
            self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
        self.fieldwriter.close()
        if pdr:
            pdr.close()


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
