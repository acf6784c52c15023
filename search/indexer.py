"""Builds and updates the Whoosh index from documents on disk.

Updates are incremental: files whose size and mtime did not change are not even read, and
documents whose content hash did not change are not re-analysed. A full rebuild writes a new
generation beside the old one and swaps the symlink, so readers never see a half-built index.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from hashlib import md5
from itertools import groupby
from operator import itemgetter
from pathlib import Path
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
from whoosh.index import LockError
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.system import pack_int, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import PostingPool, SegmentWriter

from search.analysis import LANGUAGES, analysis_options
from search.analysis.fast import ExistenceIndexer, field_indexer
from search.documents import SourceFailed, find_sources, iter_source
from search.errors import IndexLocked, SearchError
from search.merging import merge_small_and_deleted
from search.model import Caveat, Document, IndexReport, Problem, Source
from search.progress import IndexProgress, ProgressTracker
from search.schema import document_fields
from search.spelling import save_vocabulary
from search.storage import (
    SOURCES_FILE,
    IndexLayout,
    create_index,
    default_index_path,
    load_manifest,
    locked_message,
    open_index,
    write_json,
)

__all__ = ["index_paths", "default_index_path"]

log = logging.getLogger(__name__)

#: Fresh builds larger than this use all cores (Whoosh ``procs`` + ``multisegment``).
PARALLEL_MIN_BYTES = 2_000_000
#: A file modified this close (ns) to the start of a run may change again without its
#: (mtime, size) stamp changing: file times tick coarsely (a few ms on Linux, 2 s on FAT).
#: Such files are not trusted by their stamp next time but re-read (and hash-compared).
RACY_NS = 2_000_000_000

#: Posting pool size (Whoosh's estimate, MB) of a one-process run before it spills sorted runs
#: to disk: twice a worker's 128, the memory a second worker would have used. (The help
#: corpus, 1.1M postings, then fits: measured 9.4 s instead of 10.7-12.6 s, peak RSS 336 MB
#: instead of 268 MB.)
POOL_MB_ONE_PROCESS = 256

#: A run gives up (with an error) after excluding this many files that broke the analysis.
MAX_FAILED_FILES = 100

Progress = Callable[[int, int], None]


class _DocumentFailed(Exception):
    """Analysing one document raised: the run is redone without its file."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


class _DocumentsLost(Exception):
    """A parallel build committed fewer documents than it was given (a worker died)."""


# -- indexing -------------------------------------------------------------------------------

def index_paths(
    paths: Iterable[str | Path],
    index_dir: str | Path | None = None,
    *,
    rebuild: bool = False,
    progress: Progress | None = None,
    procs: int | None = None,
    timeout: float = 60.0,
    analysis: Mapping[str, bool] | None = None,
    on_progress: Callable[[IndexProgress], None] | None = None,
    find_translations: bool = True,
) -> IndexReport:
    """Index files and folders, incrementally unless ``rebuild``.

    Documents from files that vanished under the given folders are removed; documents from
    other folders indexed earlier are left alone. Broken inputs end up in
    ``IndexReport.problems`` and never stop the run: a document that even makes an analyser
    fail is reported, and the run redone without its file. Inputs indexed with a caveat (cut
    at the size cap, damaged bytes replaced) end up in ``IndexReport.warnings``. If none of
    ``paths`` exists, nothing is created or changed: the report only holds their problems.

    One writer at a time: the folder's lock is waited for up to ``timeout`` seconds, then
    :class:`~search.errors.IndexLocked` is raised. A crash at any moment leaves the previous
    index complete (see :mod:`search.storage`).

    ``analysis`` sets index-time analysis options for experiments (``{"stopwords": False}``,
    ``{"morphology": False}``; see ``search.analysis.ANALYSIS_OPTIONS``). They apply to fresh
    builds only (``rebuild`` or no index yet): an incremental update keeps the analysers the
    index was built with, which are stored in it and recorded in its ``engine.json``.

    ``progress(done, total)`` is called as each file is finished; ``on_progress`` gets an
    :class:`~search.progress.IndexProgress` after every document and every page of a PDF, so
    that one large file shows its documents or pages advancing.

    ``find_translations``: after the commit, link the new or changed documents to their
    unmarked translations (see :mod:`search.pairing`); False skips that work.
    """
    started = time.perf_counter()
    options = analysis_options(analysis)  # checked before anything is written
    paths = list(paths)
    layout = IndexLayout(index_dir)
    if not any(os.path.exists(Path(p).expanduser()) for p in paths):
        # Nothing given exists (a typo?): say why, and create or change nothing at all.
        report = IndexReport(problems=[p for p in find_sources(paths) if isinstance(p, Problem)])
        report.seconds = time.perf_counter() - started
        return report
    failed: dict[str, str] = {}  # file -> why analysing it failed
    tracker = ProgressTracker(progress, on_progress)
    with layout.writing(timeout):
        # Holding the lock, no rebuild is running: unfinished generations are orphans.
        layout.clean_orphans()
        while True:
            try:
                report = _index_locked(paths, layout, rebuild, tracker, procs, timeout,
                                       options, failed, find_translations)
                break
            except _DocumentFailed as exc:
                # Nothing was committed: redo the run without that file, which is reported
                # (and, in an update, keeps what was indexed from it before).
                failed[exc.path] = exc.reason
                if len(failed) > MAX_FAILED_FILES:
                    raise SearchError(f"Stopped: {len(failed)} files broke the analysis, the "
                                      f"last {exc.path}: {exc.reason}") from exc
            except _DocumentsLost as exc:
                if procs == 1:
                    raise SearchError("The index lost documents while it was built; nothing "
                                      "was changed. Please report this.") from exc
                procs = 1  # serially, a failing document is caught and named
    report.seconds = time.perf_counter() - started
    return report


def _index_locked(paths: list[str | Path], layout: IndexLayout, rebuild: bool,
                  progress: ProgressTracker, procs: int | None, timeout: float,
                  options: Mapping[str, bool], failed: Mapping[str, str],
                  find_translations: bool = True) -> IndexReport:
    """``index_paths`` once the folder's writer lock is held (files are listed only now, so
    a writer that had to wait sees what changed meanwhile). Files in ``failed`` are skipped
    and reported."""
    report = IndexReport()
    racy_after = time.time_ns() - RACY_NS
    sources: list[Source] = []
    for item in find_sources(paths):
        if isinstance(item, Problem):
            report.problems.append(item)
        else:
            sources.append(item)
    roots = [str(Path(p).resolve()) for p in paths if Path(p).exists()]

    gen = None if rebuild else layout.current()
    fresh = gen is None
    if fresh:
        gen = layout.new_generation()
        ix = create_index(gen, options)
        manifest: dict[str, dict[str, Any]] = {}
    else:
        ix, gen = open_index(layout.root)
        manifest = load_manifest(gen)

    changed = [s for s in sources
               if manifest.get(str(s.path), {}).get("stamp") != [s.mtime_ns, s.size]]
    # Files not even re-read still hold their documents: count those as unchanged.
    changed_paths = {str(s.path) for s in changed}
    report.unchanged += sum(len(manifest[str(s.path)].get("ids", ())) for s in sources
                            if str(s.path) not in changed_paths)
    if procs is None:
        big = sum(s.size for s in changed) >= PARALLEL_MIN_BYTES
        procs = min(2, os.cpu_count() or 1) if fresh and big else 1
    if not fresh:
        # An update is committed in place: a worker process that died would lose documents
        # for good, where a fresh build can still be checked and redone before it is used.
        procs = 1
    try:
        writer = (FastMpWriter(ix, procs=procs, multisegment=True, timeout=timeout)
                  if procs > 1 else
                  FastSegmentWriter(ix, timeout=timeout, limitmb=POOL_MB_ONE_PROCESS))
    except LockError as exc:  # a writer that does not use our lock (another program)
        if fresh:
            layout.discard(gen)
        raise IndexLocked(locked_message(layout.root, timeout)) from exc

    try:
        with ix.searcher() as searcher:
            written, read = _apply(writer, searcher, changed, manifest, report, fresh,
                                   progress, racy_after, failed)
            if fresh and rebuild:  # documents without a file are not rebuilt from files
                from search.writer import carry_over

                report.added += carry_over(writer, layout.root, written, report.problems)
            seen = {str(s.path) for s in sources}
            if not fresh:
                report.deleted += _delete_stale(writer, searcher, read, seen, roots, written)
            gone = [p for p in manifest if p not in seen and _is_under(p, roots)]
            for path in gone:
                del manifest[path]
        committed = bool(fresh or report.added or report.updated or report.deleted)
        if fresh:
            writer.commit()
        elif report.added or report.updated or report.deleted:
            # Segments holding many deleted documents are rewritten, so that the ranking
            # statistics do not drift from a fresh build's (see search.merging).
            writer.commit(mergetype=merge_small_and_deleted)
        else:
            writer.cancel()  # nothing to commit: no new index generation for readers to load
    except BaseException:
        writer.cancel()
        if fresh:
            layout.discard(gen)
        raise
    if fresh and ix.doc_count() != report.added:
        # Whoosh's worker processes die quietly (the parent commits what is left, even
        # nothing): never swap in an index that lost documents.
        layout.discard(gen)
        raise _DocumentsLost()
    if committed:
        _save_after_commit(ix, gen, None if fresh else written, find_translations)
    # After the commit: a crash in between leaves sources.json behind the index, which only
    # makes the next run re-read those files (deletions are decided from the index itself).
    try:
        if fresh or changed or gone:  # else the manifest on disk is already this one
            write_json(gen / SOURCES_FILE, manifest)
        if fresh:
            layout.switch(gen)
    except BaseException:
        if fresh:
            layout.discard(gen)  # no-op once switched in
        raise
    return report


def _save_after_commit(ix: Any, gen: Path, touched: Iterable[str] | None = None,
                       find_translations: bool = True) -> None:
    """Keep the commit's spelling vocabulary and completion table beside it, so that no
    search has to make them (an optimisation only: a search process makes them itself when
    they are missing); then update the found translations of the ``touched`` ids (None:
    all), which never raises."""
    from search.completion import completions_for_reader
    from search.pairing import pair_after_commit

    try:
        save_vocabulary(ix, gen)
    except Exception:  # noqa: BLE001 - the index is committed and fine without it
        log.exception("Could not save the spelling vocabulary of %s", gen)
    try:
        with ix.reader() as reader:
            completions_for_reader(reader, gen)
    except Exception:  # noqa: BLE001 - as above
        log.exception("Could not save the completion table of %s", gen)
    pair_after_commit(ix, gen, touched, pair=find_translations)


def _is_under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def _delete_stale(writer: Any, searcher: Any, read: Mapping[str, list[str]], seen: set[str],
                  roots: list[str], written: set[str]) -> int:
    """Delete the documents of vanished files, and those a re-read file no longer holds.

    Decided from each document's stored ``path`` in the index, not from sources.json: a run
    killed between its commit and writing sources.json leaves that file behind the index,
    and trusting it would leave ghosts. Returns how many documents were deleted.
    """
    stale: list[str] = []
    for key, ids in read.items():
        keep = set(ids)
        stale.extend(d["id"] for d in searcher.documents(path=key) if d["id"] not in keep)
    for term in searcher.lexicon("path"):
        path = term.decode("utf-8") if isinstance(term, bytes) else term
        if path not in seen and _is_under(path, roots):
            stale.extend(d["id"] for d in searcher.documents(path=path))
    deleted = 0
    for doc_id in dict.fromkeys(stale):
        # An id read this run from another file (a renamed .jsonl) was moved, not lost: its
        # update already replaced the old copy.
        if doc_id not in written:
            writer.delete_by_term("id", doc_id)
            deleted += 1
    return deleted


def _apply(writer: Any, searcher: Any, changed: list[Source],
           manifest: dict[str, dict[str, Any]], report: IndexReport, fresh: bool,
           progress: ProgressTracker, racy_after: int,
           failed: Mapping[str, str]) -> tuple[set[str], dict[str, list[str]]]:
    """Add or update the documents of ``changed``; returns the ids read, and the ids of
    each file that could be read. Files modified after ``racy_after`` (ns) get no stamp;
    files in ``failed`` are reported instead of read."""
    languages = tuple(LANGUAGES)
    seen_ids: dict[str, str] = {}
    read: dict[str, list[str]] = {}
    progress.start(len(changed))
    for done, source in enumerate(changed, 1):
        key = str(source.path)
        progress.reading(key)
        # Documents are indexed as they are read (Whoosh's worker processes analyse the first
        # ones while the rest of a large JSONL file is still being read).
        items: Iterable[Document | Problem] = (
            [Problem(key, failed[key])] if key in failed
            else iter_source(source, languages, progress.pages))
        ids: list[str] = []
        has_documents = has_problems = False
        duplicates: list[Problem] = []  # reported after the file's own problems
        try:
            for item in items:
                if isinstance(item, Caveat):  # indexed all the same (cut at the size cap...)
                    report.warnings.append(item)
                    continue
                if isinstance(item, Problem):
                    report.problems.append(item)
                    has_problems = True
                    continue
                doc = item
                has_documents = True
                progress.document()
                if doc.id in seen_ids and seen_ids[doc.id] != key:
                    duplicates.append(Problem(
                        key, f"duplicate id {doc.id!r} (already used by {seen_ids[doc.id]}); "
                             "skipped"))
                    continue
                seen_ids[doc.id] = key
                ids.append(doc.id)
                if fresh:
                    _add(writer.add_document, doc, key)
                    report.added += 1
                    continue
                stored = searcher.document(id=doc.id)
                # Document.hash leaves out the path and the translation pair: compare them too.
                if (stored is not None and stored.get("hash") == doc.hash
                        and stored.get("path") == doc.path
                        and stored.get("pair") == (doc.pair_id or None)):
                    report.unchanged += 1
                    continue
                _add(writer.update_document, doc, key)
                if stored is None:
                    report.added += 1
                else:
                    report.updated += 1
        except SourceFailed as exc:
            # Nothing is committed yet: redo the run without this file, reported as it is.
            raise _DocumentFailed(key, exc.problem.reason) from exc
        report.problems.extend(duplicates)
        if not has_documents and has_problems:
            # Unreadable now: keep what was indexed from it before, and retry next time.
            progress.file_done(done)
            continue
        read[key] = ids
        stamp = [source.mtime_ns, source.size] if source.mtime_ns < racy_after else None
        manifest[key] = {"stamp": stamp, "ids": ids}
        progress.file_done(done)
    return set(seen_ids), read


def _add(method: Callable[..., None], doc: Document, path: str) -> None:
    """Add (or update) one document; an analyser failing on it names the file."""
    values = document_fields(doc)
    writer = getattr(method, "__self__", None)
    if "pages" in values and writer is not None and "pages" not in writer.schema:
        del values["pages"]  # an index built before PDFs had pages: none until it is rebuilt
    try:
        method(**values)
    except Exception as exc:  # noqa: BLE001 - any analyser bug on one odd document
        # Whoosh may already hold some of its postings, so the writer cannot go on.
        raise _DocumentFailed(path, f"could not be indexed: document {doc.id!r} broke the "
                                    f"analysis ({type(exc).__name__}: {exc})") from exc


# -- writers ----------------------------------------------------------------------------------
#
# Whoosh's own writers, with the per-word work done in bulk. What they write is what
# ``SegmentWriter`` writes, byte for byte (same terms, frequencies, positions, weights, block
# statistics, lengths, stored fields; tests/test_indexing_speed_equivalence.py compares
# whole indexes); only the way there is shorter:
#
# * text fields are analysed by :func:`search.analysis.fast.field_indexer` (one regex pass
#   and a cached word -> term map instead of a Token per word per filter), and a text that
#   several fields analyse (``body_sl``, ``body_sl_stem``) is split into words once;
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
