"""Language identification: py3langid restricted to the languages we index, plus plain evidence.

py3langid is a character n-gram Naive Bayes model that ships with its package (offline). On its
own it is very accurate for prose; it goes wrong mainly on text that is not prose in any
language (program code, identifiers, URLs) and on very short text. So before asking it we drop
what is not words of a natural language (code lines, dotted/underscored/camelCase identifiers,
numbers), and when it is unsure we fall back on signals that do not need a model: the
document's declared language (``hint``) and the Slovenian letters č, š, ž, which English text
almost never uses outside the odd proper name.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

#: Languages we index; a document's ``lang`` is one of the languages asked for, or
#: ``UNKNOWN`` when its text cannot tell (see :func:`guess_language`).
DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "sl")


#: Only the start of a long document is used: a paragraph of prose is plenty for a character
#: n-gram model to tell two languages apart, and the DFA walk in py3langid is pure Python
#: (linear in bytes), so this bounds the cost per document.
SAMPLE_CHARS = 500
#: A first, shorter look: most documents are told apart by their first sentence or two, with
#: a probability above ``SURE``; only the others pay for the whole sample. (Measured on the
#: 5,120 help pages and the 18,012 English abstracts of the shared collections: the answer was
#: the same as from the whole sample for every one, and 96 % stopped at the first look.)
FIRST_SAMPLE_CHARS = 150
SURE = 0.999
#: How much raw text is scanned to find ``SAMPLE_CHARS`` of prose.
SCAN_CHARS = 20000
#: Samples are taken in this many pieces spread over the text (see :func:`spread_sample`).
SPREAD_PIECES = 3
#: Below this probability the identifier's answer is treated as "unsure".
CONFIDENT = 0.90
#: With fewer letters than this the text is "very short": a hint wins if there is one.
SHORT_LETTERS = 24

#: Letters that mark a language and are (nearly) absent from the others we index. Per 100
#: letters Slovenian prose has about 3 of č/š/ž; English prose has none except in proper names.
MARKER_LETTERS: dict[str, frozenset[str]] = {
    "sl": frozenset("čšžČŠŽ"),
}
#: Share of letters that must be marker letters (and the least count) to call the language.
MARKER_SHARE = 0.005
MARKER_MIN_COUNT = 2

#: Tags and codes that people write for our languages, mapped to ISO 639-1 ("si" is Sinhala in
#: ISO 639-1 but on the web it is nearly always Slovenia's country code used by mistake).
_LANG_ALIASES = {"slv": "sl", "slo": "sl", "si": "sl", "eng": "en"}

# A line that is program code rather than prose: assignments, calls, braces, comment openers.
_CODE_LINE = re.compile(r"^(?:.*(?:[{};=<>]|\w\()|\s*(?://|/\*)).*$", re.M)
# Identifiers and addresses: dotted/underscored/slashed names, URLs, e-mail addresses. A
# whitespace-delimited chunk holding a word character, one of ``._/\:@`` and a word character
# is replaced whole. (Written as "a chunk start, then a look-ahead" rather than the plain
# ``\S*\w[._/\\:@]\w\S*``, which matches the same chunks but backtracks through every
# chunk from each of its characters.)
_IDENTIFIER = re.compile(r"(?<!\S)(?=\S*?\w[._/\\:@]\w)\S+")
# A word of a natural language: letters, with inner apostrophes or hyphens.
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# camelCase / PascalCase-with-inner-capitals: identifiers, not words.
_CAMEL = re.compile(r"\b[^\W\d_]*?[a-z][A-Z]\w*")
_LETTER = re.compile(r"[^\W\d_]")
# What each of the patterns above needs to find anything: most prose has none of these, and a
# plain search is much cheaper than a substitution that tries every position. (Each starts
# with a character class, and the word characters around it are look-arounds: the regex
# engine then skips ahead to candidate characters instead of trying every position, 4-7x
# faster than the plain ``[{};=<>]|\w\(|//|/\*`` and ``\w[._/\\:@]\w``.)
_CODE_HINT = re.compile(r"[{};=<>]|\((?<=\w\()|/[/*]")
_IDENTIFIER_HINT = re.compile(r"[._/\\:@](?<=\w.)(?=\w)")
_CAMEL_HINT = re.compile(r"[a-z][A-Z]")

_lock = threading.Lock()
_identifiers: dict[tuple[str, ...], object] = {}


def normalize_language(tag: str | None) -> str | None:
    """Reduce a language tag ("sl-SI", "en_GB", "SLV") to a lower-case ISO 639-1 code, or None."""
    if not tag or not isinstance(tag, str):
        return None
    code = re.split(r"[-_\s]", tag.strip().lower(), maxsplit=1)[0]
    code = _LANG_ALIASES.get(code, code)
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


@lru_cache(maxsize=64)
def _language_codes(languages: tuple[str, ...]) -> tuple[str, ...]:
    """``languages`` normalised and without repeats (every document asks with the same few)."""
    return tuple(dict.fromkeys(normalize_language(x) or x for x in languages))


def _identifier(languages: tuple[str, ...]):
    """The py3langid identifier restricted to ``languages``, built once per language set
    (see :mod:`search.documents.langid_model`)."""
    ident = _identifiers.get(languages)
    if ident is not None:
        return ident
    with _lock:
        ident = _identifiers.get(languages)
        if ident is None:
            from search.documents.langid_model import identifier

            ident = _identifiers[languages] = identifier(languages)
    return ident


def _prose_words(chunk: str) -> list[str]:
    if _CODE_HINT.search(chunk):
        chunk = _CODE_LINE.sub("", chunk)
    if _IDENTIFIER_HINT.search(chunk):
        chunk = _IDENTIFIER.sub(" ", chunk)
    if _CAMEL_HINT.search(chunk):
        chunk = _CAMEL.sub(" ", chunk)
    return _WORD.findall(chunk)


def prose_sample(text: str, limit: int = SAMPLE_CHARS) -> str:
    """The natural-language words of ``text``: code lines, identifiers and numbers removed.

    Works through the start of the text in chunks until ``limit`` characters of words are
    found (or ``SCAN_CHARS`` have been looked at), so the cost does not grow with the text.
    """
    words: list[str] = []
    size = 0
    pos = 0
    end = min(len(text), SCAN_CHARS)
    while pos < end and size < limit:
        stop = text.find("\n", pos + 2 * limit)
        stop = end if stop < 0 or stop > end else stop
        found = _prose_words(text[pos:stop])
        words.extend(found)
        size += sum(map(len, found)) + len(found)
        pos = stop
    return " ".join(words)[:limit]


def spread_sample(text: str, limit: int = SAMPLE_CHARS) -> str:
    """Natural-language words from across the whole of ``text`` (up to ``SCAN_CHARS``), not
    only its start: ``SPREAD_PIECES`` pieces of ``limit / SPREAD_PIECES`` characters each,
    taken at evenly spaced places.

    A title or a name often opens a text in another language ("The Elder Scrolls Online je
    spletna igra ..."); a sample of the start alone then weighs that name as much as the
    body. Spread out, the sample costs what a sample of the start does (the identifier's
    time is linear in the sample) while the body, wherever it is, decides.
    """
    end = min(len(text), SCAN_CHARS)
    if end <= limit:
        return prose_sample(text, limit)
    piece = max(1, limit // SPREAD_PIECES)
    parts = []
    for i in range(SPREAD_PIECES):
        start = i * (end - piece) // (SPREAD_PIECES - 1)
        if start:  # begin at a word, not inside one
            space = text.find(" ", start, end)
            start = space + 1 if space >= 0 else start
        # Four times the piece is plenty of raw text for a piece of prose, and bounds the
        # work when the text has no line breaks.
        found = " ".join(_prose_words(text[start:min(end, start + 4 * piece)]))[:piece]
        if found:
            parts.append(found)
    return " ".join(parts)


def _marker_language(sample: str, languages: Sequence[str]) -> str | None:
    """The language whose marker letters make up a clear share of ``sample``, if any."""
    letters = len(_LETTER.findall(sample))
    if not letters:
        return None
    for lang in languages:
        markers = MARKER_LETTERS.get(lang)
        if not markers:
            continue
        count = len(re.findall("[" + "".join(sorted(markers)) + "]", sample))
        if count >= MARKER_MIN_COUNT and count / letters >= MARKER_SHARE:
            return lang
    return None


@dataclass(frozen=True)
class LanguageGuess:
    """What the text says about its language."""

    #: The language, or None when the text cannot tell: too short (a name and a number), or
    #: the identifier is unsure and neither a declaration nor the č/š/ž letters decide.
    lang: str | None
    best: str  #: the identifier's best guess (one of the languages), sure or not
    share: float  #: the identifier's probability for ``best`` (1.0 when it was not asked)
    letters: int  #: letters in the sample the answer came from


def guess_language(text: str, languages: Sequence[str] = DEFAULT_LANGUAGES,
                   hint: str | None = None) -> LanguageGuess:
    """The language of ``text``, or None in :attr:`LanguageGuess.lang` when it cannot tell.

    ``hint`` is a declared language (e.g. HTML ``lang="sl-SI"``); it decides only when the text
    is very short or the identifier is unsure, because declarations are often template defaults.
    The sample is spread over the whole text (see :func:`spread_sample`), so a title or a name
    in another language at its start does not decide.
    """
    langs = _language_codes(tuple(languages))
    if not langs:
        raise ValueError("languages must not be empty")
    if len(langs) == 1:
        return LanguageGuess(langs[0], langs[0], 1.0, 0)
    hint = normalize_language(hint) if hint else None
    if hint not in langs:
        hint = None

    first = spread_sample(text or "", FIRST_SAMPLE_CHARS)
    letters = len(first) - first.count(" ")
    if letters >= SHORT_LETTERS:
        lang, prob = _identifier(langs).classify(first)
        if prob >= SURE:
            return LanguageGuess(lang, lang, prob, letters)
    sample = spread_sample(text or "")
    letters = len(sample) - sample.count(" ")  # the sample is letter words and spaces
    if letters < SHORT_LETTERS:
        if hint:
            return LanguageGuess(hint, hint, 1.0, letters)
        # Little prose left: perhaps prose the code filter took for code (a one-line record
        # with a semicolon). Let the model look at all the words there are.
        raw = " ".join(_WORD.findall((text or "")[:2 * SAMPLE_CHARS]))[:SAMPLE_CHARS]
        if not raw:
            return LanguageGuess(None, langs[0], 0.0, 0)
        if letters == 0 or len(raw) - raw.count(" ") >= SHORT_LETTERS:
            sample = raw
            letters = len(raw) - raw.count(" ")
    lang, prob = _identifier(langs).classify(sample)
    if prob >= CONFIDENT and letters >= SHORT_LETTERS:
        return LanguageGuess(lang, lang, prob, letters)
    decided = hint or _marker_language(sample, langs)
    return LanguageGuess(decided, decided or lang, prob, letters)


def detect_language(text: str, languages: Sequence[str] = DEFAULT_LANGUAGES,
                    hint: str | None = None) -> str:
    """The language of ``text``, always one of ``languages``: the identifier's best guess when
    the text cannot tell (see :func:`guess_language`), the first language when nothing does."""
    return guess_language(text, languages, hint).best


def guess_document_language(title: str | None, text: str,
                            languages: Sequence[str] = DEFAULT_LANGUAGES,
                            hint: str | None = None) -> LanguageGuess:
    """The language of a document from its body, and from its title only when the body
    alone cannot tell: a title is often a name in another language ("Lex Luthor
    (Smallville)" over a Slovenian text)."""
    # Only samples are ever looked at, so do not copy a whole (possibly huge) text.
    head = text[:SCAN_CHARS] if text else ""
    guess = guess_language(head, languages, hint)
    if title and (guess.lang is None or guess.letters < SHORT_LETTERS):
        guess = guess_language(f"{title}\n{head}", languages, hint)
    return guess


def detect_document_language(title: str | None, text: str,
                             languages: Sequence[str] = DEFAULT_LANGUAGES,
                             hint: str | None = None, unknown: str | None = None) -> str:
    """The language of a document: what the indexer calls per document.

    When the document cannot tell (see :func:`guess_language`), ``unknown`` if given, else
    the identifier's best guess.
    """
    guess = guess_document_language(title, text, languages, hint)
    return guess.lang or unknown or guess.best
