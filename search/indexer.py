"""Builds and updates the Whoosh index from documents on disk.

Updates are incremental: files whose size and mtime did not change are not even read, and
documents whose content hash did not change are not re-analysed. A full rebuild writes a new
generation beside the old one and swaps the symlink, so readers never see a half-built index.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from whoosh.index import LockError

from search.analysis import LANGUAGES, analysis_options
from search.documents import SourceFailed, find_sources, iter_source
from search.errors import IndexLocked, SearchError
from search.links import save_sitemap_links
from search.merging import merge_small_and_deleted
from search.model import Caveat, Document, IndexReport, Problem, SiteLinks, Source
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
from search.whoosh_ext.opening import segment_writer
from search.whoosh_ext.terms import SegmentTerms

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
    fast: bool = True,
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

    ``fast=False`` writes with stock Whoosh's writers, analysis chains and file storage
    instead of :mod:`search.whoosh_ext`'s (the same index, byte for byte, only slower).
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
                                       options, failed, fast, find_translations)
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
                  fast: bool = True, find_translations: bool = True) -> IndexReport:
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
        ix, gen = open_index(layout.root, fast=fast)
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
        writer = (segment_writer(ix, fast=fast, procs=procs, multisegment=True,
                                 timeout=timeout)
                  if procs > 1 else
                  segment_writer(ix, fast=fast, timeout=timeout, limitmb=POOL_MB_ONE_PROCESS))
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

                report.added += carry_over(writer, layout.root, written, report.problems,
                                           fast=fast)
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
        _save_after_commit(ix, gen, fast, None if fresh else written, find_translations)
    # After the commit: a crash in between leaves sources.json behind the index, which only
    # makes the next run re-read those files (deletions are decided from the index itself).
    try:
        if fresh or changed or gone:  # else the manifest on disk is already this one
            write_json(gen / SOURCES_FILE, manifest)
            save_sitemap_links(gen, manifest)
        if fresh:
            layout.switch(gen)
    except BaseException:
        if fresh:
            layout.discard(gen)  # no-op once switched in
        raise
    return report


def _save_after_commit(ix: Any, gen: Path, fast: bool = True,
                       touched: Iterable[str] | None = None,
                       find_translations: bool = True) -> None:
    """Keep the commit's spelling vocabulary and completion table beside it, so that no
    search has to make them (an optimisation only: a search process makes them itself when
    they are missing), and the columns of its new segments' postings (without them,
    searching reads Whoosh's blocks, only slower; not with ``fast=False``); then update the
    found translations of the ``touched`` ids (None: all), which never raises. The vocabulary
    and the completion table read the new segments' words through one
    :class:`~search.whoosh_ext.terms.SegmentTerms`: once."""
    from search.completion import completions_for_reader
    from search.pairing import pair_after_commit
    from search.whoosh_ext.columnar import save_columns

    terms = SegmentTerms(fast, max_kept=None)  # dropped when both are made
    try:
        save_vocabulary(ix, gen, terms)
    except Exception:  # noqa: BLE001 - the index is committed and fine without it
        log.exception("Could not save the spelling vocabulary of %s", gen)
    try:
        with ix.reader() as reader:
            completions_for_reader(reader, gen, terms)
    except Exception:  # noqa: BLE001 - as above
        log.exception("Could not save the completion table of %s", gen)
    try:
        if fast:
            save_columns(ix, gen)
    except Exception:  # noqa: BLE001 - as above
        log.exception("Could not save the postings columns of %s", gen)
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
        sitemap: SiteLinks | None = None
        has_documents = has_problems = False
        duplicates: list[Problem] = []  # reported after the file's own problems
        try:
            for item in items:
                if isinstance(item, SiteLinks):  # kept with the file (see search.links)
                    sitemap = item
                    continue
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
        if sitemap is not None:
            manifest[key]["links"] = sitemap.groups
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
