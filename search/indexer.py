"""Builds and updates the Whoosh index from documents on disk.

Updates are incremental: files whose size and mtime did not change are not even read, and
documents whose content hash did not change are not re-analysed. A full rebuild writes a new
generation beside the old one and swaps the symlink, so readers never see a half-built index.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from whoosh.index import LockError

from search.analysis import LANGUAGES, analysis_options
from search.documents import find_sources, read_source
from search.errors import IndexLocked, SearchError
from search.model import Document, IndexReport, Problem, ReadResult, Source
from search.schema import document_fields
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

#: Fresh builds larger than this use all cores (Whoosh ``procs`` + ``multisegment``).
PARALLEL_MIN_BYTES = 2_000_000
#: A file modified this close (ns) to the start of a run may change again without its
#: (mtime, size) stamp changing: file times tick coarsely (a few ms on Linux, 2 s on FAT).
#: Such files are not trusted by their stamp next time but re-read (and hash-compared).
RACY_NS = 2_000_000_000

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
) -> IndexReport:
    """Index files and folders, incrementally unless ``rebuild``.

    Documents from files that vanished under the given folders are removed; documents from
    other folders indexed earlier are left alone. Broken inputs end up in
    ``IndexReport.problems`` and never stop the run: a document that even makes an analyser
    fail is reported, and the run redone without its file.

    One writer at a time: the folder's lock is waited for up to ``timeout`` seconds, then
    :class:`~search.errors.IndexLocked` is raised. A crash at any moment leaves the previous
    index complete (see :mod:`search.storage`).

    ``analysis`` sets index-time analysis options for experiments (``{"stopwords": False}``,
    ``{"morphology": False}``; see ``search.analysis.ANALYSIS_OPTIONS``). They apply to fresh
    builds only (``rebuild`` or no index yet): an incremental update keeps the analysers the
    index was built with, which are stored in it and recorded in its ``engine.json``.
    """
    started = time.perf_counter()
    options = analysis_options(analysis)  # checked before anything is written
    paths = list(paths)
    layout = IndexLayout(index_dir)
    failed: dict[str, str] = {}  # file -> why analysing it failed
    with layout.writing(timeout):
        # Holding the lock, no rebuild is running: unfinished generations are orphans.
        layout.clean_orphans()
        while True:
            try:
                report = _index_locked(paths, layout, rebuild, progress, procs, timeout,
                                       options, failed)
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
                  progress: Progress | None, procs: int | None, timeout: float,
                  options: Mapping[str, bool], failed: Mapping[str, str]) -> IndexReport:
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
        writer = (ix.writer(procs=procs, multisegment=True, timeout=timeout) if procs > 1
                  else ix.writer(timeout=timeout))
    except LockError as exc:  # a writer that does not use our lock (another program)
        if fresh:
            layout.discard(gen)
        raise IndexLocked(locked_message(layout.root, timeout)) from exc

    try:
        with ix.searcher() as searcher:
            written, read = _apply(writer, searcher, changed, manifest, report, fresh,
                                   progress, racy_after, failed)
            seen = {str(s.path) for s in sources}
            if not fresh:
                report.deleted += _delete_stale(writer, searcher, read, seen, roots, written)
            for path in [p for p in manifest if p not in seen and _is_under(p, roots)]:
                del manifest[path]
        writer.commit()
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
    # After the commit: a crash in between leaves sources.json behind the index, which only
    # makes the next run re-read those files (deletions are decided from the index itself).
    try:
        write_json(gen / SOURCES_FILE, manifest)
        if fresh:
            layout.switch(gen)
    except BaseException:
        if fresh:
            layout.discard(gen)  # no-op once switched in
        raise
    return report


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
           progress: Progress | None, racy_after: int,
           failed: Mapping[str, str]) -> tuple[set[str], dict[str, list[str]]]:
    """Add or update the documents of ``changed``; returns the ids read, and the ids of
    each file that could be read. Files modified after ``racy_after`` (ns) get no stamp;
    files in ``failed`` are reported instead of read."""
    languages = tuple(LANGUAGES)
    seen_ids: dict[str, str] = {}
    read: dict[str, list[str]] = {}
    for done, source in enumerate(changed, 1):
        key = str(source.path)
        if key in failed:
            result = ReadResult(problems=[Problem(key, failed[key])])
        else:
            result = read_source(source, languages)
        report.problems.extend(result.problems)
        if not result.documents and result.problems:
            # Unreadable now: keep what was indexed from it before, and retry next time.
            if progress:
                progress(done, len(changed))
            continue
        ids = []
        for doc in result.documents:
            if doc.id in seen_ids and seen_ids[doc.id] != key:
                report.problems.append(Problem(
                    key, f"duplicate id {doc.id!r} (already used by {seen_ids[doc.id]}); skipped"))
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
        read[key] = ids
        stamp = [source.mtime_ns, source.size] if source.mtime_ns < racy_after else None
        manifest[key] = {"stamp": stamp, "ids": ids}
        if progress:
            progress(done, len(changed))
    return set(seen_ids), read


def _add(method: Callable[..., None], doc: Document, path: str) -> None:
    """Add (or update) one document; an analyser failing on it names the file."""
    try:
        method(**document_fields(doc))
    except Exception as exc:  # noqa: BLE001 - any analyser bug on one odd document
        # Whoosh may already hold some of its postings, so the writer cannot go on.
        raise _DocumentFailed(path, f"could not be indexed: document {doc.id!r} broke the "
                                    f"analysis ({type(exc).__name__}: {exc})") from exc
