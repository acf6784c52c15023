"""search.query: what users type becomes a Whoosh query over both languages, never an error."""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from search.query import MAX_QUERY_CHARS, QueryParser
from search.schema import build_schema, text_fields


@pytest.fixture(scope="module")
def parser() -> QueryParser:
    return QueryParser(build_schema())


def positive_terms(q: wq.Query) -> set[tuple[str, str]]:
    """(field, text) of the terms a query looks for, leaving out excluded ones."""
    if isinstance(q, wq.Not):
        return set()
    if isinstance(q, wq.AndNot):
        return positive_terms(q.a)
    if q.is_leaf():
        return {(f, t.decode() if isinstance(t, bytes) else t) for f, t in q.iter_all_terms()}
    out: set[tuple[str, str]] = set()
    for child in q.children():
        out |= positive_terms(child)
    return out


def excluded_terms(q: wq.Query) -> set[tuple[str, str]]:
    if isinstance(q, wq.Not):
        return set(q.query.iter_all_terms())
    if isinstance(q, wq.AndNot):
        return set(q.b.iter_all_terms()) | excluded_terms(q.a)
    if q.is_leaf():
        return set()
    out: set[tuple[str, str]] = set()
    for child in q.children():
        out |= excluded_terms(child)
    return out


def fields_of(q: wq.Query) -> set[str]:
    return {f for f, _ in q.iter_all_terms()}


ALL_FIELDS = {name for name, _, _ in text_fields()}


# -- plain words ----------------------------------------------------------------------------

@pytest.mark.parametrize("text, lang_term", [
    ("policijo", ("body_sl", "policija")),  # Slovenian lemma
    ("crossings", ("body_en", "cross")),  # English stem
    ("saranovic", ("body_sl_stem", "saran")),  # Slovenian diacritic-free path
])
def test_a_word_is_searched_in_every_language_field(parser, text, lang_term):
    parsed = parser.parse(text)
    assert not parsed.fallback
    assert parsed.words == [text]
    assert fields_of(parsed.query) == ALL_FIELDS
    assert lang_term in positive_terms(parsed.query)


def test_title_matches_are_weighted_by_the_tuned_title_boost(parser):
    from search.query import TITLE_BOOST

    q = parser.parse("policija").query
    boosts = {leaf.fieldname: leaf.boost for leaf in q.leaves()}
    for lang in ("sl", "en"):
        assert boosts[f"title_{lang}"] == pytest.approx(TITLE_BOOST * boosts[f"body_{lang}"])


def test_two_words_are_or_combined_by_default(parser):
    q = parser.parse("meja policija").query
    assert isinstance(q, wq.Or)
    texts = {t for _, t in positive_terms(q)}
    assert {"meja", "policija"} <= texts


def test_and_mode_requires_every_word():
    q = QueryParser(build_schema(), mode="and").parse("meja policija").query
    assert isinstance(q, wq.And)


def test_stop_words_alone_search_nothing_in_their_language(parser):
    q = parser.parse("the").query
    # "the" is an English stop word: no English field is asked for it.
    assert not {f for f in fields_of(q) if f.endswith("_en")}


# -- syntax ---------------------------------------------------------------------------------

def test_phrase(parser):
    q = parser.parse('"border controls"').query
    phrases = [leaf for leaf in q.leaves() if isinstance(leaf, wq.Phrase)]
    assert phrases, q
    by_field = {p.fieldname: p.words for p in phrases}
    assert by_field["body_en"] == ["border", "control"]
    assert not [leaf for leaf in q.leaves() if isinstance(leaf, wq.Term)]


def test_exclusion(parser):
    q = parser.parse("border -italy").query
    assert ("body_en", "border") in positive_terms(q)
    assert ("body_en", "itali") in excluded_terms(q)
    assert ("body_en", "itali") not in positive_terms(q)


def test_exclusion_only_is_not_a_search_for_everything(parser):
    # "-x" alone would match every document without x; the parser falls back to the word.
    parsed = parser.parse("-migrant")
    assert not excluded_terms(parsed.query)


def test_hyphenated_word_is_not_an_exclusion(parser):
    q = parser.parse("cross-border").query
    assert not excluded_terms(q)
    assert ("body_en", "border") in positive_terms(q)


def test_title_field_restricts_to_title_fields_of_every_language(parser):
    q = parser.parse("title:lithuania").query
    assert fields_of(q) == {f for f in ALL_FIELDS if f.startswith("title_")}
    assert {lang for f in fields_of(q) for lang in ("en", "sl") if f"_{lang}" in f} == {"en",
                                                                                       "sl"}


def test_title_and_body_words_combined(parser):
    q = parser.parse("title:lithuania border").query
    pairs = positive_terms(q)
    assert ("title_en", "lithuania") in pairs and ("body_en", "lithuania") not in pairs
    assert ("body_en", "border") in pairs


def test_trailing_star_expands_through_the_callable(parser):
    calls = []

    def expand(prefix):
        calls.append(prefix)
        return ["policija", "policije", "policijama"]

    parsed = parser.parse("Polic* meja", expand=expand)
    assert calls == ["polic"]  # lower-cased prefix
    terms = positive_terms(parsed.query)
    # The expansions are analysed like any word: all three forms meet in the Slovenian lemma.
    assert ("body_sl", "policija") in terms
    assert ("body_sl", "meja") in terms
    assert not [leaf for leaf in parsed.query.leaves() if isinstance(leaf, wq.Prefix)]


def test_prefix_without_expansions_searches_the_word_itself(parser):
    # Nothing in the index starts with it: the word is analysed like any other, and no
    # lemmatised pseudo-prefix (``polica*``) reaches the Slovenian field.
    q = parser.parse("polic*", expand=lambda prefix: []).query
    assert not [leaf for leaf in q.leaves() if isinstance(leaf, wq.Prefix)]
    assert ("body_en", "polic") in set(q.iter_all_terms())


def test_inner_and_leading_wildcards_are_not_vocabulary_scans(parser):
    for text in ("*olic", "po*ija", "polic?", "?"):
        q = parser.parse(text).query
        kinds = {type(leaf) for leaf in q.leaves()} if q is not wq.NullQuery else set()
        assert not kinds & {wq.Wildcard, wq.Prefix}, (text, q)


@pytest.mark.parametrize("text, lang, year, words", [
    ("meja lang:sl", "sl", None, ["meja"]),
    ("LANG:EN border", "en", None, ["border"]),
    ("year:2024 meja", None, "2024", ["meja"]),
    ("lang:sl year:2023 policija", "sl", "2023", ["policija"]),
    ("lang:xx meja", None, None, ["meja"]),  # unknown language: no filter
])
def test_filters_are_extracted(parser, text, lang, year, words):
    parsed = parser.parse(text)
    assert (parsed.lang, parsed.year, parsed.words) == (lang, year, words)
    texts = {t for _, t in positive_terms(parsed.query)}
    assert not {"lang", "sl", "year", "2024", "2023"} & texts


# -- malformed input ------------------------------------------------------------------------

MALFORMED = ['"unclosed', "(", ")", "AND", "OR", "NOT", "*", "-", "+", "((((", "))))",
             "title:", "title:(", 'title:"', '"', '""', '-"x', "-(", "[a TO", "{", "^2", "x^",
             "\\", "a:b:c", ":", "lang:", "year:", "border AND", "OR border", "NOT NOT",
             "x" * 10_000, "word " * 3_000, "a\x00b\x07c\x1bd", "\u200b\u2028", "   ",
             "", "🙂 ☃ policija", "<script>alert(1)</script>", "%s %d {0}", "'; DROP TABLE--"]


def _storm(seed: int) -> str:
    rng = random.Random(seed)
    alphabet = string.punctuation + "  ab"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60)))


STORMS = [_storm(seed) for seed in range(40)]


def _short_id(text: str) -> str:
    return ascii(text[:24])


@pytest.mark.parametrize("text", MALFORMED + STORMS, ids=_short_id)
def test_malformed_queries_never_raise(parser, text):
    parsed = parser.parse(text, expand=lambda prefix: [prefix + "a"])
    assert isinstance(parsed.query, wq.Query)
    if not parsed.words:
        assert parsed.query is wq.NullQuery


@pytest.mark.parametrize("text", ["(", "*", "-", "((((", '"', "", "   ", "!?!", "\x00"],
                         ids=_short_id)
def test_nothing_searchable_gives_null_query(parser, text):
    assert parser.parse(text).query is wq.NullQuery


@pytest.mark.parametrize("text, word", [('"unclosed', "unclosed"), ('-"x', "x"),
                                        ("(((meja", "meja"), ("title:(meja", "meja")])
def test_malformed_queries_keep_their_words(parser, text, word):
    parsed = parser.parse(text)
    assert word in parsed.words
    assert word in {t for _, t in positive_terms(parsed.query)}


def test_very_long_query_is_cut(parser):
    parsed = parser.parse("policija " * 5_000)
    assert len(" ".join(parsed.words)) <= MAX_QUERY_CHARS


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list(string.punctuation + " \t\nabčšž-AND")),
               max_size=40))
def test_parse_never_raises(parser, text):
    parsed = parser.parse(text, expand=lambda prefix: [])
    assert isinstance(parsed.query, wq.Query)


def test_not_operator_excludes(parser):
    q = parser.parse("border NOT italy").query
    assert ("body_en", "itali") in excluded_terms(q)
    assert not any(isinstance(child, wq.Not) for child in q.children()
                   if isinstance(q, wq.Or))


# -- the shortcut for plain words gives exactly the parser's query ---------------------------

PLAIN_QUERIES = [
    "meja", "nadzor na notranjih mejah", "sodelovanje policij", "Šaranović", "saranovic",
    "border controls", "the police and the border", "v in na", "a police",
    "Ustvarjanje pogovornega okna Basic", "Creating a Basic Dialog", "meja meja", "HTML 5",
    "naïve café", "spreadsheets, inserting charts", "1999 2024", "ČŠŽ čšž", "Lithuania; Vilnius.",
]
SYNTAX_QUERIES = ['"border control"', "police -migrants", "meja NOT Hrvaška", "title:meja",
                  "polic*", "(a b)", "e-mail", "chart,update", "don't", "border AND police"]


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
def test_syntax_is_left_to_the_parser(parser, text):
    assert parser._simple(text) is None
    assert parser.parse(text).query is not wq.NullQuery
