"""The Whoosh schema: which fields exist and what goes into them.

Each language contributes a title and a body field per analysis path (``title_sl``,
``body_sl_stem``...), so statistics, boosts and snippets can be handled per language.
The analysers are pickled into the index, so an index built with non-default analysis options
(ablation experiments) also parses its queries with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from whoosh import fields, formats

from search.analysis import LANGUAGES, analysis_options, spelling_analyzer
from search.documents.urls import document_keys, pair_key
from search.model import Document


def text_fields() -> list[tuple[str, str, float]]:
    """(field name, language code, query boost) of every analysed text field."""
    return [(name.name, lang.code, lang.path(name.path).boost)
            for lang in LANGUAGES.values() for name in lang.text_fields()]


def spelling_fields() -> dict[str, str]:
    """Language code -> the field of that language's surface words (``spell_sl``...).

    One field per language, so that each word's document frequency in each language is read
    straight from the term index (see :mod:`search.spelling`).
    """
    return {code: lang.spell_field.name for code, lang in LANGUAGES.items()}


def spelling_field() -> fields.TEXT:
    """The surface words of title and text, for "did you mean" and prefix expansion.

    Only which documents hold a word is kept (Whoosh's ``Existence`` format): suggestions
    need the vocabulary and document frequencies, never positions, frequencies or field
    lengths, and this field holds nearly half of all postings (measured on the help corpus:
    writing them with frequencies and lengths cost 15 % more segment-writing time).
    """
    field = fields.TEXT(analyzer=spelling_analyzer(), phrase=False)
    field.format = formats.Existence()
    field.scorable = False
    return field


def link_field() -> fields.KEYWORD:
    """Addresses as exact terms (keys of :mod:`search.documents.urls`, no spaces in them):
    indexed so that "which document has this address" is a term lookup when a translation
    is asked for (:mod:`search.links`), stored so that a document's own can be read back."""
    return fields.KEYWORD(stored=True, lowercase=False, commas=False, scorable=False)


def url_terms(doc: Document) -> list[str]:
    """``LANG:KEY`` for each key of the document's own addresses, LANG its own language: so
    a link to an address in one language is one lookup, that finds no other language. A
    ``pair_id`` is one more such address (:func:`~search.documents.urls.pair_key`)."""
    keys = document_keys(doc.canonical, doc.site_path, doc.url)
    if doc.pair_id:
        keys.append(pair_key(doc.pair_id))
    return [f"{doc.lang}:{key}" for key in keys]


def link_terms(doc: Document) -> list[str]:
    """``LANG>TARGET:KEY`` for each key of each translation the document declares, in its
    order: LANG its own language, TARGET the one the link declares."""
    return [f"{doc.lang}>{alt.lang}:{key}" for alt in doc.alternates for key in alt.keys]


def build_schema(analysis: Mapping[str, bool] | None = None) -> fields.Schema:
    """The schema; ``analysis``: index-time analysis options (see ``ANALYSIS_OPTIONS``)."""
    options = analysis_options(analysis)
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        lang=fields.ID(stored=True, sortable=True),
        date=fields.ID(stored=True, sortable=True),
        year=fields.ID(stored=True, sortable=True),
        path=fields.ID(stored=True),
        pair=fields.ID(stored=True),
        title=fields.STORED(),
        text=fields.STORED(),
        url=fields.STORED(),
        hash=fields.STORED(),
        pages=fields.STORED(),  # paged formats (PDF): where each page starts in ``text``
        urls=link_field(),  # LANG:KEY of the document's own addresses
        links=link_field(),  # LANG>TARGET:KEY of the translations it declares
    )
    for name in spelling_fields().values():
        schema.add(name, spelling_field())
    for lang in LANGUAGES.values():
        for name in lang.text_fields():
            schema.add(name.name, fields.TEXT(
                analyzer=lang.path(name.path).make_analyzer(**options), phrase=True))
    return schema


def document_fields(doc: Document) -> dict[str, Any]:
    """The Whoosh field values of one document."""
    values: dict[str, Any] = {"id": doc.id, "lang": doc.lang, "title": doc.title,
                              "text": doc.text, "hash": doc.hash}
    for name, value in (("date", doc.date), ("year", doc.year), ("path", doc.path),
                        ("url", doc.url), ("pair", doc.pair_id)):
        if value:
            values[name] = value
    if doc.pages:
        values["pages"] = list(doc.pages)
    urls = url_terms(doc)
    if urls:
        values["urls"] = " ".join(urls)
    links = link_terms(doc)
    if links:
        values["links"] = " ".join(links)
    # A document of unknown language (UNKNOWN) is analysed as every language.
    langs = [LANGUAGES[doc.lang]] if doc.lang in LANGUAGES else list(LANGUAGES.values())
    for lang in langs:
        for name in lang.text_fields():
            values[name.name] = doc.title if name.kind == "title" else doc.text
        values[lang.spell_field.name] = f"{doc.title}\n{doc.text}"
    return values
