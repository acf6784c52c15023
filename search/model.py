"""Plain data passed between the stages of the engine.

Every stage speaks in these types, so the web app, the CLI and other tools can use the
engine without knowing anything about Whoosh.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

#: The language of a document whose text cannot tell (too short, or ambiguous): the BCP 47
#: "undetermined" tag. Such a document is indexed in every language's fields and is found
#: under every language's filter; facets count it on its own.
UNKNOWN = "und"


@dataclass(frozen=True)
class Source:
    """One input file found under an indexed root."""

    path: Path  #: absolute, resolved path of the file
    root: Path  #: the folder the user asked to index (a file's own folder for a lone file)
    key: str  #: path relative to ``root`` in POSIX form; the id of a .txt/.html document
    mtime_ns: int
    size: int


class Alternate(NamedTuple):
    """A translation a page declares (``<link rel="alternate" hreflang>``, a sitemap's
    ``xhtml:link``): its language, and the keys of the address it names (see
    :mod:`search.documents.urls`; any of them may be the indexed document's)."""

    lang: str | None  #: a code of ``search.analysis.LANGUAGES``; None: not declared
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Document:
    """A cleaned document, ready for analysis."""

    id: str
    title: str
    text: str
    lang: str  #: "en", "sl", or UNKNOWN
    #: ISO 8601, possibly partial: "2024", "2024-07", "2024-07-03", "--10-29" (no year)
    date: str | None = None
    path: str | None = None  #: absolute path of the source file
    url: str | None = None
    pair_id: str | None = None  #: documents that are translations of each other share it
    #: Paged formats (PDF): where each page starts in ``text`` (offset of page 1 first).
    pages: tuple[int, ...] | None = None
    #: The address the page declares as its own (``<link rel="canonical">``), resolved.
    canonical: str | None = None
    #: Where a file's document lives under the indexed folder (``Source.key``): the address
    #: that relative links on other pages of the folder name it by. None for documents that
    #: are not a whole file (JSONL lines, documents written through the API).
    site_path: str | None = None
    #: The translations the page declares (hreflang links), in the page's order.
    alternates: tuple[Alternate, ...] = ()

    @property
    def hash(self) -> str:
        """Content hash: reindexing skips documents whose hash did not change.

        ``site_path`` is left out: it is the file's key, and so its id, already compared.
        """
        h = hashlib.sha256()
        for part in (self.title, self.text, self.lang, self.date or "", self.url or "",
                     self.pair_id or ""):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
        if self.pages:  # (only then: the hashes of unpaged documents stay as they were)
            h.update(",".join(map(str, self.pages)).encode())
        if self.canonical or self.alternates:  # (likewise for documents without links)
            links = [self.canonical or "", *(f"{a.lang}={' '.join(a.keys)}"
                                             for a in self.alternates)]
            h.update(("\0links\0" + "\n".join(links)).encode("utf-8", "surrogatepass"))
        return h.hexdigest()[:32]

    @property
    def year(self) -> str | None:
        if self.date and self.date[:4].isdigit():
            return self.date[:4]
        return None


@dataclass(frozen=True)
class Problem:
    """An input that could not be (fully) read: reported to the user, never fatal."""

    source: str  #: file path (with ``:LINE`` for a JSONL line)
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass(frozen=True)
class Caveat(Problem):
    """An input that was indexed all the same, with something worth telling (cut at the size
    cap, damaged bytes replaced): a warning, not a skip."""


@dataclass(frozen=True)
class SiteLinks:
    """The translations a site map (``sitemap.xml``) declares: one group per ``<url>``, its
    ``<loc>`` (language None unless it is also among the alternates) and its alternates, which
    are all translations of each other. Not a document: kept with its source file."""

    source: str  #: the sitemap file's path
    groups: tuple[tuple[Alternate, ...], ...]


@dataclass
class ReadResult:
    """What reading one source file produced."""

    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    links: SiteLinks | None = None  #: a sitemap's translation links


@dataclass
class IndexReport:
    """What an indexing run did."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)  #: inputs (or lines) skipped
    warnings: list[Problem] = field(default_factory=list)  #: indexed, with a caveat
    seconds: float = 0.0

    @property
    def indexed(self) -> int:
        return self.added + self.updated


@dataclass
class Hit:
    """One ranked result."""

    id: str
    title: str
    lang: str
    date: str | None
    score: float
    snippet: str  #: HTML: escaped text, matches wrapped in <mark>; safe to insert as markup
    rank: int = 0
    path: str | None = None
    url: str | None = None
    translated_terms: list[str] = field(default_factory=list)  #: cross-language terms that matched
    page: int | None = None  #: paged formats (PDF): the page of the first match, from 1
    translation_id: str | None = None  #: id of the same document in the other language
    translation_lang: str | None = None  #: that document's language
    translation_title: str | None = None  #: that document's title
    grouped: bool = False  #: its translation was folded into this hit (see search.grouping)

    def to_dict(self) -> dict:
        """JSON-ready; ``path`` (where the file lives on the server) is left out."""
        return {
            "id": self.id,
            "title": self.title,
            "lang": self.lang,
            "date": self.date,
            "score": round(self.score, 4),
            "snippet": self.snippet,
            "rank": self.rank,
            "url": self.url,
            "translated_terms": self.translated_terms,
            "page": self.page,
            "translation_id": self.translation_id,
            "translation_lang": self.translation_lang,
            "translation_title": self.translation_title,
            "grouped": self.grouped,
        }


@dataclass
class Results:
    """A page of results plus what a result page needs around it."""

    query: str
    hits: list[Hit]
    total: int
    page: int
    per_page: int
    facets: dict[str, dict[str, int]]  #: {"lang": {"sl": 2, "en": 3}, "year": {"2024": 1}}
    suggestion: str | None = None  #: "did you mean" query text, or None
    #: The corrected query searched instead of ``query``, which matched nothing directly
    #: ("showing results for"), or None.
    corrected: str | None = None
    #: With ``corrected``: ``query`` with its corrected words quoted, which searches them as
    #: typed ("search instead for").
    verbatim: str | None = None
    lang: str | None = None
    year: str | None = None
    sort: str = "relevance"
    elapsed_ms: float = 0.0
    #: declared synonyms the query used: [{"matched", "lang", "expanded"}]
    synonyms: list[dict] = field(default_factory=list)
    #: Translation pairs shown as one hit (see search.grouping): ``total`` counts documents,
    #: the list ``total - folded`` hits.
    folded: int = 0

    @property
    def pages(self) -> int:
        return max(1, -(-(self.total - self.folded) // self.per_page))

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "lang": self.lang,
            "year": self.year,
            "sort": self.sort,
            "facets": self.facets,
            "suggestion": self.suggestion,
            "synonyms": self.synonyms,
            "corrected": self.corrected,
            "folded": self.folded,
            "elapsed_ms": round(self.elapsed_ms, 2),
            "hits": [h.to_dict() for h in self.hits],
        }


@dataclass
class DocumentView:
    """A whole stored document, for a document page."""

    id: str
    title: str
    lang: str
    date: str | None
    text: str
    html: str  #: the text as escaped HTML paragraphs, query matches wrapped in <mark>
    path: str | None = None
    url: str | None = None
    translation_id: str | None = None  #: id of the same document in the other language
    page: int | None = None  #: paged formats (PDF): the page of the first match, from 1
    page_count: int | None = None  #: paged formats (PDF): how many pages were read

    def to_dict(self) -> dict:
        # ``path`` (where the file lives on the server) stays out of anything served.
        return {k: getattr(self, k) for k in
                ("id", "title", "lang", "date", "text", "html", "url", "translation_id",
                 "page", "page_count")}


@dataclass
class IndexStats:
    """Size and make-up of an index."""

    path: str
    doc_count: int
    by_lang: dict[str, int]
    by_year: dict[str, int]
    engine_version: str
    analyzers: dict[str, str]
