"""Text taken out of a binary document format (PDF, DOCX, ODT) to one clean :class:`Document`.

Each format's reader (:mod:`.pdf`, :mod:`.docx`, :mod:`.odt`) only extracts: its blocks of
text (pages or paragraphs) and what its metadata says. Cleaning, the dateline, the title and
the language are decided here, the same way for every format and as for a ``.txt`` file, so
that a press release reads the same whichever format it came in.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from search.documents.language import detect_document_language
from search.documents.metadata import parse_iso_date, strip_date_marker, title_from_text
from search.documents.text import MAX_TEXT_CHARS, ReadError, clean_text, truncate_text
from search.model import Document, Problem, ReadResult, Source

#: Uncompressed size of a DOCX/ODT's main XML part above which the file is refused: the XML is
#: parsed whole, and markup is several times its text (a ZIP bomb would otherwise exhaust memory).
MAX_XML_BYTES = 20 * MAX_TEXT_CHARS

# Metadata titles that name a file, an address or a template rather than the document
# (Chromium titles an untitled page's PDF "about:blank").
_JUNK_TITLE = re.compile(
    r"^(?:(?:about|file|https?):.*|untitled|title|document\d*|dokument\d*|brez naslova|slide \d+|"
    r"microsoft (?:word|powerpoint) - .*|.*\.(?:docx?|odt|pdf|rtf|txt|html?|indd|tex|dvi))$",
    re.I)
_PDF_DATE = re.compile(r"^(?:D:)?((?:19|20)\d\d)(\d\d)?(\d\d)?")


@dataclass
class Extracted:
    """What a format reader found in one file."""

    blocks: list[str]  #: pages (``paged``) or paragraphs, raw
    paged: bool = False
    title: str | None = None  #: from the metadata
    heading: str | None = None  #: the first heading (a "Title" or "Heading" paragraph)
    date: str | None = None  #: ISO, from the metadata
    lang_hint: str | None = None  #: the language the metadata declares
    truncated: bool = False  #: the reader stopped at a page or character cap
    notes: list[str] = field(default_factory=list)  #: caveats to report with the file


def metadata_title(value: object) -> str | None:
    """A metadata title worth showing: one line, not a file name or placeholder."""
    if not isinstance(value, str):
        return None
    title = " ".join(clean_text(value).split())
    return title if title and not _JUNK_TITLE.match(title) else None


def metadata_date(value: object) -> str | None:
    """An ISO date from a metadata value: a datetime, ISO text or a PDF date (D:20241029...)."""
    if isinstance(value, (datetime, date)):
        return value.strftime("%Y-%m-%d") if value.year >= 1900 else None
    if not isinstance(value, str):
        return None
    iso = parse_iso_date(value)
    if iso:
        return iso
    m = _PDF_DATE.match(value.strip())
    if not m:
        return None
    return parse_iso_date("-".join(x for x in m.groups() if x))


def check_package(path: Path, member: str, kind: str) -> None:
    """Refuse a ZIP-packaged document (DOCX, ODT) that is not one, or whose ``member`` would
    unpack to more than ``MAX_XML_BYTES``."""
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise ReadError("empty file")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError(f"not a {kind} package: password-protected (encrypted), or an old "
                        "binary Office file renamed")
    try:
        with zipfile.ZipFile(path) as z:
            info = z.getinfo(member)
    except zipfile.BadZipFile as e:
        raise ReadError(f"corrupt {kind}: not a ZIP package ({e})") from e
    except KeyError as e:
        raise ReadError(f"corrupt {kind}: no {member} in the package") from e
    if info.file_size > MAX_XML_BYTES:
        raise ReadError(f"too large: {member} unpacks to {info.file_size:,} bytes "
                        f"(at most {MAX_XML_BYTES:,} are read)")


def _join_pages(pages: Sequence[str]) -> tuple[str, list[int]]:
    """Clean pages joined by blank lines, and the offset where each starts (an empty page
    starts where the next one does)."""
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for page in pages:
        text = clean_text(page)
        if text:
            if parts:
                pos += 2  # the "\n\n" before it
            starts.append(pos)
            parts.append(text)
            pos += len(text)
        else:
            starts.append(pos + 2 if parts else 0)
    return "\n\n".join(parts), starts


def to_result(source: Source, found: Extracted, languages: tuple[str, ...]) -> ReadResult:
    """The document of one file, from what its reader extracted; :class:`ReadError` if it
    holds no text."""
    path = str(source.path)
    if found.paged:
        text, starts = _join_pages(found.blocks)
    else:
        text, starts = clean_text("\n\n".join(b.strip() for b in found.blocks if b.strip())), []
    before = len(text)
    text, text_date = strip_date_marker(text)
    shift = before - len(text)  # a "date 2024-07" marker removed from the start
    if not text:
        raise ReadError("no text in the document")
    text, cut = truncate_text(text)
    result = ReadResult()
    result.problems.extend(Problem(path, note) for note in found.notes)
    if cut or found.truncated:
        result.problems.append(Problem(path, f"truncated: only the first {MAX_TEXT_CHARS:,} "
                                             "characters (or pages up to the page cap) are "
                                             "indexed"))
    pages = tuple(min(max(0, s - shift), len(text)) for s in starts) or None
    title = (metadata_title(found.title) or metadata_title(found.heading)
             or title_from_text(text))
    lang = detect_document_language(title, text, languages, hint=found.lang_hint)
    result.documents.append(Document(id=source.key, title=title, text=text, lang=lang,
                                     date=text_date or found.date, path=path, pages=pages))
    return result
