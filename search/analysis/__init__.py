"""Per-language analysis behind one small interface.

A language is one module (``english``, ``slovenian``) exposing ``LANGUAGE``, a
:class:`Language`: its code, its name, and its analysis *paths*. Every path becomes one
title field and one body field per language in the index (``body_sl``, ``body_sl_stem``);
queries search all paths, each weighted by its boost. Adding a third language means adding
one module and one line in :data:`LANGUAGES`.

Every path's ``make_analyzer`` accepts the index-time analysis options of
:data:`ANALYSIS_OPTIONS` as keyword arguments (``stopwords=False``, ``morphology=False``), for
ablation experiments; without arguments it builds the engine's normal analyser.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from whoosh.analysis import Analyzer, LowercaseFilter

from search.analysis.filters import UnicodeWordTokenizer


@dataclass(frozen=True)
class AnalysisPath:
    """One way of turning text into index terms."""

    name: str  #: "" for the main path; otherwise a field-name suffix such as "stem"
    make_analyzer: Callable[..., Analyzer]  #: keyword arguments: see ANALYSIS_OPTIONS
    boost: float = 1.0  #: weight of this path's matches at query time

    def suffix(self) -> str:
        return f"_{self.name}" if self.name else ""


@dataclass(frozen=True)
class Language:
    code: str  #: ISO 639-1
    name: str
    paths: tuple[AnalysisPath, ...]
    stop_words: frozenset[str]

    @property
    def main(self) -> AnalysisPath:
        return self.paths[0]

    def analyzer(self) -> Analyzer:
        """The main analyzer (used for display-level matching such as snippets)."""
        return self.main.make_analyzer()


#: Index-time analysis options and their defaults (the engine's normal analysis):
#: ``stopwords``: drop the language's stop words; ``morphology``: lemmatise / stem (off: the
#: tokenizer, lowercasing and diacritic folding only).
ANALYSIS_OPTIONS: dict[str, bool] = {"stopwords": True, "morphology": True}


def analysis_options(options: Mapping[str, object] | None = None) -> dict[str, bool]:
    """``options`` completed with the defaults of :data:`ANALYSIS_OPTIONS`, checked.

    >>> analysis_options({"stopwords": False})
    {'stopwords': False, 'morphology': True}
    """
    unknown = sorted(set(options or {}) - set(ANALYSIS_OPTIONS))
    if unknown:
        raise ValueError(f"unknown analysis option(s) {', '.join(map(repr, unknown))}; "
                         f"known: {', '.join(ANALYSIS_OPTIONS)}")
    resolved = dict(ANALYSIS_OPTIONS)
    for key, value in (options or {}).items():
        if not isinstance(value, bool):
            raise ValueError(f"analysis option {key!r} must be True or False, not {value!r}")
        resolved[key] = value
    return resolved


def spelling_analyzer() -> Analyzer:
    """Surface words for "did you mean": lowercased, nothing else.

    >>> [t.text for t in spelling_analyzer()("Ministra Policije")]
    ['ministra', 'policije']
    """
    return UnicodeWordTokenizer() | LowercaseFilter()


def _registry() -> dict[str, Language]:
    from search.analysis import english, slovenian

    return {lang.code: lang for lang in (english.LANGUAGE, slovenian.LANGUAGE)}


#: Supported languages by code; the first is the fallback for undetectable text.
LANGUAGES: dict[str, Language] = _registry()


def analyze(text: str, lang: str, path: str = "", **options: bool) -> list[str]:
    """Index terms of ``text`` for one language path (for tests, debugging and tools).

    ``options``: index-time analysis options (see :data:`ANALYSIS_OPTIONS`).

    >>> analyze("Meje in mejah", "sl")
    ['meja', 'meja']
    >>> analyze("Meje in mejah", "sl", morphology=False, stopwords=False)
    ['meje', 'in', 'mejah']
    """
    language = LANGUAGES[lang]
    chosen = next(p for p in language.paths if p.name == path)
    return [t.text for t in chosen.make_analyzer(**analysis_options(options))(text)]
