"""Turns what a user typed into a Whoosh query over every language's fields.

Syntax: plain words, ``"phrases"``, ``-exclusion``, ``+required``, ``title:word``, trailing
``*``, ``AND``/``OR``/``NOT``, and ``lang:sl`` / ``year:2024`` filters. The same words are
analysed by every language's analysers, so one query finds documents in either language.
Anything the grammar cannot make sense of falls back to its plain words: the user always
gets a search, never an error.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.fields import Schema
from whoosh.qparser import MultifieldParser, OrGroup, syntax
from whoosh.qparser.plugins import Plugin, PlusMinusPlugin, WhitespacePlugin

from search.analysis import LANGUAGES
from search.analysis.filters import words

#: How strongly a title match counts against a body match (tuned on the development halves).
TITLE_BOOST = 2.0
#: Score factor for documents matching more of the query's words (OrGroup coordination).
OR_FACTOR = 0.9
MAX_QUERY_CHARS = 2000

_FILTER = re.compile(r"(?<!\S)(lang|year):(\S+)", re.I)
_PREFIX = re.compile(r"(?<![\w*])(\w+)\*+(?![\w*])")
#: Wildcards we do not support: "?" (people end questions with it), leading or inner "*",
#: which would scan the whole vocabulary.
_STRAY_WILDCARD = re.compile(r"\?|(?<!\w)\*+|\*+(?=\w)")
#: Prefix expansions per ``word*``, most frequent first.
MAX_EXPANSIONS = 30

Expander = Callable[[str], list[str]]
_ALIASES = ("title", "body")


@dataclass
class ParsedQuery:
    text: str  #: what the user typed
    query: wq.Query
    words: list[str] = field(default_factory=list)  #: the plain words, for suggestions
    lang: str | None = None  #: a ``lang:`` filter found in the text
    year: str | None = None  #: a ``year:`` filter found in the text
    fallback: bool = False  #: True when the syntax was malformed and plain words were used


class FieldGroupPlugin(Plugin):
    """Expands ``title:`` and ``body:`` into the matching field of every language and path."""

    def __init__(self, groups: dict[str, dict[str, float]]) -> None:
        self.groups = groups

    def filters(self, parser: object) -> list:
        # After FieldsPlugin (100) has assigned field names, before MultifieldPlugin (110).
        return [(self.expand, 105)]

    def expand(self, parser: object, group: syntax.GroupNode) -> syntax.GroupNode:
        for i, node in enumerate(group):
            if isinstance(node, syntax.GroupNode):
                group[i] = self.expand(parser, node)
            elif node.has_fieldname and node.fieldname in self.groups:
                alts = []
                for fname, boost in self.groups[node.fieldname].items():
                    alt = copy.copy(node)
                    alt.set_fieldname(fname, override=True)
                    alt.set_boost(boost)
                    alts.append(alt)
                group[i] = syntax.OrGroup(alts)
        return group


def field_boosts(title_boost: float = TITLE_BOOST,
                 paths: dict[str, float] | None = None) -> dict[str, float]:
    """Query boost of every analysed field: title weight times analysis-path weight."""
    boosts = {}
    for lang in LANGUAGES.values():
        for path in lang.paths:
            weight = (paths or {}).get(f"{lang.code}{path.suffix()}", path.boost)
            boosts[f"title_{lang.code}{path.suffix()}"] = title_boost * weight
            boosts[f"body_{lang.code}{path.suffix()}"] = weight
    return boosts


class QueryParser:
    """Parses user queries for one index schema."""

    def __init__(self, schema: Schema, *, mode: str = "or", title_boost: float = TITLE_BOOST,
                 path_boosts: dict[str, float] | None = None,
                 or_factor: float = OR_FACTOR) -> None:
        boosts = {k: v for k, v in field_boosts(title_boost, path_boosts).items() if v > 0}
        names = [name for name in boosts if name in schema]
        group = OrGroup.factory(or_factor) if mode == "or" else syntax.AndGroup
        self.mode = mode
        self._parser = MultifieldParser(names, schema, fieldboosts=boosts, group=group)
        self._parser.add_plugin(PlusMinusPlugin(minusexpr=r"(?<![^\s(])-(?=\S)"))
        self._parser.add_plugin(FieldGroupPlugin({
            alias: {n: b for n, b in boosts.items() if n.startswith(alias + "_")}
            for alias in _ALIASES}))
        # The fallback knows no syntax at all: every word is just a word.
        self._plain = MultifieldParser(names, schema, fieldboosts=boosts, group=group,
                                       plugins=[WhitespacePlugin()])

    def parse(self, text: str, expand: Expander | None = None) -> ParsedQuery:
        """Parse ``text``; ``expand`` maps a prefix to indexed words (for ``word*``)."""
        text = (text or "")[:MAX_QUERY_CHARS]
        lang = year = None
        for m in _FILTER.finditer(text):
            key, value = m.group(1).lower(), m.group(2).lower()
            if key == "lang" and value in LANGUAGES:
                lang = value
            elif key == "year" and value.isdigit():
                year = value
        body = _STRAY_WILDCARD.sub(" ", _FILTER.sub(" ", text))
        plain = words(body)
        if expand is not None:
            body = _PREFIX.sub(lambda m: _expansion(m.group(1), expand), body)
        try:
            q = self._parser.parse(body)
            if _is_useless(q) and plain:
                raise ValueError("nothing searchable")
            return ParsedQuery(text, q, plain, lang, year)
        except Exception:  # noqa: BLE001 - any parser failure degrades to plain words
            return ParsedQuery(text, self.plain_query(plain), plain, lang, year, fallback=True)

    def plain_query(self, plain: list[str]) -> wq.Query:
        """An OR (or AND) of the words alone, each searched in every field."""
        if not plain:
            return wq.NullQuery
        return self._plain.parse(" ".join(plain))


def _expansion(prefix: str, expand: Expander) -> str:
    """``polic*`` -> ``(policija OR policije OR ...)``: the words each language analyses."""
    found = expand(prefix.lower())[:MAX_EXPANSIONS]
    if not found:
        return prefix + "*"
    return "(" + " OR ".join(found) + ")"


def _is_useless(q: wq.Query) -> bool:
    """A query that can match nothing, or only excludes (``-x``), or is a bare ``*``."""
    if q is wq.NullQuery or isinstance(q, (wq.Every, type(wq.NullQuery))):
        return True
    if isinstance(q, wq.Not):
        return True
    if isinstance(q, wq.AndNot) and _is_useless(q.a):
        return True
    return False
