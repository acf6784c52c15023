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
from search.errors import IndexLocked
from search.model import IndexReport, Problem, Source
from search.schema import document_fields
from search.storage import (
    SOURCES_FILE,
    IndexLayout,
    create_index,
    default_index_path,
    load_manifest,
    open_index,
    write_json,
)

__all__ = ["index_paths", "default_index_path"]

#: Fresh builds larger than this use all cores (Whoosh ``procs`` + ``multisegment``).
PARALLEL_MIN_BYTES = 2_000_000

Progress = Callable[[int, int], None]


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
    ``IndexReport.problems`` and never stop the run.

    ``analysis`` sets index-time analysis options for experiments (``{"stopwords": False}``,
    ``{"morphology": False}``; see ``search.analysis.ANALYSIS_OPTIONS``). They apply to fresh
    builds only (``rebuild`` or no index yet): an incremental update keeps the analysers the
    index was built with, which are stored in it and recorded in its ``engine.json``.
    """
    started = time.perf_counter()
    options = analysis_options(analysis)  # checked before anything is written
    paths = list(paths)
    layout = IndexLayout(index_dir)
    report = IndexReport()
    sources: list[Source] = []
    for item in find_sources(paths):
        if isinstance(item, Problem):
            report.problems.append(item)
        else:
            sources.append(item)
    roots = [Path(p).resolve() for p in paths if Path(p).exists()]

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
    try:
        writer = (ix.writer(procs=procs, multisegment=True, timeout=timeout) if procs > 1
                  else ix.writer(timeout=timeout))
    except LockError as exc:
        if fresh:
            layout.discard(gen)
        raise IndexLocked(f"The index at {layout.root} is being updated by another process; "
                          f"waited {timeout:g} s. Try again when it has finished.") from exc

    try:
        with ix.searcher() as searcher:
            written = _apply(writer, searcher, changed, manifest, report, fresh, progress)
            seen = {str(s.path) for s in sources}
            for path in [p for p in manifest if p not in seen and _is_under(p, roots)]:
                for doc_id in manifest.pop(path)["ids"]:
                    # An id now read from another file (a renamed .jsonl) was moved, not lost.
                    if doc_id not in written and _stored_path(searcher, doc_id) == path:
                        writer.delete_by_term("id", doc_id)
                        report.deleted += 1
        writer.commit()
    except BaseException:
        writer.cancel()
        if fresh:
            layout.discard(gen)
        raise
    write_json(gen / SOURCES_FILE, manifest)
    if fresh:
        layout.switch(gen)
    report.seconds = time.perf_counter() - started
    return report


def _is_under(path: str, roots: list[Path]) -> bool:
    p = Path(path)
    return any(p == r or r in p.parents for r in roots)


def _stored_path(searcher: Any, doc_id: str) -> str | None:
    stored = searcher.document(id=doc_id)
    return stored.get("path") if stored else None


def _apply(writer: Any, searcher: Any, changed: list[Source],
           manifest: dict[str, dict[str, Any]], report: IndexReport, fresh: bool,
           progress: Progress | None) -> set[str]:
    """Add or update the documents of ``changed``; returns the ids read from them."""
    languages = tuple(LANGUAGES)
    seen_ids: dict[str, str] = {}
    for done, source in enumerate(changed, 1):
        result = read_source(source, languages)
        report.problems.extend(result.problems)
        key = str(source.path)
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
                writer.add_document(**document_fields(doc))
                report.added += 1
                continue
            stored = searcher.document(id=doc.id)
            if (stored is not None and stored.get("hash") == doc.hash
                    and stored.get("path") == doc.path):
                report.unchanged += 1
                continue
            writer.update_document(**document_fields(doc))
            if stored is None:
                report.added += 1
            else:
                report.updated += 1
        for old_id in set(manifest.get(key, {}).get("ids", ())) - set(ids):
            if _stored_path(searcher, old_id) == key:
                writer.delete_by_term("id", old_id)
                report.deleted += 1
        manifest[key] = {"stamp": [source.mtime_ns, source.size], "ids": ids}
        if progress:
            progress(done, len(changed))
    return set(seen_ids)
