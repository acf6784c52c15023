"""PDF files: the text of each page with pypdf, in bounded memory and time.

A PDF has no paragraphs, only positioned lines: each page's lines are joined back into
paragraphs (a line that fills the measure continues on the next; a word hyphenated at a line
end is joined again), so snippets show sentences rather than line fragments. Pages are kept
apart and their offsets stored, so a hit can say which page it is on.

What cannot be read is a :class:`ReadError` with the reason a person can act on: encrypted
with a password, truncated or corrupt, no pages, or only images (a scan that needs OCR).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from search.documents.extracted import Extracted, metadata_date, metadata_title, to_result
from search.documents.text import MAX_TEXT_CHARS, ReadError
from search.model import ReadResult, Source

#: At most this many pages of a PDF are read (a 2,000-page PDF is ~5 MB of text, the cap).
MAX_PDF_PAGES = 2000
#: A PDF must end with ``%%EOF`` within this many bytes (as Acrobat requires); a file cut
#: short (an interrupted download or copy) does not.
EOF_WINDOW = 1024

PageProgress = Callable[[int, int], None]

# Typographic ligatures, which fonts (TeX's, Chromium's) map a "fi" in the text to: written
# out, so that "proﬁciently" is found by "proficiently".
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
                            "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"})
_BULLET = re.compile(r"^(?:[•▪◦‣\-–—*]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s")


@contextmanager
def _pypdf_log() -> Iterator[list[str]]:
    """pypdf's warnings about a damaged file, collected instead of printed to stderr."""
    messages: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if len(messages) < 20:
                messages.append(record.getMessage())

    logger = logging.getLogger("pypdf")
    handler = _Collect(logging.WARNING)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def unwrap_lines(text: str) -> str:
    """A page's lines joined into paragraphs, ligatures written out: a line about as long as
    the page's long lines continues on the next one (a word hyphenated at its end is joined
    again); a shorter one (a paragraph's last line, a heading) ends its paragraph, and so
    does the line before a bullet or a number."""
    lines = [line.strip() for line in text.translate(_LIGATURES).split("\n")]
    lengths = sorted(len(line) for line in lines if line)
    if len(lengths) < 3:
        return "\n".join(lines)
    full = 0.75 * lengths[min(len(lengths) - 1, int(len(lengths) * 0.9))]
    paragraphs: list[str] = []
    previous = ""  # the previous line as extracted ("" after a blank line)
    for line in lines:
        if not line:
            paragraphs.append("")
        elif previous and len(previous) >= full and not _BULLET.match(line):
            if previous.endswith("-") and previous[-2:-1].isalpha() and line[0].islower():
                paragraphs[-1] = paragraphs[-1][:-1] + line
            else:
                paragraphs[-1] += " " + line
        else:
            paragraphs.append(line)
        previous = line
    return "\n".join(paragraphs)


def _has_images(page: Any, depth: int = 0) -> bool:
    """Whether a page (or a form it draws, one level down) paints an image."""
    try:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources else None
        if not xobjects:
            return False
        for ref in xobjects.get_object().values():
            obj = ref.get_object()
            kind = obj.get("/Subtype")
            if kind == "/Image" or (kind == "/Form" and depth < 1 and _has_images(obj, 1)):
                return True
    except Exception:  # noqa: BLE001 - a damaged resource dictionary: no images known
        return False
    return False


def _open(path: str) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    with open(path, "rb") as f:
        head = f.read(1024)
        if not head:
            raise ReadError("empty file")
        if b"%PDF-" not in head:
            raise ReadError("not a PDF file (no %PDF header)")
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - EOF_WINDOW))
        if b"%%EOF" not in f.read():
            raise ReadError("corrupt PDF: truncated (the file does not end with %%EOF)")
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ReadError("encrypted: the PDF needs a password to open")
        return reader
    except ReadError:
        raise
    except FileNotDecryptedError as e:
        raise ReadError("encrypted: the PDF needs a password to open") from e
    except DependencyError as e:
        raise ReadError(f"encrypted with a cipher this installation cannot read ({e})") from e
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ReadError(f"corrupt PDF: {e}") from e


def _info(reader: Any) -> tuple[str | None, str | None, str | None]:
    """(title, date, language) from the document information and catalog, if readable."""
    title = date = lang = None
    try:
        info = reader.metadata
        if info:
            title = metadata_title(info.get("/Title"))
            date = metadata_date(info.get("/CreationDate")) or \
                metadata_date(info.get("/ModDate"))
    except Exception:  # noqa: BLE001 - damaged metadata is no reason to lose the text
        pass
    try:
        value = reader.trailer["/Root"].get("/Lang")
        lang = str(value) if value else None
    except Exception:  # noqa: BLE001
        pass
    return title, date, lang


def extract_pdf(source: Source, progress: PageProgress | None = None) -> Extracted:
    """The pages of a PDF (up to ``MAX_PDF_PAGES`` pages and about ``MAX_TEXT_CHARS``
    characters) and its metadata; ``progress(pages read, pages to read)`` after each page."""
    with _pypdf_log() as warnings:
        reader = _open(str(source.path))
        try:
            count = len(reader.pages)
        except Exception as e:  # noqa: BLE001 - a broken page tree
            raise ReadError(f"corrupt PDF: cannot read its pages ({e})") from e
        if count == 0:
            raise ReadError("empty PDF: it has no pages")
        todo = min(count, MAX_PDF_PAGES)
        pages: list[str] = []
        chars = failed = 0
        images = False
        for n in range(todo):
            try:
                page = reader.pages[n]
                text = page.extract_text() or ""
            except Exception:  # noqa: BLE001 - one damaged page: read the others
                failed += 1
                text, page = "", None
            if not text.strip() and page is not None and not images:
                images = _has_images(page)
            pages.append(unwrap_lines(text))
            chars += len(text)
            if progress:
                progress(n + 1, todo)
            if chars > MAX_TEXT_CHARS:
                break
        title, date, lang = _info(reader)
    if not any(p.strip() for p in pages):
        if failed == len(pages):
            reason = f" ({warnings[0]})" if warnings else ""
            raise ReadError(f"corrupt PDF: no page could be read{reason}")
        if images:
            raise ReadError("no text: an image-only (scanned) PDF; run OCR on it to index it")
        raise ReadError("no text: the PDF's pages hold no text")
    notes = [f"{failed} of {len(pages)} pages could not be read (damaged PDF)"] if failed else []
    if len(pages) < count and chars <= MAX_TEXT_CHARS:
        notes.append(f"only the first {MAX_PDF_PAGES:,} of {count:,} pages are indexed")
    return Extracted(blocks=pages, paged=True, title=title, date=date, lang_hint=lang,
                     truncated=chars > MAX_TEXT_CHARS, notes=notes)


def read_pdf(source: Source, languages: tuple[str, ...],
             progress: PageProgress | None = None) -> ReadResult:
    """The one document of a PDF file, its page offsets kept."""
    return to_result(source, extract_pdf(source, progress), languages)
