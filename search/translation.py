"""Cross-language query translation: a query's words in the other language of a pair.

A query in one language should also find the documents about the same thing in the other
language. The pair is what the languages declare (:class:`LanguagePair`): a language whose
:class:`~search.analysis.TranslationRules` name a registered target language, today
Slovenian -> English. Two sources of translations, neither derived from any evaluation data:

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
  is looked up among the words of the searched index (:class:`CognateIndex`), so only words
  that actually occur there are proposed.

Identical words (names, numbers, ``Calc``) need no translation: every query is already
analysed by every language's analysers.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import marshal
import os
import re
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from search.analysis import LANGUAGES, Language, TranslationRules
from search.analysis.filters import fold
from search.cache import CACHE_FORMAT, cache_dir, file_signature, read_cache, write_cache

log = logging.getLogger(__name__)

#: Weight of a dictionary translation, and how much each later sense of an entry loses.
DICTIONARY_WEIGHT = 1.0
SENSE_DECAY = 0.1
MIN_SENSE_WEIGHT = 0.6
#: Weight of a cognate (spelling-rule) translation.
COGNATE_WEIGHT = 0.8
#: Spelling keys shorter than this are too ambiguous to propose cognates.
MIN_COGNATE_KEY = 4
#: Translations kept per query word, best first.
MAX_PER_WORD = 8
#: English translations with more content words than this are explanations, not words.
MAX_PHRASE_WORDS = 3

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_HEAD = re.compile(r"^(?P<head>.+?)\s+/[^/]*/\s*(?:<[^>]*>)?\s*$")
_LABEL = re.compile(r"\[[^\]]*\]")
_PARENS = re.compile(r"\([^)]*\)")
_NUMBERED = re.compile(r"^\d+\.\s*")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


@dataclass(frozen=True)
class LanguagePair:
    """Two languages translated between: ``source``, the language of the dictionary's
    headwords (whose :class:`~search.analysis.TranslationRules` name ``target``), and
    ``target``. Translation runs both ways."""

    source: Language
    target: Language

    @property
    def rules(self) -> TranslationRules:
        assert self.source.translation is not None
        return self.source.translation

    @property
    def codes(self) -> tuple[str, str]:
        return self.source.code, self.target.code

    def other(self, code: str) -> str | None:
        """The pair's other language than ``code`` (None if ``code`` is not in the pair)."""
        return {self.source.code: self.target.code,
                self.target.code: self.source.code}.get(code)

    def gloss_stop_words(self) -> frozenset[str]:
        """Words of the target-language glosses that are no translation."""
        return self.target.stop_words | self.rules.gloss_stop_words


def language_pairs() -> list[LanguagePair]:
    """The pairs the registered languages declare (see :data:`search.analysis.LANGUAGES`)."""
    return [LanguagePair(lang, LANGUAGES[lang.translation.target])
            for lang in LANGUAGES.values()
            if lang.translation is not None and lang.translation.target in LANGUAGES]


def default_pair() -> LanguagePair | None:
    """The pair this engine translates between (the first declared), None if none is."""
    pairs = language_pairs()
    return pairs[0] if pairs else None


def _require_pair(pair: LanguagePair | None) -> LanguagePair:
    pair = pair or default_pair()
    if pair is None:
        raise LookupError("no registered language declares a translation into another")
    return pair


def __getattr__(name: str) -> Any:
    # Where the default pair's dictionary is installed (as read by tests and tools).
    if name == "DICTIONARY_BASE":
        return _require_pair(None).rules.dictionary
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    pair = _require_pair(pair)
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
    stem = _require(pair.target.make_base_form)()
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
    stop = _require_pair(None).gloss_stop_words() if stop is None else stop
    return [w for w in _WORD.findall(phrase.lower()) if w not in stop]


def _require(factory: Any) -> Any:
    if factory is None:
        raise LookupError("a language of the translation pair has no make_base_form")
    return factory


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
    pair = _require_pair(pair)
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
            key = ("dictionary", _code_digest(_modules(pair)),
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


# -- caches between processes -------------------------------------------------------------------

def _modules(pair: LanguagePair) -> tuple[str, ...]:
    """The modules whose code decides what is cached for ``pair``: this one, folding, and
    the pair's language modules (stop words, stemming, rules)."""
    return tuple(dict.fromkeys((__name__, "search.analysis.filters", *(
        lang.make_base_form.__module__ for lang in (pair.source, pair.target)
        if lang.make_base_form is not None))))


@lru_cache(maxsize=8)
def _code_digest(modules: tuple[str, ...]) -> str:
    """A fingerprint of the code whose results are cached: the translation rules, folding,
    the languages' stop words and stemming, and the Python that serialised them. A cache
    made by other code is simply not used."""
    import importlib

    h = hashlib.sha256(f"{CACHE_FORMAT} {sys.version_info[:2]} {marshal.version}".encode())
    for module in map(importlib.import_module, modules):
        with open(module.__file__ or "", "rb") as fh:
            h.update(fh.read())
    try:
        import Stemmer  # the C stemmer snowballstemmer uses when installed

        h.update(f"PyStemmer {Stemmer.version()}".encode())
    except (ImportError, AttributeError):
        pass
    import snowballstemmer

    h.update(f"snowballstemmer {getattr(snowballstemmer, '__version__', '?')}".encode())
    return h.hexdigest()


# -- cognates ---------------------------------------------------------------------------------

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
        self.pair = _require_pair(pair)
        self._base_form = _require(self.pair.target.make_base_form)()
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
            word = fold(lemma.lower())
            forms = {word}
            for ending, replacements in self.pair.rules.cognate_endings:
                if word.endswith(ending) and len(word) - len(ending) >= 3:
                    forms.update(word[:-len(ending)] + r for r in replacements)
            keys = {spelling_key(self._base_form(f)) for f in forms}
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
    pair = _require_pair(pair)
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
        pair = _require_pair(pair)
        key = ("cognates", _code_digest(_modules(pair)), cognate_fields(pair), segments)
        found = read_cache(path, key)
        if found is not None:
            return CognateIndex.from_tables(*found, pair=pair)
    target, source = (reader_words(reader, *names) for names in cognate_fields(pair))
    index = CognateIndex(target, source, pair)
    if path is not None and key is not None:
        write_cache(path, key, index.tables())
    return index


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
            self._source_base = _require(pair.source.make_base_form)()
            self._target_base = _require(pair.target.make_base_form)()
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
    return [lemma[:-len(end)] + base for end, bases in _require_pair(pair).rules.derivations
            if lemma.endswith(end) and len(lemma) > len(end) + 2 for base in bases]


def _sense_weight(rank: int) -> float:
    return max(MIN_SENSE_WEIGHT, DICTIONARY_WEIGHT - SENSE_DECAY * rank)

