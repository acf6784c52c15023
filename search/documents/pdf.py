"""PDF files: the text of each page with pypdfium2 (PDFium), in bounded memory and time.

PDFium, Chrome's PDF engine, reads pages 6-14x faster than pure-Python pypdf (measured by
``benchmarks/formats.py``) and tolerates the damaged files real folders hold. A PDF has no
paragraphs, only positioned lines: each page's lines are joined back into paragraphs (a line
that fills the measure continues on the next; a word hyphenated at a line end is joined
again), so snippets show sentences rather than line fragments. Pages are kept apart and their
offsets stored, so a hit can say which page it is on.

What cannot be read is a :class:`ReadError` with the reason a person can act on: encrypted
with a password, truncated or corrupt, no pages, or only images (a scan that needs OCR).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from search.documents.extracted import Extracted, metadata_date, metadata_title, to_result
from search.documents.text import MAX_TEXT_CHARS, ReadError
from search.model import ReadResult, Source

#: At most this many pages of a PDF are read (a 2,000-page PDF is ~5 MB of text, the cap).
MAX_PDF_PAGES = 2000
#: A PDF must end with ``%%EOF`` within this many bytes (as Acrobat requires); a file cut
#: short (an interrupted download or copy) does not.
EOF_WINDOW = 1024
#: PDFium's error code for a wrong (or missing) password.
_PASSWORD_ERROR = 4

PageProgress = Callable[[int, int], None]

# Typographic ligatures, which fonts (TeX's, Chromium's) map a "fi" in the text to: written
# out, so that "proﬁciently" is found by "proficiently". PDFium marks a hyphen it knows was
# added at a line end with \x02.
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
                            "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st", "\r": " "})
_BULLET = re.compile(r"^(?:[•▪◦‣\-–—*]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s")


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
        elif previous.endswith("\x02"):  # a hyphen PDFium knows the line break added
            paragraphs[-1] = paragraphs[-1][:-1] + line
        elif previous and len(previous) >= full and not _BULLET.match(line):
            if previous.endswith("-") and previous[-2:-1].isalpha() and line[0].islower():
                paragraphs[-1] = paragraphs[-1][:-1] + line
            else:
                paragraphs[-1] += " " + line
        else:
            paragraphs.append(line)
        previous = line
    return "\n".join(paragraphs)


def _has_images(page: Any) -> bool:
    """Whether a page paints an image (also inside a form it draws)."""
    import pypdfium2.raw as pdfium_c

    try:
        return any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE],
                                                  max_depth=2))
    except Exception:  # noqa: BLE001 - a damaged page: no images known
        return False


def _open(path: str) -> Any:
    import pypdfium2 as pdfium

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
        return pdfium.PdfDocument(path)  # read from the file as needed, not loaded whole
    except pdfium.PdfiumError as e:
        if getattr(e, "err_code", None) == _PASSWORD_ERROR:
            raise ReadError("encrypted: the PDF needs a password to open") from e
        raise ReadError(f"corrupt PDF: {e}") from e


def _page_text(doc: Any, n: int) -> tuple[str, bool]:
    """The text of page ``n`` (lines joined by \\n) and whether an empty page holds images."""
    page = doc[n]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_bounded().replace("\r\n", "\n")
        finally:
            textpage.close()
        return text, (not text.strip() and _has_images(page))
    finally:
        page.close()


def extract_pdf(source: Source, progress: PageProgress | None = None) -> Extracted:
    """The pages of a PDF (up to ``MAX_PDF_PAGES`` pages and about ``MAX_TEXT_CHARS``
    characters) and its metadata; ``progress(pages read, pages to read)`` after each page."""
    doc = _open(str(source.path))
    try:
        count = len(doc)
        if count == 0:
            raise ReadError("empty PDF: it has no pages")
        todo = min(count, MAX_PDF_PAGES)
        pages: list[str] = []
        chars = failed = 0
        images = False
        for n in range(todo):
            try:
                text, pictured = _page_text(doc, n)
            except Exception:  # noqa: BLE001 - one damaged page: read the others
                failed += 1
                text, pictured = "", False
            images = images or pictured
            pages.append(unwrap_lines(text))
            chars += len(text)
            if progress:
                progress(n + 1, todo)
            if chars > MAX_TEXT_CHARS:
                break
        try:
            info = doc.get_metadata_dict(skip_empty=True)
        except Exception:  # noqa: BLE001 - damaged metadata is no reason to lose the text
            info = {}
    finally:
        doc.close()
    if not any(p.strip() for p in pages):
        if failed == len(pages):
            raise ReadError("corrupt PDF: no page could be read")
        if images:
            raise ReadError("no text: an image-only (scanned) PDF; run OCR on it to index it")
        raise ReadError("no text: the PDF's pages hold no text")
    notes = [f"{failed} of {len(pages)} pages could not be read (damaged PDF)"] if failed else []
    if len(pages) < count and chars <= MAX_TEXT_CHARS:
        notes.append(f"only the first {MAX_PDF_PAGES:,} of {count:,} pages are indexed")
    return Extracted(blocks=pages, paged=True, title=metadata_title(info.get("Title")),
                     date=metadata_date(info.get("CreationDate"))
                     or metadata_date(info.get("ModDate")),
                     truncated=chars > MAX_TEXT_CHARS, notes=notes)


def read_pdf(source: Source, languages: tuple[str, ...],
             progress: PageProgress | None = None) -> ReadResult:
    """The one document of a PDF file, its page offsets kept."""
    return to_result(source, extract_pdf(source, progress), languages)
