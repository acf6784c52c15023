"""The query of a text of plain words, built directly instead of by Whoosh's query parser.

Stock Whoosh turns every query text into a query with its ``MultifieldParser``: a tokenizer
pass, a tree of syntax nodes, a dozen plugins' filters over it, then each word analysed for
each field and the tree turned into ``Or``/``Term`` objects. For a short query most of that
time goes into grammar a text of plain words does not use. :func:`plain_words_query` builds
the query the parser would build for such a text (the same terms, boosts and order: one
``Term`` per field and distinct analysed term, in the order of the words and of the fields)
straight from each field's analysis (a word of several terms, ``e-mail``, gives them all,
as the parser's normalised query does). :class:`search.query.QueryParser` uses it only for
text without any syntax character (balanced brackets aside: in an OR they group nothing),
and not with ``fast=False``;
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
    query-time analysis in a field. None when nothing is left, or for a word of several
    terms with a colon (the parser splits it there)."""
    terms: list[wq.Query] = []
    seen = set()
    for word in words:
        for name, boost in boosts.items():
            tokens = field_terms(name, word)
            if len(tokens) > 1 and ":" in word:
                return None  # "Non-Business:": the parser splits the word at its colon
            for token in tokens:
                # "e-mail", "0.5": the parser's OR of the word's terms, flattened into
                # the query's by its normalize (the first of duplicates kept)
                if (name, token) not in seen:
                    seen.add((name, token))
                    terms.append(wq.Term(name, token, boost=boost))
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else wq.Or(terms)
