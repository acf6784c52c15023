"""How results are shown: where each comes from, bidirectional text, the search box, the
suggestion's language and the /api/stats summary (issue 17, items 14, 15 and 18)."""

from __future__ import annotations

import lxml.html
import pytest
from conftest import WEB_BIDI_TITLE, WEB_SAME_TITLE

from search.snippets import PDF, PDI
from web import create_app, index_holder, isolate

SL = {"Accept-Language": "sl-SI,sl;q=0.9"}
EN = {"Accept-Language": "en-GB,en;q=0.8"}
UI = pytest.mark.parametrize("headers, source_label", [(EN, "Source:"), (SL, "Vir:")],
                             ids=["en", "sl"])
OPENERS = {"\u202a": PDF, "\u202b": PDF, "\u202d": PDF, "\u202e": PDF,
           "\u2066": PDI, "\u2067": PDI, "\u2068": PDI}


def balanced(text: str) -> bool:
    """Every bidirectional control opened in ``text`` is closed, in order, within it."""
    stack: list[str] = []
    for ch in text:
        if ch in OPENERS:
            stack.append(OPENERS[ch])
        elif ch in (PDF, PDI):
            if not stack or stack.pop() != ch:
                return False
    return not stack


@pytest.fixture(scope="module")
def client(web_display_index):
    app = create_app({"TESTING": True, "SEARCH_INDEX": str(web_display_index)})
    yield app.test_client()
    index_holder(app).close()


def tree_of(response) -> lxml.html.HtmlElement:
    assert response.status_code == 200, response.status_code
    return lxml.html.fromstring(response.get_data(as_text=True))


# -- item 15: results with one title are told apart ------------------------------------------

@UI
def test_results_with_the_same_title_show_where_each_comes_from(client, headers,
                                                                source_label) -> None:
    response = client.get("/search?q=okapi", headers=headers)
    tree = tree_of(response)
    hits = tree.xpath("//ol[@class='hits']/li")
    assert [" ".join(h.xpath(".//h3")[0].text_content().split()) for h in hits] == \
        [WEB_SAME_TITLE] * 3
    sources = [h.xpath(".//p[@class='hit-source']")[0] for h in hits]
    shown = {s.xpath(".//cite")[0].text_content() for s in sources}
    # The web page's address without its scheme; the others by their ids. A javascript:
    # "source" is never shown as one, let alone linked.
    assert shown == {"help.example.org/sl/writer/slike", "help/calc/slike",
                     "help/impress/slike"}
    assert all(s.xpath(".//span[@class='visually-hidden']")[0].text == source_label
               for s in sources)
    body = response.get_data(as_text=True)
    assert "javascript:" not in body and "document.domain" not in body


def test_a_hostile_id_is_shown_escaped(client) -> None:
    tree = tree_of(client.get("/search?q=walrus"))
    cite = tree.xpath("//p[@class='hit-source']/cite")[0]
    assert cite.text_content() == "odd/bidi"


# -- item 15 and 18: the search box ----------------------------------------------------------

@pytest.mark.parametrize("headers, expected", [(EN, 'Words, names or "a phrase"'),
                                               (SL, "Besede, imena ali »besedna zveza«")],
                         ids=["en", "sl"])
def test_the_placeholder_names_no_topic(client, headers, expected) -> None:
    """The box used to suggest the seeds' topics (migration, border...) on every index."""
    for url in ("/", "/search?q=okapi"):
        placeholder = tree_of(client.get(url, headers=headers)).xpath("//input[@id='q']")[0]
        assert placeholder.get("placeholder") == expected


# -- item 18: the suggestion says its language -----------------------------------------------

@pytest.mark.parametrize("headers", [EN, SL], ids=["en", "sl"])
def test_a_suggestion_is_marked_with_its_language(web_client, headers) -> None:
    # "mongoose" is in one English document only: a Slovenian page must say so.
    # As a "did you mean" (another word of the query matches) and as the correction
    # searched instead ("showing results for": no word matched).
    tree = tree_of(web_client.get("/search?q=mongose+karavanke", headers=headers))
    link = tree.xpath("//p[@class='suggestion']/a")[0]
    assert link.text_content() == "mongoose karavanke"
    tree = tree_of(web_client.get("/search?q=mongose", headers=headers))
    shown = tree.xpath("//p[@class='suggestion']/strong")[0]
    assert shown.text_content() == "mongoose"
    assert shown.get("lang") == "en"


def test_a_suggestion_found_in_both_languages_keeps_the_page_language(web_client) -> None:
    tree = tree_of(web_client.get("/search?q=quoka", headers=SL))  # 12 + 12 documents
    shown = tree.xpath("//p[@class='suggestion']/strong")[0]
    assert shown.text_content() == "quokka" and shown.get("lang") is None


# -- item 14: bidirectional controls ---------------------------------------------------------

def test_snippets_and_titles_from_the_api_keep_bidi_controls_balanced(client) -> None:
    hit = client.get("/api/search?q=walrus").get_json()["hits"][0]
    assert "\u202e" in hit["snippet"] and "\u2067" in hit["snippet"]
    assert balanced(hit["snippet"])
    assert hit["title"] == WEB_BIDI_TITLE  # data as stored: the API documents this
    doc = client.get("/api/doc/odd/bidi?q=walrus").get_json()
    assert all(balanced(p) for p in doc["html"].split("\n"))


@pytest.mark.parametrize("headers", [EN, SL], ids=["en", "sl"])
def test_pages_isolate_titles_snippets_and_queries(client, headers) -> None:
    tree = tree_of(client.get("/search", query_string={"q": "walrus \u202eevil"},
                              headers=headers))
    hit = tree.xpath("//ol[@class='hits']/li")[0]
    title = hit.xpath(".//h3/a/bdi")[0]
    assert title.text_content() == WEB_BIDI_TITLE  # isolated by <bdi>: the override ends there
    snippet = hit.xpath(".//p[@class='hit-snippet']")[0]
    assert snippet.get("dir") == "auto" and balanced(snippet.text_content())
    # The query, in a sentence and in <title>: between FSI and PDI, its override closed.
    for text in (tree.xpath("//h1")[0].text_content(), tree.xpath("//title")[0].text):
        assert "\u2068walrus \u202eevil\u202c\u2069" in text
    doc = tree_of(client.get("/doc/odd/bidi", headers=headers))
    assert doc.xpath("//h1/bdi")[0].text_content() == WEB_BIDI_TITLE
    assert isolate(WEB_BIDI_TITLE) in doc.xpath("//title")[0].text
    assert all(balanced(p.text_content()) for p in doc.xpath("//div[@class='doc-body']/p"))


def test_plain_text_is_not_wrapped_in_isolates() -> None:
    assert isolate("Results for policija") == "Results for policija"
    assert isolate("שלום") == "\u2068שלום\u2069"
    assert isolate("\u202cx\u202e") == "\u2068x\u202e\u202c\u2069"


# -- item 15: /api/stats ---------------------------------------------------------------------

def test_api_stats_is_a_clean_summary(web_client) -> None:
    response = web_client.get("/api/stats")
    body = response.get_json()
    assert set(body) == {"doc_count", "by_lang", "by_year", "engine_version", "analyzers"}
    raw = response.get_data(as_text=True)
    for leak in ("frozenset", "CompositeAnalyzer", "re.compile", "'the'", "stops", "/tmp"):
        assert leak not in raw
    assert body["analyzers"]["body_en"][0].endswith("Tokenizer")
    assert "SnowballFilter" in body["analyzers"]["body_en"]
    assert "LemmaFilter" in body["analyzers"]["body_sl"]
    assert body["doc_count"] == sum(body["by_lang"].values())
