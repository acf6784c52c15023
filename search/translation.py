"""Cross-language query translation: a query's words in the other language of a pair.

A query in one language should also find the documents about the same thing in the other
language. The languages translated between are the pair the languages declare
(:class:`~search.language_pair.LanguagePair`), today Slovenian -> English. Two sources of
translations, neither derived from any evaluation data:

- **A bilingual dictionary**: for Slovenian, FreeDict's Slovenian-English one (Debian
  ``dict-freedict-slv-eng``, GPL-3+), read at run time from the installed package, by each
  :class:`Translator` (its parse is cached on disk, see :func:`load_dictionary`). Source
  words are looked up by their base form (Slovenian: lemmagen3's lemma); target words by
  their base form (English: the Snowball stem) in the inverted dictionary; a source word
  the dictionary lacks is looked up through the word it derives from (``izbiranje`` ->
  ``izbirati``). Without the package there is simply no dictionary translation (a logged
  note), never an error.
- **Cognates**: international words that Slovenian spells phonetically (``funkcija`` /
  ``function``, ``kategorija`` / ``category``, ``avtomatski`` / ``automatic``). General
  orthographic rules map both languages' words to a common spelling key; a query word's key
  is looked up among the words of the searched index (:mod:`search.cognates`), so only words
  that actually occur there are proposed.

Identical words (names, numbers, ``Calc``) need no translation: every query is already
analysed by every language's analysers.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search.analysis import LANGUAGES
from search.analysis.filters import fold
from search.cache import cache_dir, file_signature, read_cache, write_cache
from search.cognates import CognateIndex
from search.language_pair import (
    LanguagePair,
    code_digest,
    default_pair,
    require_base_form,
    require_pair,
)

log = logging.getLogger(__name__)


def __getattr__(name: str) -> Any:
    # Where the default pair's dictionary is installed (as read by tests and tools).
    if name == "DICTIONARY_BASE":
        return require_pair(None).rules.dictionary
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: Weight of a dictionary translation, and how much each later sense of an entry loses.
DICTIONARY_WEIGHT = 1.0
SENSE_DECAY = 0.1
MIN_SENSE_WEIGHT = 0.6
#: Weight of a cognate (spelling-rule) translation.
COGNATE_WEIGHT = 0.8
#: Translations kept per query word, best first.
MAX_PER_WORD = 8
#: Glosses with more content words than this are explanations, not translations.
MAX_PHRASE_WORDS = 3

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_HEAD = re.compile(r"^(?P<head>.+?)\s+/[^/]*/\s*(?:<[^>]*>)?\s*$")
_LABEL = re.compile(r"\[[^\]]*\]")
_PARENS = re.compile(r"\([^)]*\)")
_NUMBERED = re.compile(r"^\d+\.\s*")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def _b64(text: str) -> int:
    n = 0
    for ch in text:
        n = n * 64 + _B64.index(ch)
    return n


@dataclass
class BilingualDictionary:
    """Source-language headwords with their target-language translations, and the inverse."""

    #: folded, lowercased headword -> translations (glosses), in the entry's order
    forward: dict[str, list[str]] = field(default_factory=dict)
    #: base form of a one-word translation (English: its Snowball stem) -> (headword, rank)
    inverse: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.forward)


def parse_dictd(index_path: str | Path, data_path: str | Path,
                pair: LanguagePair | None = None) -> BilingualDictionary:
    """Parse a FreeDict dictionary in dictd format (``.index`` + ``.dict`` or ``.dict.dz``)
    of ``pair`` (default: :func:`default_pair`)."""
    pair = require_pair(pair)
    opener = gzip.open if str(data_path).endswith(".dz") else open
    with opener(data_path, "rb") as fh:
        data = fh.read()
    out = BilingualDictionary()
    with open(index_path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or parts[0].startswith("00database"):
                continue
            start, length = _b64(parts[1]), _b64(parts[2])
            entry = data[start:start + length].decode("utf-8", "replace")
            _add_entry(out, parts[0], entry)
    stem = require_base_form(pair.target.make_base_form)()
    stop = pair.gloss_stop_words()
    for head, translations in out.forward.items():
        for rank, english in enumerate(translations):
            content = _content_words(english, stop)
            if len(content) == 1:
                bucket = out.inverse.setdefault(stem(content[0]), [])
                if all(h != head for h, _ in bucket):
                    bucket.append((head, rank))
    return out


def _add_entry(out: BilingualDictionary, headword: str, entry: str) -> None:
    lines = entry.split("\n")
    m = _HEAD.match(lines[0]) if lines else None
    head = (m.group("head") if m else headword).strip()
    translations: list[str] = []
    for line in lines[1:]:
        text = line.strip()
        if not text or text.startswith('"'):  # blank, or an example sentence
            continue
        text = _PARENS.sub(" ", _LABEL.sub(" ", _NUMBERED.sub("", text)))
        for piece in re.split(r"[,;]", text):
            piece = " ".join(piece.split())
            if piece.lower().startswith("to "):
                piece = piece[3:]
            if any(c in piece for c in '":…') or "..." in piece:
                continue  # an explanation ("it denotes escalation: ..."), not a translation
            if piece and piece not in translations:
                translations.append(piece)
    if translations:
        key = fold(head.lower())
        known = out.forward.setdefault(key, [])
        known.extend(t for t in translations if t not in known)


def _content_words(phrase: str, stop: frozenset[str] | None = None) -> list[str]:
    stop = require_pair(None).gloss_stop_words() if stop is None else stop
    return [w for w in _WORD.findall(phrase.lower()) if w not in stop]


def load_dictionary(base: str | Path | None = None,
                    pair: LanguagePair | None = None) -> BilingualDictionary | None:
    """The installed dictionary of ``pair`` (default: :func:`default_pair`), or the one at
    ``base``; None (logged) if absent.

    The installed dictionary's parse is kept in the user's cache folder (see
    :func:`cache_dir`), so that a new :class:`Translator` reads it in a few milliseconds
    instead of parsing it again; any change of the dictionary files or of this code makes a
    new one.
    """
    pair = default_pair() if pair is None else pair
    if pair is None:
        return None
    if base is not None:
        return _load(Path(base), pair=pair)
    rules = pair.rules
    installed = (os.environ.get(rules.env) if rules.env else None) or rules.dictionary
    return _load(Path(installed), cache=True, pair=pair)


def _load(base: Path, cache: bool = False,
          pair: LanguagePair | None = None) -> BilingualDictionary | None:
    pair = require_pair(pair)
    index = base.with_name(base.name + ".index")
    data = next((p for p in (base.with_name(base.name + ".dict.dz"),
                             base.with_name(base.name + ".dict")) if p.exists()), None)
    if not index.exists() or data is None:
        log.warning("No %s-%s dictionary at %s.{index,dict.dz}: cross-language search uses "
                    "cognates only (install %s)", pair.source.code, pair.target.code, base,
                    pair.rules.package or "it")
        return None
    cached = key = None
    folder = cache_dir() if cache else None
    if folder is not None:
        try:
            key = ("dictionary", code_digest(pair),
                   *(file_signature(p) for p in (index, data)))
        except OSError:
            folder = None
        else:
            name = hashlib.sha256(str(base.absolute()).encode("utf-8", "surrogatepass"))
            cached = folder / f"freedict-{name.hexdigest()[:16]}.marshal"
            found = read_cache(cached, key)
            if found is not None:
                return BilingualDictionary(forward=found[0], inverse=found[1])
    try:
        parsed = parse_dictd(index, data, pair)
    except (OSError, ValueError, EOFError) as exc:
        log.warning("Cannot read the %s-%s dictionary %s: %s", pair.source.code,
                    pair.target.code, base, exc)
        return None
    if cached is not None:
        write_cache(cached, key, (parsed.forward, parsed.inverse))
    return parsed


# -- translating --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Translation:
    """One target-language word proposed for a query word."""

    source: str  #: the query word, lowercased
    lang: str  #: the target language
    word: str  #: the target word, for people
    weight: float  #: 0..1, how much to trust it
    terms: tuple[tuple[str, str], ...]  #: (analysis path name, index term) of the target word
    kind: str = "dictionary"  #: "dictionary" or "cognate"


class Translator:
    """Translates query words both ways between the languages of a pair (thread-safe,
    cached). Each :class:`~search.SearchIndex` owns one: its dictionary, lemmatiser and
    stemmer are its own, not the process's."""

    def __init__(self, dictionary: BilingualDictionary | None | bool = True,
                 cognates: bool = True, pair: LanguagePair | None = None) -> None:
        self.pair = pair = pair or default_pair()
        if dictionary is True:
            dictionary = load_dictionary(pair=pair) if pair is not None else None
        self.dictionary = dictionary or None
        self.cognates = cognates
        self._analyzers = {lang: [(p.name, p.make_analyzer()) for p in language.paths]
                           for lang, language in LANGUAGES.items()}
        self._source_base = self._target_base = None
        if pair is not None:
            self._source_base = require_base_form(pair.source.make_base_form)()
            self._target_base = require_base_form(pair.target.make_base_form)()
            self._stop = pair.gloss_stop_words()
        self._lock = threading.Lock()

    def terms(self, word: str, lang: str) -> tuple[tuple[str, str], ...]:
        """(path, term) pairs of ``word`` analysed by every path of ``lang``."""
        out = []
        with self._lock:  # one shared translator: its lemmatizer and caches serve all threads
            for path, analyzer in self._analyzers[lang]:
                for token in analyzer(word, mode="query"):
                    out.append((path, token.text))
                    break
        return tuple(out)

    def translate(self, word: str, source: str,
                  cognates: CognateIndex | None = None) -> list[Translation]:
        """Words of the pair's other language for ``word`` of language ``source``, best first
        (none for a language outside the pair)."""
        low = word.lower()
        pair = self.pair
        if pair is None:
            return []
        if source == pair.source.code:
            found = self._from_source(low, cognates)
        elif source == pair.target.code:
            found = self._from_target(low, cognates)
        else:
            return []
        best: dict[tuple, Translation] = {}
        same = fold(low)
        for t in found:
            if fold(t.word.lower()) == same:  # the word itself: searched directly anyway
                continue
            if t.terms and (t.terms not in best or best[t.terms].weight < t.weight):
                best[t.terms] = t
        ranked = sorted(best.values(), key=lambda t: -t.weight)
        return ranked[:MAX_PER_WORD]

    def _from_source(self, word: str, cognates: CognateIndex | None) -> list[Translation]:
        """Translations of a word of the dictionary's headword language."""
        assert self.pair is not None and self._source_base is not None
        target, base_form = self.pair.target, self._source_base
        lemma = base_form(word)
        out: list[Translation] = []
        if self.dictionary is not None:
            seen: set[str] = set()
            keys = dict.fromkeys((fold(lemma), fold(word), fold(base_form(fold(word)))))
            entries = [(self.dictionary.forward.get(k, ()), 1.0) for k in keys]
            if not any(found for found, _ in entries):  # try the word it is derived from
                entries = [(self.dictionary.forward.get(k, ()), DERIVED_WEIGHT)
                           for k in derived_lemmas(fold(lemma), self.pair)]
            for found, factor in entries:
                # Phrases ("take part") only when the entry has no one-word translation.
                longest = 1 if any(len(_content_words(e, self._stop)) == 1 for e in found) \
                    else MAX_PHRASE_WORDS
                for rank, gloss in enumerate(found):
                    content = _content_words(gloss, self._stop)
                    if not content or len(content) > longest:
                        continue
                    weight = factor * _sense_weight(rank) / len(content)
                    for w in content:
                        if w not in seen:
                            seen.add(w)
                            out.append(Translation(word, target.code, w, weight,
                                                   self.terms(w, target.code)))
        if self.cognates and cognates is not None:
            stems = cognates.target_for(fold(lemma)) | cognates.target_for(fold(word))
            for stem in sorted(stems):
                out.append(Translation(word, target.code, stem, COGNATE_WEIGHT,
                                       ((target.main.name, stem),), kind="cognate"))
        return out

    def _from_target(self, word: str, cognates: CognateIndex | None) -> list[Translation]:
        """Translations of a word of the dictionary's gloss language (through the inverse)."""
        assert self.pair is not None and self._target_base is not None
        source = self.pair.source
        stem = self._target_base(word)
        out: list[Translation] = []
        if self.dictionary is not None:
            for head, rank in self.dictionary.inverse.get(stem, ()):
                if " " in head:
                    continue
                out.append(Translation(word, source.code, head, _sense_weight(rank),
                                       self.terms(head, source.code)))
        if self.cognates and cognates is not None:
            main = source.main.name
            for lemma in sorted(cognates.source_for(stem)):
                terms = ((main, lemma),) + tuple((p, t) for p, t in self.terms(lemma, source.code)
                                                 if p != main)
                out.append(Translation(word, source.code, lemma, COGNATE_WEIGHT, terms,
                                       kind="cognate"))
        return out


#: Weight factor of a translation found through a derivation.
DERIVED_WEIGHT = 0.8


def derived_lemmas(lemma: str, pair: LanguagePair | None = None) -> list[str]:
    """Base words a (folded) source lemma of ``pair`` may be derived from, by the source
    language's general suffix rules (its ``derivations``).

    >>> derived_lemmas("izbiranje"), derived_lemmas("neposredno")
    (['izbirati'], ['neposreden'])
    """
    return [lemma[:-len(end)] + base for end, bases in require_pair(pair).rules.derivations
            if lemma.endswith(end) and len(lemma) > len(end) + 2 for base in bases]


def _sense_weight(rank: int) -> float:
    return max(MIN_SENSE_WEIGHT, DICTIONARY_WEIGHT - SENSE_DECAY * rank)

