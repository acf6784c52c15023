"""Query-term weights: how often the query repeats a word, and how selective each word is.

A keyword query names a few words, and BM25's IDF alone balances them well. A *verbose*
query (a paragraph, several questions, a paper's title and abstract pasted in) is different:

- it repeats the words it is about ("information retrieval ... retrieval systems ...
  retrieving"), which says what matters most; the parser searches each term once, so
  without this the repetition is lost. Each term's weight is multiplied by the number of
  the query's words that analyse to it (classic BM25's query term frequency, k3 = infinity).
- it is full of common words ("problems", "methods", "describe", "used"); with dozens of
  them, a document matching many common words outscores one matching the few selective
  ones, although each common word weighs little. So as a query gets longer, each term's
  weight is also multiplied by ``(idf / highest idf of the query) ** (SELECTIVITY * v)``,
  where the *verbosity* ``v`` grows from 0 (at VERBOSE_FROM content words or fewer, where
  nothing changes) to 1 (at VERBOSE_FULL and more).

Short queries are left as they were. Measured on the English collections (CISI, cranfield,
scifact, npl; see benchmarks/RESULTS.md); the parameters are lengths and an exponent, not
words, so nothing here is fitted to a collection's vocabulary.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterable

from whoosh import query as wq

from search.ranking import field_language

#: Content words (distinct, stop words left out) up to which a query is not verbose.
VERBOSE_FROM = 10
#: Content words from which a query is fully verbose.
VERBOSE_FULL = 40
#: Exponent of the selectivity weight ``idf / highest idf`` of a fully verbose query.
SELECTIVITY = 1.0
#: A query with at least this many words that belong to one language (see
#: :func:`query_language`), and at most MIXED_SHARE as many of the other's, says what
#: language it is in: it is not translated, and its matches in the other language's
#: documents weigh as little as those of a translated query.
MONOLINGUAL_WORDS = 20
MIXED_SHARE = 0.2

Term = tuple[str, bytes]
#: The IDF of a term (field name, text) in its language's body field; 0 if it is not indexed.
IdfFn = Callable[[str, str], float]


def verbosity(words: Iterable[frozenset[Term] | set[Term]]) -> float:
    """From 0 (a keyword query) to 1 (a paragraph): how verbose a query is, by how many
    distinct content words it has (``words``: each content word's index terms, as
    :meth:`search.query.QueryParser.word_terms` gives them, repeats included).

    >>> verbosity([{("body_en", b"cat")}] * 30)
    0.0
    >>> verbosity([{("body_en", str(i).encode())} for i in range(25)])
    0.5
    """
    distinct = len({frozenset(w) for w in words})
    span = VERBOSE_FULL - VERBOSE_FROM
    return min(1.0, max(0.0, (distinct - VERBOSE_FROM) / span)) if span > 0 else 0.0


def query_language(languages: Iterable[str | None]) -> str | None:
    """The language a long query is clearly written in, from the language each of its
    content words belongs to (None: at home in both or neither); None when unclear.

    A paragraph typed in English says so with dozens of words; translating it all (a
    73-word query gave 251 Slovenian terms) adds only noise and cost, since the documents
    matching its own words rank above those matching only translations anyway.

    >>> query_language(["en"] * 25 + ["sl"] * 2 + [None] * 9)
    'en'
    >>> query_language(["en"] * 25 + ["sl"] * 10) is None, query_language(["sl"] * 5) is None
    (True, True)
    """
    votes = Counter(lang for lang in languages if lang)
    if not votes:
        return None
    (best, n), *rest = votes.most_common()
    others = sum(count for _, count in rest)
    return best if n >= MONOLINGUAL_WORDS and others <= MIXED_SHARE * n else None


def weigh(q: wq.Query, words: list[set[Term]], idf: IdfFn) -> wq.Query:
    """``q`` with every term's boost multiplied by its frequency in the query and, for a
    verbose query, by its selectivity (see the module's docstring).

    ``words`` are the index terms of each content word of the query, repeats included;
    terms no content word produced (translations, phrases) keep frequency 1. Returns ``q``
    itself when nothing changes (a query without repeated words of under VERBOSE_FROM
    content words).
    """
    counts: Counter[Term] = Counter()
    for terms in words:
        counts.update(terms)
    level = verbosity(words)
    if level <= 0 and all(n <= 1 for n in counts.values()):
        return q
    selectivity: dict[tuple[str, str], float] = {}
    if level > 0:
        idfs = {}
        for name, text in q.iter_all_terms():
            text = text.decode("utf-8") if isinstance(text, bytes) else text
            idfs[(name, text)] = idf(name, text)
        highest: dict[str | None, float] = {}
        for (name, _), value in idfs.items():
            lang = field_language(name)
            highest[lang] = max(highest.get(lang, 0.0), value)
        exponent = SELECTIVITY * level
        selectivity = {key: (value / highest[field_language(key[0])]) ** exponent
                       for key, value in idfs.items() if value > 0}

    def factor(term: wq.Term) -> float:
        text = term.text
        raw = text if isinstance(text, bytes) else text.encode("utf-8")
        plain = text.decode("utf-8") if isinstance(text, bytes) else text
        return max(1, counts.get((term.fieldname, raw), 0)) * selectivity.get(
            (term.fieldname, plain), 1.0)

    return _scaled(q, factor)


def _scaled(q: wq.Query, factor: Callable[[wq.Term], float]) -> wq.Query:
    """A copy of ``q`` whose terms' boosts are multiplied by ``factor(term)``; everything
    else (operators, boosts of groups, exclusions) as it was."""
    if isinstance(q, wq.Term):
        f = factor(q)
        if f == 1.0:
            return q
        q = copy.copy(q)
        q.boost *= f
        return q
    if isinstance(q, wq.BinaryQuery):  # before CompoundQuery: a subclass keeping a, b
        out = copy.copy(q)
        # What AndNot excludes is excluded whatever its weight: left as it is.
        out.a = _scaled(q.a, factor)
        out.b = q.b if isinstance(q, wq.AndNot) else _scaled(q.b, factor)
        out.subqueries = (out.a, out.b)
        return out
    if isinstance(q, wq.CompoundQuery):
        out = copy.copy(q)
        out.subqueries = [_scaled(sub, factor) for sub in q.subqueries]
        return out
    if isinstance(q, wq.WrappingQuery) and not isinstance(q, wq.Not):
        out = copy.copy(q)
        out.child = _scaled(q.child, factor)
        return out
    return q
