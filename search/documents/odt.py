"""OpenDocument text (.odt) files: headings and paragraphs in document order, with odfdo."""

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

#: The part holding an OpenDocument's body.
BODY_PART = "content.xml"
#: A heading or "Title" paragraph is the document's title only among its first blocks.
HEADING_WITHIN = 10
# Headings and paragraphs, not those nested in another (a note's text is inside its paragraph).
_BLOCKS = ("descendant::text:h[not(ancestor::text:p or ancestor::text:h)] | "
           "descendant::text:p[not(ancestor::text:p or ancestor::text:h)]")


def _blocks(body: Any) -> tuple[list[str], str | None, bool]:
    """The text blocks, the first heading (``text:h`` or a "Title" paragraph among the first
    ``HEADING_WITHIN`` blocks), and whether ``MAX_TEXT_CHARS`` stopped the reading."""
    blocks: list[str] = []
    heading = None
    chars = 0
    for element in body.xpath(_BLOCKS):
        text = element.text_recursive or ""
        if heading is None and text.strip() and len(blocks) < HEADING_WITHIN and (
                element.tag == "text:h" or (element.get_attribute("text:style-name") or "")
                .startswith("Title")):
            heading = text
        blocks.append(text)
        chars += len(text)
        if chars > MAX_TEXT_CHARS:
            return blocks, heading, True
    return blocks, heading, False


def extract_odt(source: Source) -> Extracted:
    """The text and metadata of an .odt file."""
    check_package(source.path, BODY_PART, "ODT")
    import odfdo

    try:
        doc = odfdo.Document(str(source.path))
        blocks, heading, cut = _blocks(doc.body)
    except ReadError:
        raise
    except Exception as e:  # noqa: BLE001 - odfdo raises many kinds on damaged XML
        raise ReadError(f"corrupt ODT: {type(e).__name__}: {e}") from e
    title = date = lang = None
    try:
        meta = doc.meta
        title = metadata_title(meta.get_title())
        date = metadata_date(meta.get_creation_date()) or metadata_date(meta.date)
        lang = meta.get_language() or None
    except Exception:  # noqa: BLE001 - damaged metadata is no reason to lose the text
        pass
    return Extracted(blocks=blocks, title=title, heading=heading, date=date, lang_hint=lang,
                     truncated=cut)


def read_odt(source: Source, languages: tuple[str, ...]) -> ReadResult:
    """The one document of an .odt file."""
    return to_result(source, extract_odt(source), languages)
