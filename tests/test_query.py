"""search.query: what users type becomes a Whoosh query over both languages, never an error."""

from __future__ import annotations

import json
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
        assert parsed.query == wq.Every() if parsed.browse else parsed.query is wq.NullQuery


@pytest.mark.parametrize("text", ["(", "-", "((((", '"', "", "   ", "!?!", "\x00", "*?", "+",
                                  "lang:xx", "year:soon"],
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


# -- the syntax through a real index: filters alone, signs on stop words, shouted queries -----

SYNTAX_DOCS = [
    {"id": "sl-sest", "lang": "sl", "date": "2024-03-01", "title": "Sestavljanje nizov",
     "text": "Za sestavljanje nizov uporabite operator &. Sestavljanje deluje tudi z znakom +."},
    {"id": "sl-raz", "lang": "sl", "date": "2023", "title": "Razvrščanje tabel",
     "text": "Razvrščanje podatkov v tabeli po stolpcih in vrsticah."},
    {"id": "sl-isk", "lang": "sl", "title": "Iskanje po tabelah",
     "text": "Iskanje podatkov v tabeli z ukazom Najdi."},
    {"id": "sl-tis", "lang": "sl", "date": "--05-01", "title": "Navodila za tiskanje",
     "text": "Za tiskanje dokumenta izberite ukaz Natisni v meniju Datoteka."},
    {"id": "en-table", "lang": "en", "date": "2024-05-02", "title": "Insert a table",
     "text": "The table dialog inserts a table into the document."},
    {"id": "en-search", "lang": "en", "date": "2022", "title": "Searching tables",
     "text": "Searching the table for values that match a condition."},
    {"id": "en-sort", "lang": "en", "title": "Sorting tables",
     "text": "Sorting the table by its columns, ascending or descending."},
    {"id": "en-macro", "lang": "en", "title": "Why a macro does not run",
     "text": "A macro does not run when macros are disabled in the security settings."},
]
#: Each language's documents newest first (undated last, in any order).
NEWEST = {"sl": (["sl-sest", "sl-raz", "sl-tis"], {"sl-isk"}),
          "en": (["en-table", "en-search"], {"en-sort", "en-macro"})}


@pytest.fixture(scope="module")
def syntax_index(tmp_path_factory):
    from search.indexer import index_paths

    root = tmp_path_factory.mktemp("syntax")
    (root / "docs.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n"
                                             for d in SYNTAX_DOCS), encoding="utf-8")
    # (Some pages translate each other: no pairs found, so that none is folded.)
    index_paths([root / "docs.jsonl"], root / "index", find_translations=False)
    return root / "index"


@pytest.fixture(scope="module")
def syntax_search(syntax_index):
    from search.searcher import SearchIndex

    with SearchIndex(syntax_index) as ix:
        yield ix


def found(ix, text, **kwargs) -> list[str]:
    return [h.id for h in ix.search(text, per_page=50, snippets=False, **kwargs).hits]


@pytest.mark.parametrize("lang", ["sl", "en"])
def test_a_language_filter_alone_lists_that_languages_documents_newest_first(syntax_search,
                                                                            lang):
    dated, undated = NEWEST[lang]
    results = syntax_search.search(f"lang:{lang}", per_page=50)
    got = [h.id for h in results.hits]
    assert got[:len(dated)] == dated and set(got[len(dated):]) == undated
    assert results.total == len(got) and results.sort == "newest"
    assert results.facets["lang"] == {lang: len(got)}


@pytest.mark.parametrize("text, kwargs", [("year:2024", {}), ("*", {"year": "2024"}),
                                          ("year:2024 *", {}), ("*", {"year": "2024",
                                                                      "sort": "relevance"})])
def test_a_year_filter_alone_lists_that_years_documents_newest_first(syntax_search, text,
                                                                     kwargs):
    assert found(syntax_search, text, **kwargs) == ["en-table", "sl-sest"]


def test_a_bare_star_lists_every_document(syntax_search):
    assert len(found(syntax_search, "*")) == len(SYNTAX_DOCS)
    assert found(syntax_search, "*", lang="sl")[0] == "sl-sest"


def test_cli_year_filter_with_a_star_lists_the_documents(syntax_index):
    from click.testing import CliRunner

    from search.cli import cli

    result = CliRunner().invoke(cli, ["query", "--year", "2024", "*", "--index",
                                      str(syntax_index), "--json"])
    assert result.exit_code == 0, result.output
    assert [h["id"] for h in json.loads(result.stdout)["hits"]] == ["en-table", "sl-sest"]


@pytest.mark.parametrize("signed, plain", [
    ("+ za sestavljanje", "za sestavljanje"), ("+za sestavljanje", "za sestavljanje"),
    ("-za sestavljanje", "za sestavljanje"), ("za + sestavljanje", "za sestavljanje"),
    ("+the table", "the table"), ("+ the table", "the table"), ("table -the", "table the"),
])
def test_a_sign_on_a_stop_word_or_alone_is_ignored(syntax_search, signed, plain):
    expected = found(syntax_search, plain)
    assert expected and found(syntax_search, signed) == expected


@pytest.mark.parametrize("lang, text", [("sl", "+sestavljanje -tiskanje"),
                                        ("en", "+table -searching")])
def test_signs_on_content_words_still_require_and_exclude(syntax_search, lang, text):
    got = found(syntax_search, text, lang=lang)
    assert got == (["sl-sest"] if lang == "sl" else ["en-table", "en-sort"])


@pytest.mark.parametrize("shouted, mixed, both", [
    ("SEARCHING AND SORTING", "searching AND sorting", {"en-search", "en-sort"}),
    ("ISKANJE AND RAZVRŠČANJE", "iskanje AND razvrščanje", {"sl-isk", "sl-raz"}),
    ("SEARCHING NOT SORTING", "searching NOT sorting", {"en-search", "en-sort"}),
    ("ISKANJE NOT RAZVRŠČANJE TABEL", "iskanje NOT razvrščanje", {"sl-isk", "sl-raz"}),
])
def test_in_an_all_capitals_query_and_or_not_are_words(syntax_search, shouted, mixed, both):
    assert both <= set(found(syntax_search, shouted))
    # In mixed case they are operators: AND asks for both words (no document has both),
    # NOT excludes the second.
    assert len(both & set(found(syntax_search, mixed))) < 2


def test_a_bare_operator_searches_as_a_word(syntax_search):
    assert found(syntax_search, "NOT") == ["en-macro"]  # "not" is no English stop word
    assert "en-macro" in found(syntax_search, "macro NOT")
    assert "en-sort" in found(syntax_search, "OR sorting")


@pytest.mark.parametrize("shouted", ["SEARCHING AND SORTING OF TABLES",
                                     "ISKANJE IN RAZVRŠČANJE AND TISKANJE TABEL",
                                     "NOT", "AND", "OR"])
def test_a_shouted_query_has_no_boolean_structure(parser, shouted):
    parsed = parser.parse(shouted)
    assert not any(isinstance(q, (wq.And, wq.AndNot, wq.Not)) for q in _walk(parsed.query))
    assert parsed.words == [w.lower() if w in ("AND", "OR", "NOT") else w
                            for w in shouted.split()]
    assert isinstance(parser.parse("searching AND sorting").query, wq.And)


def _walk(q: wq.Query):
    yield q
    for child in q.children():
        yield from _walk(child)
