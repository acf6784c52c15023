"""Ingestion: find input files, read them into clean documents, tell their language.

The indexer uses exactly::

    for item in find_sources(paths):          # Source | Problem, sorted by key per argument
        if isinstance(item, Source):
            for x in iter_source(item):       # Document | Problem, as read_source(item) has
                ...                           # them, a JSONL file's documents as they are read

Formats: ``.txt`` (UTF-8, with a cp1250 fallback), ``.html``/``.htm``/``.xhtml`` (lxml; main
content only), ``.jsonl`` (one document per line), and ``.pdf`` (:mod:`.pdf`, page offsets
kept), ``.docx`` (:mod:`.docx`) and ``.odt`` (:mod:`.odt`), whose readers only extract and
leave the rest to :mod:`.extracted`. Every text is cleaned by
:func:`clean_text`, titled and dated "as a reader would" (see :mod:`.metadata`), and given a
language by :func:`detect_document_language`.
"""

from search.documents.language import (
    DEFAULT_LANGUAGES,
    detect_document_language,
    detect_language,
    normalize_language,
)
from search.documents.metadata import find_dateline, parse_iso_date, title_from_text
from search.documents.reader import SourceFailed, iter_source, read_source
from search.documents.sources import SUPPORTED_EXTENSIONS, find_sources, is_supported
from search.documents.text import MAX_TEXT_CHARS, clean_text

__all__ = [
    "DEFAULT_LANGUAGES", "MAX_TEXT_CHARS", "SUPPORTED_EXTENSIONS", "SourceFailed",
    "clean_text", "detect_document_language", "detect_language", "find_dateline",
    "find_sources", "is_supported", "iter_source", "normalize_language", "parse_iso_date",
    "read_source", "title_from_text",
]
