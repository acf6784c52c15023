"""The two languages cross-language search translates between, as the languages declare.

A language whose :class:`~search.analysis.TranslationRules` name another registered
language makes a :class:`LanguagePair` with it (today Slovenian -> English, from
``search/analysis/slovenian.py``): the dictionary's headword language is the pair's
``source``, its gloss language the ``target``; translation runs both ways
(:mod:`search.translation`, :mod:`search.cognates`).
"""

from __future__ import annotations

import hashlib
import importlib
import marshal
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from search.analysis import LANGUAGES, Language, TranslationRules
from search.cache import CACHE_FORMAT


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


def require_pair(pair: LanguagePair | None) -> LanguagePair:
    pair = pair or default_pair()
    if pair is None:
        raise LookupError("no registered language declares a translation into another")
    return pair


def require_base_form(factory: Any) -> Any:
    """``factory`` (a language's ``make_base_form``), which translation cannot do without."""
    if factory is None:
        raise LookupError("a language of the translation pair has no make_base_form")
    return factory


def code_digest(pair: LanguagePair) -> str:
    """A fingerprint of the code whose results are cached for ``pair`` (its parsed
    dictionary, an index's cognate vocabulary): the translation and cognate rules, folding,
    the pair's languages (stop words, stemming, rules), and the Python that serialised them.
    A cache made by other code is simply not used."""
    files = [importlib.import_module(name).__file__ or "" for name in (
        "search.translation", "search.cognates", __name__, "search.analysis.filters")]
    for lang in (pair.source, pair.target):  # the files defining the languages
        code = getattr(lang.make_base_form, "__code__", None)
        if code is not None:
            files.append(code.co_filename)
    return _digest(tuple(dict.fromkeys(files)))


@lru_cache(maxsize=8)
def _digest(files: tuple[str, ...]) -> str:
    h = hashlib.sha256(f"{CACHE_FORMAT} {sys.version_info[:2]} {marshal.version}".encode())
    for name in files:
        with open(name, "rb") as fh:
            h.update(fh.read())
    try:
        import Stemmer  # the C stemmer snowballstemmer uses when installed

        h.update(f"PyStemmer {Stemmer.version()}".encode())
    except (ImportError, AttributeError):
        pass
    import snowballstemmer

    h.update(f"snowballstemmer {getattr(snowballstemmer, '__version__', '?')}".encode())
    return h.hexdigest()
