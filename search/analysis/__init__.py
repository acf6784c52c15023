"""Per-language analysis behind one small interface.

A language is one module (``english``, ``slovenian``) exposing ``LANGUAGE``, a
:class:`Language`: its code, its names, its analysis *paths*, its stop words, and what
translation needs from it (a base form of its words, a dictionary into another language).
Every path becomes one title field and one body field per language in the index (``body_sl``,
``body_sl_stem``), named by :class:`~search.analysis.fields.FieldName`, and every language has
one field of surface words for the spelling corrector and completions (``spell_sl``); queries
search all paths, each weighted by its boost. The rest of the engine iterates
:data:`LANGUAGES` and asks the language objects rather than naming languages (language
detection keeps the tags and letters it knows Slovenian by in
:mod:`search.documents.language`; the web's two interface languages are another matter).

Adding a language:

- **to the engine for good**: write one module here defining ``LANGUAGE`` (see
  ``english.py``: an analyser per path, a stop list) and add it to the tuple in
  :func:`_builtin`. Indexes built before do not have its fields: rebuild them.
- **from your own code, without touching the engine**: define a :class:`Language` anywhere
  and index and search inside ``with register(language):``. The registration holds for the
  ``with`` block (in its thread and in the threads and worker processes the engine starts
  from it) and is undone at its end, so it never leaks into other code or tests;
  ``tests/test_third_language.py`` adds Italian this way. Its analysers are pickled into the
  index, so they must be picklable (Whoosh's own filters are; so are module-level
  functions). Open the index inside the block too: outside it the new language's fields
  are not searched. ``search-cli`` and the web server know the built-in languages only.

Every path's ``make_analyzer`` accepts the index-time analysis options of
:data:`ANALYSIS_OPTIONS` as keyword arguments (``stopwords=False``, ``morphology=False``), for
ablation experiments; without arguments it builds the engine's normal analyser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType

from whoosh.analysis import Analyzer, LowercaseFilter

from search.analysis.fields import SPELL, FieldName, text_field_names
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
class TranslationRules:
    """What translating a language's words into another language needs (see
    :mod:`search.translation`): a bilingual dictionary in dictd format (as FreeDict ships
    them) whose headwords are this language's, and the general rules by which this language
    spells the other's borrowed words (cognates) and derives words from others."""

    target: str  #: code of the language it translates into
    dictionary: str  #: path of the dictionary's files without ``.index`` / ``.dict.dz``
    env: str = ""  #: an environment variable that may name another ``dictionary`` path
    package: str = ""  #: where to get the dictionary (said when it is missing)
    #: Words of the dictionary's glosses that translate nothing ("something", "sb").
    gloss_stop_words: frozenset[str] = frozenset()
    #: This language's endings of borrowed words -> the target language's (``cija`` ->
    #: ``tion``); applied to folded lemmas, every matching rule tried, the plain word too.
    cognate_endings: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Derivations whose base word the dictionary may list instead (``anje`` -> ``ati``).
    derivations: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class Language:
    code: str  #: ISO 639-1
    name: str  #: its own name for itself ("Slovenščina")
    paths: tuple[AnalysisPath, ...]
    stop_words: frozenset[str]
    #: Its name in each language of the web interface ("sl" -> "angleščina").
    display_names: Mapping[str, str] = field(default_factory=dict, compare=False)
    #: Makes the function translation looks words up by (lemma or stem of a lowercased
    #: word); a factory, so that each user owns its (cached, not thread-safe) analyser.
    make_base_form: Callable[[], Callable[[str], str]] | None = field(default=None,
                                                                      compare=False)
    #: How to translate its words into another language, if it can be.
    translation: TranslationRules | None = None

    @property
    def main(self) -> AnalysisPath:
        return self.paths[0]

    def analyzer(self) -> Analyzer:
        """The main analyzer (used for display-level matching such as snippets)."""
        return self.main.make_analyzer()

    def path(self, name: str) -> AnalysisPath:
        """The analysis path called ``name`` ("" for the main one)."""
        return next(p for p in self.paths if p.name == name)

    def field(self, kind: str, path: str = "") -> FieldName:
        """This language's field of ``kind`` ("title", "body", "spell") and ``path``."""
        return FieldName(kind, self.code, path)

    def text_fields(self) -> list[FieldName]:
        """Every title and body field of this language: each path's title, then its body."""
        return text_field_names(self.code, tuple(p.name for p in self.paths))

    @property
    def spell_field(self) -> FieldName:
        """The field of this language's surface words ("did you mean", completions)."""
        return FieldName(SPELL, self.code)


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


def _builtin() -> Mapping[str, Language]:
    from search.analysis import english, slovenian

    return MappingProxyType({lang.code: lang for lang in (english.LANGUAGE, slovenian.LANGUAGE)})


_BUILTIN = _builtin()
#: The languages registered in the current context (None: the built-in ones only). A
#: context variable, not a module global: see :func:`register`.
_ACTIVE: ContextVar[Mapping[str, Language] | None] = ContextVar("search_languages",
                                                                 default=None)


class LanguageRegistry(Mapping[str, Language]):
    """The languages the engine indexes and searches, by code, in order: the built-in ones,
    then those registered (see :func:`register`) in the current context. Read-only."""

    def _current(self) -> Mapping[str, Language]:
        return _ACTIVE.get() or _BUILTIN

    def __getitem__(self, code: str) -> Language:
        return self._current()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())

    def __contains__(self, code: object) -> bool:
        return code in self._current()

    def __repr__(self) -> str:
        return f"LanguageRegistry({list(self)!r})"


#: Supported languages by code (a read-only view of the current registrations).
LANGUAGES: Mapping[str, Language] = LanguageRegistry()


@contextmanager
def register(*languages: Language) -> Iterator[Mapping[str, Language]]:
    """Index and search ``languages`` too, within the ``with`` block.

    The registration is kept in a context variable: it holds in the block (and in the
    threads the engine starts from it, which copy their context; forked worker processes
    inherit it) and ends with it, so nothing leaks into other code or other tests. A
    language with a built-in code replaces the built-in one.

    >>> from search.analysis import english
    >>> lingua = Language("la", "Latina", english.LANGUAGE.paths, frozenset({"et"}))
    >>> with register(lingua):
    ...     list(LANGUAGES)
    ['en', 'sl', 'la']
    >>> list(LANGUAGES)
    ['en', 'sl']
    """
    for language in languages:
        if not isinstance(language, Language):
            raise TypeError(f"register() takes Language objects, not {language!r}")
    current = dict(LANGUAGES.items())
    current.update((language.code, language) for language in languages)
    token = _ACTIVE.set(MappingProxyType(current))
    try:
        yield LANGUAGES
    finally:
        _ACTIVE.reset(token)


def analyze(text: str, lang: str, path: str = "", **options: bool) -> list[str]:
    """Index terms of ``text`` for one language path (for tests, debugging and tools).

    ``options``: index-time analysis options (see :data:`ANALYSIS_OPTIONS`).

    >>> analyze("Meje in mejah", "sl")
    ['meja', 'meja']
    >>> analyze("Meje in mejah", "sl", morphology=False, stopwords=False)
    ['meje', 'in', 'mejah']
    """
    chosen = LANGUAGES[lang].path(path)
    return [t.text for t in chosen.make_analyzer(**analysis_options(options))(text)]
