"""Result building: the query's matches, re-ranked, made into hits and document views.

:class:`ResultBuilder` runs a parsed query (term at a time through
:class:`~search.whoosh_ext.execution.Executor`, else Whoosh's collector), adds the documents
holding only the query's stop words, re-ranks the top hits by word coverage, by where the
words stand and by direct before translated matches (:func:`_rerank`), and builds
:class:`~search.model.Hit` and :class:`~search.model.DocumentView` (snippets, marked
translations, facets, the document's translation). :class:`~search.searcher.SearchIndex`
owns one and tells it which searcher to read (:meth:`ResultBuilder.follow`).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from whoosh import query as wq
from whoosh import sorting

from search.analysis import LANGUAGES
from search.analysis.fields import TEXT_KINDS, FieldName
from search.dates import newest_first_key
from search.grouping import Pairs, VersionCache
from search.links import Translations
from search.model import UNKNOWN, DocumentView, Hit
from search.pairing import FoundPairs
from search.query import ParsedQuery
from search.ranking import LanguageBM25F, field_language
from search.snippets import Span, match_spans, page_of, paragraphs_html, snippet, spans_matching
from search.spelling import weak_fields
from search.stop_word_tail import WhooshDocuments, stop_word_tail
from search.whoosh_ext.execution import FACETS, Executor, Matches
from search.whoosh_ext.positions import whoosh_positions
from search.whoosh_ext.searcher_cache import doc_frequency

#: Re-ranking (word coverage, direct before translated) looks at this many top hits.
RERANK_WINDOW = 100
#: Weight of word coverage in re-ranking: score * (1 - COVERAGE + COVERAGE * covered share).
COVERAGE = 0.2
#: Where the query's words stand in a top hit's body also re-ranks it (see _position_factor):
#: a text mentions what it is about early, and a name of several words keeps them together.
#: Each weight scales one factor ``1 + weight * share``; all tuned on the development halves.
#: LEAD: how early each word first occurs (IDF-weighted mean of exp(-position / LEAD_SPAN),
#: in words, stop words not counted); LEAD_ALL: how early the body has mentioned them all
#: (exp(-last of their first positions / LEAD_SPAN)).
LEAD = 0.25
LEAD_ALL = 0.2
LEAD_SPAN = 50
#: Share of the query's neighbouring word pairs that stand side by side, in order, in the body
#: (ADJACENCY) and in the title (TITLE_ADJACENCY).
ADJACENCY = 0.1
TITLE_ADJACENCY = 0.1
#: The largest factor the four can make together (with a margin for rounding).
MAX_POSITION_FACTOR = (1 + LEAD) * (1 + LEAD_ALL) * (1 + ADJACENCY) * (1 + TITLE_ADJACENCY) \
    * (1 + 1e-9)
#: A list shorter than asked for goes on with the documents holding only the query's stop
#: words (see :mod:`search.stop_word_tail`); False for ablations.
STOP_WORD_TAIL = True

_WEAK_FIELDS = weak_fields()


class ResultBuilder:
    """Matching, re-ranking and hits of one index's queries.

    ``fast``: term-at-a-time execution (same results as Whoosh's collector, faster); False
    keeps Whoosh's collector, for comparison. ``positions``: re-rank the top hits by where
    the query's words stand in them (see :data:`LEAD`).
    """

    def __init__(self, weighting: LanguageBM25F, *, fast: bool = True,
                 positions: bool = True) -> None:
        self._weighting = weighting
        self._fast = fast
        #: Whether re-ranking reads positions (then even a one-word query is re-ranked).
        self.positional = bool(positions) and any((LEAD, LEAD_ALL, ADJACENCY, TITLE_ADJACENCY))
        self._executor: Executor | None = None
        self._searcher: Any = None
        self._gen: Path | None = None
        #: Declared translation links, resolved lazily and cached (see :mod:`search.links`).
        self._translations = Translations()
        self._found_pairs = FoundPairs()  # translations found at index time (search.pairing)
        self._versions = VersionCache()  # what result grouping read of each document
        self._no_pairs: dict[str, str] = {}  # found pairs without a generation folder: none

    def follow(self, searcher: Any, gen: Path | None = None) -> None:
        """Read the index through ``searcher`` (of generation folder ``gen``) from now on."""
        self._searcher, self._gen = searcher, gen

    def clear_cache(self) -> None:
        """Forget the scored postings kept from earlier queries (for measurements); what
        the executor read once per segment (lengths, facets, columns) stays, as it does
        in a server between queries. What result grouping read of documents is forgotten
        too: it is read as queries need it, not once per segment."""
        if self._executor is not None:
            self._executor.forget_scores()
        self._versions = VersionCache()
        self._translations.forget()

    def pairs(self, group: bool | str, lang: str | None, per_page: int) -> Pairs:
        """Folding and translation links for one search (see :mod:`search.grouping`;
        ``group`` and ``lang`` as :meth:`search.searcher.SearchIndex.search` takes them).
        The side files (found pairs, site maps) are checked once, here; what is read of a
        document is kept while the searcher is."""
        s = self._searcher
        found = self._found_pairs.get(self._gen) if self._gen is not None else self._no_pairs
        resolve = self._translations.resolver(s, self._gen, found)
        documents = self._translations.documents(s)
        return Pairs(documents.fields, resolve, documents.by_id,
                     fold=group is not False and lang is None, per_page=per_page,
                     prefer=group if isinstance(group, str) else None,
                     cache=self._versions.for_reader(s.reader(), found, resolve.sitemaps),
                     linked=resolve.possible, within=resolve.within)

    def match(self, q: wq.Query, filters: list[tuple[str, str]], limit: int,
              terms: set[tuple[str, bytes]], sort: str) -> Matches:
        """The query's matches: term at a time (fast) when it can, else Whoosh's collector."""
        if self._fast:
            if self._executor is None or self._executor.searcher is not self._searcher:
                self._executor = Executor(self._searcher)
            order = ("date", newest_first_key) if sort == "newest" else None
            found = self._executor.run(q, limit=limit, filters=filters, terms=terms,
                                       order=order)
            if found is not None:
                return found
        return _whoosh_match(self._searcher, q, filters, limit, terms, sort)

    def with_stop_word_tail(self, found: Matches, stops: list[str],
                            filters: list[tuple[str, Any]], limit: int) -> Matches:
        """``found`` (all the matches: fewer than ``limit``) followed by the documents that hold
        only the query's stop words ``stops``, counted in the total and the facets."""
        if not STOP_WORD_TAIL or not stops:
            return found
        floor = min(score for _, score in found.top)
        if not self._fast:
            documents: Any = WhooshDocuments(self._searcher, FACETS)
        else:
            if self._executor is None or self._executor.searcher is not self._searcher:
                self._executor = Executor(self._searcher)
            documents = self._executor
        top, every = stop_word_tail(documents, stops, filters, {d for d, _ in found.top},
                                    limit - len(found.top), floor if floor > 0 else 1.0)
        if not every:
            return found
        extra = documents.facets(dict.fromkeys(every, 0.0))
        facets = {}
        for name in set(found.facets) | set(extra):
            counts = dict(found.facets.get(name, {}))
            for value, n in extra.get(name, {}).items():
                counts[value] = counts.get(value, 0) + n
            facets[name] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        return replace(found, top=found.top + top, total=found.total + len(every),
                       facets=facets)

    def _position_factors(self, found: Matches, words: list[set[tuple[str, bytes]]],
                          docnums: list[int]) -> dict[int, float]:
        """The re-ranking factor of each hit in ``docnums`` from where the query's words
        stand in it.

        Positions come from the postings of the terms each hit matched, read for these hits
        only; a word's positions are those of all its terms in the field (lemma and stem
        paths count words alike, stop words left out).
        """
        s = self._searcher
        if not words or not docnums:
            return {}
        kinds = ("body", "title") if len(words) > 1 and TITLE_ADJACENCY else ("body",)
        wanted: dict[tuple[str, bytes], list[int]] = {}
        direct = set().union(*words)
        for docnum in docnums:
            for term in found.matched_terms(docnum):
                if _kind(term[0]) in kinds and term in direct:
                    wanted.setdefault(term, []).append(docnum)
        positions = {term: found.positions(s, term, docs) if self._fast
                     else whoosh_positions(s, term[0], term[1], docs)
                     for term, docs in wanted.items()}
        split = [([t for t in word if _kind(t[0]) == "body"],
                  [t for t in word if _kind(t[0]) == "title"]) for word in words]
        weights: dict[str | None, list[float]] = {}
        factors = {}
        for docnum in docnums:
            matched = found.matched_terms(docnum)
            # A document has its own language's fields only: any matched term tells it.
            lang = next((field_language(name) for name, _ in matched), None)
            if lang not in weights:  # each word's IDF in that language (its rarest term)
                weights[lang] = [max((self._weighting.idf(s, *t) for t in body_terms
                                      if field_language(t[0]) == lang and doc_frequency(s, *t)),
                                     default=0.0) for body_terms, _ in split]
            body, title = [], []
            for body_terms, title_terms in split:
                in_body: set[int] = set()
                in_title: set[int] = set()
                for terms, where in ((body_terms, in_body), (title_terms, in_title)):
                    for term in terms:
                        if term in matched and term in positions:
                            where.update(positions[term].get(docnum, ()))
                body.append(sorted(in_body))
                title.append(in_title)
            factors[docnum] = _position_factor(body, title, weights[lang])
        return factors

    def rerank(self, found: Matches, words: list[set[tuple[str, bytes]]], *, tiers: bool,
               shown: int, strength: float) -> list[tuple[int, float]]:
        """``found``'s top hits re-ranked (see :func:`_rerank`), with position factors when
        ``positional``."""
        factors = ((lambda docnums: self._position_factors(found, words, docnums))
                   if self.positional and strength > 0 else None)
        return _rerank(found, words, tiers=tiers, factors=factors, shown=shown,
                       strength=strength)

    def hit(self, stored: dict[str, Any], score: float | None, rank: int,
            terms: dict, snippets: bool, parsed: ParsedQuery | None = None) -> Hit:
        text = stored.get("text", "")
        lang = stored["lang"]
        spans = _spans(text, lang, terms) if snippets else []
        html = snippet(text, spans) if snippets else ""
        translated = []
        if snippets and parsed and parsed.translated:
            title = stored.get("title", "")
            translated = _translated_words([(title, _spans(title, lang, terms)),
                                            (text, spans)], lang, parsed)
        return Hit(id=stored["id"], title=stored.get("title", ""), lang=stored["lang"],
                   date=stored.get("date"), score=float(score or 0.0), snippet=html, rank=rank,
                   path=stored.get("path"), url=stored.get("url"), translated_terms=translated,
                   page=page_of(stored.get("pages"), spans))  # translation: search.grouping

    def view(self, stored: dict[str, Any], terms: dict | None) -> DocumentView:
        """A stored document whole, with the matches of the query's ``terms`` (if a query was
        given) marked."""
        text = stored.get("text", "")
        spans = _spans(text, stored["lang"], terms) if terms is not None else []
        return DocumentView(id=stored["id"], title=stored.get("title", ""),
                            lang=stored["lang"], date=stored.get("date"), text=text,
                            html=paragraphs_html(text, spans), path=stored.get("path"),
                            url=stored.get("url"),
                            translation_id=self.translation(stored),
                            page=page_of(stored.get("pages"), spans),
                            page_count=len(stored["pages"]) if stored.get("pages") else None)

    def has_translations(self) -> bool:
        """Whether any document of the index can have a translation (see
        :meth:`search.links.Translations.possible`): without, there is nothing to fold."""
        found = self._found_pairs.get(self._gen) if self._gen is not None else {}
        return self._translations.possible(self._searcher, self._gen, found or {})

    def translation(self, stored: dict[str, Any], *,
                     found: Mapping[str, str] | None = None) -> str | None:
        """``stored``'s translation (:func:`search.links.translation_of`); ``found``: pairs
        found without markup (doc id -> id), which declared links override."""
        if found is None and self._gen is not None:  # the pairs found at index time
            found = self._found_pairs.get(self._gen)
        return self._translations.translation_of(self._searcher, self._gen, stored, found or {})


def _translated_words(texts: list[tuple[str, list[Span]]], lang: str,
                      parsed: ParsedQuery) -> list[str]:
    """The marked words (as written, lowercased) of each (text, spans) that matched only
    through translation."""
    wanted = {key: set(terms) for key, terms in parsed.translated.items() if key[0] == lang}
    if not wanted:
        return []
    found = (text[s:e].lower() for text, spans in texts
             for s, e in spans_matching(text, spans, lang, wanted))
    return list(dict.fromkeys(found))


def translated_terms(parsed: ParsedQuery) -> set[tuple[str, bytes]]:
    """The (field, term) pairs of the query's translations."""
    return {(FieldName(kind, lang, path).name, term.encode("utf-8"))
            for (lang, path), terms in parsed.translated.items() for term in terms
            for kind in TEXT_KINDS}


def _kind(fieldname: str) -> str | None:
    """"title" or "body" for a language's text field, else None."""
    name = FieldName.parse(fieldname)
    return name.kind if name is not None and name.is_text else None


def _whoosh_match(searcher: Any, q: wq.Query, filters: list[tuple[str, str]], limit: int,
                  terms: set[tuple[str, bytes]], sort: str) -> Matches:
    """:func:`Executor.run`'s result through Whoosh's own collector (any query, any sort)."""
    kwargs: dict[str, Any] = {
        "limit": limit,
        "filter": _filter_query(filters),
        "groupedby": {name: sorting.FieldFacet(name) for name in FACETS},
        "maptype": sorting.Count,
        "terms": bool(terms),
    }
    if sort == "newest":  # see newest_first_key: the ISO strings alone sort wrongly
        kwargs["sortedby"] = sorting.TranslateFacet(newest_first_key,
                                                    sorting.FieldFacet("date"))
    found = searcher.search(q, **kwargs)
    matched = {hit.docnum: set(hit.matched_terms()) for hit in found} if terms else {}
    # As the executor's: also the query's terms of ``terms`` a document holds where its query
    # did not count them (a translation is left out where the word itself matched).
    searched = {(n, t if isinstance(t, bytes) else t.encode("utf-8"))
                for n, t in q.iter_all_terms()} if matched else set()
    for name, btext in set(terms) & searched:
        for docnum in whoosh_positions(searcher, name, btext, matched):
            matched[docnum].add((name, btext))
    return Matches(total=len(found), facets={n: _facet(found.groups(n)) for n in FACETS},
                   # A sorting collector does not score ("score" is the sort key).
                   top=[(hit.docnum, (hit.score or 0.0) if sort == "relevance" else 0.0)
                        for hit in found],
                   _matched=matched)


def _position_factor(body: list[list[int]], title: list[set[int]],
                     weights: list[float]) -> float:
    """The re-ranking factor of one hit: ``body`` holds each query word's sorted positions in
    its body (in query order; empty when absent), ``title`` those in its title, ``weights``
    each word's IDF. See LEAD, LEAD_ALL, ADJACENCY and TITLE_ADJACENCY.

    >>> round(_position_factor([[0], [1]], [set(), set()], [1.0, 1.0]), 3)
    1.641
    >>> _position_factor([[], []], [set(), set()], [1.0, 1.0])
    1.0
    """
    factor = 1.0
    total = sum(weights)
    if total:
        early = sum(w * math.exp(-p[0] / LEAD_SPAN) for p, w in zip(body, weights, strict=True)
                    if p)
        factor *= 1.0 + LEAD * early / total
    if all(body):
        factor *= 1.0 + LEAD_ALL * math.exp(-max(p[0] for p in body) / LEAD_SPAN)
    pairs = len(body) - 1
    if pairs > 0:
        factor *= 1.0 + ADJACENCY * _side_by_side([set(p) for p in body]) / pairs
        factor *= 1.0 + TITLE_ADJACENCY * _side_by_side(title) / pairs
    return factor


def _side_by_side(positions: list[set[int]]) -> int:
    """How many neighbouring pairs of words (positions in query order) occur next to each
    other, in order, somewhere."""
    return sum(1 for a, b in zip(positions, positions[1:], strict=False)
               if not a.isdisjoint(p - 1 for p in b))


def _rerank(found: Matches, words: list[set[tuple[str, bytes]]], tiers: bool,
            factors: Callable[[list[int]], dict[int, float]] | None = None,
            shown: int = RERANK_WINDOW, strength: float = 1.0) -> list[tuple[int, float]]:
    """Order the top hits by how many of the query's words they cover, by ``factors`` (the
    position factors of the hits whose docnums it is given), and (``tiers``) direct matches
    before documents found only through translations. The order is exact for the first
    ``shown`` hits. ``strength`` (0 to 1) scales coverage and position factors down, for
    verbose queries (see :func:`search.query_weighting.verbosity`).

    BM25 alone ranks a document repeating one query word above one holding every word;
    a mild coverage factor (measured: small gains on every help task) corrects that. With
    no language filter, people expect the documents in their own words first, so those
    found only through a translation come after every direct match. A document matching
    the query's words only through the truncated, folded Slovenian path (``passwrd`` ->
    ``passw`` in a Slovenian page's ``passwordfield``) comes after every document matching
    one of them itself (as written, stemmed or lemmatized) or through a translation. Scores
    stay in rank order: a later tier's are scaled below the earlier ones'.
    """
    direct = set().union(*words) if words else set()
    strong = {term for term in direct if term[0] not in _WEAK_FIELDS}
    rows = []
    for order, (docnum, score) in enumerate(found.top):
        matched = found.matched_terms(docnum)
        covered = sum(1 for w in words if not w.isdisjoint(matched)) / len(words) if words \
            else 1.0
        if not direct or matched & strong:
            tier = 0
        elif not matched & direct or matched - direct:
            tier = 1 if tiers else 0  # through translations (and perhaps the truncated path)
        else:
            tier = 2  # through the truncated path only
        weight = COVERAGE * strength
        rows.append((tier, score * (1.0 - weight + weight * covered), order, docnum))
    extra = factors(_may_reach(rows, shown, MAX_POSITION_FACTOR ** strength)) if factors \
        else {}
    scored = []
    for tier, score, order, docnum in rows:
        score *= extra.get(docnum, 1.0) ** strength
        scored.append((tier, -score, order, docnum, score))
    scored.sort(key=lambda row: row[:3])
    out: list[tuple[int, float]] = []
    last_tier, scale = 0, 1.0
    for tier, _s, _o, docnum, score in scored:
        if tier != last_tier:  # the tier's best: scaled below the previous one's worst
            last_tier, floor = tier, out[-1][1] if out else 0.0
            scale = floor / score * (1 - 1e-9) if out and score >= floor > 0 else 1.0
        out.append((docnum, score * scale))
    return out


def _may_reach(rows: list[tuple[int, float, int, int]], shown: int, most: float) -> list[int]:
    """The docnums of the hits (``(tier, score, order, docnum)``) that could be among the first
    ``shown`` once each score is multiplied by a factor from 1 to ``most``.

    A hit is out of reach when ``shown`` others certainly rank above it: every hit of a better
    tier, and those of its tier whose score beats its own even multiplied by ``most``. Its
    factor cannot change what is shown, so it is not computed (reading positions is the
    costly part of re-ranking).

    >>> _may_reach([(0, 10.0, 0, 7), (0, 9.0, 1, 8), (0, 2.0, 2, 9), (1, 50.0, 3, 5)], 2, 1.5)
    [7, 8]
    >>> _may_reach([(0, 10.0, 0, 7), (0, 9.0, 1, 8), (0, 2.0, 2, 9)], 3, 1.5)
    [7, 8, 9]
    """
    ahead: dict[int, int] = {}  # tier -> hits in better tiers
    scores: dict[int, list[float]] = {}  # tier -> its scores, ascending
    for tier, score, _order, _docnum in rows:
        scores.setdefault(tier, []).append(score)
    before = 0
    for tier in sorted(scores):
        scores[tier].sort()
        ahead[tier] = before
        before += len(scores[tier])
    keep = []
    for tier, score, _order, docnum in rows:
        ranked = scores[tier]
        beaten_by = len(ranked) - bisect_right(ranked, score * most)
        if ahead[tier] + beaten_by < shown:
            keep.append(docnum)
    return keep


def _filter_query(filters: list[tuple[str, Any]]) -> wq.Query | None:
    """The Whoosh query of ``filters`` ((field, value or tuple of values), all required)."""
    if not filters:
        return None
    return wq.And([wq.Term(n, v) if isinstance(v, str) else wq.Or([wq.Term(n, x) for x in v])
                   for n, v in filters])


def with_unknown(lang: str | None) -> str | tuple[str, ...] | None:
    """The ``lang`` values a language filter admits: a language's own documents and those of
    unknown language (indexed as every language); ``UNKNOWN`` alone admits only those."""
    return (lang, UNKNOWN) if lang in LANGUAGES else lang


def _spans(text: str, lang: str, terms: dict) -> list[Span]:
    """The query's matches in a document's text, as analysed in its language (in every
    language for a document of unknown language)."""
    if lang in LANGUAGES:
        return match_spans(text, lang, terms)
    found = {span for code in LANGUAGES for span in match_spans(text, code, terms)}
    merged: list[Span] = []
    for start, end in sorted(found):  # overlapping matches (a lemma and a stem) become one
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _facet(groups: dict[Any, int]) -> dict[str, int]:
    pairs = [(str(k.decode() if isinstance(k, bytes) else k), v) for k, v in groups.items() if k]
    return dict(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))
