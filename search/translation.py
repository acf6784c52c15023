"""Cross-language query translation: Slovenian <-> English words for a query's words.

A query in one language should also find the documents about the same thing in the other
language. Two sources of translations, neither derived from any evaluation data:

- **FreeDict's Slovenian-English dictionary** (Debian ``dict-freedict-slv-eng``, GPL-3+),
  read at run time from the installed package, lazily and once per process. Slovenian words
  are lemmatized (lemmagen3) before lookup; English words are matched by their Snowball stem
  against the inverted dictionary; a Slovenian word the dictionary lacks is looked up
  through the word it derives from (``izbiranje`` -> ``izbirati``). Without the package
  there is simply no dictionary translation (a logged note), never an error.
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

from search.analysis import LANGUAGES
from search.analysis.filters import LemmaFilter, SnowballFilter, fold
from search.cache import CACHE_FORMAT, cache_dir, file_signature, read_cache, write_cache

log = logging.getLogger(__name__)

#: Where Debian's dict-freedict-slv-eng installs the dictionary (``.index`` + ``.dict.dz``);
#: ``$SEARCH_FREEDICT_SLV_ENG`` may name another path without the suffixes.
DICTIONARY_BASE = "/usr/share/dictd/freedict-slv-eng"
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
_EN_STOP = LANGUAGES["en"].stop_words | {"to", "the", "a", "an", "of", "something",
                                          "someone", "somebody", "sb", "sth", "oneself"}


def _b64(text: str) -> int:
    n = 0
    for ch in text:
        n = n * 64 + _B64.index(ch)
    return n


@dataclass
class BilingualDictionary:
    """Slovenian headwords with their English translations, and the inverse."""

    #: folded, lowercased Slovenian headword -> English translations, in the entry's order
    sl_en: dict[str, list[str]] = field(default_factory=dict)
    #: English Snowball stem (one-word translations) -> (Slovenian headword, sense rank)
    en_sl: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.sl_en)


def parse_dictd(index_path: str | Path, data_path: str | Path) -> BilingualDictionary:
    """Parse a FreeDict dictionary in dictd format (``.index`` + ``.dict`` or ``.dict.dz``)."""
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
    stem = _english_stem
    for head, translations in out.sl_en.items():
        for rank, english in enumerate(translations):
            content = _content_words(english)
            if len(content) == 1:
                bucket = out.en_sl.setdefault(stem(content[0]), [])
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
        known = out.sl_en.setdefault(key, [])
        known.extend(t for t in translations if t not in known)


def _content_words(phrase: str) -> list[str]:
    return [w for w in _WORD.findall(phrase.lower()) if w not in _EN_STOP]


_dictionary: BilingualDictionary | None = None
_dictionary_loaded = False
_dictionary_lock = threading.Lock()


def load_dictionary(base: str | Path | None = None) -> BilingualDictionary | None:
    """The installed FreeDict dictionary, parsed once per process; None (logged) if absent.

    The installed dictionary's parse is also kept in the user's cache folder (see
    :func:`cache_dir`), so that a new process reads it in a few milliseconds instead of
    parsing it again; any change of the dictionary files or of this code makes a new one.
    """
    global _dictionary, _dictionary_loaded
    if base is not None:
        return _load(Path(base))
    with _dictionary_lock:
        if not _dictionary_loaded:
            _dictionary = _load(Path(os.environ.get("SEARCH_FREEDICT_SLV_ENG", DICTIONARY_BASE)),
                                cache=True)
            _dictionary_loaded = True
        return _dictionary


def _load(base: Path, cache: bool = False) -> BilingualDictionary | None:
    index = base.with_name(base.name + ".index")
    data = next((p for p in (base.with_name(base.name + ".dict.dz"),
                             base.with_name(base.name + ".dict")) if p.exists()), None)
    if not index.exists() or data is None:
        log.warning("No Slovenian-English dictionary at %s.{index,dict.dz}: cross-language "
                    "search uses cognates only (install Debian's dict-freedict-slv-eng)", base)
        return None
    cached = key = None
    folder = cache_dir() if cache else None
    if folder is not None:
        try:
            key = ("dictionary", _code_digest(),
                   *(file_signature(p) for p in (index, data)))
        except OSError:
            folder = None
        else:
            name = hashlib.sha256(str(base.absolute()).encode("utf-8", "surrogatepass"))
            cached = folder / f"freedict-{name.hexdigest()[:16]}.marshal"
            found = read_cache(cached, key)
            if found is not None:
                return BilingualDictionary(sl_en=found[0], en_sl=found[1])
    try:
        parsed = parse_dictd(index, data)
    except (OSError, ValueError, EOFError) as exc:
        log.warning("Cannot read the Slovenian-English dictionary %s: %s", base, exc)
        return None
    if cached is not None:
        write_cache(cached, key, (parsed.sl_en, parsed.en_sl))
    return parsed


# -- caches between processes -------------------------------------------------------------------

@lru_cache(maxsize=1)
def _code_digest() -> str:
    """A fingerprint of the code whose results are cached: the translation rules, folding,
    English stop words and stemming, and the Python that serialised them. A cache made by
    other code is simply not used."""
    from search.analysis import english, filters

    h = hashlib.sha256(f"{CACHE_FORMAT} {sys.version_info[:2]} {marshal.version}".encode())
    for module in (sys.modules[__name__], filters, english):
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


# -- words and stems --------------------------------------------------------------------------

_lemma_filter = LemmaFilter("sl")
_snowball_filter = SnowballFilter("english")


def slovenian_lemma(word: str) -> str:
    """lemmagen3's lemma of a lowercased Slovenian word (cached)."""
    return _lemma_filter.base_form(word)


def _english_stem(word: str) -> str:
    return _snowball_filter.base_form(fold(word.lower()))


# -- cognates ---------------------------------------------------------------------------------

#: Slovenian endings and the English endings they correspond to in borrowed words
#: (``funkcija`` -> ``function``, ``grafičen`` -> ``graphical``); applied to folded lemmas.
#: Every matching rule is tried, the plain word too: the index decides which exist.
SUFFIX_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cija", ("tion",)),
    ("zija", ("sion",)),
    ("sija", ("sion",)),
    ("ija", ("y", "ia", "e")),
    ("ika", ("ic", "ics")),
    ("icen", ("ic", "ical")),
    ("icni", ("ic", "ical")),
    ("ski", ("ic", "ical", "")),
    ("alen", ("al",)),
    ("alni", ("al",)),
    ("iven", ("ive",)),
    ("ivni", ("ive",)),
    ("aren", ("ar", "ary")),
    ("arni", ("ar", "ary")),
    ("ozen", ("ous",)),
    ("en", ("", "e")),
    ("ni", ("",)),
    ("ificirati", ("ify",)),
    ("izirati", ("ize",)),
    ("irati", ("", "e", "ate")),
    ("iranje", ("", "e", "ate")),
    ("irano", ("", "e", "ate")),
    ("iran", ("", "e", "ate")),
    ("enca", ("ence", "ency")),
    ("anca", ("ance", "ancy")),
    ("nost", ("ness", "ity")),
    ("izem", ("ism",)),
    ("ura", ("ure",)),
    ("ela", ("le",)),
    ("el", ("le",)),
    ("a", ("", "e")),
    ("o", ("",)),
    ("e", ("",)),
    ("i", ("",)),
)
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


@lru_cache(maxsize=200_000)
def slovenian_keys(lemma: str) -> frozenset[str]:
    """Spelling keys of the English words a Slovenian lemma may be a cognate of.

    >>> sorted(k for k in slovenian_keys("funkcija") if k.startswith("funkt"))
    ['funktion']
    """
    word = fold(lemma.lower())
    forms = {word}
    for ending, replacements in SUFFIX_RULES:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            forms.update(word[:-len(ending)] + r for r in replacements)
    keys = {spelling_key(_snowball_filter.base_form(f)) for f in forms}
    return frozenset(k for k in keys if len(k) >= MIN_COGNATE_KEY)


def _rules_by_length() -> tuple[tuple[int, dict[str, tuple[str, ...]]], ...]:
    by_length: dict[int, dict[str, tuple[str, ...]]] = {}
    for ending, replacements in SUFFIX_RULES:
        rules = by_length.setdefault(len(ending), {})
        rules[ending] = rules.get(ending, ()) + replacements
    return tuple(sorted(by_length.items()))


#: SUFFIX_RULES by the length of their ending, shortest first, for :func:`_cognate_forms`.
_RULES_BY_LENGTH = _rules_by_length()


def _cognate_forms(word: str) -> set[str]:
    """The pseudo-English forms :func:`slovenian_keys` stems, of a folded lowercase lemma."""
    forms = {word}
    for n, rules in _RULES_BY_LENGTH:
        if len(word) - n < 3:
            break
        replacements = rules.get(word[-n:])
        if replacements:
            forms.update(word[:-n] + r for r in replacements)
    return forms


def _many_slovenian_keys(lemmas: list[str]) -> list[frozenset[str]]:
    """:func:`slovenian_keys` of many lemmas at once, in their order (same results)."""
    if not lemmas:
        return []
    words = ([fold(lemma.lower()) for lemma in lemmas] if any("\n" in w for w in lemmas)
             else _fold_lines("\n".join(lemmas).lower()).split("\n"))
    per_word = [_cognate_forms(word) for word in words]
    forms = list(set().union(*per_word))
    base_form = _snowball_filter.base_form
    keyed = dict(zip(forms, spelling_keys([base_form(f) for f in forms]), strict=True))
    return [frozenset(k for k in {keyed[f] for f in word_forms} if len(k) >= MIN_COGNATE_KEY)
            for word_forms in per_word]


def english_key(stem: str) -> str:
    """Spelling key of an English Snowball stem (see :func:`spelling_key`)."""
    return spelling_key(stem)


class CognateIndex:
    """Which words of one index are cognates of which: built from the index's own terms.

    ``english`` are the terms of the English fields (Snowball stems), ``slovenian`` those of
    the Slovenian lemma fields (folded lemmas).
    """

    def __init__(self, english: Iterable[str], slovenian: Iterable[str]) -> None:
        # Spelling key -> the words with that key, joined by line breaks (words hold none:
        # only alphabetic ones are taken). Strings rather than sets: a tenth of the memory,
        # and read from a cache in milliseconds (see cognates_for_reader).
        self._en: dict[str, str] = {}
        self._sl: dict[str, str] = {}
        # Keyed in batches (see spelling_keys): this runs over every word of an index.
        stems = [stem for stem in english if stem.isalpha() and len(stem) >= MIN_COGNATE_KEY - 1]
        en: dict[str, list[str]] = {}
        for stem, key in zip(stems, spelling_keys(stems), strict=True):
            found = en.get(key)
            if found is None:
                en[key] = [stem]
            else:
                found.append(stem)
        lemmas = [lemma for lemma in slovenian
                  if lemma.isalpha() and len(lemma) >= MIN_COGNATE_KEY]
        sl: dict[str, list[str]] = {}
        for lemma, keys in zip(lemmas, _many_slovenian_keys(lemmas), strict=True):
            for key in keys:
                found = sl.get(key)
                if found is None:
                    sl[key] = [lemma]
                else:
                    found.append(lemma)
        self._en = {key: "\n".join(words) for key, words in en.items()}
        self._sl = {key: "\n".join(words) for key, words in sl.items()}

    @classmethod
    def from_tables(cls, english: dict[str, str], slovenian: dict[str, str]) -> CognateIndex:
        """An index from the tables of :meth:`tables` (as cached)."""
        index = cls.__new__(cls)
        index._en, index._sl = english, slovenian
        return index

    def tables(self) -> tuple[dict[str, str], dict[str, str]]:
        """English and Slovenian words (joined by line breaks) by spelling key: what
        :meth:`from_tables` takes."""
        return self._en, self._sl

    def english_for(self, lemma: str) -> set[str]:
        """English stems in the index that the Slovenian lemma may be a cognate of."""
        out: set[str] = set()
        for key in slovenian_keys(lemma):
            words = self._en.get(key)
            if words:
                out.update(words.split("\n"))
        return out

    def slovenian_for(self, stem: str) -> set[str]:
        """Slovenian lemmas in the index that may be cognates of the English stem."""
        key = english_key(stem)
        if len(key) < MIN_COGNATE_KEY:
            return set()
        words = self._sl.get(key)
        return set(words.split("\n")) if words else set()


#: File of an index generation folder caching its cognate vocabulary (see cognates_for_reader).
COGNATE_CACHE = "cognates.marshal"
#: The fields whose words a cognate vocabulary is made of: English, then Slovenian.
COGNATE_FIELDS = (("body_en", "title_en"), ("body_sl", "title_sl"))


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


def cognates_for_reader(reader: Any, folder: str | Path | None = None) -> CognateIndex:
    """The :class:`CognateIndex` of a reader's English and Slovenian words.

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
        key = ("cognates", _code_digest(), COGNATE_FIELDS, segments)
        found = read_cache(path, key)
        if found is not None:
            return CognateIndex.from_tables(*found)
    english, slovenian = (reader_words(reader, *names) for names in COGNATE_FIELDS)
    index = CognateIndex(english, slovenian)
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
    """Translates query words between Slovenian and English (thread-safe, cached)."""

    def __init__(self, dictionary: BilingualDictionary | None | bool = True,
                 cognates: bool = True) -> None:
        if dictionary is True:
            dictionary = load_dictionary()
        self.dictionary = dictionary or None
        self.cognates = cognates
        self._analyzers = {lang: [(p.name, p.make_analyzer()) for p in language.paths]
                           for lang, language in LANGUAGES.items()}
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
        """Target-language words for ``word`` of language ``source``, best first."""
        low = word.lower()
        if source == "sl":
            found = self._from_slovenian(low, cognates)
        elif source == "en":
            found = self._from_english(low, cognates)
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

    def _from_slovenian(self, word: str, cognates: CognateIndex | None) -> list[Translation]:
        lemma = slovenian_lemma(word)
        out: list[Translation] = []
        if self.dictionary is not None:
            seen: set[str] = set()
            keys = dict.fromkeys((fold(lemma), fold(word), fold(slovenian_lemma(fold(word)))))
            entries = [(self.dictionary.sl_en.get(k, ()), 1.0) for k in keys]
            if not any(found for found, _ in entries):  # try the word it is derived from
                entries = [(self.dictionary.sl_en.get(k, ()), DERIVED_WEIGHT)
                           for k in derived_lemmas(fold(lemma))]
            for found, factor in entries:
                # Phrases ("take part") only when the entry has no one-word translation.
                longest = 1 if any(len(_content_words(e)) == 1 for e in found) \
                    else MAX_PHRASE_WORDS
                for rank, english in enumerate(found):
                    content = _content_words(english)
                    if not content or len(content) > longest:
                        continue
                    weight = factor * _sense_weight(rank) / len(content)
                    for w in content:
                        if w not in seen:
                            seen.add(w)
                            out.append(Translation(word, "en", w, weight, self.terms(w, "en")))
        if self.cognates and cognates is not None:
            stems = cognates.english_for(fold(lemma)) | cognates.english_for(fold(word))
            for stem in sorted(stems):
                out.append(Translation(word, "en", stem, COGNATE_WEIGHT, (("", stem),),
                                       kind="cognate"))
        return out

    def _from_english(self, word: str, cognates: CognateIndex | None) -> list[Translation]:
        stem = _english_stem(word)
        out: list[Translation] = []
        if self.dictionary is not None:
            for head, rank in self.dictionary.en_sl.get(stem, ()):
                if " " in head:
                    continue
                out.append(Translation(word, "sl", head, _sense_weight(rank),
                                       self.terms(head, "sl")))
        if self.cognates and cognates is not None:
            for lemma in sorted(cognates.slovenian_for(stem)):
                terms = (("", lemma),) + tuple((p, t) for p, t in self.terms(lemma, "sl") if p)
                out.append(Translation(word, "sl", lemma, COGNATE_WEIGHT, terms, kind="cognate"))
        return out


#: Slovenian derivations whose base word the dictionary may list instead: verbal nouns
#: (``izbiranje`` -> ``izbirati``, ``nastavitev`` -> ``nastaviti``) and adverbs
#: (``neposredno`` -> ``neposreden``).
DERIVATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("anje", ("ati",)),
    ("enje", ("iti", "eti")),
    ("itev", ("iti",)),
    ("atev", ("ati",)),
    ("no", ("en",)),
    ("sko", ("ski",)),
)
#: Weight factor of a translation found through a derivation.
DERIVED_WEIGHT = 0.8


def derived_lemmas(lemma: str) -> list[str]:
    """Base words a (folded) Slovenian lemma may be derived from, by general suffix rules.

    >>> derived_lemmas("izbiranje"), derived_lemmas("neposredno")
    (['izbirati'], ['neposreden'])
    """
    return [lemma[:-len(end)] + base for end, bases in DERIVATIONS
            if lemma.endswith(end) and len(lemma) > len(end) + 2 for base in bases]


def _sense_weight(rank: int) -> float:
    return max(MIN_SENSE_WEIGHT, DICTIONARY_WEIGHT - SENSE_DECAY * rank)


_default: Translator | None = None
_default_lock = threading.Lock()


def default_translator() -> Translator:
    """One shared translator per process (the dictionary is parsed once)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Translator()
        return _default
