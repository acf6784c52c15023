"""A document and its translation shown once: folding translation pairs in a result list.

A bilingual site publishes many pages twice, once in each language. With no language filter
both versions match the same query, and a list showing both spends two places on one page
and reads as a duplicate. Folding shows a pair once and links the other version from it.

**Which version is shown** (``prefer``):

- ``None`` (the default of :meth:`search.searcher.SearchIndex.search`, of the JSON API and
  of ``search-cli query``): the better-ranked version. The query's own words decide: a
  Slovenian query ranks the Slovenian version first, an English one the English version.
- a language code (the web pages pass the visitor's UI language; the JSON API takes
  ``group=sl``): that language's version, whenever the pair has one. The pair keeps the
  place of its better-ranked version either way, so preferring a language never moves a
  pair down the list; the hit keeps its own score, which may then be lower than the next
  hit's.

With a language filter nothing is folded (the caller does not ask for it): the other
version is not among the results, but each hit still names its translation.

**Bounded work.** Only a query's first :func:`window` candidates are looked at
(``max(GROUP_WINDOW, WINDOW_PAGES * per_page)``: 100 for pages of 10): each one's stored
fields (those links need, read once per searcher: :class:`search.links.StoredCache`) and
translation, kept per index version (:class:`VersionCache`), so a document seen by an
earlier query costs a dict lookup. A pair is folded when both versions are among them; a
pair with a version further down stays two results, each naming the other as its
translation. So a found translation outside the window is not even checked (that would read
a document the query does not show), unless its document is shown; the side files (found
pairs, site maps) are checked once a search.

**Pagination.** The window is the same set of documents for every page of a query at one
``per_page`` (the caller retrieves at least the window while folding, and the top of a
ranking does not depend on how many are retrieved), so every page is a slice of one folded
list: the ranked list with the worse-ranked version of each folded pair taken out and the
shown version put in the pair's place. So a folded document appears on no page, every page
but the last is full, the number of folded pairs is the same on every page, and the pages
are counted from ``total - folded`` (:attr:`search.model.Results.pages`). The result count
and the facets still count documents. The caller ranks exactly as far as :func:`exact_rank`
says (taking out one version of a pair moves the rest up) and retrieves as many candidates
as :func:`retrieval_limit` says.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Container, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from search.model import Hit

#: Folding looks at a query's first max(GROUP_WINDOW, WINDOW_PAGES * per_page) candidates
#: (see :func:`window`): as many as re-ranking does, so a first page retrieves no more. On
#: the 5,120-page help, the translation of 55% of the first page's hits (100 queries) ranks
#: among the first 100 candidates, and 54% are folded with this window, 22% with 30. Looking
#: a document up the first time costs reading its stored fields (about 0.05 ms on the help),
#: hence StoredCache and VersionCache.
GROUP_WINDOW = 100
WINDOW_PAGES = 2
#: Versions kept per index version (VersionCache): emptied when it is full.
MAX_CACHED = 50_000

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Version:
    """What folding needs to know of one ranked document."""

    id: str
    lang: str
    title: str = ""
    translation_id: str | None = None  #: the id of the same document in another language


@dataclass
class Folded(Generic[K]):
    """A ranked list with its translation pairs folded."""

    rows: list[tuple[K, float]]  #: (key, score), best first: one row a pair
    #: The key of each shown version of a folded pair -> the key of the version folded into it.
    grouped: dict[K, K] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """How many pairs were folded (documents left out of ``rows``)."""
        return len(self.grouped)


def fold(ranked: Sequence[tuple[K, float]], versions: dict[K, Version],
         prefer: str | None = None) -> Folded[K]:
    """Fold each translation pair of ``ranked`` ((key, score), best first) into one row.

    ``versions`` describes the documents of the window: a document not in it is never
    folded. Going down the list, a document not yet folded is paired with the document its
    translation names, when that one is in the window, not yet folded and in another
    language. The pair takes the place of its better-ranked version and shows the
    ``prefer`` language's version if it has one, else the better-ranked one.

    >>> versions = {1: Version("a-en", "en", translation_id="a-sl"),
    ...             2: Version("b-en", "en"),
    ...             3: Version("a-sl", "sl", translation_id="a-en")}
    >>> ranked = [(1, 9.0), (2, 5.0), (3, 4.0)]
    >>> fold(ranked, versions).rows
    [(1, 9.0), (2, 5.0)]
    >>> folded = fold(ranked, versions, prefer="sl")
    >>> folded.rows, folded.grouped, folded.count
    ([(3, 4.0), (2, 5.0)], {3: 1}, 1)

    A document outside the window stays a result of its own, and so does one whose
    translation names a document in its own language:

    >>> fold(ranked, {1: versions[1], 2: versions[2]}).rows
    [(1, 9.0), (2, 5.0), (3, 4.0)]
    >>> fold(ranked, {**versions, 3: Version("a-sl", "en")}).count
    0
    """
    key_of = {v.id: key for key, v in versions.items()}
    scores = dict(ranked)
    taken: set[K] = set()
    grouped: dict[K, K] = {}
    rows: list[tuple[K, float]] = []
    for key, score in ranked:
        if key in taken:
            continue  # folded into a better-ranked version
        taken.add(key)
        mine = versions.get(key)
        other = key_of.get(mine.translation_id) if mine and mine.translation_id else None
        theirs = versions.get(other) if other is not None else None
        if other is None or theirs is None or other in taken or other not in scores \
                or theirs.lang == mine.lang:
            rows.append((key, score))
            continue
        taken.add(other)
        shown, hidden = (other, key) if prefer and theirs.lang == prefer \
            and mine.lang != prefer else (key, other)
        grouped[shown] = hidden
        rows.append((shown, scores[shown]))
    return Folded(rows, grouped)


def window(per_page: int) -> int:
    """How many of a query's top candidates folding looks at, for pages of ``per_page``.

    >>> window(10), window(100)
    (100, 200)
    """
    return max(GROUP_WINDOW, WINDOW_PAGES * per_page)


def retrieval_limit(limit: int, end: int, size: int, most: int) -> int:
    """How many candidates to retrieve when folding a window of ``size`` for a page ending
    at ``end``, where ``limit`` would do without folding: the whole window, and enough
    beyond the page for the documents folded before its end (at most one a pair of the
    window); at most ``most``.

    >>> retrieval_limit(10, 10, 100, 10_000), retrieval_limit(100, 100, 100, 10_000)
    (100, 150)
    """
    return min(max(limit, size, end + size // 2), most)


def exact_rank(end: int, size: int) -> int:
    """How far the ranking must be exact for the folded page ending at ``end`` (window
    ``size``): each version taken out before its end moves one more document onto it, and
    each is the partner of a document shown before it.

    >>> exact_rank(10, 100), exact_rank(300, 100)
    (20, 350)
    """
    return end + min(end, size // 2)


class VersionCache:
    """The :class:`Version` of each document looked at, for one index version (a reader)
    and one state of its side files (found pairs, site maps): what folding reads of a
    document (stored fields, translation) is read once."""

    def __init__(self) -> None:
        self._reader: Callable[[], object] = lambda: None
        self._also: tuple = ()
        self._versions: dict[Any, Version | None] = {}

    def for_reader(self, reader: object, *also: object) -> dict[Any, Version | None]:
        """The versions kept for ``reader`` and the objects ``also`` (emptied for a new
        reader, when any of ``also`` is another object, or once too many).

        The reader is held weakly and compared by identity, not by ``id()``: a new reader
        may reuse a freed one's ``id()``, and its document numbers mean other documents.
        ``also`` (the side files' contents a translation depends on) are compared by
        identity too.

        >>> class Reader: pass
        >>> cache, a, b = VersionCache(), Reader(), Reader()
        >>> cache.for_reader(a)["x"] = None
        >>> "x" in cache.for_reader(a), "x" in cache.for_reader(b)
        (True, False)
        >>> cache.for_reader(b)["y"] = None
        >>> "y" in cache.for_reader(b, {}), "y" in cache.for_reader(b, {})
        (False, False)
        """
        if self._reader() is not reader or len(self._versions) >= MAX_CACHED \
                or len(also) != len(self._also) \
                or any(x is not y for x, y in zip(also, self._also, strict=True)):
            self._reader, self._also, self._versions = weakref.ref(reader), also, {}
        return self._versions


class Pairs:
    """Folding and translation links for one search, over a searcher's stored documents.

    ``stored(key)`` gives a ranked document's stored fields (``id``, ``lang``, ``title``),
    ``translation(fields)`` the id of its translation or None, ``lookup(id)`` the stored
    fields of a document by id (None when it is not indexed); ``fold`` says whether to fold
    (no language filter), ``prefer`` which version to show (see the module's docstring),
    ``per_page`` the page size (it sets the :func:`window`); ``cache`` keeps versions
    between searches (:meth:`VersionCache.for_reader`); ``linked`` False says that no
    document of the index can have a translation (nothing is looked up then);
    ``within(fields, ids)``, if given, the translation as ``translation`` gives it when that
    is among the documents ``ids``, and whether it checked (if not, the translation named
    is not among them: see :meth:`search.links.Resolver.within`).
    """

    def __init__(self, stored: Callable[[Any], Mapping[str, Any]],
                 translation: Callable[[Mapping[str, Any]], str | None],
                 lookup: Callable[[str], Mapping[str, Any] | None], *, fold: bool,
                 per_page: int, prefer: str | None = None,
                 cache: dict[Any, Version | None] | None = None, linked: bool = True,
                 within: Callable[[Mapping[str, Any], Container[str]],
                                  tuple[str | None, bool]] | None = None) -> None:
        self._stored = stored
        self._translation = translation
        self._lookup = lookup
        self.folding = fold and linked
        self.linked = linked
        self.prefer = prefer
        self.window = window(per_page)
        self._within = within
        self._versions: dict[Any, Version | None] = {} if cache is None else cache
        self._folded: Folded | None = None
        self._window: dict[Any, Version] = {}
        self._ids: set[str] | None = None

    def limit(self, limit: int, end: int, most: int) -> int:
        """The candidates to retrieve (see :func:`retrieval_limit`)."""
        return retrieval_limit(limit, end, self.window, most) if self.folding else limit

    def exact(self, end: int) -> int:
        """How far the ranking must be exact (see :func:`exact_rank`)."""
        return exact_rank(end, self.window) if self.folding else end

    def page(self, candidates: Sequence[tuple[Any, float]], ranked: Sequence[tuple[Any, float]],
             start: int, per_page: int) -> tuple[list[tuple[Any, float]], int]:
        """The rows of the page from ``start`` and the number of folded pairs.

        ``candidates`` are the query's retrieved documents in first-stage order (the first
        :attr:`window` of them are looked at), ``ranked`` the same documents in final order.
        """
        if not self.folding:
            return list(ranked[start:start + per_page]), 0
        keys = [key for key, _ in candidates[:self.window]]
        versions = {key: self._window_version(key, keys) for key in keys}
        folded = fold(ranked, versions, self.prefer)
        self._folded, self._window = folded, versions
        return folded.rows[start:start + per_page], folded.count

    def _window_version(self, key: Any, keys: Sequence[Any]) -> Version:
        """``key``'s version as folding needs it: with ``within`` (see the class), a
        translation outside the window is not checked (it cannot fold) and the version is
        not kept (:meth:`annotate` checks it if the document is shown)."""
        version = self._versions.get(key)
        if version is not None or self._within is None:
            return version or self._version(key)
        if self._ids is None:  # the window's ids: its documents are read once, here
            self._ids = {self._stored(k)["id"] for k in keys}
        fields = self._stored(key)
        translation_id, checked = self._within(fields, self._ids)
        version = _version(fields, translation_id)
        if checked:
            self._versions[key] = version
        return version

    def annotate(self, key: Any, hit: Hit) -> Hit:
        """``hit`` (of the document ``key``) with its translation: id, language and title,
        and whether it was folded into this hit."""
        if not self.linked:
            return hit
        hidden = self._folded.grouped.get(key) if self._folded else None
        if hidden is not None:
            other = self._window[hidden]
        else:
            translation_id = self._version(key).translation_id
            if translation_id is None:
                return hit
            found = ("id", translation_id)
            if found not in self._versions:  # not in the window: looked up by id (and kept)
                fields = self._lookup(translation_id)
                self._versions[found] = _version(fields) if fields else None
            other = self._versions[found]
            if other is None:
                return hit  # named, but not indexed: nothing to link to
        hit.translation_id = other.id
        hit.translation_lang, hit.translation_title = other.lang or None, other.title or None
        hit.grouped = hidden is not None
        return hit

    def _version(self, key: Any) -> Version:
        version = self._versions.get(key)
        if version is None:
            fields = self._stored(key)
            version = self._versions[key] = _version(fields, self._translation(fields))
        return version


def _version(fields: Mapping[str, Any], translation_id: str | None = None) -> Version:
    return Version(id=fields["id"], lang=fields.get("lang", ""), title=fields.get("title", ""),
                   translation_id=translation_id)
