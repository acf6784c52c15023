"""Matching one document against the other language's: candidates, scores, the verdict.

The work of :mod:`search.pairing` for one pass over some documents: a bounded candidate
query through the index for each, the candidates scored on the evidence of
:mod:`search.pair_evidence`, and the rule that links only a clear, mutual best.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from search import links
from search.analysis import spelling_analyzer
from search.cognates import CognateIndex
from search.pair_evidence import (
    Profile,
    ProfileMaker,
    Score,
    other_language,
)
from search.pair_scoring import ProfileArrays, TermIds, compare_many, profile_arrays
from search.schema import spelling_fields
from search.translation import Translator

#: The lowest score (see :func:`search.pair_evidence.compare`) a link needs. Tuned on the
#: LibreOffice help (development data); unrelated pages on one subject (the seeds' press
#: releases) score up to about 0.3.
MIN_SCORE = 0.35
#: How far the best candidate must score above the runner-up.
MIN_MARGIN = 0.01
#: Weight of a title word's translations found in a candidate's title, against the body's.
TITLE_BOOST = 2.0
#: Translations of one word in a candidate query.
TERMS_PER_WORD = 3
#: Postings a pass keeps in memory (see MatchingPass._postings).
CACHED_POSTINGS = 2_000_000
#: A pass over this many documents reads the document frequencies it needs all at once.
PRELOAD_DOCS = 200
#: Word number in the high bits of a candidate-scoring key, document number in the low ones.
_SHIFT = 32


@dataclass(frozen=True)
class PairingLimits:
    """Caps on the work per document (whatever the document or the index)."""

    query_terms: int = 60  #: terms in a document's candidate query
    max_postings: int = 500  #: a term in more documents than this is not read
    candidates: int = 8  #: candidates scored per document
    #: a pass over at least this many documents is shared among the cores
    #: (see :mod:`search.pair_parallel`)
    share_from: int = 1000


@dataclass
class PairingStats:
    """What a pass did (the bounded-work test and the benchmark read it)."""

    searched: int = 0  #: documents whose candidates were searched
    query_terms: int = 0
    postings: int = 0
    scored: int = 0
    chars: int = 0
    most_query_terms: int = 0  #: per document
    most_postings: int = 0
    most_scored: int = 0
    linked: int = 0
    unlinked: int = 0
    full: bool = False  #: a pass over every document (no usable earlier state)
    workers: int = 1  #: processes the pass was shared among
    evidence: dict[str, int] = field(default_factory=dict)  #: what decided each new link


def declared_translation(searcher: Any, stored: dict[str, Any]) -> str | None:
    """The translation a document declares (its ``pair_id`` or its pages' hreflang links,
    see :func:`search.links.declared_translation`), if indexed. Site maps' links are not
    read here; at search time they still win over a found pair."""
    return links.declared_translation(searcher, stored)


# -- one pass -----------------------------------------------------------------------------------

class MatchingPass:
    """Finds and decides links within one searcher's view (caches per pass)."""

    def __init__(self, searcher: Any, translator: Translator, cognates: CognateIndex | None,
                 limits: PairingLimits, stats: PairingStats) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.limits = limits
        self.stats = stats
        self.maker = ProfileMaker(searcher, translator, cognates)
        self._surface = spelling_analyzer()
        self._profiles: dict[int, Profile | None] = {}
        self._arrays: dict[int, ProfileArrays] = {}
        self._ids = TermIds()
        #: (field, source word) -> [(df, term, idf)] of its usable query terms, rarest last
        self._usable: dict[tuple[str, str], list[tuple[int, str, float]]] = {}
        self._surface_terms: dict[str, list[str]] = {}
        self._ranked: dict[int, list[tuple[Score, int]]] = {}
        self._declared: dict[int, bool] = {}
        self._lengths: dict[str, np.ndarray] = {}
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self._cached = 0
        self.live = set(self.reader.all_doc_ids())
        self._live_mask = np.zeros(self.reader.doc_count_all(), dtype=bool)
        self._live_mask[list(self.live)] = True
        self._deletions = len(self.live) < self.reader.doc_count_all()

    def stored(self, docnum: int) -> dict[str, Any]:
        return self.searcher.stored_fields(docnum)

    def declared(self, docnum: int) -> bool:
        found = self._declared.get(docnum)
        if found is None:
            found = self._declared[docnum] = declared_translation(
                self.searcher, self.stored(docnum)) is not None
        return found

    def profile(self, docnum: int) -> Profile | None:
        if docnum not in self._profiles:
            stored = self.stored(docnum)
            before = self.maker.chars_read
            self._profiles[docnum] = (None if self.declared(docnum)
                                      else self.maker.profile(docnum, stored))
            self.stats.chars += self.maker.chars_read - before
        return self._profiles[docnum]

    def keep_profiles(self, profiles: dict[int, Profile | None]) -> None:
        """Profiles made elsewhere (by another process of the pass)."""
        for n, prof in profiles.items():
            self._profiles.setdefault(n, prof)

    def keep_ranked(self, ranked: dict[int, list[tuple[Score, int]]]) -> None:
        """Scored candidates found elsewhere (by another process of the pass)."""
        for n, found in ranked.items():
            self._ranked.setdefault(n, found)

    def arrays(self, docnum: int, prof: Profile) -> ProfileArrays:
        found = self._arrays.get(docnum)
        if found is None:
            found = self._arrays[docnum] = profile_arrays(prof, self._ids)
        return found

    def _usable_terms(self, fieldname: str, source: str, terms: Any,
                      n_other: int) -> list[tuple[int, str, float]]:
        """A query group's terms in at most ``max_postings`` of the other language's
        documents, most common first, with their IDF (the same in every query of a pass)."""
        key = (fieldname, source)
        found = self._usable.get(key)
        if found is None:
            cap = self.limits.max_postings
            found = sorted(((df, t, _idf(n_other, df)) for t in terms
                            if 0 < (df := self.maker.df(fieldname, t)) <= cap),
                           reverse=True)
            self._usable[key] = found
        return found

    def _surface_of(self, token: str) -> list[str]:
        found = self._surface_terms.get(token)
        if found is None:
            found = self._surface_terms[token] = list({t.text for t in self._surface(token)})
        return found

    def _query(self, prof: Profile, other: str) -> list[tuple[float, str, str, str]]:
        """(weight, source word, field, term) of the candidate query.

        The document's rarest words and anchors first, each with up to
        :data:`TERMS_PER_WORD` of its translations (the most common in the other language:
        a rare one is more often a sense the text does not mean); only terms the other
        language has in at most ``max_postings`` documents; at most ``query_terms`` terms.
        """
        body, spell = f"body_{other}", spelling_fields()[other]
        n_other = self.maker.lang_docs(other)
        groups: list[tuple[float, str, str, str, Any]] = []
        title = f"title_{other}"
        for term, targets in prof.translations.items():
            groups.append((prof.words[term], term, body, term, targets))
            if term in prof.title:  # a title's words translated are in the other's title
                groups.append((TITLE_BOOST * prof.words[term], f"title:{term}", title, term,
                               targets))
        for token, (weight, kind) in prof.anchors.items():
            if kind != "date":
                groups.append((weight, token, spell, token, None))
        groups.sort(key=lambda g: (-g[0], g[1]))
        chosen: list[tuple[float, str, str, str]] = []
        taken: set[tuple[str, str]] = set()
        most = self.limits.query_terms
        for weight, group, fieldname, source, targets in groups:
            terms = self._surface_of(source) if targets is None else targets
            picked = 0
            for _df, t, idf in self._usable_terms(fieldname, source, terms, n_other):
                if (fieldname, t) in taken:
                    continue
                # A hit on a common word says less than one on a rare word.
                chosen.append((min(weight, idf), group, fieldname, t))
                taken.add((fieldname, t))
                if len(chosen) >= most:
                    return chosen
                picked += 1
                if picked == TERMS_PER_WORD:
                    break
        return chosen

    def _postings(self, fieldname: str, term: str) -> np.ndarray:
        """The live documents holding a term (kept for the pass: the same translations
        come up in many documents' queries; at most CACHED_POSTINGS kept at once)."""
        key = (fieldname, term)
        found = self._cache.get(key)
        if found is None:
            found = np.fromiter(self.reader.postings(fieldname, term).all_ids(),
                                dtype=np.int64)
            if self._deletions:
                found = found[self._live_mask[found]]
            self._cached += len(found)
            if self._cached > CACHED_POSTINGS:
                self._cache.clear()
                self._cached = len(found)
            self._cache[key] = found
        return found

    def _length_norm(self, hits: np.ndarray, fieldname: str) -> np.ndarray:
        """BM25's length normalisation (b = 0.75) of the documents ``hits``: long documents
        hold more of any words."""
        lengths = self._lengths.get(fieldname)
        if lengths is None:
            lengths = self._lengths[fieldname] = np.full(self.reader.doc_count_all(), -1.0)
        for n in hits[lengths[hits] < 0].tolist():
            lengths[n] = self.reader.doc_field_length(n, fieldname, 0) or 0
        lang_docs = self.maker.lang_docs(fieldname.split("_")[1])
        average = max(1.0, self.reader.field_length(fieldname) / lang_docs)
        return 0.25 + 0.75 * lengths[hits] / average

    def _scores(self, query: list[tuple[float, str, str, str]]) -> tuple[np.ndarray, int]:
        """Every document's candidate score (the weights of the query's words it holds: a
        word counts once, with its best weight, whichever of its translations it holds) and
        the postings read. Added word after word, in query order, as one would by hand."""
        number: dict[str, int] = {}
        weights: list[float] = []
        parts: list[np.ndarray] = []
        owners: list[int] = []
        for weight, group, fieldname, term in query:
            parts.append(self._postings(fieldname, term))
            g = number.setdefault(group, len(number))
            owners.append(g)
            if g == len(weights):
                weights.append(weight)
            elif weight > weights[g]:
                weights[g] = weight
        size = self.reader.doc_count_all()
        if not parts:
            return np.zeros(size), 0
        ids = np.concatenate(parts)
        postings = len(ids)
        keys = (np.repeat(np.array(owners, dtype=np.int64) << _SHIFT,
                          [len(p) for p in parts]) | ids)
        keys.sort()  # word after word, document after document
        if len(keys) > 1:  # a document holding two translations of a word counts it once
            keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
        docs = keys & ((1 << _SHIFT) - 1)
        return np.bincount(docs, np.asarray(weights)[keys >> _SHIFT], minlength=size), postings

    def ranked(self, docnum: int) -> list[tuple[Score, int]]:
        """The document's scored candidates, best first (empty if it cannot be paired)."""
        found = self._ranked.get(docnum)
        if found is not None:
            return found
        prof = self.profile(docnum) if docnum in self.live else None
        other = other_language(prof.lang) if prof is not None else None
        if prof is None or other is None:
            self._ranked[docnum] = []
            return []
        query = self._query(prof, other)
        scores, postings = self._scores(query)
        scores[docnum] = 0.0
        hits = np.flatnonzero(scores)
        if len(hits):
            scores[hits] /= self._length_norm(hits, f"body_{other}")
        k = self.limits.candidates
        best = _top(hits, scores[hits], k)
        top = [(int(n), float(scores[n])) for n in best]
        cands: list[tuple[Profile, ProfileArrays]] = []
        kept: list[int] = []
        for hit, _ in top:
            cand = self.profile(hit)
            if cand is None or cand.lang != other:
                continue
            cands.append((cand, self.arrays(hit, cand)))
            kept.append(hit)
        scored = len(kept)
        result = list(zip(compare_many(prof, self.arrays(docnum, prof), cands), kept,
                          strict=True))
        result.sort(key=lambda sc: -sc[0].total)
        s = self.stats
        s.searched += 1
        s.query_terms += len(query)
        s.postings += postings
        s.scored += scored
        s.most_query_terms = max(s.most_query_terms, len(query))
        s.most_postings = max(s.most_postings, postings)
        s.most_scored = max(s.most_scored, scored)
        self._ranked[docnum] = result
        return result

    def clear_best(self, docnum: int) -> tuple[Score, int] | None:
        """The document's best candidate if it wins clearly, else None."""
        ranked = self.ranked(docnum)
        if not ranked:
            return None
        best, hit = ranked[0]
        runner_up = ranked[1][0].total if len(ranked) > 1 else 0.0
        if best.total < MIN_SCORE or best.total - runner_up < MIN_MARGIN:
            return None
        return best, hit

    def decide(self, docnum: int) -> tuple[int, Score, Score | None] | None:
        """(partner, score, runner-up's score) when the two are each other's clear best."""
        found = self.clear_best(docnum)
        if found is None:
            return None
        score, hit = found
        back = self.clear_best(hit)
        if back is None or back[1] != docnum:
            return None
        ranked = self.ranked(docnum)
        return hit, score, ranked[1][0] if len(ranked) > 1 else None


def _idf(n: int, df: int) -> float:
    return math.log(1 + n / max(df, 1))


def _top(hits: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` best of ``hits`` (ascending document numbers) by ``scores``, the earlier
    document first among equals: a stable sort of all of them, cut to ``k``, but sorting
    only those scoring at least the ``k``-th best."""
    if len(hits) > 4 * k > 0:
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        keep = scores >= kth
        hits, scores = hits[keep], scores[keep]
    return hits[np.argsort(-scores, kind="stable")[:k]]
