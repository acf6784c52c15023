"""Index-time analysis without a token stream: the same terms, frequencies and positions.

Whoosh indexes a text by running it through the analyser's chain of generators, one
:class:`~whoosh.analysis.Token` per word per filter, and counting the surviving tokens. Every
step of our chains (:class:`~search.analysis.filters.UnicodeWordTokenizer`, lowercasing,
folding, the stop list, lemmas, Snowball stems, truncation) maps a word to a term on its own,
independent of its neighbours, so the chain can be *compiled* into a cached function from
surface word to index term, applied to the word list that one regular-expression pass finds.
Only positions depend on the sequence, and only through the stop filter's renumbering.

:func:`field_indexer` returns, for a field whose analyser is made of the known steps only, a
function with exactly the output of ``field.index(value)``; for anything else it returns None
and the caller uses Whoosh's own path. ``tests/test_indexing_speed_equivalence.py`` checks the
two agree. Nothing here is pickled into an index: the schema keeps the analysers themselves.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from pickle import dumps
from typing import Any

from whoosh import formats
from whoosh.analysis import LowercaseFilter, StopFilter
from whoosh.analysis.analyzers import CompositeAnalyzer
from whoosh.system import pack_uint

from search.analysis.filters import (
    CachedMorphFilter,
    FoldFilter,
    TruncateFilter,
    UnicodeWordTokenizer,
    fold,
)

#: Index items of one field value: (term bytes, frequency, weight, encoded value), one per term.
Items = list[tuple[bytes, int, float, bytes]]

#: Surface words remembered per chain before the cache is emptied (bounds memory).
CACHE_WORDS = 300_000


def _lower(word: str) -> str:
    return word.lower()


def _fold(word: str) -> str:
    return word if word.isascii() else fold(word)


def _truncate(length: int) -> Callable[[str], str]:
    def truncate(word: str) -> str:
        return word[:length] if len(word) > length and not word.isdigit() else word

    return truncate


class CompiledChain:
    """One analyser as a cached word -> term bytes function (None: a stop word)."""

    def __init__(self, tokenizer: UnicodeWordTokenizer, steps: list[Any],
                 renumber: bool) -> None:
        self.tokenizer = tokenizer
        self.findall = tokenizer.expression.findall
        #: Callables word -> word, and stop filters (which drop the word).
        self.steps = steps
        self.has_stops = any(isinstance(s, StopFilter) for s in steps)
        self.renumber = renumber
        #: surface word -> its index term, UTF-8 encoded as the index keeps it (or None)
        self._cache: dict[str, bytes | None] = {}

    def words(self, value: str) -> list[str]:
        """The surface words of ``value``, as the tokenizer finds them."""
        if not value.isascii():
            value = unicodedata.normalize("NFC", value)
        return self.findall(value)

    def term(self, word: str) -> str | None:
        """The index term of one surface word, or None when a stop filter drops it."""
        for step in self.steps:
            if isinstance(step, StopFilter):
                n = len(word)
                if not (n >= step.min and (step.max is None or n <= step.max)
                        and word not in step.stops):
                    return None
            else:
                word = step(word)
        return word

    def _cached(self, words: set[str]) -> dict[str, bytes | None]:
        """The cache, holding (at least) ``words``."""
        cache = self._cache
        missing = words.difference(cache)
        if missing:
            if len(cache) + len(missing) > CACHE_WORDS:
                cache.clear()
                missing = words
            term = self.term
            for word in missing:
                found = term(word)
                cache[word] = None if found is None else found.encode("utf-8")
        return cache

    def terms(self, words: Sequence[str]) -> list[bytes | None]:
        """The term bytes of each word, in order (None for dropped words)."""
        cache = self._cached(set(words))
        return list(map(cache.__getitem__, words))

    def term_set(self, *texts: Sequence[str]) -> set[bytes]:
        """The distinct term bytes of the words of all ``texts``."""
        words = set(texts[0]).union(*texts[1:])
        cache = self._cached(words)
        found = set(map(cache.__getitem__, words))
        found.discard(None)
        return found

    def positions(self, words: Sequence[str]) -> dict[bytes, list[int]]:
        """term bytes -> its positions, numbered as the token stream numbers them."""
        terms = self.terms(words)
        poses: dict[bytes, list[int]] = {}
        get = poses.get
        if self.has_stops and None in terms:
            if self.renumber:
                # The stop filter keeps the first kept word's position and numbers the
                # following kept words on from it, as if the stop words were not there.
                kept = [t for t in terms if t is not None]
                if not kept:
                    return poses
                first = 0
                while terms[first] is None:
                    first += 1
                pairs: Any = enumerate(kept, first)
            else:
                pairs = ((i, t) for i, t in enumerate(terms) if t is not None)
        else:
            pairs = enumerate(terms)
        for pos, term in pairs:
            found = get(term)
            if found is None:
                poses[term] = [pos]
            else:
                found.append(pos)
        return poses

    def counts(self, words: Sequence[str]) -> Counter:
        """term bytes -> frequency."""
        terms = self.terms(words)
        counts = Counter(terms)
        counts.pop(None, None)
        return counts


def compile_chain(analyzer: Any) -> CompiledChain | None:
    """``analyzer`` as a :class:`CompiledChain`, or None if it has a step we do not know."""
    items = analyzer.items if type(analyzer) is CompositeAnalyzer else [analyzer]
    if not items or type(items[0]) is not UnicodeWordTokenizer:
        return None
    steps: list[Any] = []
    renumber = True
    stops = 0
    for item in items[1:]:
        kind = type(item)
        if kind is LowercaseFilter:
            steps.append(_lower)
        elif kind is FoldFilter:
            steps.append(_fold)
        elif kind is StopFilter:
            stops += 1
            renumber = bool(item.renumber)
            steps.append(item)
        elif (isinstance(item, CachedMorphFilter)
              and kind.__call__ is CachedMorphFilter.__call__
              and kind.base_form is CachedMorphFilter.base_form):
            steps.append(item.base_form)
        elif kind is TruncateFilter:
            steps.append(_truncate(item.length))
        else:
            return None
    if stops > 1:
        return None  # renumbering twice: not worth modelling
    return CompiledChain(items[0], steps, renumber)


class ExistenceIndexer:
    """The field indexer of an ``Existence`` field: only which terms a value holds.

    Called, it returns the items as the other indexers do; the writer asks :meth:`terms`
    directly (every posting of a document is then the same ``(docnum, boost, b"")``).
    """

    def __init__(self, chain: CompiledChain, boost: float,
                 words: Callable[[str, dict], list[str]]) -> None:
        self.chain = chain
        self.boost = boost
        self._words = words

    def terms(self, value: str, memo: dict) -> set[bytes]:
        """The distinct term bytes of ``value``.

        A value made of texts joined by a line break (the spelling field's "title\ntext")
        is split at the first one: no word spans a line break (NFC neither), so the words
        are the same, and a text that another field of the document analysed is not split
        into words again.
        """
        head, newline, tail = value.partition("\n")
        if not newline:
            return self.chain.term_set(self._words(value, memo))
        return self.chain.term_set(self._words(head, memo), self._words(tail, memo))

    def __call__(self, value: str, memo: dict) -> Items:
        boost = self.boost
        return [(term, 1, boost, b"") for term in self.terms(value, memo)]


#: How each supported posting format turns a term's positions into an index item.
_SUPPORTED_FORMATS = (formats.Positions, formats.Frequency, formats.Existence)


def field_indexer(field: Any) -> Callable[[str, dict], Items] | None:
    """A function ``(value, memo)`` with the items ``field.index(value)`` yields, or None.

    ``memo`` is a dict shared by the fields of one document: it keeps the word list of a text
    that several fields analyse (``body_sl`` and ``body_sl_stem``). Only plain ``str`` values
    may be passed (others go through ``field.index``).
    """
    fmt = getattr(field, "format", None)
    if type(fmt) not in _SUPPORTED_FORMATS or not getattr(field, "analyzer", None):
        return None
    chain = compile_chain(field.analyzer)
    if chain is None:
        return None
    boost = fmt.field_boost
    pattern = chain.findall

    def words(value: str, memo: dict) -> list[str]:
        key = (pattern, value)
        found = memo.get(key)
        if found is None:
            found = memo[key] = chain.words(value)
        return found

    if type(fmt) is formats.Positions:
        encode = fmt.encode
        one = pack_uint(1)

        def index_positions(value: str, memo: dict) -> Items:
            poses = chain.positions(words(value, memo))
            items = []
            append = items.append
            for term, pl in poses.items():
                n = len(pl)
                # Positions.encode; inlined for the most common case, a term found once. (Each
                # value is a bytes object of its own, as Whoosh makes them: pickled posting
                # blocks, which memoise shared objects, stay byte for byte the same.)
                vbytes = one + dumps(pl, 2) if n == 1 else encode(pl)
                append((term, n, float(n) * boost, vbytes))
            return items

        return index_positions

    if type(fmt) is formats.Existence:
        return ExistenceIndexer(chain, boost, words)

    def index_frequency(value: str, memo: dict) -> Items:
        counts = chain.counts(words(value, memo))
        return [(term, n, float(n) * boost, pack_uint(n)) for term, n in counts.items()]

    return index_frequency
