"""The query of a text of plain words, built directly instead of by Whoosh's query parser.

Stock Whoosh turns every query text into a query with its ``MultifieldParser``: a tokenizer
pass, a tree of syntax nodes, a dozen plugins' filters over it, then each word analysed for
each field and the tree turned into ``Or``/``Term`` objects. For a short query most of that
time goes into grammar a text of plain words does not use. :func:`plain_words_query` builds
the query the parser would build for such a text (the same terms, boosts and order: one
``Term`` per field and distinct analysed term, in the order of the words and of the fields)
straight from each field's analysis. :class:`search.query.QueryParser` uses it only for text
without any syntax character, and not with ``fast=False``;
``tests/test_whoosh_ext_direct_query.py`` compares it with the parser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from whoosh import query as wq

__all__ = ["plain_words_query"]


def plain_words_query(words: Iterable[str], boosts: Mapping[str, float],
                      field_terms: Callable[[str, str], tuple[str, ...]]) -> wq.Query | None:
    """The parser's query for ``words`` searched in the fields of ``boosts`` (field ->
    boost, in the parser's field order), where ``field_terms(field, word)`` is a word's
    query-time analysis in a field. None when the parser would build more than terms (a
    word that one field analyses into several: ``e-mail``) or nothing is left."""
    terms: list[wq.Query] = []
    seen = set()
    for word in words:
        for name, boost in boosts.items():
            tokens = field_terms(name, word)
            if len(tokens) > 1:
                return None  # "e-mail", "chart,update": the parser builds more than terms
            if tokens and (name, tokens[0]) not in seen:
                seen.add((name, tokens[0]))
                terms.append(wq.Term(name, tokens[0], boost=boost))
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else wq.Or(terms)
