"""Term-at-a-time query execution: the same scores as Whoosh's matchers, several times faster.

Whoosh scores an OR query document by document through a tree of matchers, a few dozen
Python method calls per document and level. Our queries are wide (each word searches six
fields, and its translations more), so on the help corpus that tree cost ~30 ms a query.
Here each term's postings are read a block at a time and scored in one tight loop into a
dictionary of document scores, which needs no tree at all; AND, AND NOT and AND MAYBE
combine those dictionaries. Scores are Whoosh's BM25F, computed the same way (field
lengths are Whoosh's one-byte encodings, so the length part of the formula has 256 values,
computed once per term); only sums may differ in the last bit, from a different order.

Facets and the total come from the same dictionary, so counting them costs one pass over
the matches instead of a second matcher run. Query shapes this module does not know
(phrases, ranges, wildcards left unexpanded, ...) make :meth:`Executor.run` return None:
the caller then uses Whoosh's own collector, which gives the same results, only slower
(``tests/test_whoosh_ext_execution.py`` compares the two; ``fast=False`` uses only Whoosh's).

A single term's postings are read and scored by the base class
:class:`~search.whoosh_ext.term_postings.TermPostings`. Wide ORs are pruned exactly
(:mod:`search.whoosh_ext.pruning`), and indexes of many documents are evaluated into numpy
arrays instead of dictionaries (:mod:`search.whoosh_ext.dense`).
"""

from __future__ import annotations

import heapq
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from whoosh import query as wq

from search.model import UNKNOWN
from search.ranking import field_language
from search.whoosh_ext.columnar import SegmentColumns
from search.whoosh_ext.positions import (
    Block,
    block_positions,
    positions_from_blocks,
)
from search.whoosh_ext.term_postings import TermPostings, Unsupported

__all__ = ["Executor", "Matches"]

#: Facet fields counted for every query.
FACETS = ("lang", "year")
#: :meth:`Executor.facets` counts this many documents or more with numpy (a stop-word
#: tail can hold most of the index).
NUMPY_FACETS = 256
#: Pruning (:mod:`search.whoosh_ext.pruning`) considers stopping full scoring only before a
#: term with at
#: least this many postings: below it, scoring costs less than checking.
PRUNE_MIN_POSTINGS = 512
#: Upper bounds are inflated by this share, so that rounding in a sum of scores can never
#: make a document beat a bound it was computed to stay under.
BOUND_MARGIN = 1e-9


@dataclass
class Matches:
    """What a query matched: the total, facet counts and the best documents."""

    total: int
    facets: dict[str, dict[str, int]]
    top: list[tuple[int, float]]  #: (docnum, score), best first
    _leaves: dict[tuple[str, bytes], array] = field(default_factory=dict, repr=False)
    _matched: dict[int, set[tuple[str, bytes]]] = field(default_factory=dict, repr=False)
    _blocks: dict[tuple[str, bytes], list[Block]] = field(default_factory=dict, repr=False)
    #: Reads a term's positions in some documents (the executor's, guided by the columns).
    _read_positions: Callable[[tuple[str, bytes], Iterable[int]], dict[int, list[int]]] | None \
        = field(default=None, repr=False)

    def matched_terms(self, docnum: int) -> set[tuple[str, bytes]]:
        """The query's (field, term) pairs present in a document (as Whoosh's ``terms=True``).

        Worked out for all the top documents at the first call: one pass over each term's
        documents (a set intersection in C) instead of a look-up per document and term.
        """
        if not self._matched and self._leaves:
            top = {d for d, _ in self.top}
            for term, ids in self._leaves.items():
                for d in top.intersection(ids):
                    self._matched.setdefault(d, set()).add(term)
            self._leaves = {}
        return self._matched.get(docnum, set())

    def positions(self, searcher: Any, term: tuple[str, bytes],
                  docnums: Iterable[int]) -> dict[int, list[int]]:
        """The positions of ``term`` in each of ``docnums`` that holds it (for re-ranking):
        from the postings the executor read while scoring when it kept them, else read
        again, only the blocks that hold one of ``docnums``."""
        blocks = self._blocks.get(term)
        if blocks is not None:
            return positions_from_blocks(searcher.schema[term[0]].format, blocks, docnums)
        if self._read_positions is not None:
            return self._read_positions(term, docnums)
        return block_positions(searcher, term[0], term[1], docnums)


class Executor(TermPostings):
    """Evaluates queries over one open Whoosh searcher; caches per-segment data for it.

    Create a new one when the searcher changes (after a commit): the caches are only valid
    for the segments they were built from.
    """

    def __init__(self, searcher: Any, prune: bool = True, dense: bool | None = None,
                 columns: bool = True) -> None:
        self.searcher = searcher
        #: Read postings from the segments' columns where written (see
        #: :mod:`search.whoosh_ext.columnar`); False: always from Whoosh's blocks.
        self.columns = columns
        storage = getattr(getattr(searcher, "_ix", None), "storage", None)
        self._folder: str | None = getattr(storage, "folder", None)
        self._segment_columns: dict[int, SegmentColumns | None] = {}
        #: Evaluate into numpy arrays (:mod:`search.whoosh_ext.dense`): None decides by the
        #: index's size.
        self.dense = dense
        #: Stop scoring every posting once the rest of a wide OR cannot change the top
        #: documents (see :mod:`search.whoosh_ext.pruning`); False scores everything, for
        #: comparison.
        self.prune = prune
        #: The weighting's BM25F parameters per term (LanguageBM25F.parameters); None for
        #: another weighting, whose scores only Whoosh's matchers know how to compute.
        self._parameters = getattr(searcher.weighting, "parameters", None)
        subs = searcher.subsearchers if not searcher.is_atomic() else None
        # (An index without documents has an EmptyReader, which has no term table.)
        self._segments = [(sub.reader(), offset) for sub, offset in (subs or [(searcher, 0)])
                          if hasattr(sub.reader(), "_terms")]
        self._lengths: dict[tuple, Any] = {}  # (segment, field[, "np"]) -> lengths
        self._facet_values: dict[str, tuple[list[str], Any]] = {}  # codes: bytearray or array
        self._docsets: dict[tuple[str, str], frozenset[int]] = {}
        self._deleted: frozenset[int] | None = None
        self._norms: dict[tuple, Any] = {}  # (b, k1, avgfl[, "np"]) -> norm per length
        self._scores: dict[tuple[str, bytes], tuple[array, array]] = {}
        self._maxima: dict[tuple[str, bytes], float] = {}  #: the largest of cached scores
        self._language: str | None = None  #: during run(): the language filter, if any
        #: Each term's per-segment term infos, looked up once for this searcher's life (up
        #: to CACHED_INFOS terms); during run(), the blocks of postings kept for the
        #: positions of the terms in ``_keep``.
        self._infos: dict[tuple[str, bytes], list[tuple[int, Any]]] = {}
        self._blocks: dict[tuple[str, bytes], list[Block]] = {}
        self._keep: frozenset[tuple[str, bytes]] = frozenset()
        self._cached = 0
        #: Terms scored for the pruning's candidates only, over this executor's life.
        self.pruned_terms = 0
        #: Segment postings of a term read from columns, over this executor's life.
        self.column_reads = 0

    def forget_scores(self) -> None:
        """Forget the scored postings and term infos kept from earlier queries (for
        measurements: a pass over a sample of queries starts as a stream of new ones)."""
        self._scores.clear()
        self._maxima.clear()
        self._infos.clear()
        self._cached = 0

    # -- the public entry point -------------------------------------------------------------

    def run(self, q: wq.Query, *, limit: int, filters: Iterable[tuple[str, str]] = (),
            terms: Iterable[tuple[str, bytes]] = (),
            order: tuple[str, Callable[[str], Any]] | None = None) -> Matches | None:
        """Top ``limit`` documents of ``q`` among those with every (field, value) of
        ``filters`` (a tuple of values: any of them); None if ``q`` has a shape this
        executor does not evaluate.

        ``terms``: the (field, term) pairs whose presence in the top documents
        :meth:`Matches.matched_terms` should report. ``order``: (field, key) to rank by the
        key of each document's value of that field (ascending; "" for none), then by score,
        instead of by score alone (no pruning then: pruning keeps the best scores).
        """
        from search.whoosh_ext.dense import DENSE_MIN_DOCS, run_dense
        from search.whoosh_ext.pruning import eval_pruned

        leaves: dict[tuple[str, bytes], array | None] = dict.fromkeys(terms)
        filters = list(filters)
        # A document has the fields of its own language only: with a language filter, the
        # terms of another language's fields cannot touch the results, so they are skipped.
        self._language = self._filtered_language(filters)
        self._keep = frozenset(leaves)
        others: set[int] | None = None
        by_score = order is None and type(q) is not wq.Every
        dense = by_score and (self.dense if self.dense is not None else (
            self.searcher.doc_count_all() >= DENSE_MIN_DOCS))
        try:
            if dense:
                matches = run_dense(self, q, limit, filters, leaves)
                matches._blocks = self._blocks
                matches._read_positions = self.positions
                return matches
            found = (eval_pruned(self, q, leaves, limit, filters) if self.prune and by_score
                     else None)
            if found is None:
                scores = self._eval(q, leaves)
            else:
                scores, others = found
        except Unsupported:
            return None
        finally:
            self._language = None
            blocks, self._blocks, self._keep = self._blocks, {}, frozenset()
        deleted = self.deleted()
        if deleted:
            for docnum in deleted if len(deleted) < len(scores) else list(scores):
                if docnum in deleted:
                    scores.pop(docnum, None)
        for name, value in filters:  # a tuple of values: any of them
            allowed = self.docset(name, value)
            scores = {d: s for d, s in scores.items() if d in allowed}
        matched: Any = scores
        if others:  # documents the pruned terms matched: counted, not scored
            others.difference_update(scores)
            others.difference_update(deleted)
            for name, value in filters:
                others.intersection_update(self.docset(name, value))
            matched = others.union(scores)
        top = _top(scores, limit) if order is None else self._ordered(scores, limit, *order)
        return Matches(total=len(matched), facets=self.facets(matched), top=top,
                       _leaves={k: v for k, v in leaves.items() if v}, _blocks=blocks,
                       _read_positions=self.positions)

    def _filtered_language(self, filters: list[tuple[str, Any]]) -> str | None:
        """The one language whose fields can match under the ``lang`` filter, if any.

        Documents of unknown language have every language's fields, so the others can be
        skipped only when no such document passes the filter.
        """
        value = next((v for n, v in filters if n == "lang"), None)
        values = (value,) if isinstance(value, str) else tuple(value or ())
        known = [v for v in values if v != UNKNOWN]
        if len(known) != 1 or any(self.docset("lang", v) for v in values if v == UNKNOWN):
            return None
        return known[0]

    # -- evaluation -------------------------------------------------------------------------

    def _eval(self, q: wq.Query, leaves: dict | None) -> dict[int, float]:
        """Document scores of ``q``: a new dictionary the caller may change."""
        if isinstance(q, wq.Term):
            acc: dict[int, float] = {}
            self._add_term(q, acc, q.boost, leaves)
            return acc
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return {}
        if type(q) is wq.Every and q.fieldname in (None, "", "*"):
            # Every document, unscored (a filter-only query lists them; deletions and
            # filters are applied by run()).
            return dict.fromkeys(range(self.searcher.doc_count_all()), 0.0)
        if type(q) is wq.Or:
            if q.minmatch or q.scale:
                raise Unsupported
            return self._eval_or(q, leaves)
        if type(q) is wq.And:
            subs = q.subqueries
            if any(isinstance(s, wq.Not) for s in subs):
                raise Unsupported
            if len(subs) == 1:  # as Whoosh: a lone child ignores its parent's boost
                return self._eval(subs[0], leaves)
            parts = sorted((self._eval(s, leaves) for s in subs), key=len)
            acc = parts[0]
            for part in parts[1:]:
                acc = {d: s + part[d] for d, s in acc.items() if d in part}
            return _boosted(acc, q.boost) if subs else acc
        if type(q) is wq.AndNot:
            acc = self._eval(q.a, leaves)
            if acc:
                for docnum in self._ids(q.b):
                    acc.pop(docnum, None)
            return _boosted(acc, q.boost)
        if type(q) is wq.AndMaybe:
            acc = self._eval(q.a, leaves)
            if acc:
                extra = self._eval(q.b, leaves)
                for docnum, s in extra.items():
                    if docnum in acc:
                        acc[docnum] += s
            return _boosted(acc, q.boost)
        raise Unsupported

    def _eval_or(self, q: wq.Or, leaves: dict | None) -> dict[int, float]:
        subs = q.subqueries
        if len(subs) == 1:  # as Whoosh: a lone child ignores its parent's boost
            return self._eval(subs[0], leaves)
        boost = q.boost
        acc: dict[int, float] = {}
        for sub in subs:
            if type(sub) is wq.Term:
                self._add_term(sub, acc, sub.boost * boost, leaves)
                continue
            part = self._eval(sub, leaves)
            if boost != 1.0:
                part = _boosted(part, boost)
            if not acc:
                acc = part
                continue
            _merge(acc, part)
        return acc

    def _add_term(self, q: wq.Term, acc: dict[int, float], boost: float,
                  leaves: dict | None) -> None:
        """Add one term's BM25F scores (times ``boost``) into ``acc``."""
        scored = self._term_scores(q)
        if scored is None:
            return
        ids, scores = scored
        if not acc:  # the first term of a clause: filled in C
            acc.update(zip(ids, scores if boost == 1.0 else map(boost.__mul__, scores),
                           strict=True))
        else:
            get = acc.get
            if boost == 1.0:
                for d, sc in zip(ids, scores, strict=True):
                    acc[d] = get(d, 0.0) + sc
            else:
                for d, sc in zip(ids, scores, strict=True):
                    acc[d] = get(d, 0.0) + sc * boost
        if leaves is not None:
            self._note_leaf(q, ids, leaves)

    def _note_leaf(self, q: wq.Term, ids: array, leaves: dict) -> None:
        key = (q.fieldname, self.searcher.schema[q.fieldname].to_bytes(q.text))
        if key in leaves:
            if leaves[key]:  # the same term twice in the query
                ids = array("I", sorted(set(leaves[key]).union(ids)))
            leaves[key] = ids

    def _term_key(self, q: wq.Term) -> tuple[tuple[str, bytes], Any] | None:
        """``((field, term bytes), field object)`` of a term this run may score; None when
        it cannot match (no such field, another language's field under a language filter,
        a value the field cannot hold)."""
        fieldname = q.fieldname
        schema = self.searcher.schema
        if fieldname not in schema:
            return None
        if self._language and field_language(fieldname) not in (None, self._language):
            return None
        fieldobj = schema[fieldname]
        try:
            return (fieldname, fieldobj.to_bytes(q.text)), fieldobj
        except ValueError:
            return None

    def _ids(self, q: wq.Query) -> set[int]:
        """The documents ``q`` matches, unscored (the excluded side of AND NOT)."""
        if isinstance(q, wq.Term):
            fieldname = q.fieldname
            schema = self.searcher.schema
            if fieldname not in schema:
                return set()
            fieldobj = schema[fieldname]
            try:
                btext = fieldobj.to_bytes(q.text)
            except ValueError:
                return set()
            out: set[int] = set()
            for offset, _lengths, ids, _weights in self._postings(
                    fieldname, btext, fieldobj.format, scored=False):
                out.update(ids if not offset else (d + offset for d in ids))
            return out
        if type(q) is wq.Or and not q.minmatch:
            out = set()
            for sub in q.subqueries:
                out |= self._ids(sub)
            return out
        return set(self._eval(q, None))

    def _ordered(self, scores: dict[int, float], limit: int, name: str,
                 key: Callable[[str], Any]) -> list[tuple[int, float]]:
        """The ``limit`` first documents by ``key`` of their ``name`` value, then by score."""
        if limit <= 0 or not scores:
            return []
        values, codes = self._facet_codes(name)
        ranks = {code: i for i, code in enumerate(sorted(range(len(values)),
                                                         key=lambda c: key(values[c])))}
        return heapq.nsmallest(limit, scores.items(),
                               key=lambda item: (ranks[codes[item[0]]], -item[1], item[0]))

    # -- per-segment data -------------------------------------------------------------------

    def deleted(self) -> frozenset[int]:
        if self._deleted is None:
            self._deleted = frozenset(
                docnum + offset for reader, offset in self._segments
                for docnum in (reader.deleted_docs_set if reader.has_deletions() else ()))
        return self._deleted

    def docset(self, name: str, value: str | tuple[str, ...]) -> frozenset[int]:
        """Documents whose ``name`` field holds ``value`` (any of a tuple of values: a
        language filter takes the documents of unknown language too); cached."""
        if not isinstance(value, str):
            return frozenset().union(*(self.docset(name, v) for v in value))
        key = (name, value)
        if key not in self._docsets:
            if len(self._docsets) > 256:
                self._docsets.clear()
            self._docsets[key] = frozenset(self._ids(wq.Term(name, value)))
        return self._docsets[key]

    def facets(self, docnums: Iterable[int]) -> dict[str, dict[str, int]]:
        """Each facet's value counts over ``docnums`` (a collection: read once per facet;
        many documents are counted with one ``bincount`` per facet, the same counts)."""
        size = len(docnums) if hasattr(docnums, "__len__") else 0
        ids = (np.fromiter(docnums, dtype=np.int64, count=size)
               if size >= NUMPY_FACETS else None)
        out = {}
        for name in FACETS:
            values, codes = self._facet_codes(name)
            if ids is not None:
                per_code = np.bincount(np.asarray(memoryview(codes))[ids], minlength=len(values))
                counts = {code: n for code, n in enumerate(per_code.tolist()) if n}
            else:
                counts = Counter(map(codes.__getitem__, docnums))
            pairs = [(values[code], n) for code, n in counts.items() if code]
            out[name] = dict(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))
        return out

    def _facet_codes(self, name: str) -> tuple[list[str], Any]:
        """A field's values, and per document the index of its value (0: none)."""
        if name not in self._facet_values:
            total = self.searcher.doc_count_all()
            values = [""]
            codes: Any = bytearray(total)
            schema = self.searcher.schema
            if name in schema:
                fieldobj = schema[name]
                for term in self.searcher.reader().lexicon(name):
                    value = term.decode("utf-8") if isinstance(term, bytes) else str(term)
                    btext = term if isinstance(term, bytes) else fieldobj.to_bytes(term)
                    values.append(value)
                    if len(values) == 256 and isinstance(codes, bytearray):
                        codes = array("I", codes)
                    code = len(values) - 1
                    for offset, _lengths, ids, _weights in self._postings(
                            name, btext, fieldobj.format, scored=False):
                        for docnum in ids:
                            codes[docnum + offset] = code
            self._facet_values[name] = (values, codes)
        return self._facet_values[name]


def _merge(acc: dict[int, float], part: dict[int, float]) -> None:
    """Add ``part``'s scores into ``acc`` (``acc`` may be empty)."""
    if not acc:
        acc.update(part)
        return
    get = acc.get
    for docnum, s in part.items():
        acc[docnum] = get(docnum, 0.0) + s


def _boosted(scores: dict[int, float], boost: float) -> dict[int, float]:
    if boost == 1.0:
        return scores
    return {d: s * boost for d, s in scores.items()}


def _top(scores: dict[int, float], limit: int) -> list[tuple[int, float]]:
    """The ``limit`` best (docnum, score): higher score first, then the earlier document
    (Whoosh's order). The cut-off score is found on the bare floats (fast in C); only the
    few documents at or above it are sorted with the tie-break."""
    if limit <= 0 or not scores:
        return []
    if limit < len(scores):
        cutoff = heapq.nlargest(limit, scores.values())[-1]
        items = [(d, s) for d, s in scores.items() if s >= cutoff]
    else:
        items = list(scores.items())
    items.sort(key=lambda item: (-item[1], item[0]))
    return items[:limit]
