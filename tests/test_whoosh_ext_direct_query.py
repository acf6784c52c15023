"""search.whoosh_ext.direct_query: a text of plain words gives exactly the parser's query.

Stock Whoosh's ``MultifieldParser`` parses every text; the direct builder makes the same
query (terms, boosts, order, ``str()``) for texts of plain words, in both languages and
every mode; anything with syntax, and every text with ``fast=False``, goes to the parser.
"""

from __future__ import annotations

import pytest
from whoosh import query as wq

from search.query import QueryParser
from search.schema import build_schema

PLAIN_QUERIES = [
    "meja", "nadzor na notranjih mejah", "sodelovanje policij", "Šaranović", "saranovic",
    "border controls", "the police and the border", "v in na", "a police",
    "Ustvarjanje pogovornega okna Basic", "Creating a Basic Dialog", "meja meja", "HTML 5",
    "naïve café", "spreadsheets, inserting charts", "1999 2024", "ČŠŽ čšž", "Lithuania; Vilnius.",
    # punctuation the parser's plugins leave alone (pasted text is full of it)
    "Note: the table", "Opomba: tabela", "users' files", "open a/b file", "cats & dogs",
    "a - b", "wow! great", "Title: meja", "mejni prehod - Obrežje",
    # balanced brackets around plain words: in an OR the group adds nothing
    "(a b)", "Format - Axis (Charts) Show labels", "ločuje podpičje (;). V kodi",
    "tan(x) in", "meja (nadzor (na mejah)) policija", "(the)",
    # a word of several terms: the parser's normalised query has them all
    "e-mail", "chart,update", "smoothing factor 0.5",
]
SYNTAX_QUERIES = ['"border control"', "police -migrants", "meja NOT Hrvaška", "title:meja",
                  "polic*", "Non-Business: Information", "(a b", "a b)", ")a b(",
                  "(police -migrants)", "(title:meja)", '("border control")', "border AND police",
                  "title: meja", "body: police", "10:30 sestanek", "'quoted' words", "a+b"]


@pytest.mark.parametrize("text", PLAIN_QUERIES)
@pytest.mark.parametrize("mode", ["or", "andish"])
def test_plain_words_shortcut_equals_the_parser(text, mode):
    from search.query import _lift_nots

    p = QueryParser(build_schema(), mode=mode)
    fast = p._simple(text)
    assert fast is not None
    slow = _lift_nots(p._parser.parse(text))
    assert fast == slow and str(fast) == str(slow)
    assert p.parse(text).query == p._with_coordination(slow, p.parse(text).words)


@pytest.mark.parametrize("text", SYNTAX_QUERIES)
def test_syntax_is_left_to_the_parser(text):
    parser = QueryParser(build_schema())
    assert parser._simple(text) is None
    assert parser.parse(text).query is not wq.NullQuery


@pytest.mark.parametrize("text", PLAIN_QUERIES + SYNTAX_QUERIES)
def test_fast_false_parses_everything_with_whoosh(text, monkeypatch):
    import search.query

    def never(*args, **kwargs):
        raise AssertionError("the direct builder was used with fast=False")

    fast = QueryParser(build_schema(), mode="andish")
    expected = fast.parse(text).query
    monkeypatch.setattr(search.query, "plain_words_query", never)
    stock = QueryParser(build_schema(), mode="andish", fast=False)
    assert stock._simple(text) is None
    assert stock.parse(text).query == expected


@pytest.mark.parametrize("mode", ["or", "andish"])
def test_pasted_paragraphs_take_the_shortcut_only_where_it_equals_the_parser(mode):
    """Windows of 3 to 40 words of the seed releases (both languages), as people paste
    them: wherever the shortcut builds a query it is the parser's, and it does build most
    of them (punctuation alone no longer sends a paragraph to the parser)."""
    import random

    from search.query import _lift_nots
    from tests.conftest import SEEDS

    p = QueryParser(build_schema(), mode=mode)
    rng = random.Random(20261202)
    words = [w for path in sorted(SEEDS.glob("*.txt"))
             for w in path.read_text(encoding="utf-8").split()]
    built = 0
    for _ in range(300):
        n = rng.choice([3, 8, 20, 40])
        start = rng.randrange(len(words) - n)
        text = " ".join(words[start:start + n])
        if rng.random() < 0.3:  # an aside in brackets, as pasted text has
            cut = text.split(" ")
            i = rng.randrange(len(cut))
            j = rng.randrange(i, len(cut))
            cut[i], cut[j] = "(" + cut[i], cut[j] + ")"
            text = " ".join(cut)
        fast = p._simple(text)
        if fast is None:
            continue
        built += 1
        slow = _lift_nots(p._parser.parse(text))
        assert fast == slow and str(fast) == str(slow), text
    assert built >= 150


def test_a_words_terms_are_the_plain_parsers():
    """``word_terms`` reads each word's terms from the cached per-field analysis instead
    of parsing the word with Whoosh's plain parser (half a millisecond a word): the same
    terms for every word of the seeds (both languages, punctuation, stop words, e-mail)
    as ``fast=False``, which still parses."""
    from tests.conftest import SEEDS

    fast = QueryParser(build_schema())
    stock = QueryParser(build_schema(), fast=False)
    words = {"e-mail", "a/b", "Šaranović", "HTML5", "the", "in"}
    for path in sorted(SEEDS.glob("*.txt")):
        words |= set(path.read_text(encoding="utf-8").split())
    for word in sorted(words):
        assert fast._terms_of(word) == stock._terms_of(word), word


@pytest.mark.parametrize("sentence", [
    "Ministrstvo za notranje zadeve je sodelovanje policij na mejah okrepilo",
    "The ministry strengthened police cooperation at the borders",
])
def test_a_sentences_word_terms_are_the_plain_parsers(sentence):
    fast = QueryParser(build_schema())
    stock = QueryParser(build_schema(), fast=False)
    assert fast.word_terms(sentence) == stock.word_terms(sentence)
    assert len(fast.word_terms(sentence)) >= 5
