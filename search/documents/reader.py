"""One source file to documents: dispatch by file type, and turn every failure into a Problem.

``read_source`` never raises for bad input: the indexer must get through a folder of a
thousand files even when some are binary, broken, unreadable or vanish while it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from search.documents.docx import read_docx
from search.documents.html import parse_html
from search.documents.jsonl import MAX_PROBLEMS_PER_FILE, BadLine, iter_records
from search.documents.language import (
    DEFAULT_LANGUAGES,
    detect_document_language,
    normalize_language,
)
from search.documents.metadata import parse_iso_date, strip_date_marker, title_from_text
from search.documents.odt import read_odt
from search.documents.pdf import read_pdf
from search.documents.sitemap import read_sitemap
from search.documents.sources import (
    DOCX_EXTENSIONS,
    HTML_EXTENSIONS,
    JSONL_EXTENSIONS,
    ODT_EXTENSIONS,
    PDF_EXTENSIONS,
    TEXT_EXTENSIONS,
    is_sitemap,
    open_regular,
)
from search.documents.text import (
    MAX_TEXT_BYTES,
    MAX_TEXT_CHARS,
    ReadError,
    clean_text,
    decode_bytes,
    drop_partial_word,
    trim_partial_utf8,
    truncate_text,
)
from search.documents.urls import page_links
from search.model import UNKNOWN, Caveat, Document, Problem, ReadResult, SiteLinks, Source

#: At most this many bytes of an HTML page are parsed (markup is several times its text).
MAX_HTML_BYTES = 2 * MAX_TEXT_CHARS


def _read_bytes(path: Path, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of a file, and whether there was more."""
    with open_regular(path) as f:
        data = f.read(limit + 1)
    return data[:limit], len(data) > limit


def _truncation(path: str, size: int) -> Caveat:
    return Caveat(path, f"truncated: only the first {MAX_TEXT_CHARS:,} characters are indexed "
                         f"(the file has {size:,} bytes)")


def _one_line(title: str) -> str:
    return " ".join(clean_text(title).split())


def _read_text(source: Source, languages: tuple[str, ...]) -> ReadResult:
    path = str(source.path)
    data, more = _read_bytes(source.path, MAX_TEXT_BYTES)
    if not data:
        raise ReadError("empty file")
    decoded = decode_bytes(trim_partial_utf8(data) if more else data)
    text = clean_text(drop_partial_word(decoded.text) if more else decoded.text)
    text, date = strip_date_marker(text)
    if not text:
        raise ReadError("empty file (only whitespace)")
    text, cut = truncate_text(text)
    result = ReadResult()
    if decoded.note:
        result.problems.append(Caveat(path, decoded.note))
    if more or cut:
        result.problems.append(_truncation(path, source.size))
    title = title_from_text(text)
    lang = detect_document_language(title, text, languages, unknown=UNKNOWN)
    result.documents.append(Document(id=source.key, title=title, text=text, lang=lang,
                                     date=date, path=path))
    return result


def _read_html(source: Source, languages: tuple[str, ...]) -> ReadResult:
    path = str(source.path)
    data, more = _read_bytes(source.path, MAX_HTML_BYTES)
    if not data.strip():
        raise ReadError("empty file")
    page = parse_html(data)
    text, text_date = strip_date_marker(page.text)
    if not text:
        raise ReadError("malformed HTML: no text")
    text, cut = truncate_text(text)
    result = ReadResult()
    if more or cut:
        result.problems.append(_truncation(path, source.size))
    title = _one_line(page.title) or title_from_text(text)
    lang = detect_document_language(title, text, languages, hint=page.lang_hint,
                                    unknown=UNKNOWN)
    canonical, alternates = page_links(source.key, page.canonical, page.alternates, lang,
                                       languages)
    result.documents.append(Document(id=source.key, title=title, text=text, lang=lang,
                                     date=page.date or text_date, path=path,
                                     canonical=canonical, alternates=alternates))
    return result


def _record_id(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value).strip() or None


def _iter_jsonl(source: Source, languages: tuple[str, ...]) -> Iterator[Document | Problem]:
    """The documents and problems of a JSONL file, in file order, each as soon as its line is
    read (so indexing can start before a large file is read to the end)."""
    path = str(source.path)
    first_line: dict[str, int] = {}
    broken = 0
    found = False  # any document or problem so far

    try:
        for item in iter_records(source.path):
            if isinstance(item, BadLine):
                broken += 1
                if broken <= MAX_PROBLEMS_PER_FILE:
                    found = True
                    yield Problem(f"{path}:{item.lineno}", item.reason)
                continue
            n, data = item.lineno, item.data
            text, date = strip_date_marker(clean_text(data["text"]))
            title = data.get("title")
            title = _one_line(title) if isinstance(title, str) else ""
            if not text and not title:
                broken += 1
                if broken <= MAX_PROBLEMS_PER_FILE:
                    found = True
                    yield Problem(f"{path}:{n}", f"line {n}: empty 'text' and no title")
                continue
            text, cut = truncate_text(text)
            if cut:
                found = True
                yield Caveat(f"{path}:{n}", f"line {n}: text truncated to "
                                             f"{MAX_TEXT_CHARS:,} characters")
            doc_id = _record_id(data.get("id")) or f"{source.key}#{n}"
            if doc_id in first_line:
                broken += 1
                if broken <= MAX_PROBLEMS_PER_FILE:
                    found = True
                    yield Problem(f"{path}:{n}", f"line {n}: duplicate id {doc_id!r} (first "
                                                 f"used on line {first_line[doc_id]})")
                continue
            first_line[doc_id] = n
            title = title or title_from_text(text)
            given = normalize_language(data.get("lang"))
            lang = given if given in languages else detect_document_language(
                title, text, languages, unknown=UNKNOWN)
            url = data.get("url")
            url = (url.strip() or None) if isinstance(url, str) else None
            found = True
            yield Document(
                id=doc_id, title=title, text=text, lang=lang,
                date=parse_iso_date(data.get("date")) or date, path=path, url=url,
                pair_id=_record_id(data.get("pair_id")))
    except ReadError as e:
        found = True
        yield Problem(path, str(e))
    except OSError as e:
        found = True
        yield Problem(path, f"unreadable: {e.strerror or e}")
    if broken > MAX_PROBLEMS_PER_FILE:
        found = True
        more = broken - MAX_PROBLEMS_PER_FILE
        yield Problem(path, f"{more} more broken line{'' if more == 1 else 's'} not listed "
                            f"({broken} in all)")
    if not found:
        yield Problem(path, "empty file")


def _read_jsonl(source: Source, languages: tuple[str, ...]) -> ReadResult:
    result = ReadResult()
    for item in _iter_jsonl(source, languages):
        if isinstance(item, Document):
            result.documents.append(item)
        else:
            result.problems.append(item)
    return result


def _languages(languages: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(normalize_language(x) or x for x in languages)) \
        or DEFAULT_LANGUAGES


def _failure(path: str, e: BaseException) -> Problem:
    """What reading a file that raised ``e`` is reported as."""
    if isinstance(e, ReadError):
        return Problem(path, str(e))
    if isinstance(e, OSError):
        return Problem(path, f"unreadable: {e.strerror or e}")
    if isinstance(e, MemoryError):
        return Problem(path, "too large to read into memory")
    return Problem(path, f"could not read: {type(e).__name__}: {e}")


class SourceFailed(Exception):
    """Raised by :func:`iter_source` when a file fails after it yielded something:
    :func:`read_source` would report the file by ``problem`` alone, without its documents."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def iter_source(source: Source, languages: Sequence[str] = DEFAULT_LANGUAGES,
                progress: Callable[[int, int], None] | None = None,
                ) -> Iterator[Document | Problem | SiteLinks]:
    """:func:`read_source` as a stream: its documents and problems (each kind in the same
    order) and a sitemap's :class:`SiteLinks`, a JSONL file's documents as soon as their
    lines are read; ``progress`` as for :func:`read_source`.

    If the file then fails in a way that makes :func:`read_source` report nothing but one
    problem, :class:`SourceFailed` carrying that problem is raised instead.
    """
    path = str(source.path)
    suffix = source.path.suffix.lower()
    if suffix not in JSONL_EXTENSIONS:
        result = read_source(source, languages, progress)
        yield from result.problems
        yield from result.documents
        if result.links is not None:
            yield result.links
        return
    started = False
    try:
        for item in _iter_jsonl(source, _languages(languages)):
            started = True
            yield item
    except Exception as e:  # noqa: BLE001 - as read_source: one odd file never stops a run
        if started:
            raise SourceFailed(_failure(path, e)) from e
        yield _failure(path, e)


def read_source(source: Source, languages: Sequence[str] = DEFAULT_LANGUAGES,
                progress: Callable[[int, int], None] | None = None) -> ReadResult:
    """The documents in one source file, and a Problem for whatever could not be read.

    ``progress(done, total)`` is called as the pages of a long file (PDF) are read.
    """
    path = str(source.path)
    suffix = source.path.suffix.lower()
    langs = _languages(languages)
    try:
        if suffix in JSONL_EXTENSIONS:
            return _read_jsonl(source, langs)
        result = _read_file(source, suffix, langs, progress)
    except Exception as e:  # noqa: BLE001 - a bug on one odd file must not stop indexing
        return ReadResult(problems=[_failure(path, e)])
    # A whole file's document is also known by its place in the folder (links name it so).
    result.documents = [replace(doc, site_path=source.key) for doc in result.documents]
    return result


def _read_file(source: Source, suffix: str, langs: tuple[str, ...],
               progress: Callable[[int, int], None] | None) -> ReadResult:
    """A file that is one document (or a sitemap, none), by its type."""
    if is_sitemap(source.path):
        return read_sitemap(source, langs)
    if suffix in TEXT_EXTENSIONS:
        return _read_text(source, langs)
    if suffix in HTML_EXTENSIONS:
        return _read_html(source, langs)
    if suffix in PDF_EXTENSIONS:
        return read_pdf(source, langs, progress)
    if suffix in DOCX_EXTENSIONS:
        return read_docx(source, langs)
    if suffix in ODT_EXTENSIONS:
        return read_odt(source, langs)
    return ReadResult(problems=[Problem(str(source.path),
                                        f"unsupported file type {suffix or '(none)'}")])
