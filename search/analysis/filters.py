"""Small analysis building blocks, composed with ``|`` like Whoosh's own.

Everything here is pickled into the index schema, so class names and module paths are part
of the on-disk format: rename nothing without bumping ``search.storage.INDEX_FORMAT``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from whoosh.analysis import Filter, RegexTokenizer, Token

#: Words: letters and digits, with inner apostrophes ("today's", "O’Neill").
WORD_PATTERN = r"\w+(?:['’]\w+)*"
WORDS = re.compile(WORD_PATTERN)

_FOLD_TABLE = str.maketrans({"č": "c", "š": "s", "ž": "z", "ć": "c", "đ": "d",
                             "Č": "C", "Š": "S", "Ž": "Z", "Ć": "C", "Đ": "D",
                             "ß": "ss", "æ": "ae", "ø": "o", "ł": "l", "’": "'"})


def fold(text: str) -> str:
    """Remove diacritics so that people who type without them still match.

    >>> fold("Šaranović đak")
    'Saranovic dak'
    """
    text = text.translate(_FOLD_TABLE)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class UnicodeWordTokenizer(RegexTokenizer):
    """Splits text into Unicode words, keeping character offsets for highlighting.

    Text is NFC-normalised first, so a decomposed ``č`` (c + combining caron) stays one
    word; offsets refer to the normalised text, which is how documents are stored.

    >>> [t.text for t in UnicodeWordTokenizer()("Minister's meja-2024, Šaranović")]
    ["Minister's", 'meja', '2024', 'Šaranović']
    """

    def __init__(self) -> None:
        super().__init__(expression=WORD_PATTERN, gaps=False)

    def __call__(self, value: str, **kwargs: Any) -> Iterator[Token]:
        if not value.isascii():
            value = unicodedata.normalize("NFC", value)
        return super().__call__(value, **kwargs)


class FoldFilter(Filter):
    """Folds diacritics in token texts (see :func:`fold`).

    >>> from whoosh.analysis import LowercaseFilter
    >>> [t.text for t in (UnicodeWordTokenizer() | LowercaseFilter() | FoldFilter())("Črna gora")]
    ['crna', 'gora']
    """

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            if not t.text.isascii():
                t.text = fold(t.text)
            yield t


#: Words longer than this (hashes, base64, junk) are left as they are by morphology filters.
MAX_MORPH_CHARS = 60


class CachedMorphFilter(Filter):
    """Base for filters that map a word to its base form through a cached function.

    The underlying stemmer or lemmatizer is created lazily in each process and is never
    pickled (lemmagen3's C object cannot be), so the filter can travel inside the schema and
    to Whoosh's indexing subprocesses.
    """

    is_morph = True
    cache_size = 200_000

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}
        self._fn: Callable[[str], str] | None = None

    def _make(self) -> Callable[[str], str]:
        raise NotImplementedError

    def base_form(self, word: str) -> str:
        cache = self._cache
        try:
            return cache[word]
        except KeyError:
            pass
        if len(word) > MAX_MORPH_CHARS:
            return word  # lemmagen3 mangles words past 255 bytes; nothing to gain anyway
        if self._fn is None:
            self._fn = self._make()
        result = self._fn(word) or word
        if len(cache) >= self.cache_size:
            cache.clear()
        cache[word] = result
        return result

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        base_form = self.base_form
        for t in tokens:
            if not t.stopped:
                t.text = base_form(t.text)
            yield t

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_cache"] = {}
        state["_fn"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_cache", {})
        self.__dict__.setdefault("_fn", None)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._params() == other._params()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._params()))

    def _params(self) -> tuple:
        return ()


class SnowballFilter(CachedMorphFilter):
    """Stems with a Snowball stemmer from the ``snowballstemmer`` package.

    >>> [t.text for t in (UnicodeWordTokenizer() | SnowballFilter("english"))("crossings crossed")]
    ['cross', 'cross']
    """

    def __init__(self, language: str = "english") -> None:
        super().__init__()
        self.language = language

    def _make(self) -> Callable[[str], str]:
        import snowballstemmer

        return snowballstemmer.stemmer(self.language).stemWord

    def _params(self) -> tuple:
        return (self.language,)


class LemmaFilter(CachedMorphFilter):
    """Replaces words by their lemma with lemmagen3 (Slovenian by default).

    >>> [t.text for t in (UnicodeWordTokenizer() | LemmaFilter("sl"))("mejo ministrom")]
    ['meja', 'minister']
    """

    def __init__(self, language: str = "sl") -> None:
        super().__init__()
        self.language = language

    def _make(self) -> Callable[[str], str]:
        from lemmagen3 import Lemmatizer

        return Lemmatizer(self.language).lemmatize

    def _params(self) -> tuple:
        return (self.language,)


class TruncateFilter(Filter):
    """A light stemmer: keeps the first ``length`` characters of each word.

    Crude but robust for a highly inflected language when the lemmatizer cannot help, e.g.
    for words typed without diacritics; measured close to lemmatization on Slovenian.

    >>> [t.text for t in (UnicodeWordTokenizer() | TruncateFilter(5))("saranovicu meji")]
    ['saran', 'meji']
    """

    is_morph = True

    def __init__(self, length: int = 5) -> None:
        self.length = length

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        n = self.length
        for t in tokens:
            if len(t.text) > n and not t.text.isdigit():
                t.text = t.text[:n]
            yield t


def words(text: str) -> list[str]:
    """The plain words of a text, as the tokenizer sees them (for query fallbacks).

    >>> words('"unclosed (AND -x*')
    ['unclosed', 'AND', 'x']
    """
    return WORDS.findall(text)
