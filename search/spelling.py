"""Spelling correction ("did you mean", "showing results for") whose work is bounded by
construction.

**Vocabulary.** The index's surface words (the ``spell_*`` fields, one per language; see
:func:`search.schema.spelling_fields`), folded (``država`` and ``drzava`` are one entry, shown
as the form most documents use), each with its document frequency in each language. It is
read from the term index, never from postings: a word's document frequency is in its term
info (:mod:`search.whoosh_ext.terms`, the per-segment reader the completion table shares).
It is made for each commit and kept beside the index files of the generation
(:data:`VOCABULARY_FILE`), from per-segment tables (:data:`SEGMENTS_FILE`): Whoosh segments
never change, so a commit that adds one reads only that segment's words, and one that merges
segments reads the merged one. The indexer makes it after every commit (see
:func:`save_vocabulary`); a search process that finds it missing or stale makes it the same
way.

**Correcting a word** compares its folded form (optimal string alignment distance: insertions,
deletions, substitutions and transpositions, computed by rapidfuzz in C) with vocabulary words
of nearby length that share its first letter, or whose first or second letter explains a typo
in the first letter, most frequent first, and with at most :data:`MAX_CANDIDATES` of them
(:data:`MAX_QUERY_CANDIDATES` for a whole query, whose first :data:`MAX_WORDS` words only are
checked). So what a query costs depends neither on the size of the vocabulary nor on what was
typed: ten unknown words, a 10,000-letter word or random Unicode examine at most that many
words. The closest candidate wins; among equally close ones, the most frequent in its own
language (document frequency over the number of documents in that language, so that the
smaller language is not outvoted). Results are kept in a bounded cache.

**When to correct.** A query word is *strong* when it, its fold, or its analysis by a main
path (English stems, Slovenian lemmas) is in the index; *weak* when only the truncated, folded
Slovenian path (``*_stem``) matches it, which an English typo often does (``passwrd`` ->
``passw``); otherwise unknown. Weak and unknown words are corrected and the correction offered;
when no word of the query is strong and every correction is one edit away, the correction is
searched instead (see :func:`check_query`).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import OSA

from search.analysis import LANGUAGES
from search.analysis.filters import WORDS, fold
from search.cache import read_cache, write_cache
from search.query import _positive_words, stop_words
from search.schema import spelling_fields
from search.whoosh_ext.searcher_cache import doc_frequency
from search.whoosh_ext.terms import SegmentTerms, segment_id

#: Query words checked (and corrected) per query; a longer query is never replaced.
MAX_WORDS = 10
#: Words shorter than this are never corrected, and never proposed: one edit turns most
#: three-letter strings into some word of a large vocabulary (``hkq`` -> ``hq``, ``xxv`` ->
#: ``xxx``).
MIN_CHARS = 4
#: A query is searched corrected instead of as typed only when every correction is at most
#: this many edits away (``passwrd``, ``policjia``); farther ones are only offered
#: (``policija`` -> ``količina``, two substitutions, in an index without ``policija``).
REPLACE_MAX_EDITS = 1
#: Longer words are never corrected (they are names, codes or junk, not typos).
MAX_CHARS = 40
#: Vocabulary words compared with one query word, and with all the words of one query.
MAX_CANDIDATES = 5_000
MAX_QUERY_CANDIDATES = 25_000
#: Corrections remembered (per index commit).
CACHE_SIZE = 10_000
#: Files of an index generation folder: the vocabulary, and the per-segment tables it is made of.
VOCABULARY_FILE = "spelling.marshal"
SEGMENTS_FILE = "spelling-segments.marshal"
#: Bump when the layout of the cached tables changes.
FORMAT = 1

#: How a query word is known (see :func:`word_strength`).
STRONG, WEAK, UNKNOWN = "strong", "weak", "unknown"

#: Document frequencies of one word in every language, packed in one int (languages in the
#: order of spelling_fields(), 32 bits each): one dict entry per word instead of one per
#: word and language.
_SHIFT = 32
_MASK = (1 << _SHIFT) - 1


def max_edits(length: int) -> int:
    """Edits allowed for a word of ``length`` letters: none below MIN_CHARS, one up to five
    letters, then two.

    >>> [max_edits(n) for n in (3, 4, 5, 6, 12)]
    [0, 1, 1, 2, 2]
    """
    return 0 if length < MIN_CHARS else 1 if length <= 5 else 2


def weak_fields() -> frozenset[str]:
    """The fields of analysis paths other than each language's main one (``body_sl_stem``):
    a match there alone is a weak sign that a document holds the word."""
    return frozenset(name.name for lang in LANGUAGES.values() for name in lang.text_fields()
                     if name.path != lang.main.name)


# -- the vocabulary ----------------------------------------------------------------------------

class Vocabulary:
    """The folded words of an index, their frequencies by language, and length buckets.

    ``counts`` maps surface words to their packed document frequencies (see
    :func:`pack`); ``docs`` is the number of documents of each language.
    """

    def __init__(self, counts: Mapping[str, int], docs: Mapping[str, int]) -> None:
        langs = list(spelling_fields())
        shifts = [_SHIFT * i for i in range(len(langs))]
        folded: dict[str, int] = {}
        shown: dict[str, tuple[int, str]] = {}  # key -> (packed counts, most used surface form)
        for word, packed in counts.items():
            if not word.isalpha():
                continue
            key = fold(word)
            folded[key] = folded.get(key, 0) + packed
            best = shown.get(key)
            if best is None:
                shown[key] = (packed, word)
            elif (sum((packed >> i) & _MASK for i in shifts), word) > \
                    (sum((best[0] >> i) & _MASK for i in shifts), best[1]):
                shown[key] = (packed, word)
        self._docs = [max(1, int(docs.get(code, 0))) for code in langs]
        self._counts = folded
        self._display = {key: word for key, (_n, word) in shown.items() if word != key}
        # (length, first letter) and (length, second letter) -> words, most frequent first.
        rates = {key: max(((packed >> i) & _MASK) / n for i, n in zip(shifts, self._docs,
                                                                     strict=True))
                 for key, packed in folded.items()}
        first: dict[tuple[int, str], list[str]] = {}
        second: dict[tuple[int, str], list[str]] = {}
        for key in sorted(folded, key=lambda k: (-rates[k], k)):
            if MIN_CHARS <= len(key) <= MAX_CHARS + 2:
                first.setdefault((len(key), key[0]), []).append(key)
                second.setdefault((len(key), key[1]), []).append(key)
        self._first, self._second = first, second

    @classmethod
    def from_tables(cls, tables: tuple) -> Vocabulary:
        """A vocabulary from :meth:`tables` (as cached)."""
        vocabulary = cls.__new__(cls)
        (vocabulary._docs, vocabulary._counts, vocabulary._display, vocabulary._first,
         vocabulary._second) = tables
        return vocabulary

    def tables(self) -> tuple:
        """What :meth:`from_tables` takes (marshal-able)."""
        return self._docs, self._counts, self._display, self._first, self._second

    def __len__(self) -> int:
        return len(self._counts)

    def __contains__(self, key: str) -> bool:
        """Whether the folded word ``key`` is in the index."""
        return key in self._counts

    def frequencies(self, key: str) -> dict[str, int]:
        """Document frequency of the folded word ``key`` in each language."""
        return dict(zip(spelling_fields(), unpack(self._counts.get(key, 0)), strict=False))

    def rate(self, key: str) -> float:
        """Share of documents holding ``key`` in the language where that share is highest."""
        return max(df / docs for df, docs in zip(unpack(self._counts.get(key, 0)), self._docs,
                                                 strict=False))

    def display(self, key: str) -> str:
        """The folded word ``key`` as most documents write it (``drzava`` -> ``država``)."""
        return self._display.get(key, key)

    def buckets(self, key: str, edits: int) -> Iterator[list[str]]:
        """The lists of words that may be within ``edits`` of the folded word ``key``, most
        promising first: same first letter; then a typo in the first letter (substituted:
        same second letter; an extra letter typed first, or the first two swapped: first
        letter is its second; first letter left out: second letter is its first)."""
        n = len(key)
        lengths = sorted(range(max(MIN_CHARS, n - edits), n + edits + 1),
                         key=lambda length: abs(length - n))
        plan = [(self._first, key[0])]
        if n > 1:
            plan += [(self._second, key[1]), (self._first, key[1]), (self._second, key[0])]
        for table, letter in plan:
            for length in lengths:
                bucket = table.get((length, letter))
                if bucket:
                    yield bucket


def pack(frequencies: Iterable[int]) -> int:
    """Document frequencies in the languages of spelling_fields(), as one int.

    >>> unpack(pack([3, 5]))
    (3, 5)
    """
    out = 0
    for i, df in enumerate(frequencies):
        out |= min(int(df), _MASK) << (_SHIFT * i)
    return out


def unpack(packed: int) -> tuple[int, ...]:
    return tuple((packed >> (_SHIFT * i)) & _MASK for i in range(len(spelling_fields())))


def segment_counts(reader: Any, terms: SegmentTerms | None = None) -> dict[str, int]:
    """Surface word -> packed document frequencies, for one segment's reader (its terms
    read through ``terms``, the per-segment reader shared with the completion table)."""
    terms = terms if terms is not None else SegmentTerms()
    counts: dict[str, int] = {}
    for i, name in enumerate(spelling_fields().values()):
        shift = _SHIFT * i
        for word, df in terms.frequencies(reader, name).items():
            counts[word] = counts.get(word, 0) + (min(df, _MASK) << shift)
    return counts


def _segments(reader: Any) -> list[tuple[str | None, Any]]:
    """(segment id or None, leaf reader) of every segment of a reader."""
    return [(segment_id(leaf), leaf) for leaf, _base in reader.leaf_readers()]


def vocabulary_for_reader(reader: Any, folder: str | Path | None = None,
                          terms: SegmentTerms | None = None) -> Vocabulary:
    """The :class:`Vocabulary` of a reader's index.

    With ``folder`` (the reader's generation folder), it is read from there when it was made
    for the reader's segments, and otherwise made from the per-segment tables kept there
    (reading only the segments not in them, through ``terms``) and saved. A folder that
    cannot be written just means no cache.
    """
    segments = _segments(reader)
    ids = [sid for sid, _ in segments]
    if terms is not None:
        terms.retain(ids)
    known = folder is not None and None not in ids
    path = Path(folder) / VOCABULARY_FILE if folder is not None else None
    key = ("spelling", FORMAT, tuple(sorted(ids))) if known else None
    if path is not None and key is not None:
        found = read_cache(path, key)
        if found is not None:
            return Vocabulary.from_tables(found)
    parts_path = Path(folder) / SEGMENTS_FILE if folder is not None else None
    parts_key = ("spelling-segments", FORMAT)
    old: dict[str, dict[str, int]] = (read_cache(parts_path, parts_key) or {}) \
        if parts_path is not None and known else {}
    parts: dict[str, dict[str, int]] = {}
    counts: dict[str, int] = {}
    for sid, leaf in segments:
        table = old.get(sid) if sid is not None else None
        if table is None:
            table = segment_counts(leaf, terms)
        if sid is not None:
            parts[sid] = table
        for word, packed in table.items():
            counts[word] = counts.get(word, 0) + packed
    docs = {code: reader.doc_frequency("lang", code) for code in spelling_fields()}
    vocabulary = Vocabulary(counts, docs)
    if path is not None and key is not None and parts_path is not None:
        write_cache(parts_path, parts_key, parts)  # only the segments in use: merged-away go
        write_cache(path, key, vocabulary.tables())
    return vocabulary


def save_vocabulary(ix: Any, folder: str | Path, terms: SegmentTerms | None = None) -> None:
    """Make (or update) and keep the vocabulary of index ``ix`` in its generation ``folder``:
    the indexer calls this after each commit, so that searching never has to."""
    with ix.reader() as reader:
        vocabulary_for_reader(reader, folder, terms)


# -- correcting --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Correction:
    """What correcting one query word found."""

    word: str  #: the query word, lowercased
    fix: str | None  #: the closest, most frequent known word, or None
    examined: int  #: vocabulary words it was compared with (0 when the cache knew it)
    distance: int = 0  #: edits from the word to ``fix`` (folded)


class Speller:
    """Corrects words against one :class:`Vocabulary`, with a bounded cache (thread-safe)."""

    def __init__(self, vocabulary: Vocabulary, cache_size: int = CACHE_SIZE) -> None:
        self.vocabulary = vocabulary
        self._cache: OrderedDict[str, tuple[str | None, int]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def correct(self, word: str, budget: int = MAX_CANDIDATES) -> Correction:
        """The correction of ``word``, comparing it with at most ``budget`` (and
        :data:`MAX_CANDIDATES`) vocabulary words."""
        low = word.lower()
        key = fold(low)
        edits = max_edits(len(key))
        if not edits or len(key) > MAX_CHARS or not key.isalpha() or budget <= 0:
            return Correction(low, None, 0)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                fix, distance = self._cache[key]
                return Correction(low, fix, 0, distance)
        limit = min(budget, MAX_CANDIDATES)
        vocabulary = self.vocabulary
        best: tuple[int, float, str] | None = None
        examined = 0
        for bucket in vocabulary.buckets(key, edits):
            words = bucket[:limit - examined]
            examined += len(words)
            for candidate, distance, _ in process.extract(key, words, scorer=OSA.distance,
                                                          score_cutoff=edits, limit=None):
                if candidate != key:
                    rank = (int(distance), -vocabulary.rate(candidate), candidate)
                    if best is None or rank < best:
                        best = rank
            if examined >= limit:
                break
        fix, distance = (vocabulary.display(best[2]), best[0]) if best is not None else (None, 0)
        if limit == MAX_CANDIDATES or examined < limit:  # not cut short by the query's budget
            with self._lock:
                self._cache[key] = (fix, distance)
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return Correction(low, fix, examined, distance)

    def correct_all(self, words: Iterable[str]) -> list[Correction]:
        """Corrections of the first :data:`MAX_WORDS` of ``words``, all of them together
        comparing at most :data:`MAX_QUERY_CANDIDATES` vocabulary words."""
        budget = MAX_QUERY_CANDIDATES
        out = []
        for word in list(words)[:MAX_WORDS]:
            found = self.correct(word, budget)
            budget -= found.examined
            out.append(found)
        return out


# -- checking a query --------------------------------------------------------------------------

def word_strength(searcher: Any, word: str,
                  vocabulary: Callable[[], Vocabulary] | None = None) -> str:
    """:data:`STRONG`, :data:`WEAK` or :data:`UNKNOWN` (see the module's docstring).

    ``vocabulary`` is asked for only when the index's fields cannot tell (a word typed
    without diacritics whose analysis finds nothing).
    """
    low = word.lower()
    for name in spelling_fields().values():
        if name in searcher.schema and doc_frequency(searcher, name, low):
            return STRONG
    weak = False
    schema = searcher.schema
    for lang in LANGUAGES.values():
        for main, path in ((i == 0, p) for i, p in enumerate(lang.paths)):
            name = lang.field("body", path.name).name
            if name not in schema:
                continue
            for token in schema[name].analyzer(low, mode="query"):
                if doc_frequency(searcher, name, token.text):
                    if main:
                        return STRONG
                    weak = True
    if vocabulary is not None and fold(low) in vocabulary():
        return STRONG
    return WEAK if weak else UNKNOWN


@dataclass
class SpellCheck:
    """What :func:`check_query` found."""

    text: str  #: the query with its corrections applied
    #: No word of the query matches directly: search ``text`` instead of what was typed.
    replace: bool
    verbatim: str  #: the query with the corrected words quoted: searches them as typed
    corrections: list[Correction] = field(default_factory=list)

    @property
    def examined(self) -> int:
        return sum(c.examined for c in self.corrections)


def check_query(searcher: Any, text: str, words: list[str],
                speller: Callable[[], Speller]) -> SpellCheck | None:
    """Correct the weak and unknown words of a query (``text``, its plain ``words``).

    Only words searched as typed are corrected: not those in quotes (which is how to ask for
    a word as typed), excluded or ``prefix*``. The query is to be replaced by its correction
    when none of its words is strong, every one of them could have been corrected, and every
    correction is close (:data:`REPLACE_MAX_EDITS`).
    ``speller`` is called only when some word needs it.
    """
    stop = stop_words()
    content = [w for w in dict.fromkeys(x.lower() for x in words)
               if w not in stop and not w.isdigit()]
    if not content:
        return None
    checked = content[:MAX_WORDS]
    positive = {w.lower() for w in _positive_words(text)}
    strength = {w: word_strength(searcher, w, lambda: speller().vocabulary) for w in checked}
    fixable = [w for w in checked if strength[w] != STRONG and w in positive]
    if not fixable:
        return None
    corrections = speller().correct_all(fixable)
    found = [c for c in corrections if c.fix and c.fix != c.word]
    if not found:
        return None
    fixes = {c.word: c.fix for c in found}
    replace = (len(content) <= MAX_WORDS
               and all(strength[w] != STRONG and w in positive for w in content)
               and all(c.distance <= REPLACE_MAX_EDITS for c in found))
    return SpellCheck(text=_replace_words(text, lambda w: fixes.get(w.lower()), _same_case),
                      replace=replace,
                      verbatim=_replace_words(text, lambda w: w if w.lower() in fixes else None,
                                              lambda typed, w: f'"{w}"'),
                      corrections=corrections)


def _replace_words(text: str, new: Callable[[str], str | None],
                   form: Callable[[str, str], str]) -> str:
    """``text`` with each word for which ``new`` has a replacement replaced, ``form``ed."""
    def replace(m: re.Match) -> str:
        found = new(m.group(0))
        return m.group(0) if found is None else form(m.group(0), found)
    return WORDS.sub(replace, text)


def _same_case(typed: str, fix: str) -> str:
    """``fix`` capitalised as ``typed`` was.

    >>> _same_case("PASSWRD", "password"), _same_case("Passwrd", "password")
    ('PASSWORD', 'Password')
    """
    if typed.isupper() and len(typed) > 1:
        return fix.upper()
    if typed[:1].isupper():
        return fix[:1].upper() + fix[1:]
    return fix
