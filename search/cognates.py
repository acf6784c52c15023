"""Cognates: words two languages spell differently but share (``funkcija`` / ``function``).

International words that Slovenian spells phonetically (``kategorija`` / ``category``,
``avtomatski`` / ``automatic``) need no dictionary: general orthographic rules map both
languages' words to a common spelling key (:func:`spelling_key`, and the source language's
``cognate_endings``, see :class:`CognateKeys`), and a query word's key is looked up among
the words of the searched index (:class:`CognateIndex`), so only words that actually occur
there are proposed (by :mod:`search.translation`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from search.analysis.filters import fold
from search.cache import read_cache, write_cache
from search.language_pair import LanguagePair, code_digest, require_base_form, require_pair

#: Spelling keys shorter than this are too ambiguous to propose cognates.
MIN_COGNATE_KEY = 4

#: Spelling correspondences, applied to both languages' words to reach a common key:
#: English ``ph``/``th``/``qu``/``x``/``c``/``y``/``w`` are written ``f``/``t``/``kv``/``ks``/
#: ``k``/``i``/``v`` in Slovenian, ``au``/``eu`` as ``av``/``ev``; ``z`` and ``s`` alternate.
_KEY_SUBS = (("ph", "f"), ("th", "t"), ("ch", "h"), ("qu", "kv"), ("ck", "k"), ("x", "ks"),
             ("c", "k"), ("y", "i"), ("w", "v"), ("z", "s"), ("au", "av"), ("eu", "ev"))
_DOUBLE = re.compile(r"(.)\1+")


def spelling_key(stem: str) -> str:
    """A language-neutral spelling of an English stem (or a stemmed pseudo-English word).

    >>> spelling_key("function"), spelling_key("automat"), spelling_key("applic")
    ('funktion', 'avtomat', 'aplik')
    """
    key = fold(stem.lower())
    for a, b in _KEY_SUBS:
        key = key.replace(a, b)
    key = _DOUBLE.sub(r"\1", key)
    if len(key) > 3 and key[-1] in "aeiou":
        key = key[:-1]
    return key


_FINAL_VOWEL = re.compile(r"^(.{3,})[aeiou]$", re.MULTILINE)


def _fold_lines(text: str) -> str:
    """:func:`fold` of every line of ``text``: only the lines that need it (index terms are
    mostly folded already; folding all of a long text costs a lot)."""
    if text.isascii():
        return text
    return "\n".join(line if line.isascii() else fold(line) for line in text.split("\n"))


def spelling_keys(words: list[str]) -> list[str]:
    """:func:`spelling_key` of many words at once, in their order (one pass over all of them:
    building a :class:`CognateIndex` keys every word of an index).

    Every step of :func:`spelling_key` works character by character, never across a line
    break, and no word holds one, so the steps run on the words joined by line breaks.

    >>> spelling_keys(["function", "automat", "applic"])
    ['funktion', 'avtomat', 'aplik']
    """
    if not words:
        return []
    if any("\n" in w for w in words):  # not a word: no batching
        return [spelling_key(w) for w in words]
    text = _fold_lines("\n".join(words).lower())
    for a, b in _KEY_SUBS:
        text = text.replace(a, b)
    text = _FINAL_VOWEL.sub(r"\1", _DOUBLE.sub(r"\1", text))
    return text.split("\n")


class CognateKeys:
    """Spelling keys of a pair's words (see :func:`spelling_key`): a source-language lemma's
    keys are those of the target-language words it may be borrowed from, by the source
    language's ``cognate_endings`` (``funkcija`` -> ``function``); a target word's key is
    that of its base form. Owns the target language's stemmer and a bounded cache."""

    CACHE = 200_000

    def __init__(self, pair: LanguagePair | None = None) -> None:
        self.pair = require_pair(pair)
        self._base_form = require_base_form(self.pair.target.make_base_form)()
        by_length: dict[int, dict[str, tuple[str, ...]]] = {}
        for ending, replacements in self.pair.rules.cognate_endings:
            rules = by_length.setdefault(len(ending), {})
            rules[ending] = rules.get(ending, ()) + replacements
        #: The endings by their length, shortest first, for :meth:`_forms`.
        self._rules_by_length = tuple(sorted(by_length.items()))
        self._cache: dict[str, frozenset[str]] = {}

    def source_keys(self, lemma: str) -> frozenset[str]:
        """Spelling keys of the target words a source lemma may be a cognate of (cached)."""
        found = self._cache.get(lemma)
        if found is None:
            if len(self._cache) >= self.CACHE:
                self._cache.clear()
            keys = {spelling_key(self._base_form(f)) for f in self._forms(fold(lemma.lower()))}
            found = self._cache[lemma] = frozenset(k for k in keys if len(k) >= MIN_COGNATE_KEY)
        return found

    def _forms(self, word: str) -> set[str]:
        """The pseudo-target forms :meth:`source_keys` stems, of a folded lowercase lemma."""
        forms = {word}
        for n, rules in self._rules_by_length:
            if len(word) - n < 3:
                break
            replacements = rules.get(word[-n:])
            if replacements:
                forms.update(word[:-n] + r for r in replacements)
        return forms

    def many_source_keys(self, lemmas: list[str]) -> list[frozenset[str]]:
        """:meth:`source_keys` of many lemmas at once, in their order (same results)."""
        if not lemmas:
            return []
        words = ([fold(lemma.lower()) for lemma in lemmas] if any("\n" in w for w in lemmas)
                 else _fold_lines("\n".join(lemmas).lower()).split("\n"))
        per_word = [self._forms(word) for word in words]
        forms = list(set().union(*per_word))
        base_form = self._base_form
        keyed = dict(zip(forms, spelling_keys([base_form(f) for f in forms]), strict=True))
        return [frozenset(k for k in {keyed[f] for f in word_forms} if len(k) >= MIN_COGNATE_KEY)
                for word_forms in per_word]

    @staticmethod
    def target_key(stem: str) -> str:
        """Spelling key of a target word's base form (see :func:`spelling_key`)."""
        return spelling_key(stem)


def source_keys(lemma: str, pair: LanguagePair | None = None) -> frozenset[str]:
    """Spelling keys of the target words a source lemma of ``pair`` may be a cognate of.

    >>> sorted(k for k in source_keys("funkcija") if k.startswith("funkt"))
    ['funktion']
    """
    return CognateKeys(pair).source_keys(lemma)


def _many_source_keys(lemmas: list[str], pair: LanguagePair | None = None
                      ) -> list[frozenset[str]]:
    """:func:`source_keys` of many lemmas at once, in their order (same results)."""
    return CognateKeys(pair).many_source_keys(lemmas)


def target_key(stem: str) -> str:
    """Spelling key of a target word's base form (see :func:`spelling_key`)."""
    return spelling_key(stem)


class CognateIndex:
    """Which words of one index are cognates of which: built from the index's own terms.

    ``target`` are the terms of the pair's target-language main fields (English: Snowball
    stems), ``source`` those of its source-language main fields (Slovenian: folded lemmas).
    """

    def __init__(self, target: Iterable[str], source: Iterable[str],
                 pair: LanguagePair | None = None) -> None:
        self._keys = CognateKeys(pair)
        # Spelling key -> the words with that key, joined by line breaks (words hold none:
        # only alphabetic ones are taken). Strings rather than sets: a tenth of the memory,
        # and read from a cache in milliseconds (see cognates_for_reader).
        self._target: dict[str, str] = {}
        self._source: dict[str, str] = {}
        # Keyed in batches (see spelling_keys): this runs over every word of an index.
        stems = [stem for stem in target if stem.isalpha() and len(stem) >= MIN_COGNATE_KEY - 1]
        by_target: dict[str, list[str]] = {}
        for stem, key in zip(stems, spelling_keys(stems), strict=True):
            found = by_target.get(key)
            if found is None:
                by_target[key] = [stem]
            else:
                found.append(stem)
        lemmas = [lemma for lemma in source
                  if lemma.isalpha() and len(lemma) >= MIN_COGNATE_KEY]
        by_source: dict[str, list[str]] = {}
        for lemma, keys in zip(lemmas, self._keys.many_source_keys(lemmas), strict=True):
            for key in keys:
                found = by_source.get(key)
                if found is None:
                    by_source[key] = [lemma]
                else:
                    found.append(lemma)
        self._target = {key: "\n".join(words) for key, words in by_target.items()}
        self._source = {key: "\n".join(words) for key, words in by_source.items()}

    @classmethod
    def from_tables(cls, target: dict[str, str], source: dict[str, str],
                    pair: LanguagePair | None = None) -> CognateIndex:
        """An index from the tables of :meth:`tables` (as cached)."""
        index = cls.__new__(cls)
        index._keys = CognateKeys(pair)
        index._target, index._source = target, source
        return index

    def tables(self) -> tuple[dict[str, str], dict[str, str]]:
        """Target and source words (joined by line breaks) by spelling key: what
        :meth:`from_tables` takes."""
        return self._target, self._source

    def target_for(self, lemma: str) -> set[str]:
        """Target-language stems in the index that the source lemma may be a cognate of."""
        out: set[str] = set()
        for key in self._keys.source_keys(lemma):
            words = self._target.get(key)
            if words:
                out.update(words.split("\n"))
        return out

    def source_for(self, stem: str) -> set[str]:
        """Source-language lemmas in the index that may be cognates of the target stem."""
        key = self._keys.target_key(stem)
        if len(key) < MIN_COGNATE_KEY:
            return set()
        words = self._source.get(key)
        return set(words.split("\n")) if words else set()


#: File of an index generation folder caching its cognate vocabulary (see cognates_for_reader).
COGNATE_CACHE = "cognates.marshal"


def cognate_fields(pair: LanguagePair | None = None) -> tuple[tuple[str, str], ...]:
    """The fields whose words a cognate vocabulary is made of: the target language's main
    body and title, then the source language's."""
    pair = require_pair(pair)
    return tuple((lang.field("body", lang.main.name).name, lang.field("title", lang.main.name).name)
                 for lang in (pair.target, pair.source))


def reader_words(reader: Any, *names: str) -> set[str]:
    """Every term of the named fields of a Whoosh reader (those it has), as text."""
    out: set[str] = set()
    for name in names:
        if name in reader.schema:
            out.update(t.decode("utf-8") if isinstance(t, bytes) else t
                       for t in reader.lexicon(name))
    return out


def _segments_key(reader: Any) -> tuple[str, ...] | None:
    """What a reader's words depend on: its segments (deletions leave a segment's terms as
    they are); None if it cannot tell."""
    try:
        ids = []
        for leaf, _base in reader.leaf_readers():
            segment = leaf.segment()
            if segment is None:
                return None
            ids.append(segment.segment_id())
        return tuple(sorted(ids))
    except (AttributeError, NotImplementedError):
        return None


def cognates_for_reader(reader: Any, folder: str | Path | None = None,
                        pair: LanguagePair | None = None) -> CognateIndex:
    """The :class:`CognateIndex` of a reader's words of ``pair``'s two languages.

    With ``folder`` (the reader's index generation folder), the vocabulary is also cached
    there, for the segments it was made of: the next process searching the same segments
    reads it in milliseconds instead of going through every word of the index (about half
    a second). After a commit that adds or merges segments it is made anew. A folder that
    cannot be written just means no cache.
    """
    segments = _segments_key(reader) if folder is not None else None
    path = Path(folder) / COGNATE_CACHE if folder is not None else None
    key = None
    if path is not None and segments is not None:
        pair = require_pair(pair)
        key = ("cognates", code_digest(pair), cognate_fields(pair), segments)
        found = read_cache(path, key)
        if found is not None:
            return CognateIndex.from_tables(*found, pair=pair)
    target, source = (reader_words(reader, *names) for names in cognate_fields(pair))
    index = CognateIndex(target, source, pair)
    if path is not None and key is not None:
        write_cache(path, key, index.tables())
    return index
