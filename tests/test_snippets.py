"""search.snippets: escaped, sentence-aware snippets that mark the words as written."""

from __future__ import annotations

import html
import re

import pytest
from conftest import SEED_EN, SEED_SL, SEEDS

from search.query import QueryParser
from search.schema import build_schema
from search.snippets import (
    SNIPPET_CHARS,
    balance_bidi,
    match_spans,
    paragraphs_html,
    query_terms,
    snippet,
)

MARKED = re.compile(r"<mark>(.*?)</mark>")


@pytest.fixture(scope="module")
def parser() -> QueryParser:
    return QueryParser(build_schema())


@pytest.fixture(scope="module")
def spans_for(parser):
    def spans_for(query: str, text: str, lang: str):
        terms = query_terms(parser.parse(query).query.iter_all_terms())
        return match_spans(text, lang, terms)
    return spans_for


def marked(html_text: str) -> list[str]:
    return [html.unescape(m) for m in MARKED.findall(html_text)]


def fragments(html_text: str) -> list[str]:
    """The plain-text pieces of a snippet, without marks, ellipses and escaping."""
    plain = html.unescape(MARKED.sub(r"\1", html_text))
    return [p.strip() for p in plain.split("…") if p.strip()]


def seed_text(name: str) -> str:
    from search.documents.text import clean_text

    return clean_text((SEEDS / name).read_text(encoding="utf-8"))


# -- matching the surface form --------------------------------------------------------------

@pytest.mark.parametrize("query, text, lang, expected", [
    ("policija", "Sodelovanje med policijama je dobro, so sporočili s policije.", "sl",
     ["policijama", "policije"]),
    ("meja", "Policisti so varovali mejo, na meji pa je bilo mirno.", "sl", ["mejo", "meji"]),
    ("minister", "Ministra sta se srečala z ministrom.", "sl", ["Ministra", "ministrom"]),
    ("saranovic", "Srečal se je z Danilom Šaranovićem in Šaranovićevo ekipo.", "sl",
     ["Šaranovićem", "Šaranovićevo"]),
    ("border", "The borders stayed open; the border police crossed it.", "en",
     ["borders", "border"]),
    ("crossing", "Crossings and illegal crossings were crossed out.", "en",
     ["Crossings", "crossings", "crossed"]),
])
def test_the_word_as_written_is_marked(spans_for, query, text, lang, expected):
    spans = spans_for(query, text, lang)
    assert [text[a:b] for a, b in spans] == expected
    assert marked(snippet(text, spans)) == expected


@pytest.mark.parametrize("query, text, lang", [
    ("policija", "The police and the policeman", "en"),
    ("meja", "Minister je obiskal Avstrijo.", "sl"),
    ("border", "Policija je varovala mejo.", "sl"),
])
def test_nothing_is_marked_without_a_match(spans_for, query, text, lang):
    spans = spans_for(query, text, lang)
    assert spans == []
    assert "<mark>" not in snippet(text, spans)


def test_stop_words_are_not_marked(spans_for):
    text = "Policija je na meji in v mestu."
    assert spans_for("je policija in", text, "sl") == [(0, len("Policija"))]


def test_spans_use_the_documents_language_only(spans_for):
    # "policija" analysed as English is just "policija": an English document mentioning
    # "policije" (a different English term) is not marked through Slovenian lemmas.
    assert spans_for("policija", "Slovenian word policije.", "en") == []
    assert spans_for("policija", "Slovenian word policija.", "en") != []


def test_unknown_language_marks_nothing(spans_for):
    assert match_spans("meja", "xx", {("sl", ""): {"meja"}}) == []


def test_query_terms_group_by_language_and_path(parser):
    terms = query_terms(parser.parse("title:policijo meja").query.iter_all_terms())
    assert "policija" in terms[("sl", "")] and "meja" in terms[("sl", "")]
    assert "polic" in terms[("sl", "stem")]
    assert terms[("en", "")] >= {"policijo", "meja"}
    assert set(terms) == {("sl", ""), ("sl", "stem"), ("en", "")}


# -- escaping -------------------------------------------------------------------------------

def test_snippet_is_escaped_html(spans_for):
    text = 'Border <script>alert("x")</script> & <b>borders</b> were closed.'
    out = snippet(text, spans_for("border", text, "en"))
    assert "&lt;script&gt;" in out and "<script>" not in out
    assert "&amp;" in out and "&lt;b&gt;" in out
    assert re.sub(r"</?mark>", "", out).count("<") == 0
    assert marked(out) == ["Border", "borders"]


def test_snippet_without_matches_is_escaped_too():
    out = snippet("<img src=x onerror=alert(1)> text", [])
    assert out.startswith("&lt;img") and "<img" not in out


def test_paragraphs_html(spans_for):
    text = "First paragraph about borders.\n\nSecond <one> & more.\nA third line on the border."
    out = paragraphs_html(text, spans_for("border", text, "en"))
    paras = re.findall(r"<p>(.*?)</p>", out)
    assert len(paras) == 3
    assert paras[1] == "Second &lt;one&gt; &amp; more."
    assert marked(out) == ["borders", "border"]
    assert html.unescape(re.sub(r"</?(p|mark)>", "", out)).split("\n") == [
        "First paragraph about borders.", "Second <one> & more.", "A third line on the border."]


# -- sentence-aware cropping ----------------------------------------------------------------

def _assert_whole_words(text: str, out: str, budget: int) -> None:
    parts = fragments(out)
    assert parts, out
    for part in parts:
        start = text.find(part)
        assert start >= 0, part
        end = start + len(part)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        assert not before.isalnum() and not after.isalnum(), (part, before, after)
    assert sum(len(p) for p in parts) <= budget


@pytest.mark.parametrize("name, query, lang", [
    *[(n, q, "en") for n in SEED_EN for q in ("border", "migration cooperation", "police")],
    *[(n, q, "sl") for n in SEED_SL for q in ("policija", "sodelovanje meja", "minister")],
])
@pytest.mark.parametrize("budget", [80, SNIPPET_CHARS])
def test_snippets_of_real_documents_keep_whole_words_within_budget(spans_for, name, query,
                                                                   lang, budget):
    text = seed_text(name)
    spans = spans_for(query, text, lang)
    assert spans, (name, query)
    out = snippet(text, spans, budget)
    _assert_whole_words(text, out, budget)
    assert MARKED.search(out)
    # Every fragment has a match in it: no filler fragments.
    for part in out.split(" … "):
        assert "<mark>" in part


def test_long_sentence_is_cropped_around_its_match(spans_for):
    text = ("Word " * 100) + "the border was closed " + ("again " * 100) + "."
    out = snippet(text, spans_for("border", text, "en"), 120)
    assert marked(out) == ["border"]
    assert out.startswith("… ") and out.endswith(" …")
    _assert_whole_words(text, out, 120)


def test_sentence_with_more_distinct_matches_wins(spans_for):
    text = ("The police came. " + "Filler words that match nothing at all here. " * 8
            + "The police guarded the border.")
    out = snippet(text, spans_for("police border", text, "en"), 60)
    assert marked(out) == ["police", "border"]


def test_chosen_fragments_are_in_document_order(spans_for):
    text = "Border one. Nothing here. Border two and crossing. Nothing. Border three."
    out = snippet(text, spans_for("border crossing", text, "en"), 200)
    parts = fragments(out)
    assert [text.find(p) for p in parts] == sorted(text.find(p) for p in parts)


def test_snippet_without_matches_is_the_beginning():
    text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20
    out = snippet(text, [], 100)
    assert out.endswith(" …")
    body = out[:-2]
    assert text.startswith(body) and len(body) <= 100
    assert body == body.rstrip()  # no blank before the ellipsis
    assert text[len(body)] == " "  # cut at a word boundary


def test_short_text_is_whole():
    assert snippet("Short text.", []) == "Short text."
    assert snippet("", []) == ""


# -- bidirectional controls -------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("plain text", "plain text"),
    ("a\u202eb", "a\u202eb\u202c"),  # an override left open is closed at the end
    ("\u202cx\u2069", "x"),  # closers without an opener are dropped
    ("a\u202eb\u202cc", "a\u202eb\u202cc"),  # already balanced: unchanged
    ("\u2067a\u202bb\u2069c", "\u2067a\u202bb\u202c\u2069c"),  # a PDI ends what it holds
    ("\u202a\u2066x\u202cy", "\u202a\u2066xy\u2069\u202c"),  # a PDF cannot leave an isolate
])
def test_balance_bidi(text: str, expected: str) -> None:
    assert balance_bidi(text) == expected


def test_a_snippet_cut_inside_an_override_closes_it(parser) -> None:
    # The override opens before the match and closes far after it, past the snippet's end.
    text = "Open \u202ethe walrus file " + "and keep reading it " * 40 + "now\u202c done."
    terms = query_terms(parser.parse("walrus").query.iter_all_terms())
    html_text = snippet(text, match_spans(text, "en", terms))
    assert "<mark>walrus</mark>" in html_text and len(html_text) < len(text)
    assert html_text.count("\u202e") == html_text.count("\u202c") == 1
    assert html_text.index("\u202c") > html_text.index("</mark>")
    para = paragraphs_html("\u202eone\n\ntwo\u202c", [])
    assert para == "<p>\u202eone\u202c</p>\n<p>two</p>"
