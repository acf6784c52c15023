"""Turns what a user typed into a Whoosh query over every language's fields.

Syntax: plain words, ``"phrases"``, ``-exclusion``, ``+required``, ``title:word``, trailing
``*``, ``AND``/``OR``/``NOT``, and ``lang:sl`` / ``year:2024`` filters. The same words are
analysed by every language's analysers, so one query finds documents in either language.
Anything the grammar cannot make sense of falls back to its plain words: the user always
gets a search, never an error. Syntax that cannot mean what it says is read as words (see
``_plain_signs``): AND/OR/NOT in a query typed all in capitals, a ``+``/``-`` alone or on a
stop word. Filters alone (or a bare ``*``) list documents (``ParsedQuery.browse``).
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
from search.analysis.fields import TEXT_KINDS, FieldName
from search.analysis.filters import words
from search.model import UNKNOWN
from search.translation import Translation
from search.whoosh_ext.direct_query import plain_words_query

#: How strongly a title match counts against a body match (tuned on the development halves).
TITLE_BOOST = 0.6
#: Score factor for documents matching more of the query's words (OrGroup coordination).
OR_FACTOR = 0.0
MAX_QUERY_CHARS = 2000
#: Weight of a translated word's match against a direct match (0 turns translation off); low
#: enough that documents matching the query's own words rank above those matching only
#: its translations.
TRANSLATE_BOOST = 0.5
#: Weight of the query's own words matched in the documents of the language it was
#: translated into (English names quoted in Slovenian text, for an English query): such
#: matches say less than matches of the translations there.
FOREIGN_BOOST = 0.3
#: Count a word's translations only in documents lacking the word as written (see
#: ``QueryParser._unless_direct``); False for ablations.
UNLESS_DIRECT = True
#: Query modes: "or" (any word), "and" (every word), "andish" (any word; all words rank higher).
MODES = ("or", "and", "andish")
#: Weight of the all-words clause in "andish" mode.
AND_BOOST = 1.0

_FILTER = re.compile(r"(?<!\S)(lang|year):(\S+)", re.I)
#: A bare ``*``: every document (with the filters given beside the query).
_ALL = re.compile(r"\s*\*+\s*")
_FIELD_PREFIX = re.compile(r"\b\w+:(?=\S)")
_PREFIX = re.compile(r"(?<![\w*])(\w+)\*+(?![\w*])")
#: Wildcards we do not support: "?" (people end questions with it), leading or inner "*",
#: which would scan the whole vocabulary.
_STRAY_WILDCARD = re.compile(r"\?|(?<!\w)\*+|\*+(?=\w)")
#: Prefix expansions per ``word*``, most frequent first.
MAX_EXPANSIONS = 30
#: Wildcard words expanded per query.
MAX_PREFIXES = 5
#: How many words' index terms :meth:`QueryParser.word_terms` remembers (analysis is costly).
WORD_CACHE = 50_000

Expander = Callable[[str], list[str]]
#: Maps the query's words to their translations (see :mod:`search.translation`).
TranslateFn = Callable[[list[str]], list[Translation]]
_ALIASES = ("title", "body")
#: Text with any of these is left to the full parser (see ``QueryParser._simple``): what
#: its plugins read as syntax. Punctuation they leave alone stays plain: a ``-`` inside a
#: word or standing alone, an apostrophe after a letter (``don't``, ``users'``), ``/``,
#: ``=``, ``&``, ``!`` (pasted paragraphs are full of them; the parser builds the same
#: query for such text: ``tests/test_whoosh_ext_direct_query.py``).
_SYNTAX = re.compile(r"""["()\[\]{}*+^~\\]|(?<![^\s(])-(?=\S)|(?<!\w)'"""
                     r"""|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE|TO)\b""")
#: ``word:``, a field name to Whoosh's parser; plain only before a space and when ``word``
#: names no field (``Note: the table``).
_COLON = re.compile(r"(\w+):")


@dataclass
class ParsedQuery:
    text: str  #: what the user typed
    query: wq.Query
    words: list[str] = field(default_factory=list)  #: the plain words, for suggestions
    lang: str | None = None  #: a ``lang:`` filter found in the text
    year: str | None = None  #: a ``year:`` filter found in the text
    fallback: bool = False  #: True when the syntax was malformed and plain words were used
    #: No words, only filters (``year:2024``) or a bare ``*``: list the documents (newest
    #: first) rather than search; ``query`` is then :class:`~whoosh.query.Every`.
    browse: bool = False
    #: Translated terms the query also searches: (language, analysis path) -> {term: word}
    translated: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)


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
            boosts[lang.field("title", path.name).name] = title_boost * weight
            boosts[lang.field("body", path.name).name] = weight
    return boosts


def stop_words() -> frozenset[str]:
    """Every language's stop words (of the languages registered now)."""
    return frozenset().union(*(lang.stop_words for lang in LANGUAGES.values()))


class QueryParser:
    """Parses user queries for one index schema."""

    def __init__(self, schema: Schema, *, mode: str = "or", title_boost: float = TITLE_BOOST,
                 path_boosts: dict[str, float] | None = None,
                 or_factor: float = OR_FACTOR, and_boost: float = AND_BOOST,
                 translate_boost: float = TRANSLATE_BOOST,
                 foreign_boost: float = FOREIGN_BOOST, fast: bool = True) -> None:
        boosts = {k: v for k, v in field_boosts(title_boost, path_boosts).items() if v > 0}
        names = [name for name in boosts if name in schema]
        self._boosts = {name: boosts[name] for name in names}
        self.translate_boost = translate_boost
        self.foreign_boost = foreign_boost
        #: False: every query through Whoosh's parser (no direct building of plain words).
        self.fast = fast
        self._schema = schema
        self._stop_words = stop_words()
        group = syntax.AndGroup if mode == "and" else OrGroup.factory(or_factor)
        self.mode = mode
        self.and_boost = and_boost
        self._parser = MultifieldParser(names, schema, fieldboosts=boosts, group=group)
        self._parser.add_plugin(PlusMinusPlugin(minusexpr=r"(?<![^\s(])-(?=\S)"))
        self._parser.add_plugin(FieldGroupPlugin({
            alias: {n: b for n, b in boosts.items() if FieldName.parse(n).kind == alias}
            for alias in _ALIASES}))
        # The fallback knows no syntax at all: every word is just a word.
        self._plain = MultifieldParser(names, schema, fieldboosts=boosts, group=group,
                                       plugins=[WhitespacePlugin()])
        self._word_terms: dict[str, frozenset[tuple[str, bytes]]] = {}
        self._field_cache: dict[tuple[str, str], tuple[str, ...]] = {}
        self._plain_and = MultifieldParser(names, schema, fieldboosts=boosts,
                                           group=syntax.AndGroup, plugins=[WhitespacePlugin()])

    def parse(self, text: str, expand: Expander | None = None,
              translate: TranslateFn | None = None) -> ParsedQuery:
        """Parse ``text``; ``expand`` maps a prefix to indexed words (for ``word*``).

        ``translate`` proposes other-language words for the query's words; they are searched
        as an extra, lower-weighted alternative, so other-language documents are found too.
        """
        text = (text or "")[:MAX_QUERY_CHARS]
        lang = year = None
        for m in _FILTER.finditer(text):
            key, value = m.group(1).lower(), m.group(2).lower()
            if key == "lang" and (value in LANGUAGES or value == UNKNOWN):
                lang = value
            elif key == "year" and value.isdigit():
                year = value
        body = _plain_signs(_STRAY_WILDCARD.sub(" ", _FILTER.sub(" ", text)), self._stop_words)
        plain = words(_FIELD_PREFIX.sub(" ", body))
        if not plain:
            if lang or year or _ALL.fullmatch(text):
                return ParsedQuery(text, wq.Every(), plain, lang, year, browse=True)
            return ParsedQuery(text, wq.NullQuery, plain, lang, year)
        typed = body
        if expand is not None:
            budget = iter(range(MAX_PREFIXES))
            # Beyond the budget a ``word*`` is searched as the word: a storm of wildcards
            # must not turn into thousands of terms.
            body = _PREFIX.sub(lambda m: _expansion(m.group(1), expand)
                               if next(budget, None) is not None else m.group(1), body)
        try:
            q = self._simple(body)
            if q is None:
                q = _lift_nots(self._parser.parse(body))
            if _is_useless(q) and plain:
                raise ValueError("nothing searchable")
            q = self._with_coordination(q, plain)
            parsed = ParsedQuery(text, q, plain, lang, year)
        except Exception:  # noqa: BLE001 - any parser failure degrades to plain words
            parsed = ParsedQuery(text, self.plain_query(plain), plain, lang, year, fallback=True)
        # "and" mode asks for every word as written: translations would only loosen it.
        if translate is not None and self.translate_boost > 0 and self.mode != "and":
            self._with_translations(parsed, _positive_words(typed), translate)
        return parsed

    def _simple(self, body: str) -> wq.Query | None:
        """The parser's query for text of plain words only, built directly (None otherwise).

        Whoosh's parser spends most of a short query's time on grammar it does not need
        here; :func:`~search.whoosh_ext.direct_query.plain_words_query` gives the same query
        for the common case (not with ``fast=False``).
        """
        if not self.fast or self.mode == "and":
            return None
        if "(" in body or ")" in body:
            body = _ungrouped(body)
        if body is None or self._has_syntax(body):
            return None
        return plain_words_query(body.split(), self._boosts, self._field_terms)

    def _has_syntax(self, body: str) -> bool:
        """Whether Whoosh's parser could read anything in ``body`` as syntax."""
        if _SYNTAX.search(body):
            return True
        if ":" not in body:
            return False
        for m in _COLON.finditer(body):
            after = body[m.end():m.end() + 1]
            if (after and not after.isspace()) or m.group(1) in self._schema \
                    or m.group(1) in _ALIASES:
                return True
        return ":" in _COLON.sub("", body)  # a colon after no word ("10 :30")

    def _field_terms(self, name: str, word: str) -> tuple[str, ...]:
        """A word's query terms in one field (analysis only: cached for good)."""
        key = (name, word)
        tokens = self._field_cache.get(key)
        if tokens is None:
            if len(self._field_cache) >= WORD_CACHE:
                self._field_cache.clear()
            tokens = self._field_cache[key] = tuple(
                t.text for t in self._schema[name].analyzer(word, mode="query"))
        return tokens

    def _with_coordination(self, q: wq.Query, plain: list[str]) -> wq.Query:
        """AND-ish mode: documents containing *all* the words get a bonus over those with some.

        Plain OR ranks a long document repeating one word above one that has every word; an
        extra, boosted AND of the (non-stop) words fixes that without losing OR's recall.
        """
        if self.mode != "andish" or isinstance(q, wq.AndNot):
            return q
        content = [w for w in plain if w.lower() not in self._stop_words]
        if not 2 <= len(content) <= 6:
            return q
        conj = self._plain_and.parse(" ".join(content))
        conj.boost = self.and_boost
        return wq.Or([q, conj])

    def _with_translations(self, parsed: ParsedQuery, positive: list[str],
                           translate: TranslateFn) -> None:
        """Add the translations of ``positive`` words to ``parsed`` as one extra OR clause.

        The clause searches the translations in the target language's fields only, weighted
        ``translate_boost`` times each translation's own weight; terms the query already
        searches directly are left out. When the query was translated into one language, its
        own words' matches in that language's fields weigh ``foreign_boost``. A ``-word``
        exclusion still applies to documents found through translation.
        """
        if not positive:
            return
        q = parsed.query
        direct = {(name, t.decode("utf-8") if isinstance(t, bytes) else t)
                  for name, t in q.iter_all_terms()}
        by_word: dict[str, list[wq.Query]] = {}
        translations = translate(positive)
        for tr in translations:
            alts = []
            for path, term in tr.terms:
                for kind in TEXT_KINDS:
                    name = FieldName(kind, tr.lang, path).name
                    boost = self._boosts.get(name, 0.0) * self.translate_boost * tr.weight
                    if boost > 0 and (name, term) not in direct:
                        alts.append(wq.Term(name, term, boost=boost))
                        parsed.translated.setdefault((tr.lang, path), {}).setdefault(term,
                                                                                     tr.word)
            if alts:
                by_word.setdefault(tr.source, []).append(wq.Or(alts))
        if not by_word:
            return
        clause = wq.Or([self._unless_direct(word, alts, translations)
                        for word, alts in by_word.items()])
        targets = {tr.lang for tr in translations}
        if len(targets) == 1 and self.foreign_boost != 1.0:
            q = _scale_language(q, targets.pop(), self.foreign_boost)
        if isinstance(q, wq.AndNot):  # exclusions still apply to translated matches
            parsed.query = wq.AndNot(wq.Or([q.a, clause]), q.b)
        else:
            parsed.query = wq.Or([q, clause])

    def _unless_direct(self, word: str, alts: list[wq.Query],
                       translations: list[Translation]) -> wq.Query:
        """``word``'s translations, counted only in documents that lack ``word`` itself.

        A document that already matches the word as written (an English name quoted in a
        Slovenian page) gains nothing from its translation as well.
        """
        q = alts[0] if len(alts) == 1 else wq.Or(alts)
        if not UNLESS_DIRECT:
            return q
        langs = {tr.lang for tr in translations if tr.source == word}
        direct = []
        for name in self._boosts:
            if FieldName.parse(name).lang in langs:
                for token in self._schema[name].analyzer(word, mode="query"):
                    direct.append(wq.Term(name, token.text))
        return wq.AndNot(q, wq.Or(direct)) if direct else q

    def word_terms(self, text: str) -> list[set[tuple[str, bytes]]]:
        """For each content word the user asked for, the index terms that match it directly.

        Lets the searcher tell which words a document covers, and whether it was found only
        through translations.
        """
        out = []
        for word in _positive_words(_plain_signs(text, self._stop_words)):
            if word.lower() in self._stop_words:
                continue
            terms = self._word_terms.get(word)
            if terms is None:  # analysis only, not the index: cached for good
                if len(self._word_terms) >= WORD_CACHE:
                    self._word_terms.clear()
                terms = self._word_terms[word] = self._terms_of(word)
            if terms:
                out.append(set(terms))
        return out

    def _terms_of(self, word: str) -> frozenset[tuple[str, bytes]]:
        """A word's terms in every searched field: its analysis in each (what Whoosh's plain
        parser would give, from the cached analysis: the parser costs about half a
        millisecond a word, and a pasted paragraph has dozens). ``fast=False``: the parser."""
        if not self.fast:
            return frozenset((name, t.encode("utf-8")) for name, t in
                             self._plain.parse(word).iter_all_terms())
        return frozenset((name, t.encode("utf-8")) for name in self._boosts
                         for t in self._field_terms(name, word))

    def positive_words(self, text: str) -> list[str]:
        """The words ``text`` asks for as plain words: not excluded, not in a ``"phrase"``,
        not a ``prefix*``, an operator or a filter (what synonyms and the stop-word tail
        look at)."""
        return _positive_words(_plain_signs(_FILTER.sub(" ", text or ""), self._stop_words))

    def stop_words(self, text: str) -> list[str]:
        """The stop words ``text`` asks for as plain words (see :meth:`positive_words`):
        no analysed field holds them (see :mod:`search.stop_word_tail`)."""
        return [w for w in self.positive_words(text) if w.lower() in self._stop_words]

    def plain_query(self, plain: list[str]) -> wq.Query:
        """An OR (or AND) of the words alone, each searched in every field."""
        if not plain:
            return wq.NullQuery
        return self._plain.parse(" ".join(plain))


def _scale_language(q: wq.Query, lang: str, factor: float) -> wq.Query:
    """``q`` with the boost of every clause on ``lang``'s fields multiplied by ``factor``."""
    if q.is_leaf():
        name = FieldName.parse(getattr(q, "fieldname", None) or "")
        if name is not None and name.is_text and name.lang == lang:
            q = copy.copy(q)
            q.boost *= factor
        return q
    return q.apply(lambda child: _scale_language(child, lang, factor))


_NEGATED = re.compile(r"(?:(?<![^\s(])-|\bNOT\s+)(\w+)")
_OPERATORS = frozenset(("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"))


_QUOTED = re.compile(r'"[^"]*"?')
#: A ``+`` or ``-`` standing alone, or on a stop word (which no field can require or exclude).
_LONE_SIGN = re.compile(r"(?<![^\s(])[+-]+(?=[\s)]|$)")
_SIGNED_WORD = re.compile(r"(?<![^\s(])[+-](\w+)(?=[\s)]|$)")
_OPERATOR_WORD = re.compile(r"\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE|TO)\b")


def _ungrouped(body: str) -> str | None:
    """``body`` without its parentheses when they are balanced (None otherwise).

    In an OR of words a group adds nothing: the parser's query for ``a (b c) d`` is the
    one for ``a b c d`` (pinned by the direct-query tests), and pasted text is full of
    asides in brackets. What the group holds is still checked for syntax.
    """
    depth = 0
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return None
    return body.replace("(", " ").replace(")", " ") if depth == 0 else None


def _plain_signs(body: str, stop: frozenset[str] | None = None) -> str:
    """``body`` with the syntax that cannot mean what it says turned into plain words.

    A ``+`` or ``-`` on its own or on a stop word is dropped (``+ za sestavljanje``, ``+the
    table``): a stop word is in no index, so requiring it would empty the query and excluding
    it would do nothing. In a query typed all in capitals (a shouted or pasted title,
    ``SEARCHING AND SORTING OF TABLES``) AND/OR/NOT are words like the others: Boolean
    operators can be told apart from words only by their case.

    >>> _plain_signs("+ za sestavljanje -the +table")
    'za sestavljanje the +table'
    >>> _plain_signs("SEARCHING AND SORTING")
    'SEARCHING and SORTING'
    """
    stop = stop_words() if stop is None else stop
    body = _LONE_SIGN.sub("", body)
    body = _SIGNED_WORD.sub(lambda m: m.group(1) if m.group(1).lower() in stop
                            else m.group(0), body)
    if _OPERATOR_WORD.search(body) and not any(c.islower() for c in body):
        body = _OPERATOR_WORD.sub(lambda m: m.group(0).lower(), body)
    return body.strip()


def _positive_words(body: str) -> list[str]:
    """The words worth translating: whole words, not in a ``"phrase"`` (which asks for those
    exact words), not excluded (``-x``, ``NOT x``), not a ``prefix*``, not an operator."""
    banned = {m.group(1).lower() for m in _NEGATED.finditer(body)}
    banned |= {m.group(1).lower() for m in _PREFIX.finditer(body)}
    free = _FIELD_PREFIX.sub(" ", _QUOTED.sub(" ", body))
    return [w for w in words(free) if w not in _OPERATORS and w.lower() not in banned]


def _expansion(prefix: str, expand: Expander) -> str:
    """``polic*`` -> ``(policija OR policije OR ...)``: the words each language analyses."""
    found = expand(prefix.lower())[:MAX_EXPANSIONS]
    if not found:
        return prefix  # nothing starts with it: search the word itself, analysed as usual
    return "(" + " OR ".join(found) + ")"


def _lift_nots(q: wq.Query) -> wq.Query:
    """``a OR NOT b`` (how ``a NOT b`` parses in OR mode) -> ``a ANDNOT b``.

    A negated clause inside an OR would otherwise match every document without ``b``.
    """
    if isinstance(q, wq.Or):
        kids = [_lift_nots(c) for c in q.subqueries]
        banned = [c.query for c in kids if isinstance(c, wq.Not)]
        kept = [c for c in kids if not isinstance(c, wq.Not)]
        if banned and kept:
            positive = kept[0] if len(kept) == 1 else type(q)(kept, boost=q.boost,
                                                               scale=q.scale)
            negative = banned[0] if len(banned) == 1 else wq.Or(banned)
            return wq.AndNot(positive, negative)
        if kids != q.subqueries:
            q = copy.copy(q)
            q.subqueries = kids
        return q
    if isinstance(q, wq.CompoundQuery):
        q = copy.copy(q)
        q.subqueries = [_lift_nots(c) for c in q.subqueries]
    return q


def _is_useless(q: wq.Query) -> bool:
    """A query that can match nothing, or only excludes (``-x``), or is a bare ``*``."""
    if q is wq.NullQuery or isinstance(q, (wq.Every, type(wq.NullQuery))):
        return True
    if isinstance(q, wq.Not):
        return True
    if isinstance(q, wq.AndNot) and _is_useless(q.a):
        return True
    return False
