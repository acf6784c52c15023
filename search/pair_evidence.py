"""Evidence that two documents in different languages translate each other.

Only evidence that survives translation counts, and none of it is fitted to one site:

- **words**: a document's words translated by the engine's own machinery
  (:class:`~search.translation.Translator`: the FreeDict dictionary and cognate rules,
  checked against the index's vocabulary) and looked for in the other document, in both
  directions, each word weighted by how rare it is in its language (IDF);
- **anchors**: what a translator copies as it stands: numbers, dates, URLs and e-mail
  addresses, code identifiers (``loadLibrary``, ``x_y``, ``a.b``), names and other words
  spelled the same in both languages, weighted by their rarity in the whole index;
- **structure**: the number of lines (paragraphs) and the length of the two texts.

A :class:`Profile` holds one document's evidence (read from its stored fields and the index's
statistics, at most :data:`MAX_CHARS` characters of it); :func:`compare` scores two profiles.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from search.analysis import LANGUAGES, spelling_analyzer
from search.analysis.filters import WORDS as _WORD
from search.cognates import CognateIndex
from search.language_pair import default_pair
from search.schema import spelling_fields
from search.translation import Translator, derived_lemmas
from search.whoosh_ext.terms import field_frequencies

#: Characters of a document's text (after its title) that are compared: bounds the work
#: per document whatever its size; a translation shows itself long before this.
MAX_CHARS = 20_000
#: Weights of the kinds of evidence in a score (see :func:`compare`).
#: (Tuned on the LibreOffice help, the development data, with the thresholds of
#: search.pairing; no rule or word list comes from it.)
WORD_WEIGHT = 1.0
ANCHOR_WEIGHT = 0.4
#: How much the structure (line counts, lengths) can scale a score down: a score is
#: multiplied by ``1 - STRUCTURE_WEIGHT * (1 - structure similarity)``.
STRUCTURE_WEIGHT = 1.0

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_DOTTED = re.compile(r"\w+(?:[._:]\w+)+")
_NUMBER = re.compile(r"\d+(?:[.,:/]\d+)*")
_TRAILING = ".,:;"
#: Dictionary senses of a word taken as its translations (later senses are rarer uses).
MAX_SENSES = 4


@dataclass
class Profile:
    """One document's evidence, ready to be compared."""

    id: str
    lang: str
    docnum: int
    chars: int  #: length of the whole text
    lines: int  #: non-empty lines of the text compared
    #: own-language index terms (main analysis path) -> weight (IDF in that language)
    words: dict[str, float] = field(default_factory=dict)
    #: own-language term -> the other language's terms it may translate to
    translations: dict[str, frozenset[str]] = field(default_factory=dict)
    #: anchor text (as compared) -> (weight, kind)
    anchors: dict[str, tuple[float, str]] = field(default_factory=dict)
    title: frozenset[str] = frozenset()  #: own-language terms of the title
    translatable: float = 0.0  #: total weight of the words that have translations
    anchor_total: float = 0.0  #: total weight of the anchors


@dataclass(frozen=True)
class Score:
    """How well two profiles match: the total and its parts (each 0..1)."""

    total: float
    words: float
    anchors: float
    structure: float
    #: kind of anchor -> its share of the anchor similarity
    anchor_kinds: dict[str, float] = field(default_factory=dict)

    @property
    def scale(self) -> float:
        """The factor the structure puts on the evidence of words and anchors."""
        return 1 - STRUCTURE_WEIGHT * (1 - self.structure)

    def parts(self) -> dict[str, float]:
        """Each kind of word or anchor evidence's weight in the score, before the structure
        scales it (their sum times :attr:`scale` is :attr:`total`)."""
        out = {"words": WORD_WEIGHT * self.words}
        for kind, share in self.anchor_kinds.items():
            out[kind] = ANCHOR_WEIGHT * share
        return out


def deciding_evidence(best: Score, runner_up: Score | None) -> str:
    """The kind of evidence that did most to put ``best`` above ``runner_up``.

    The lead splits exactly: ``best.total - runner_up.total`` is the sum over the kinds of
    ``(part - runner-up's part) * best.scale``, plus ``runner-up's evidence * (best.scale -
    runner-up's scale)`` for the structure.
    """
    if runner_up is None:
        parts = best.parts()
    else:
        theirs = runner_up.parts()
        parts = {k: (v - theirs.get(k, 0.0)) * best.scale for k, v in best.parts().items()}
        parts["structure"] = sum(theirs.values()) * (best.scale - runner_up.scale)
    return max(parts.items(), key=lambda kv: kv[1])[0]


def other_language(lang: str) -> str | None:
    """The other language of the pair the engine translates between (None for a language
    outside it)."""
    pair = default_pair()
    if pair is None or lang not in pair.codes:
        return None
    return pair.target.code if lang == pair.source.code else pair.source.code


class ProfileMaker:
    """Makes profiles from stored fields, with per-pass caches of word analysis,
    translations and document frequencies (one maker per pairing pass)."""

    def __init__(self, searcher: Any, translator: Translator,
                 cognates: CognateIndex | None) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.dictionary = translator.dictionary
        self.pair = translator.pair
        self.cognates = cognates if translator.cognates else None
        self._analyzers = {code: lang.main.make_analyzer() for code, lang in LANGUAGES.items()}
        self._surface = spelling_analyzer()
        self._stop = frozenset().union(*(lang.stop_words for lang in LANGUAGES.values()))
        self._spell = list(spelling_fields().values())
        self._term: dict[tuple[str, str], str | None] = {}
        self._term_of: dict[str, dict[str, str | None]] = {}  # lang -> word -> term
        self._trans: dict[tuple[str, str], frozenset[str]] = {}
        #: lang -> lower-case word -> what it adds to a profile (see _entry)
        self._entries: dict[str, dict[str, tuple[str, float, frozenset[str]] | None]] = {}
        self._df: dict[tuple[str, str], int] = {}
        self._anchor_weight: dict[str, float] = {}
        self._tables: dict[str, dict[str, int]] = {}
        self.total = max(self.reader.doc_count(), 1)
        self._lang_docs: dict[str, int] = {}
        self.chars_read = 0  #: characters analysed so far (for the bounded-work test)

    def preload(self) -> None:
        """Read the document frequencies of the fields compared, all at once: for a pass
        over many documents, faster than looking each term up."""
        fields = [f"body_{code}" for code in LANGUAGES] + self._spell
        for name in fields:
            table: dict[str, int] = {}
            for leaf, _base in self.reader.leaf_readers():
                for term, df in field_frequencies(leaf, name).items():
                    table[term] = table.get(term, 0) + df
            self._tables[name] = table

    def lang_docs(self, lang: str) -> int:
        found = self._lang_docs.get(lang)
        if found is None:
            found = self._lang_docs[lang] = max(1, self.reader.doc_frequency("lang", lang))
        return found

    def df(self, fieldname: str, term: str) -> int:
        table = self._tables.get(fieldname)
        if table is not None:
            return table.get(term, 0)
        key = (fieldname, term)
        found = self._df.get(key)
        if found is None:
            found = self._df[key] = (self.reader.doc_frequency(fieldname, term)
                                     if fieldname in self.reader.schema else 0)
        return found

    def term(self, word: str, lang: str) -> str | None:
        """The main analysis path's term of a surface word (None for a stop word)."""
        key = (word, lang)
        found = self._term.get(key, False)
        if found is False:
            tokens = [t.text for t in self._analyzers[lang](word)]
            found = self._term[key] = tokens[0] if len(tokens) == 1 else None
            self._term_of.setdefault(lang, {})[word] = found
        return found

    def translations(self, term: str, lang: str) -> frozenset[str]:
        """The other language's main-path terms that a term may translate to: the
        dictionary's translations of the word (or of the word it derives from) and the
        index's cognates of it (see :mod:`search.translation`)."""
        key = (term, lang)
        found = self._trans.get(key)
        if found is not None:
            return found
        other = other_language(lang)
        words: set[str] = set()
        d = self.dictionary
        pair = self.pair
        if pair is None or other is None:
            found = self._trans[key] = frozenset()
            return found
        if lang == pair.source.code:  # the dictionary's headword language
            if d is not None:
                entries = d.forward.get(term) or next(
                    (d.forward[b] for b in derived_lemmas(term, pair) if b in d.forward), [])
                for phrase in entries[:MAX_SENSES]:
                    content = [w for w in _WORD.findall(phrase.lower())
                               if w not in self._stop]
                    if len(content) == 1:
                        words.add(content[0])
            out = set(self.cognates.target_for(term)) if self.cognates is not None else set()
        else:
            if d is not None:
                words.update(head for head, rank in d.inverse.get(term, ())
                             if rank < MAX_SENSES and " " not in head)
            out = set(self.cognates.source_for(term)) if self.cognates is not None else set()
        for word in words:
            target = self.term(word, other) if other else None
            if target:
                out.add(target)
        out.discard(term)  # the same spelling counts as an anchor, not as a translation
        found = self._trans[key] = frozenset(out)
        return found

    def anchor_weight(self, token: str) -> float:
        """How rare an anchor (its rarest word) is in the language where it is most common:
        a capitalised common word (``Rows`` in an English heading) is no name."""
        found = self._anchor_weight.get(token)
        if found is None:
            parts = [t.text for t in self._surface(token)] if not token.isalnum() else [token]
            codes = list(spelling_fields())
            rates = [max(self.df(self._spell[i], p) / self.lang_docs(code)
                         for i, code in enumerate(codes)) for p in parts]
            found = self._anchor_weight[token] = max(
                (math.log(1 + 1 / max(rate, 1 / self.total)) for rate in rates if rate > 0),
                default=0.0)
        return found

    def profile(self, docnum: int, stored: dict[str, Any]) -> Profile | None:
        lang = stored.get("lang", "")
        other = other_language(lang)
        if other is None:
            return None
        text = stored.get("text", "") or ""
        title = stored.get("title", "") or ""
        compared = f"{title}\n{text[:MAX_CHARS]}"
        self.chars_read += len(compared)
        prof = Profile(id=stored["id"], lang=lang, docnum=docnum, chars=len(text),
                       lines=sum(1 for line in compared.split("\n") if line.strip()))
        body = f"body_{lang}"
        n_lang = self.lang_docs(lang)
        words = prof.words
        surface = set(_WORD.findall(compared))
        terms = self._term_of.setdefault(lang, {})
        translations = prof.translations
        entries = self._entries.setdefault(lang, {})
        for word in {w.lower() for w in surface}:
            entry = entries.get(word, False)
            if entry is False:
                entry = entries[word] = self._entry(word, lang, body, n_lang)
            if entry is None or entry[0] in words:
                continue
            term, weight, found = entry
            words[term] = weight
            if found:
                translations[term] = found
        prof.title = frozenset(t for w in _WORD.findall(title.lower())
                               if (t := terms.get(w)) is not None and t in translations)
        prof.translatable = sum(words[t] for t in translations)
        self._anchors(prof, compared, surface, stored.get("date"))
        prof.anchor_total = sum(w for w, _ in prof.anchors.values())
        return prof

    def _entry(self, word: str, lang: str, body: str,
               n_lang: int) -> tuple[str, float, frozenset[str]] | None:
        """A lower-case word's (term, IDF weight, translations) in a profile; None if it is
        not compared (a stop word, a number). The same for every document of a pass."""
        term = self.term(word, lang)
        if term is None or term.isdigit():
            return None
        weight = math.log(1 + n_lang / max(self.df(body, term), 1))
        return term, weight, self.translations(term, lang)

    def _anchors(self, prof: Profile, text: str, surface: set[str], date: str | None) -> None:
        anchors = prof.anchors
        weights = self._anchor_weight

        def add(token: str, kind: str) -> None:
            token = token.rstrip(_TRAILING).lower()
            if len(token) < 2 or token in anchors:
                return
            w = weights.get(token)
            if w is None:
                w = self.anchor_weight(token)
            if w > 0:
                anchors[token] = (w, kind)

        if "://" in text or "www." in text or "@" in text:
            for url in _URL.findall(text):
                add(url, "url")
            text = _URL.sub(" ", text)
        for token in set(_DOTTED.findall(text)):
            if not _NUMBER.fullmatch(token):
                add(token, "code")
        for number in set(_NUMBER.findall(text)):
            add(number, "number")
        if date:
            anchors[f"date:{date}"] = (math.log(1 + self.total), "date")
        stop = self._stop
        for word in surface:
            if word.islower() or word.isdigit() or len(word) < 2:
                continue  # plain words are compared through their translations
            low = word.lower()
            if "_" in word or (not word.isupper() and not word.istitle()) or (
                    word.isupper() and word.isalpha()):
                add(low, "code")  # loadLibrary, x_y, PDF
            elif len(low) >= 3 and low not in stop:
                add(low, "name")  # capitalised words, words with digits


def _word_side(a: Profile, b: Profile) -> tuple[float, float]:
    """(matched, total) weight of ``a``'s translatable words found translated in ``b``."""
    matched = 0.0
    bw = b.words
    aw = a.words
    for term, targets in a.translations.items():
        if not targets.isdisjoint(bw):
            matched += aw[term]
    return matched, a.translatable


def _ratio(x: float, y: float) -> float:
    return min(x, y) / max(x, y) if max(x, y) > 0 else 1.0


def compare(a: Profile, b: Profile) -> Score:
    """How likely ``b`` is ``a``'s translation: 0 for nothing in common, 1 for every word
    translated and the same structure, more with anchors shared (symmetric)."""
    ma, ta = _word_side(a, b)
    mb, tb = _word_side(b, a)
    return score_with_words(a, b, ma, ta, mb, tb)


def score_with_words(a: Profile, b: Profile, ma: float, ta: float, mb: float,
                     tb: float) -> Score:
    """:func:`compare`'s score from the two sides' word evidence ((matched, total) weight of
    each side's translatable words found translated in the other), however it was counted
    (:mod:`search.pair_scoring` counts it for many candidates at once)."""
    words = (ma + mb) / (ta + tb) if ta + tb > 0 else 0.0
    shared: dict[str, float] = {}
    total_a, total_b = a.anchor_total, b.anchor_total
    small, large = (a.anchors, b.anchors) if len(a.anchors) <= len(b.anchors) else (
        b.anchors, a.anchors)
    for token, (w, kind) in small.items():
        if token in large:
            shared[kind] = shared.get(kind, 0.0) + 2 * w
    denominator = total_a + total_b
    kinds = {k: v / denominator for k, v in shared.items()} if denominator else {}
    anchors = sum(kinds.values())
    structure = math.sqrt(_ratio(a.lines + 1, b.lines + 1) * _ratio(a.chars + 50, b.chars + 50))
    raw = WORD_WEIGHT * words + ANCHOR_WEIGHT * anchors
    total = raw * (1 - STRUCTURE_WEIGHT * (1 - structure))
    return Score(total=total, words=words, anchors=anchors, structure=structure,
                 anchor_kinds=kinds)


ProfileSource = Callable[[int], Profile | None]
