"""Translations nobody marked: find, at index time, the document that translates another.

A bilingual site publishes many pages twice, and often says so nowhere (no ``pair_id``, no
``hreflang``). After each commit, every new or changed document without a declared
translation is matched against the documents of the other language:

1. **Candidates come from the index**, never from all pairs: a bounded query of the
   document's rarest translation-surviving terms (its words translated by the engine's
   dictionary and cognates, in the other language's body field; its numbers, names, URLs
   and identifiers in the other language's surface-word field), at most
   :attr:`PairingLimits.query_terms` terms, each read only if it is rare enough
   (:attr:`PairingLimits.max_postings`); the :attr:`PairingLimits.candidates` best are kept.
2. **Each candidate is scored** on the evidence of :mod:`search.pair_evidence`.
3. **A link is made only when it is clear**: the best candidate scores at least
   :data:`MIN_SCORE`, beats the runner-up by :data:`MIN_MARGIN`, and the document is, in
   turn, the candidate's own clear best (mutual best). Otherwise nothing is linked: a wrong
   link is worse than none.

The links are kept beside the index generation in ``found_pairs.json`` (written atomically,
updated after every commit, carried over to a rebuilt generation for the documents that did
not change) and read with :func:`load_found_pairs`. Declared translations always win: a
document that has one is neither paired nor a candidate. Pairing is an optional extra: any
failure is logged and leaves the committed index as it is.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from search.analysis import spelling_analyzer
from search.pair_evidence import Profile, ProfileMaker, Score, compare, other_language
from search.schema import spelling_fields
from search.storage import IndexLayout, write_json
from search.translation import CognateIndex, Translator, cognates_for_reader

__all__ = ["FOUND_PAIRS_FILE", "FoundPairs", "PairingLimits", "PairingStats", "load_found_pairs",
           "update_found_pairs", "pair_after_commit"]

log = logging.getLogger(__name__)

#: The file of an index generation folder holding the found pairs.
FOUND_PAIRS_FILE = "found_pairs.json"
FORMAT = 1
#: The lowest score (see :func:`search.pair_evidence.compare`) a link needs. Tuned on the
#: LibreOffice help (development data); unrelated pages on one subject (the seeds' press
#: releases) score up to about 0.3.
MIN_SCORE = 0.35
#: How far the best candidate must score above the runner-up.
MIN_MARGIN = 0.02
#: Translations of one word in a candidate query.
TERMS_PER_WORD = 3
#: Postings a pass keeps in memory (see _Pass._postings).
CACHED_POSTINGS = 2_000_000
#: A pass over this many documents reads the document frequencies it needs all at once.
PRELOAD_DOCS = 200


@dataclass(frozen=True)
class PairingLimits:
    """Caps on the work per document (whatever the document or the index)."""

    query_terms: int = 40  #: terms in a document's candidate query
    max_postings: int = 500  #: a term in more documents than this is not read
    candidates: int = 8  #: candidates scored per document


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
    evidence: dict[str, int] = field(default_factory=dict)  #: what decided each new link


def _declared_translation(searcher: Any, stored: dict[str, Any]) -> str | None:
    """The translation a document declares (its JSONL ``pair_id``), if indexed."""
    pair = stored.get("pair")
    if not pair:
        return None
    for other in searcher.documents(pair=pair):
        if other.get("lang") != stored.get("lang") and other.get("id") != stored.get("id"):
            return other["id"]
    return None


# -- the saved state ----------------------------------------------------------------------------

def _read_state(gen: Path | None) -> dict[str, Any] | None:
    if gen is None:
        return None
    try:
        data = json.loads((Path(gen) / FOUND_PAIRS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return data


def load_found_pairs(gen: Path) -> dict[str, str]:
    """The found translations of a generation, in both directions (``{a: b, b: a}``); an
    empty mapping when there are none (or the file is unreadable)."""
    state = _read_state(gen)
    if state is None:
        return {}
    return {a: link[0] for a, link in state.get("links", {}).items()
            if isinstance(link, list) and link and isinstance(link[0], str)}


class FoundPairs:
    """The found pairs of the generation a searcher has open, read again when the file
    changes (pairing finishes after the commit that a searcher may already show)."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._pairs: dict[str, str] = {}

    def get(self, gen: Path) -> dict[str, str]:
        try:
            st = (Path(gen) / FOUND_PAIRS_FILE).stat()
            key: tuple = (str(gen), st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            key = (str(gen),)
        if key != self._key:
            self._pairs = load_found_pairs(gen) if len(key) > 1 else {}
            self._key = key
        return self._pairs


# -- one pass -----------------------------------------------------------------------------------

class _Pass:
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
        self._ranked: dict[int, list[tuple[Score, int]]] = {}
        self._declared: dict[int, bool] = {}
        self._lengths: dict[str, np.ndarray] = {}
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self._cached = 0
        self.live = set(self.reader.all_doc_ids())

    def stored(self, docnum: int) -> dict[str, Any]:
        return self.searcher.stored_fields(docnum)

    def declared(self, docnum: int) -> bool:
        found = self._declared.get(docnum)
        if found is None:
            found = self._declared[docnum] = _declared_translation(
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

    def _query(self, prof: Profile, other: str) -> list[tuple[float, str, str, str]]:
        """(weight, source word, field, term) of the candidate query.

        The document's rarest words and anchors first, each with up to
        :data:`TERMS_PER_WORD` of its translations (the most common in the other language:
        a rare one is more often a sense the text does not mean); only terms the other
        language has in at most ``max_postings`` documents; at most ``query_terms`` terms.
        """
        body, spell = f"body_{other}", spelling_fields()[other]
        cap = self.limits.max_postings
        n_other = self.maker.lang_docs(other)
        groups: list[tuple[float, str, str, list[str]]] = []
        for term, targets in prof.translations.items():
            groups.append((prof.words[term], term, body, list(targets)))
        for token, (weight, kind) in prof.anchors.items():
            if kind != "date":
                groups.append((weight, token, spell,
                               list({t.text for t in self._surface(token)})))
        groups.sort(key=lambda g: (-g[0], g[1]))
        chosen: list[tuple[float, str, str, str]] = []
        taken: set[tuple[str, str]] = set()
        for weight, group, fieldname, terms in groups:
            usable = [(df, t) for t in terms
                      if 0 < (df := self.maker.df(fieldname, t)) <= cap
                      and (fieldname, t) not in taken]
            usable.sort(reverse=True)
            for df, t in usable[:TERMS_PER_WORD]:
                # A hit on a common word says less than one on a rare word.
                chosen.append((min(weight, _idf(n_other, df)), group, fieldname, t))
                taken.add((fieldname, t))
                if len(chosen) >= self.limits.query_terms:
                    return chosen
        return chosen

    def _postings(self, fieldname: str, term: str) -> np.ndarray:
        """The live documents holding a term (kept for the pass: the same translations
        come up in many documents' queries; at most CACHED_POSTINGS kept at once)."""
        key = (fieldname, term)
        found = self._cache.get(key)
        if found is None:
            live = self.live
            found = np.fromiter((n for n in self.reader.postings(fieldname, term).all_ids()
                                 if n in live), dtype=np.int64)
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
        scores = np.zeros(self.reader.doc_count_all())
        groups: dict[str, list[tuple[float, np.ndarray]]] = {}
        postings = 0
        for weight, group, fieldname, term in query:
            ids = self._postings(fieldname, term)
            postings += len(ids)
            groups.setdefault(group, []).append((weight, ids))
        for found in groups.values():  # a word counts once, whichever of its translations
            if len(found) == 1:
                weight, ids = found[0]
            else:
                weight = max(w for w, _ in found)
                ids = np.unique(np.concatenate([i for _, i in found]))
            scores[ids] += weight
        scores[docnum] = 0.0
        hits = np.flatnonzero(scores)
        if len(hits):
            scores[hits] /= self._length_norm(hits, f"body_{other}")
        k = self.limits.candidates
        best = hits[np.argsort(-scores[hits], kind="stable")[:k]] if len(hits) else hits
        top = [(int(n), float(scores[n])) for n in best]
        result: list[tuple[Score, int]] = []
        scored = 0
        for hit, _ in top:
            cand = self.profile(hit)
            if cand is None or cand.lang != other:
                continue
            result.append((compare(prof, cand), hit))
            scored += 1
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

    def forget(self, docnum: int) -> None:
        """Rank the document's candidates again next time (the links changed)."""
        self._ranked.pop(docnum, None)

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
    import math

    return math.log(1 + n / max(df, 1))


def _decided_by(score: Score, runner_up: Score | None) -> str:
    """The kind of evidence that did most to make the winner win."""
    parts = score.parts()
    if runner_up is not None:
        other = runner_up.parts()
        parts = {k: v - other.get(k, 0.0) for k, v in parts.items()}
    if score.structure < 1 and runner_up is not None and runner_up.structure < score.structure:
        # How much the better structure alone lifted the winner over the runner-up.
        parts["structure"] = score.total - score.total / (1 + (score.structure
                                                                - runner_up.structure))
    return max(parts.items(), key=lambda kv: kv[1])[0] if parts else "words"


# -- updating after a commit -----------------------------------------------------------------

def update_found_pairs(ix: Any, gen: Path, touched: Iterable[str] | None = None, *,
                       pair: bool = True, translator: Translator | None = None,
                       limits: PairingLimits | None = None) -> PairingStats:
    """Bring ``gen``'s found pairs up to date with the index's latest commit.

    ``touched``: the ids this commit may have added, replaced or deleted (None: unknown, so
    every document is looked at). A document whose content did not change since it was last
    looked at is left as it is. The saved state says which commit it describes; if it is
    not the one before this (a crash, an older version), every document is looked at again
    (a rebuilt generation keeps the earlier generation's links between documents that did
    not change). With ``pair`` False only the bookkeeping is done: the links of changed and
    deleted documents are dropped, and the changed documents are remembered as pending, to
    be paired by the next pass that pairs.
    """
    limits = limits or PairingLimits()
    stats = PairingStats()
    gen = Path(gen)
    generation = ix.latest_generation()
    state = _read_state(gen)
    if state is not None and (touched is None or state.get("generation") != generation - 1):
        state = None
    carried = None
    if state is None:
        previous = IndexLayout(gen.parent).current()
        carried = _read_state(previous) if previous is not None and previous != gen else None
    book = _Book(state)
    stats.full = state is None
    with ix.searcher() as searcher:
        if state is None:
            queue = book.start_over(searcher, carried)
        else:
            queue = book.changes(searcher, touched or ())
        stats.unlinked = book.unlinked
        if not pair:
            book.pending.update(queue)
        elif queue:
            book.pending = set()
            _pair(searcher, gen, queue, book, translator, limits, stats)
    write_json(gen / FOUND_PAIRS_FILE, {"format": FORMAT, "generation": generation,
                                        "links": book.links, "seen": book.seen,
                                        "pending": sorted(book.pending)})
    return stats


class _Book:
    """The saved links, what was looked at (id -> content hash), what is pending."""

    def __init__(self, state: dict[str, Any] | None) -> None:
        state = state or {}
        self.links: dict[str, list] = dict(state.get("links", {}))
        self.seen: dict[str, str] = dict(state.get("seen", {}))
        self.pending: set[str] = set(state.get("pending", []))
        self.unlinked = 0

    def unlink(self, doc_id: str) -> str | None:
        """Drop a document's link (both ways); returns its former partner."""
        link = self.links.pop(doc_id, None)
        if link is None:
            return None
        partner = link[0]
        if self.links.get(partner, [None])[0] == doc_id:
            del self.links[partner]
        self.unlinked += 1
        return partner

    def link(self, a: dict[str, Any], b: dict[str, Any], score: float, evidence: str) -> None:
        self.links[a["id"]] = [b["id"], round(score, 4), evidence]
        self.links[b["id"]] = [a["id"], round(score, 4), evidence]

    def start_over(self, searcher: Any, carried: dict[str, Any] | None) -> list[str]:
        """Every document is to be looked at, but the links of a rebuilt generation's
        predecessor between documents that did not change are kept."""
        self.links, self.seen, self.pending = {}, {}, set()
        hashes = {f["id"]: f.get("hash", "") for f in searcher.all_stored_fields()}
        old_seen = (carried or {}).get("seen", {})
        for doc_id, link in (carried or {}).get("links", {}).items():
            partner = link[0] if isinstance(link, list) and link else None
            if (partner in hashes and doc_id in hashes
                    and old_seen.get(doc_id) == hashes[doc_id]
                    and old_seen.get(partner) == hashes[partner]
                    and not _has_declared(searcher, doc_id)):
                self.links[doc_id] = list(link)
                self.seen[doc_id] = hashes[doc_id]
        return [d for d in hashes if d not in self.links]

    def changes(self, searcher: Any, touched: Iterable[str]) -> list[str]:
        """The documents to look at after a commit that touched ``touched``."""
        queue: list[str] = []
        for doc_id in dict.fromkeys([*sorted(self.pending), *touched]):
            stored = searcher.document(id=doc_id)
            if stored is None:  # deleted
                self.seen.pop(doc_id, None)
                self.pending.discard(doc_id)
                partner = self.unlink(doc_id)
                if partner is not None:
                    queue.append(partner)
            elif self.seen.get(doc_id) != stored.get("hash") or doc_id in self.pending:
                partner = self.unlink(doc_id)
                queue.append(doc_id)
                if partner is not None:
                    queue.append(partner)
        for doc_id in list(self.links):  # deleted by the commit without being named
            if doc_id in self.links and searcher.document_number(id=doc_id) is None:
                self.seen.pop(doc_id, None)
                partner = self.unlink(doc_id)
                if partner is not None:
                    queue.append(partner)
        return [d for d in dict.fromkeys(queue) if searcher.document_number(id=d) is not None]


def _has_declared(searcher: Any, doc_id: str) -> bool:
    stored = searcher.document(id=doc_id)
    return stored is not None and _declared_translation(searcher, stored) is not None


def _pair(searcher: Any, gen: Path, queue: list[str], book: _Book,
          translator: Translator | None, limits: PairingLimits, stats: PairingStats) -> None:
    """Look for the translations of the queued documents; link the clear ones."""
    from search.translation import default_translator

    cognates = cognates_for_reader(searcher.reader(), gen)
    run = _Pass(searcher, translator or default_translator(), cognates, limits, stats)
    if len(queue) >= PRELOAD_DOCS:
        run.maker.preload()
    docnums: list[int] = []
    for doc_id in queue:
        n = searcher.document_number(id=doc_id)
        if n is None:
            continue
        stored = run.stored(n)
        book.seen[doc_id] = stored.get("hash", "")
        declared = _declared_translation(searcher, stored)
        if declared is not None:  # a declared translation wins over a found one
            for d in (doc_id, declared):
                former = book.unlink(d)
                if former is not None and former not in (doc_id, declared):
                    m = searcher.document_number(id=former)
                    if m is not None:
                        docnums.append(m)
            continue
        docnums.append(n)
    decisions = []
    for n in dict.fromkeys(docnums):
        found = run.decide(n)
        if found is not None:
            decisions.append((found[1].total, n, found))
    decisions.sort(key=lambda d: -d[0])
    retry: list[int] = []
    for _total, n, (hit, score, runner_up) in decisions:
        _link(run, book, n, hit, score, runner_up, stats, retry)
    for n in retry:  # a document whose partner was taken by a better match: one more try
        if run.stored(n)["id"] in book.links:
            continue
        run.forget(n)
        found = run.decide(n)
        if found is not None:
            _link(run, book, n, found[0], found[1], found[2], stats, None)


def _link(run: _Pass, book: _Book, a: int, b: int, score: Score, runner_up: Score | None,
          stats: PairingStats, retry: list[int] | None) -> None:
    sa, sb = run.stored(a), run.stored(b)
    if sa["id"] in book.links:
        return  # linked meanwhile, to a document that matched it better
    if sb["id"] in book.links:
        former = book.unlink(sb["id"])  # b matches a better than its former partner
        n = run.searcher.document_number(id=former) if former is not None else None
        if n is not None and retry is not None:
            retry.append(n)
    evidence = _decided_by(score, runner_up)
    book.link(sa, sb, score.total, evidence)
    stats.linked += 1
    stats.evidence[evidence] = stats.evidence.get(evidence, 0) + 1


def pair_after_commit(ix: Any, gen: Path, touched: Iterable[str] | None = None,
                      pair: bool = True) -> PairingStats | None:
    """:func:`update_found_pairs`, for the after-commit steps of the writers: a failure is
    logged, never raised (the commit is done and fine without found pairs)."""
    try:
        return update_found_pairs(ix, gen, touched, pair=pair)
    except Exception:  # noqa: BLE001 - an optional extra must not fail a committed run
        log.exception("Could not update the found translations of %s", gen)
        return None
