"""Word (.docx) files: paragraphs and tables in document order, with python-docx.

Headers, footers, comments and tracked deletions are left out: they are page furniture or
editing history, not the text a reader reads.
"""

from __future__ import annotations

from typing import Any

from search.documents.extracted import (
    Extracted,
    check_package,
    metadata_date,
    metadata_title,
    to_result,
)
from search.documents.text import MAX_TEXT_CHARS, ReadError
from search.model import ReadResult, Source

#: The part holding a Word document's body.
BODY_PART = "word/document.xml"
#: A "Title" or "Heading" paragraph is the document's title only among its first blocks.
HEADING_WITHIN = 10


def _is_heading(paragraph: Any) -> bool:
    try:
        name = (paragraph.style.name or "") if paragraph.style is not None else ""
    except Exception:  # noqa: BLE001 - a style that does not resolve is no heading
        return False
    return name == "Title" or name.startswith("Heading")


def _blocks(doc: Any) -> tuple[list[str], str | None, bool]:
    """The text blocks of the body (a table row is one block, its cells separated by " | "),
    the first heading (among the first ``HEADING_WITHIN`` blocks), and whether
    ``MAX_TEXT_CHARS`` stopped the reading."""
    from docx.table import Table

    blocks: list[str] = []
    heading = None
    chars = 0
    for item in doc.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells = list(dict.fromkeys(c.text.strip() for c in row.cells))  # merged cells
                blocks.append(" | ".join(c for c in cells if c))
        else:
            text = item.text
            # (A style is looked up by name through the styles part: only the first few
            # paragraphs, where a title stands, are worth that.)
            if heading is None and text.strip() and len(blocks) < HEADING_WITHIN \
                    and _is_heading(item):
                heading = text
            blocks.append(text)
        chars += len(blocks[-1]) if blocks else 0
        if chars > MAX_TEXT_CHARS:
            return blocks, heading, True
    return blocks, heading, False


def extract_docx(source: Source) -> Extracted:
    """The text and metadata of a .docx file."""
    check_package(source.path, BODY_PART, "DOCX")
    import docx

    try:
        doc = docx.Document(str(source.path))
        blocks, heading, cut = _blocks(doc)
    except ReadError:
        raise
    except Exception as e:  # noqa: BLE001 - python-docx raises many kinds on damaged XML
        raise ReadError(f"corrupt DOCX: {type(e).__name__}: {e}") from e
    title = date = lang = None
    try:
        props = doc.core_properties
        title = metadata_title(props.title)
        date = metadata_date(props.created) or metadata_date(props.modified)
        lang = props.language or None
    except Exception:  # noqa: BLE001 - damaged metadata is no reason to lose the text
        pass
    return Extracted(blocks=blocks, title=title, heading=heading, date=date, lang_hint=lang,
                     truncated=cut)


def read_docx(source: Source, languages: tuple[str, ...]) -> ReadResult:
    """The one document of a .docx file."""
    return to_result(source, extract_docx(source), languages)
