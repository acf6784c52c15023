"""Adding, replacing and deleting single documents: the writer for embedding the index.

``search-cli index`` keeps an index in step with folders of files; programs that hold their
documents elsewhere (a CMS, a database, the HTTP document API) feed them through this::

    from search import SearchIndex, open_writer

    with SearchIndex("index") as ix, ix.writer() as w:
        w.add({"id": "news/42", "text": "Policija je ...", "title": "Nova meja"})
        w.delete("news/41")
    # committed here, and visible to ``ix`` at once (to other open indexes within 0.5 s)

A writer holds the index folder's writer lock from ``with`` to its end, exactly as
``search-cli index`` does, so the two never write at once. Its changes are kept until the
block ends cleanly and are then committed together, as one Whoosh commit: an exception
inside the block commits nothing. A document is checked when it is added (an invalid one
raises :class:`~search.errors.InvalidDocument`, a ``ValueError`` naming the field, before
anything of it is kept); within one writer the last ``add`` or ``delete`` of an id wins.

Documents written here have no source file (their stored ``path`` is empty): a folder sync
decides what to delete from the paths of the documents in the index (see
``search.indexer._delete_stale``), so it never deletes them, and a rebuild, which reads every
file again, copies them over from the index it replaces (:func:`carry_over`). They share one
id space with the documents of files; whichever side writes an id last, wins.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from whoosh import query as wq
from whoosh.index import LockError

from search.analysis import LANGUAGES
from search.documents import (
    MAX_TEXT_CHARS,
    clean_text,
    detect_document_language,
    normalize_language,
    parse_iso_date,
    title_from_text,
)
from search.documents.metadata import strip_date_marker
from search.errors import IndexLocked, IndexNotFound, InvalidDocument, SearchError
from search.indexer import POOL_MB_ONE_PROCESS
from search.model import Document, IndexReport, Problem
from search.schema import document_fields
from search.storage import IndexLayout, create_index, locked_message, open_index
from search.whoosh_ext.opening import segment_writer

__all__ = ["IndexWriter", "open_writer", "prepare_document", "json_type", "DOCUMENT_FIELDS"]

#: The fields a document may have; anything else is ignored (as in a JSONL file).
DOCUMENT_FIELDS = ("id", "text", "title", "date", "lang", "url", "pair_id")
#: Longest id, title and URL accepted (characters).
MAX_ID_CHARS = 512
MAX_TITLE_CHARS = 2000
MAX_URL_CHARS = 4096


def json_type(value: object) -> str:
    """A JSON name of ``value``'s type, for messages."""
    return {dict: "object", list: "array", str: "string", bool: "boolean",
            type(None): "null", int: "number", float: "number"}.get(type(value),
                                                                   type(value).__name__)


def _string(data: Mapping[str, Any], field: str, *, integer: bool = False) -> str | None:
    """The field's text, stripped; None when absent, null or blank. Integers are accepted
    as text where ``integer`` (ids, as in a JSONL file)."""
    value = data.get(field)
    if value is None:
        return None
    if integer and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        expected = "string or integer" if integer else "string"
        raise InvalidDocument(field, "type", f"must be a {expected}, not {json_type(value)}",
                              expected=expected, got=json_type(value))
    return value.strip() or None


def _check_id(value: str | None, field: str = "id") -> str:
    if value is None:
        raise InvalidDocument(field, "missing", "is required (a non-empty string)")
    if len(value) > MAX_ID_CHARS:
        raise InvalidDocument(field, "too_long", f"is longer than {MAX_ID_CHARS} characters",
                              max=MAX_ID_CHARS)
    if not value.isprintable():
        raise InvalidDocument(field, "control", "contains control characters")
    return value


def prepare_document(data: Mapping[str, Any],
                     languages: Sequence[str] | None = None) -> Document:
    """Check a document given as a mapping and make it what the indexer indexes.

    ``id`` and ``text`` are required; ``title`` (else taken from the text as for a text
    file), ``date`` (ISO 8601: ``2024``, ``2024-07``, ``2024-07-03``; else a dated first line
    of the text), ``lang`` (one of ``languages``; else detected), ``url`` and ``pair_id``
    (documents that translate each other share it) are optional. The text is cleaned as a
    file's text is. Raises :class:`~search.errors.InvalidDocument` naming the first field
    that is wrong. ``languages``: those a document may be in (default: every registered one,
    see :data:`search.analysis.LANGUAGES`).
    """
    languages = tuple(LANGUAGES) if languages is None else languages
    if not isinstance(data, Mapping):
        raise InvalidDocument(None, "not_object", f"a document must be an object with 'id' "
                              f"and 'text', not {json_type(data)}", got=json_type(data))
    doc_id = _check_id(_string(data, "id", integer=True))
    try:
        raw = data.get("text")
        if raw is None:
            raise InvalidDocument("text", "missing", "is required (a non-empty string)")
        if not isinstance(raw, str):
            raise InvalidDocument("text", "type", f"must be a string, not {json_type(raw)}",
                                  expected="string", got=json_type(raw))
        if len(raw) > MAX_TEXT_CHARS:
            raise InvalidDocument("text", "too_long", f"is longer than {MAX_TEXT_CHARS:,} "
                                  "characters", max=MAX_TEXT_CHARS)
        text, text_date = strip_date_marker(clean_text(raw))
        if not text:
            raise InvalidDocument("text", "empty", "is empty")
        title = _string(data, "title")
        if title is not None:
            if len(title) > MAX_TITLE_CHARS:
                raise InvalidDocument("title", "too_long", f"is longer than {MAX_TITLE_CHARS} "
                                      "characters", max=MAX_TITLE_CHARS)
            title = " ".join(clean_text(title).split())
        title = title or title_from_text(text)
        given = _string(data, "lang")
        if given is None:
            lang = detect_document_language(title, text, tuple(languages))
        else:
            lang = normalize_language(given)
            if lang not in languages:
                choices = ", ".join(languages)
                raise InvalidDocument("lang", "lang", f"must be one of {choices}, not "
                                      f"{given[:20]!r}", choices=choices)
        date_given = _string(data, "date")
        date = text_date
        if date_given is not None:
            date = parse_iso_date(date_given)
            if date is None:
                raise InvalidDocument("date", "date", "is not an ISO 8601 date such as "
                                      "2024-07-03, 2024-07 or 2024")
        url = _string(data, "url")
        if url is not None and len(url) > MAX_URL_CHARS:
            raise InvalidDocument("url", "too_long", f"is longer than {MAX_URL_CHARS} "
                                  "characters", max=MAX_URL_CHARS)
        pair = _string(data, "pair_id", integer=True)
        if pair is not None:
            pair = _check_id(pair, "pair_id")
    except InvalidDocument as exc:
        raise exc.located(doc_id=doc_id) from None
    return Document(id=doc_id, title=title, text=text, lang=lang, date=date, path=None,
                    url=url, pair_id=pair)


class IndexWriter:
    """Adds, replaces and deletes documents by id; a context manager (see the module).

    ``path``: the index folder (default ``$SEARCH_INDEX`` or ``./index``). If there is no
    index there yet, the first commit creates one (``create=False`` raises
    :class:`~search.errors.IndexNotFound` instead). ``timeout``: seconds to wait for another
    writer (``search-cli index``, another ``IndexWriter``) before
    :class:`~search.errors.IndexLocked` is raised. After a clean ``with`` block,
    :attr:`report` says what was added, updated, deleted or left unchanged. ``fast=False``
    writes with stock Whoosh's writer, analysis chains and file storage (the same index,
    only slower; see :mod:`search.whoosh_ext`).
    """

    def __init__(self, path: str | Path | None = None, *, timeout: float = 60.0,
                 create: bool = True, on_commit: Any = None, fast: bool = True) -> None:
        self._layout = IndexLayout(path)
        self.path = self._layout.root
        self.timeout = timeout
        self.fast = fast
        self.create = create
        self._on_commit = on_commit
        #: id -> the document to write, or None to delete; in order of the last change.
        self._pending: dict[str, Document | None] = {}
        self._stack: contextlib.ExitStack | None = None
        self.report: IndexReport | None = None

    # -- the with block -----------------------------------------------------------------

    def __enter__(self) -> IndexWriter:
        if self._stack is not None:
            raise RuntimeError("this writer is already open")
        stack = contextlib.ExitStack()
        stack.enter_context(self._layout.writing(self.timeout))
        try:
            # Holding the lock, no rebuild is running: unfinished generations are orphans.
            self._layout.clean_orphans()
            if self._layout.current() is not None or not self.create:
                # Fails here on an index this version cannot read (or none, if not create).
                open_index(self.path, fast=self.fast)
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        self._pending = {}
        self.report = None
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        stack, self._stack = self._stack, None
        if stack is None:
            return
        with stack:  # the lock is released whatever happens
            if exc_type is None:
                self.report = self._commit()
            self._pending = {}
        if exc_type is None and self._on_commit is not None:
            self._on_commit()

    def _check_open(self) -> None:
        if self._stack is None:
            raise RuntimeError("use the writer in a with block: with index.writer() as w: ...")

    # -- changes --------------------------------------------------------------------------

    def add(self, doc: Mapping[str, Any]) -> str:
        """Insert or replace the document with ``doc["id"]``; returns the id.

        Raises :class:`~search.errors.InvalidDocument` (a ``ValueError``) before anything of
        an invalid document is kept; left to end the ``with`` block, nothing is committed.
        """
        self._check_open()
        document = prepare_document(doc)
        self._pending.pop(document.id, None)  # keep the order of the last change
        self._pending[document.id] = document
        return document.id

    def add_many(self, docs: Iterable[Mapping[str, Any]]) -> list[str]:
        """Add several documents, all or none: every one is checked before any is kept,
        and the error of an invalid one says its position (from 0) in ``docs``."""
        self._check_open()
        prepared: list[Document] = []
        for index, doc in enumerate(docs):
            try:
                prepared.append(prepare_document(doc))
            except InvalidDocument as exc:
                raise exc.located(index=index) from None
        for document in prepared:
            self._pending.pop(document.id, None)
            self._pending[document.id] = document
        return [d.id for d in prepared]

    def delete(self, doc_id: str) -> None:
        """Delete the document with this id when the block commits (nothing if there is
        none: :attr:`report` counts the documents really deleted)."""
        self._check_open()
        doc_id = _check_id(str(doc_id).strip() or None)
        self._pending.pop(doc_id, None)
        self._pending[doc_id] = None

    # -- committing ----------------------------------------------------------------------

    def _commit(self) -> IndexReport:
        """Write the pending changes as one commit (the lock is held)."""
        layout = self._layout
        fresh = layout.current() is None
        if fresh:
            gen = layout.new_generation()
            ix = create_index(gen)
        else:
            ix, gen = open_index(self.path, fast=self.fast)
        report = IndexReport()
        try:
            writer = segment_writer(ix, fast=self.fast, timeout=self.timeout,
                                    limitmb=POOL_MB_ONE_PROCESS)
        except LockError as exc:  # a writer that does not use our lock (another program)
            if fresh:
                layout.discard(gen)
            raise IndexLocked(locked_message(layout.root, self.timeout)) from exc
        try:
            # The writer's own view (the commit it started from), as update_document uses.
            with writer.searcher() as searcher:
                for doc_id, doc in self._pending.items():
                    stored = searcher.document(id=doc_id)
                    if doc is None:
                        if stored is not None:
                            writer.delete_by_term("id", doc_id, searcher=searcher)
                            report.deleted += 1
                        continue
                    if (stored is not None and stored.get("hash") == doc.hash
                            and not stored.get("path")
                            and stored.get("pair") == (doc.pair_id or None)):
                        report.unchanged += 1
                        continue
                    if stored is not None:
                        writer.delete_by_term("id", doc_id, searcher=searcher)
                    _index(writer, doc)
                    if stored is None:
                        report.added += 1
                    else:
                        report.updated += 1
            if fresh or report.added or report.updated or report.deleted:
                writer.commit()
            else:
                writer.cancel()  # nothing changed: no new commit for readers to load
        except BaseException:
            writer.cancel()
            if fresh:
                layout.discard(gen)
            raise
        if fresh:
            try:
                layout.switch(gen)
            except BaseException:
                layout.discard(gen)
                raise
        if fresh or report.added or report.updated or report.deleted:
            from search.pairing import pair_after_commit  # never raises

            pair_after_commit(ix, gen, None if fresh else list(self._pending))
        return report


def _index(writer: Any, doc: Document) -> None:
    """Add one document; an analyser failing on it is reported as that document's fault."""
    try:
        writer.add_document(**document_fields(doc))
    except Exception as exc:  # noqa: BLE001 - any analyser bug on one odd document
        raise InvalidDocument(None, "unindexable", f"could not be indexed: it broke the "
                              f"analysis ({type(exc).__name__}: {exc})", doc_id=doc.id) from exc


def carry_over(writer: Any, root: Path, skip: set[str], problems: list[Problem], *,
               fast: bool = True) -> int:
    """Copy the documents that have no source file from the current index at ``root`` into
    ``writer`` (a rebuild's); returns how many. Ids in ``skip`` (read from files in this
    rebuild) are left out: a file's document replaces a written one of the same id.

    A rebuild reads every file again, but documents added through a writer have no file to
    be read from: without this they would be lost. If the old index cannot be read (built by
    an incompatible version), that is reported in ``problems`` and nothing is copied.
    """
    try:
        old, _ = open_index(root, fast=fast)
    except IndexNotFound:
        return 0
    except SearchError as exc:
        problems.append(Problem(str(root), "documents added through the writer or the API "
                                f"could not be carried over from the old index ({exc}); "
                                "add them again"))
        return 0
    copied = 0
    with old.searcher() as searcher:
        # Only the documents without a path: reading every stored text would be slow.
        from_files = set(searcher.docs_for_query(wq.Every("path")))
        for docnum in searcher.reader().all_doc_ids():
            if docnum in from_files:
                continue
            stored = searcher.stored_fields(docnum)
            if stored["id"] in skip:
                continue
            doc = Document(id=stored["id"], title=stored.get("title", ""),
                           text=stored.get("text", ""), lang=stored["lang"],
                           date=stored.get("date"), url=stored.get("url"),
                           pair_id=stored.get("pair"))
            try:
                _index(writer, doc)
            except InvalidDocument as exc:
                raise SearchError(f"The rebuild stopped and changed nothing: {exc}") from exc
            copied += 1
    return copied


def open_writer(path: str | Path | None = None, *, timeout: float = 60.0,
                create: bool = True, fast: bool = True) -> IndexWriter:
    """A writer on the index at ``path`` without opening it for searching; use it in a
    ``with`` block. With ``create`` (the default) a missing index is created by the first
    commit; ``create=False`` raises :class:`~search.errors.IndexNotFound` instead.
    ``fast=False``: stock Whoosh's writer (see :class:`IndexWriter`)."""
    return IndexWriter(path, timeout=timeout, create=create, fast=fast)

