"""Validation of search parameters, shared by the HTML pages and the JSON API.

Anything a person can put in a URL is checked here, so a bad value becomes a clear
bilingual 400 message instead of reaching the engine (or becoming a 500).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from search import UNKNOWN, query_words
from search.analysis import LANGUAGES

MAX_QUERY = 500
#: Words with ``*`` or ``?`` per query. Each expands to up to hundreds of indexed words in
#: every field, so a box full of ``a* b* c*...`` took seconds (4 s for 500 characters on 5k
#: documents); ten keep any query well under a second.
MAX_WILDCARDS = 10
#: Longest word (letters and digits) in a query. Nobody types longer ones, and lemmagen3
#: breaks on words of 256+ UTF-8 bytes (a 500 error): 60 characters stay below that.
MAX_WORD = 60
MAX_PAGE = 1000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 10
#: Document languages a filter may ask for: every indexed language, and "und": documents
#: whose language is unknown (they are also found under each language).
LANGS = (*LANGUAGES, UNKNOWN)
SORTS = ("relevance", "newest")


class ParamError(ValueError):
    """A request parameter is invalid; ``key`` names the i18n message that explains it."""

    def __init__(self, key: str, code: str, status: int = 400, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.code = code
        self.status = status
        self.params = params


@dataclass(frozen=True)
class SearchParams:
    """A validated search request."""

    q: str = ""
    lang: str | None = None
    year: str | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    snippets: bool = True
    #: Fold a page and its translation into one hit (see search.grouping): True, False, or a
    #: language code (the JSON API's ``group=sl``: show that language's version).
    group: bool | str = True

    @property
    def filtered(self) -> bool:
        return bool(self.lang or self.year)

    def query_string(self, **changes: object) -> str:
        """URL query for these parameters with ``changes`` applied (None removes a key)."""
        values: dict[str, object] = {"q": self.q, "lang": self.lang, "year": self.year,
                                     "sort": self.sort, "page": self.page,
                                     "group": None if self.group is True else self.group}
        values.update(changes)
        if values.get("group") is False:
            values["group"] = "false"
        if values.get("sort") == "relevance":
            values["sort"] = None
        if values.get("page") == 1:
            values["page"] = None
        return urlencode([(k, v) for k, v in values.items() if v not in (None, "")])


def _int(raw: str | None, default: int, maximum: int, key: str, code: str) -> int:
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise ParamError(key, code, max=maximum)
    value = int(text)
    if not 1 <= value <= maximum:
        raise ParamError(key, code, max=maximum)
    return value


def parse_query(raw: str | None) -> str:
    """The query text with whitespace normalised; raises ParamError when it would be costly
    (too long, too many wildcards). Shared by searches and highlighted documents."""
    q = " ".join((raw or "").split())
    if len(q) > MAX_QUERY:
        raise ParamError("err_query_too_long", "query_too_long", max=MAX_QUERY, n=len(q))
    longest = max((len(word) for word in query_words(q)), default=0)
    if longest > MAX_WORD:
        raise ParamError("err_word_too_long", "word_too_long", max=MAX_WORD, n=longest)
    wildcards = sum(1 for word in q.split() if ("*" in word or "?" in word)
                    and any(ch.isalnum() for ch in word))
    if wildcards > MAX_WILDCARDS:
        raise ParamError("err_too_many_wildcards", "too_many_wildcards", max=MAX_WILDCARDS,
                         n=wildcards)
    return q


#: Longest text a completion request may send (what is being typed, not a whole query).
MAX_COMPLETE = 100


@dataclass(frozen=True)
class CompleteParams:
    """A validated completion request."""

    q: str
    lang: str | None = None


def parse_complete(args: Mapping[str, str]) -> CompleteParams:
    """Check the parameters of /api/complete: ``q`` (what is typed, trailing space kept: it
    says the last word is finished) and ``lang``."""
    if "q" not in args:
        raise ParamError("err_query_missing", "query_missing")
    raw = args.get("q") or ""
    if len(raw) > MAX_COMPLETE:
        raise ParamError("err_query_too_long", "query_too_long", max=MAX_COMPLETE, n=len(raw))
    lang = _lang(args)
    if lang is not None and lang not in LANGUAGES:  # completions are words of a language
        raise ParamError("err_bad_lang", "bad_lang")
    return CompleteParams(q=raw, lang=lang)


def _lang(args: Mapping[str, str]) -> str | None:
    lang = (args.get("lang") or "").strip().lower() or None
    if lang is not None and lang not in LANGS:
        raise ParamError("err_bad_lang", "bad_lang")
    return lang


def parse_search(args: Mapping[str, str], *, require_query: bool = False) -> SearchParams:
    """Check the query-string parameters of /search and /api/search."""
    q = parse_query(args.get("q"))
    if require_query and not q:
        raise ParamError("err_query_missing", "query_missing")
    lang = _lang(args)
    year = (args.get("year") or "").strip() or None
    if year is not None and not (len(year) == 4 and year.isascii() and year.isdigit()):
        raise ParamError("err_bad_year", "bad_year")
    sort = (args.get("sort") or "").strip().lower() or "relevance"
    if sort not in SORTS:
        raise ParamError("err_bad_sort", "bad_sort")
    page = _int(args.get("page"), 1, MAX_PAGE, "err_bad_page", "bad_page")
    per_page = _int(args.get("per_page"), DEFAULT_PER_PAGE, MAX_PER_PAGE, "err_bad_per_page",
                    "bad_per_page")
    raw_snippets = (args.get("snippets") or "true").strip().lower()
    if raw_snippets not in ("true", "false", "1", "0", "yes", "no"):
        raise ParamError("err_bad_snippets", "bad_snippets")
    snippets = raw_snippets in ("true", "1", "yes")
    return SearchParams(q=q, lang=lang, year=year, sort=sort, page=page, per_page=per_page,
                        snippets=snippets, group=_group(args))


def _group(args: Mapping[str, str]) -> bool | str:
    """The ``group`` parameter: ``true`` (the default, also when empty), ``false``, or a
    language whose version to show (``sl``)."""
    raw = args.get("group") or "true"
    if raw in LANGUAGES:
        return raw
    if raw not in ("true", "false"):
        raise ParamError("err_bad_group", "bad_group", langs=", ".join(LANGUAGES))
    return raw == "true"
