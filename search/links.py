"""Which document is the translation of another: the one place that decides it.

Declared links are stored as they were read, never as a table of resolved pairs: each
document's own addresses (``urls``, as ``LANG:KEY`` with the document's language) and the
addresses of the translations it declares (``links``, as ``LANG>TARGET:KEY``) are exact terms
in the index (see :mod:`search.schema` and :mod:`search.documents.urls`), and a site map's
groups are kept beside the index in :data:`SITEMAP_LINKS_FILE`. With the languages in the
terms, a lookup finds only documents in the language wanted, without reading them.

A link is resolved only when a translation is asked for, by term lookups. So a link to a
page that is not indexed yet costs nothing and resolves as soon as the page arrives (in
whatever later run), and nothing needs rebuilding when either side changes.

Order of evidence (:func:`declared_translation`): a shared ``pair_id``; the hreflang links the
document declares; those that other documents declare to it (a page only linked *to* gets
its translation too); the site maps' groups. Only a document in the other language counts,
and in the language the link declares; an address that names more than one such document is
ambiguous and ignored. The first document so named must name the first back, so that the
relation is symmetric (what grouping results needs): X is Y's translation exactly when Y is
X's. Found pairs (:func:`translation_of`) come last: declared links always win over them.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from whoosh.reading import TermNotFound

from search.analysis import LANGUAGES
from search.documents.urls import pair_key
from search.model import Alternate
from search.side_files import SideFile
from search.storage import write_json

#: The site maps' translation groups of an index generation, beside its index files.
SITEMAP_LINKS_FILE = "sitemap-links.json"
#: Documents looked at per address (an address more documents claim is ambiguous anyway).
MAX_CANDIDATES = 2
#: Site map groups looked at per document.
MAX_GROUPS = 8
#: Declared translations kept per open index (:class:`Translations`).
MAX_CACHED = 20_000


@dataclass(frozen=True)
class SitemapLinks:
    """The translation groups of every site map in the index, by the keys they hold."""

    groups: tuple[tuple[Alternate, ...], ...] = ()
    by_key: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def from_groups(cls, groups: Iterable[Iterable[Alternate]]) -> SitemapLinks:
        kept = tuple(tuple(group) for group in groups)
        by_key: dict[str, list[int]] = {}
        for n, group in enumerate(kept):
            for alt in group:
                for key in alt.keys:
                    found = by_key.setdefault(key, [])
                    if not found or found[-1] != n:
                        found.append(n)
        return cls(kept, {k: tuple(v) for k, v in by_key.items()})

    def groups_of(self, keys: Iterable[str]) -> list[tuple[Alternate, ...]]:
        """The groups that hold any of ``keys``, each once, in site map order."""
        numbers = sorted({n for key in keys for n in self.by_key.get(key, ())})
        return [self.groups[n] for n in numbers[:MAX_GROUPS]]


def _alternate(raw: Any) -> Alternate | None:
    try:
        lang, keys = raw
        if isinstance(keys, str):
            return None
        return Alternate(lang if isinstance(lang, str) else None,
                         tuple(k for k in keys if isinstance(k, str)))
    except (TypeError, ValueError):
        return None


def load_sitemap_links(gen: Path) -> SitemapLinks:
    """The site maps' groups kept with a generation (none if there are none, or the file is
    unreadable: translation links are a help, never a reason for a search to fail)."""
    try:
        data = json.loads((gen / SITEMAP_LINKS_FILE).read_text(encoding="utf-8"))
        raw_groups = [group for groups in data["sitemaps"].values() for group in groups]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return SitemapLinks()
    groups = []
    for raw in raw_groups:
        group = [alt for alt in map(_alternate, raw if isinstance(raw, list) else ())
                 if alt is not None and alt.keys]
        if len(group) > 1:
            groups.append(group)
    return SitemapLinks.from_groups(groups)


def save_sitemap_links(gen: Path, manifest: Mapping[str, Mapping[str, Any]]) -> None:
    """Write the groups of the site maps in ``manifest`` (the indexer's sources: each site
    map's entry keeps its ``links``) beside the index. A site map read in any run, changed
    alone or deleted, is so reflected at once, with nothing else to redo."""
    sitemaps = {path: entry["links"] for path, entry in sorted(manifest.items())
                if entry.get("links")}
    target = gen / SITEMAP_LINKS_FILE
    if sitemaps or target.exists():
        write_json(target, {"sitemaps": sitemaps})


class SitemapCache:
    """A generation's :class:`SitemapLinks`, read again only when its file changes (a run
    that changed only a site map commits nothing to the index, but rewrites the file); see
    :class:`search.side_files.SideFile`."""

    def __init__(self) -> None:
        self._file: SideFile[SitemapLinks] = SideFile(SITEMAP_LINKS_FILE, load_sitemap_links,
                                                      empty=SitemapLinks)

    def get(self, gen: Path) -> SitemapLinks:
        return self._file.get(gen)


# -- resolving ------------------------------------------------------------------------------

#: A document's stored fields.
Stored = Mapping[str, Any]

def _terms(stored: Mapping[str, Any], name: str) -> list[str]:
    value = stored.get(name)
    return value.split() if isinstance(value, str) else []


def own_keys(stored: Mapping[str, Any]) -> list[str]:
    """The keys of a document's own addresses (its ``urls`` without their language)."""
    return [term.partition(":")[2] for term in _terms(stored, "urls")]


class StoredCache:
    """What links and grouping read of one searcher's documents, read once: the stored
    fields they use (:data:`KEPT`; the text is left out) by document number, and the
    document number of an id. Kept while the searcher is (at most :data:`MAX_CACHED` of
    each: emptied when full)."""

    KEPT = ("id", "lang", "title", "urls", "links", "pair")

    def __init__(self, searcher: Any) -> None:
        self.searcher = searcher
        self._fields: dict[int, Stored] = {}
        self._docnums: dict[str, int | None] = {}

    def fields(self, docnum: int) -> Stored:
        """The kept stored fields of the live document ``docnum`` (a match, or one found
        in postings)."""
        found = self._fields.get(docnum)
        if found is None:
            if len(self._fields) >= MAX_CACHED:
                self._fields.clear()
            stored = self.searcher.stored_fields(docnum)
            found = self._fields[docnum] = {k: stored[k] for k in self.KEPT if k in stored}
            if "id" in found and len(self._docnums) < MAX_CACHED:
                # Only live documents are read (matched, or found in postings): their id
                # names this document now.
                self._docnums[found["id"]] = docnum
        return found

    def docnum(self, doc_id: str) -> int | None:
        """The document number of the (live) document ``doc_id``, or None."""
        if doc_id not in self._docnums:
            if len(self._docnums) >= MAX_CACHED:
                self._docnums.clear()
            try:  # the postings leave deleted documents out
                ids = self.searcher.reader().postings("id", doc_id).all_ids()
                self._docnums[doc_id] = next(iter(ids), None)
            except TermNotFound:
                self._docnums[doc_id] = None
        return self._docnums[doc_id]

    def by_id(self, doc_id: str) -> Stored | None:
        """The kept stored fields of the document ``doc_id``, None if it is not indexed."""
        docnum = self.docnum(doc_id)
        return None if docnum is None else self.fields(docnum)


class _Lookup:
    """Term lookups on one searcher, read from postings (deleted documents left out, no
    scoring, no stored fields read but a winner's, through ``documents``)."""

    def __init__(self, searcher: Any, documents: StoredCache | None = None) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.documents = documents or StoredCache(searcher)

    def docnums(self, field: str, text: str) -> list[int]:
        """Up to MAX_CANDIDATES + 1 documents holding ``text`` in ``field``."""
        try:
            matcher = self.reader.postings(field, text)
        except TermNotFound:
            return []
        return list(islice(matcher.all_ids(), MAX_CANDIDATES + 1))

    def unique(self, field: str, texts: Iterable[str]) -> Stored | None:
        """The one document holding any of ``texts`` in ``field``; None if there is none,
        or more than one (an ambiguous address)."""
        found: set[int] = set()
        for text in texts:
            found.update(self.docnums(field, text))
        return self.documents.fields(found.pop()) if len(found) == 1 else None

    def first(self, field: str, texts: Iterable[str]) -> Stored | None:
        """The first document holding any of ``texts`` in ``field``, or None."""
        for text in texts:
            found = self.docnums(field, text)
            if found:
                return self.documents.fields(found[0])
        return None


def declared_translation(searcher: Any, stored: Stored, *,
                         sitemaps: SitemapLinks | None = None,
                         documents: StoredCache | None = None) -> str | None:
    """The id of the document the links declare to be ``stored``'s translation, or None.

    ``searcher``: a Whoosh searcher of the index; ``stored``: the document's stored fields;
    ``sitemaps``: the index's site map groups (:class:`SitemapCache`, or
    :func:`load_sitemap_links`); without them site maps are not consulted; ``documents``:
    the searcher's :class:`StoredCache`, if it has one.

    Symmetric by construction: the links must name Y for X and X for Y (a page whose own
    links name another translation, or that two pages claim, is linked to neither; a shared
    ``pair_id`` names both at once).
    """
    look = _Lookup(searcher, documents)
    other = _declared_one_way(look, stored, sitemaps)
    if other is None:
        return None
    if stored.get("pair") and other.get("pair") == stored.get("pair"):
        return other["id"]  # a pair_id is one declaration for both
    back = _declared_one_way(look, other, sitemaps)
    return other["id"] if back is not None and back.get("id") == stored.get("id") else None


def _declared_one_way(look: _Lookup, stored: Stored,
                      sitemaps: SitemapLinks | None) -> Stored | None:
    """The stored fields of the first document the evidence names for ``stored``."""
    lang = stored.get("lang")
    if lang not in LANGUAGES:
        return None
    others = [code for code in LANGUAGES if code != lang]
    pair = stored.get("pair")
    if pair:
        found = look.first("urls", [f"{other}:{pair_key(pair)}" for other in others])
        if found:
            return found
    for term in _terms(stored, "links"):  # links it declares: "LANG>TARGET:KEY"
        target, _, key = term.partition(">")[2].partition(":")
        if target in others and key:
            found = look.unique("urls", [f"{target}:{key}"])
            if found:
                return found
    own = own_keys(stored)
    for key in own:  # links declared to it
        found = look.unique("links", [f"{other}>{lang}:{key}" for other in others])
        if found:
            return found
    if sitemaps is not None and sitemaps.groups:
        for group in sitemaps.groups_of(own):
            mine = [alt for alt in group if set(alt.keys) & set(own)]
            if any(alt.lang not in (None, lang) for alt in mine):
                continue  # the map gives it another language than it has
            for alt in group:
                if alt in mine or alt.lang == lang:
                    continue
                targets = others if alt.lang is None else [alt.lang]
                found = look.unique("urls", [f"{target}:{key}" for target in targets
                                             for key in alt.keys if target in others])
                if found:
                    return found
    return None


def translation_of(searcher: Any, stored: Stored, found: Mapping[str, str], *,
                   sitemaps: SitemapLinks | None = None) -> str | None:
    """``stored``'s translation: the declared one (:func:`declared_translation`), else the
    one ``found`` (doc id -> its translation's id, from finding unmarked pairs) names, if
    that document exists, is in the other language and declares no other translation."""
    return _translation_of(
        lambda doc: declared_translation(searcher, doc, sitemaps=sitemaps), searcher, stored,
        found)


def _translation_of(declared: Callable[[Stored], str | None], searcher: Any, stored: Stored,
                    found: Mapping[str, str],
                    documents: StoredCache | None = None) -> str | None:
    mine = declared(stored)
    if mine is not None or not found:
        return mine
    other_id = found.get(stored.get("id"))
    if not other_id:
        return None
    other = (documents.by_id(other_id) if documents is not None
             else searcher.document(id=other_id))
    lang = stored.get("lang")
    if (other is None or other_id == stored.get("id") or lang not in LANGUAGES
            or other.get("lang") not in LANGUAGES or other.get("lang") == lang):
        return None
    if declared(other) not in (None, stored.get("id")):
        return None  # its declared translation is another document: that wins
    return other_id


@dataclass(frozen=True)
class Resolver:
    """A document's translation for one search (:meth:`Translations.resolver`): call it with
    the document's stored fields."""

    resolve: Callable[[Stored], str | None]
    possible: bool  #: whether any document can have a translation (else it returns None)
    sitemaps: SitemapLinks | None  #: the site map groups it consults
    #: (stored, ids) -> (translation, checked): see :meth:`within`
    among: Callable[[Stored, Container[str]], tuple[str | None, bool]] = \
        lambda stored, ids: (None, True)

    def __call__(self, stored: Stored) -> str | None:
        return self.resolve(stored)

    def within(self, stored: Stored, ids: Container[str]) -> tuple[str | None, bool]:
        """``(translation, True)`` when the translation is certain without reading a
        document outside ``ids`` (documents already read); ``(None, False)`` when the
        only candidate is a found pair's document outside ``ids``, not checked: the
        translation, if any, is not among ``ids`` then."""
        return self.among(stored, ids)


class Translations:
    """One open index's translations (what :class:`~search.searcher.SearchIndex` asks): the
    generation's site map groups (:class:`SitemapCache`), and, for the current searcher
    (compared by identity), its :class:`StoredCache` and the declared translations already resolved,
    so that a document shown again costs a dict lookup (at most :data:`MAX_CACHED`;
    forgotten when the searcher or the site maps change, so a new commit or site map is
    seen at once).

    A search asks :meth:`resolver` once: the side files are checked then, not per hit.
    """

    def __init__(self) -> None:
        self._sitemaps = SitemapCache()
        self._searcher: Callable[[], Any] = lambda: None
        self._state: tuple[SitemapLinks | None, StoredCache, dict[str, str | None]] | None = None
        self._linked: tuple[Any, SitemapLinks | None, bool] | None = None

    def forget(self) -> None:
        """Forget what was read and resolved (for measurements: a cold start)."""
        self._searcher, self._state, self._linked = (lambda: None), None, None

    def documents(self, searcher: Any) -> StoredCache:
        """``searcher``'s :class:`StoredCache` (a new one for a new searcher)."""
        if self._searcher() is not searcher or self._state is None:
            self._for(searcher, None)
        assert self._state is not None
        return self._state[1]

    def _for(self, searcher: Any, sitemaps: SitemapLinks | None
             ) -> tuple[SitemapLinks | None, StoredCache, dict[str, str | None]]:
        if self._searcher() is not searcher or self._state is None:
            self._searcher = weakref.ref(searcher)
            self._state = (sitemaps, StoredCache(searcher), {})
            self._linked = None
        elif self._state[0] is not sitemaps:  # new site maps: the same documents
            self._state = (sitemaps, self._state[1], {})
        return self._state

    def possible(self, searcher: Any, gen: Path | None, found: Mapping[str, str], *,
                 sitemaps: SitemapLinks | None = None) -> bool:
        """Whether any document of the index can have a translation: pairs were found, a
        site map groups pages, or some document declares a ``pair_id`` or a link. When none
        does (most single-language sites), folding and the look-ups per hit are skipped.
        ``sitemaps``: the generation's, if the caller has read them already."""
        if found:
            return True
        if sitemaps is None and gen is not None:
            sitemaps = self._sitemaps.get(gen)
        self._for(searcher, sitemaps)
        if self._linked is None or self._linked[1] is not sitemaps:
            reader = searcher.reader()
            declared = any(name in searcher.schema.names()
                           and next(iter(reader.lexicon(name)), None) is not None
                           for name in ("pair", "links"))
            self._linked = (None, sitemaps,
                            declared or bool(sitemaps is not None and sitemaps.groups))
        return self._linked[2]

    def resolver(self, searcher: Any, gen: Path | None, found: Mapping[str, str]) -> Resolver:
        """:func:`translation_of` on ``searcher`` with the site maps of generation ``gen``
        and the ``found`` pairs, for one search (the side files are read now)."""
        sitemaps = self._sitemaps.get(gen) if gen is not None else None
        if not self.possible(searcher, gen, found, sitemaps=sitemaps):
            return Resolver(lambda stored: None, False, sitemaps)
        _, documents, cache = self._for(searcher, sitemaps)

        def declared(doc: Stored) -> str | None:
            doc_id = doc.get("id")
            if doc_id in cache:
                return cache[doc_id]
            if len(cache) >= MAX_CACHED:
                cache.clear()
            result = cache[doc_id] = declared_translation(searcher, doc, sitemaps=sitemaps,
                                                          documents=documents)
            return result

        def resolve(stored: Stored) -> str | None:
            return _translation_of(declared, searcher, stored, found, documents)

        def among(stored: Stored, ids: Container[str]) -> tuple[str | None, bool]:
            if found and declared(stored) is None and found.get(stored.get("id")) \
                    and found[stored["id"]] not in ids:
                return None, False
            return resolve(stored), True

        return Resolver(resolve, True, sitemaps, among)

    def translation_of(self, searcher: Any, gen: Path, stored: Stored,
                       found: Mapping[str, str]) -> str | None:
        """:func:`translation_of` on ``searcher`` with the site maps of generation ``gen``."""
        return self.resolver(searcher, gen, found)(stored)
