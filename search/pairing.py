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
import marshal
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from search.cognates import COGNATE_CACHE, CognateIndex, cognate_fields, cognates_for_reader
from search.language_pair import code_digest
from search.pair_evidence import Score, deciding_evidence
from search.pair_matching import (
    MIN_MARGIN,
    MIN_SCORE,
    PRELOAD_DOCS,
    MatchingPass,
    PairingLimits,
    PairingStats,
    declared_translation,
)
from search.pair_parallel import share_work
from search.side_files import SideFile
from search.storage import IndexLayout, write_json
from search.translation import Translator

__all__ = ["FOUND_PAIRS_FILE", "MIN_MARGIN", "MIN_SCORE", "FoundPairs", "PairingLimits",
           "PairingStats", "load_found_pairs", "update_found_pairs", "pair_after_commit"]

log = logging.getLogger(__name__)

#: The file of an index generation folder holding the found pairs.
FOUND_PAIRS_FILE = "found_pairs.json"
FORMAT = 1


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
    changes (pairing finishes after the commit that a searcher may already show); see
    :class:`search.side_files.SideFile`."""

    def __init__(self) -> None:
        self._file: SideFile[dict[str, str]] = SideFile(FOUND_PAIRS_FILE, load_found_pairs,
                                                        empty=dict)

    def get(self, gen: Path) -> dict[str, str]:
        return self._file.get(gen)

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
        documents = searcher.doc_count()
    write_json(gen / FOUND_PAIRS_FILE, {"format": FORMAT, "generation": generation,
                                        "documents": documents, "links": book.links,
                                        "seen": book.seen, "pending": sorted(book.pending)})
    return stats


class _Book:
    """The saved links, what was looked at (id -> content hash), what is pending."""

    def __init__(self, state: dict[str, Any] | None) -> None:
        state = state or {}
        self.links: dict[str, list] = dict(state.get("links", {}))
        self.seen: dict[str, str] = dict(state.get("seen", {}))
        self.pending: set[str] = set(state.get("pending", []))
        #: live documents after the pass that wrote the state
        self.documents: int | None = state.get("documents")
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
                    and not _has_declared(searcher, doc_id)
                    and not _has_declared(searcher, partner)):
                self.links[doc_id] = list(link)
                self.seen[doc_id] = hashes[doc_id]
        return [d for d in hashes if d not in self.links]

    def changes(self, searcher: Any, touched: Iterable[str]) -> list[str]:
        """The documents to look at after a commit that touched ``touched``."""
        queue: list[str] = []
        new = gone = 0
        for doc_id in dict.fromkeys([*sorted(self.pending), *touched]):
            stored = searcher.document(id=doc_id)
            known = doc_id in self.seen or doc_id in self.pending
            new += stored is not None and not known
            gone += stored is None and known
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
        # Documents deleted by the commit without being named (a folder sync names only what
        # it read): only when the count says some were, are the linked ones looked up.
        unnamed = self.documents is None or searcher.doc_count() != self.documents + new - gone
        for doc_id in list(self.links) if unnamed else ():
            if doc_id in self.links and searcher.document_number(id=doc_id) is None:
                self.seen.pop(doc_id, None)
                partner = self.unlink(doc_id)
                if partner is not None:
                    queue.append(partner)
        return [d for d in dict.fromkeys(queue) if searcher.document_number(id=d) is not None]


def _has_declared(searcher: Any, doc_id: str) -> bool:
    stored = searcher.document(id=doc_id)
    return stored is not None and declared_translation(searcher, stored) is not None


def _pair(searcher: Any, gen: Path, queue: list[str], book: _Book,
          translator: Translator | None, limits: PairingLimits, stats: PairingStats) -> None:
    """Look for the translations of the queued documents; link the clear ones."""
    translator = translator or Translator()
    if translator.pair is None:
        return  # no two languages to translate between
    cognates = _cognates(searcher.reader(), gen, translator, small=len(queue) < PRELOAD_DOCS)
    run = MatchingPass(searcher, translator, cognates, limits, stats)
    if len(queue) >= PRELOAD_DOCS:
        run.maker.preload()
    docnums: list[int] = []
    for doc_id in queue:
        n = searcher.document_number(id=doc_id)
        if n is None:
            continue
        stored = run.stored(n)
        book.seen[doc_id] = stored.get("hash", "")
        declared = declared_translation(searcher, stored)
        if declared is not None:  # a declared translation wins over a found one
            for d in (doc_id, declared):
                former = book.unlink(d)
                if former is not None and former not in (doc_id, declared):
                    m = searcher.document_number(id=former)
                    if m is not None:
                        docnums.append(m)
            continue
        docnums.append(n)
    docnums = list(dict.fromkeys(docnums))
    share_work(run, docnums)
    decisions = []
    for n in docnums:
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
        found = run.decide(n)
        if found is not None:
            _link(run, book, n, found[0], found[1], found[2], stats, None)


def _cognates(reader: Any, gen: Path, translator: Translator, small: bool) -> CognateIndex:
    """The cognate vocabulary to translate with. A small pass (a commit of a few documents)
    takes the generation's last one as it is, even if made before the commit (as searching
    does for a while: a word new to the index is just not taken for a cognate yet), rather
    than going through every word of the index again; otherwise it is made up to date."""
    if small:
        try:
            data = marshal.loads((Path(gen) / COGNATE_CACHE).read_bytes())
            key, tables = data
            pair = translator.pair
            if key[:3] == ("cognates", code_digest(pair), cognate_fields(pair)):
                return CognateIndex.from_tables(*tables, pair=pair)
        except (OSError, EOFError, ValueError, TypeError, IndexError):
            pass
    return cognates_for_reader(reader, gen, translator.pair)


def _link(run: MatchingPass, book: _Book, a: int, b: int, score: Score, runner_up: Score | None,
          stats: PairingStats, retry: list[int] | None) -> None:
    sa, sb = run.stored(a), run.stored(b)
    if sa["id"] in book.links:
        return  # linked meanwhile, to a document that matched it better
    if sb["id"] in book.links:
        former = book.unlink(sb["id"])  # b matches a better than its former partner
        n = run.searcher.document_number(id=former) if former is not None else None
        if n is not None and retry is not None:
            retry.append(n)
    evidence = deciding_evidence(score, runner_up)
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
