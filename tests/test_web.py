"""The web front-end through Flask's test client, on a real index (see conftest.py)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from web import create_app, i18n, index_holder, trusted_fragment
from web.pages import page_window
from web.params import ParamError, parse_search

REPO_ROOT = Path(__file__).resolve().parents[1]
WEB_QUOKKA_DOCS = 24  # as in conftest.py
SL = {"Accept-Language": "sl-SI,sl;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB,en;q=0.8"}


def page(response) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(response.get_data(as_text=True))


def texts(tree, xpath: str) -> list[str]:
    return [" ".join(el.text_content().split()) for el in tree.xpath(xpath)]


def query_of(href: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


# -- i18n units ------------------------------------------------------------------------------

@pytest.mark.parametrize("n, expected", [
    (0, "0 rezultatov"), (1, "1 rezultat"), (2, "2 rezultata"), (3, "3 rezultati"),
    (4, "4 rezultati"), (5, "5 rezultatov"), (11, "11 rezultatov"), (12, "12 rezultatov"),
    (14, "14 rezultatov"), (21, "21 rezultatov"), (101, "101 rezultat"),
    (102, "102 rezultata"), (103, "103 rezultati"), (104, "104 rezultati"),
    (105, "105 rezultatov"), (111, "111 rezultatov"), (1001, "1.001 rezultat"),
    (5120, "5.120 rezultatov"),
])
def test_slovenian_plural(n: int, expected: str) -> None:
    assert i18n.plural("result", n, "sl") == expected


@pytest.mark.parametrize("n, form", [(0, 3), (1, 0), (2, 1), (3, 2), (4, 2), (5, 3), (11, 3),
                                     (101, 0), (102, 1), (103, 2), (105, 3), (201, 0)])
def test_slovenian_plural_form(n: int, form: int) -> None:
    assert i18n.slovenian_plural_form(n) == form


@pytest.mark.parametrize("n, expected", [(0, "0 results"), (1, "1 result"), (2, "2 results"),
                                         (101, "101 results"), (5120, "5,120 results")])
def test_english_plural(n: int, expected: str) -> None:
    assert i18n.plural("result", n, "en") == expected


def test_every_message_has_both_languages() -> None:
    for key, entry in i18n.MESSAGES.items():
        assert set(entry) == {"sl", "en"}, key
        assert all(text.strip() for text in entry.values()), key
    for key, entry in i18n.PLURALS.items():
        assert len(entry["en"]) == 2 and len(entry["sl"]) == 4, key


@pytest.mark.parametrize("iso, sl, en", [
    ("2024-07-03", "3. 7. 2024", "3 July 2024"),
    ("2024-07", "julij 2024", "July 2024"),
    ("2024", "2024", "2024"),
    ("--10-29", "29. 10.", "29 October"),
    ("garbage", "garbage", "garbage"),
    (None, "", ""),
])
def test_format_date(iso: str | None, sl: str, en: str) -> None:
    assert i18n.format_date(iso, "sl") == sl
    assert i18n.format_date(iso, "en") == en


def test_negotiate_order() -> None:
    from werkzeug.datastructures import LanguageAccept

    accept_sl = LanguageAccept([("sl-SI", 1), ("en", 0.5)])
    assert i18n.negotiate(None, None, accept_sl) == ("sl", False)
    assert i18n.negotiate(None, "en", accept_sl) == ("en", False)
    assert i18n.negotiate("sl", "en", LanguageAccept([("en", 1)])) == ("sl", True)
    assert i18n.negotiate("de", None, LanguageAccept([("de", 1)])) == ("en", False)
    assert i18n.negotiate(None, "xx", None) == ("en", False)


def test_trusted_fragment_keeps_only_mark_and_p() -> None:
    html = '<p>a <mark>b</mark> &lt;i&gt;</p><script>alert(1)</script><img src=x onerror=y>'
    out = str(trusted_fragment(html))
    assert "<p>a <mark>b</mark> &lt;i&gt;</p>" in out
    assert "<script>" not in out and "<img" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out


def test_page_window() -> None:
    assert page_window(1, 1) == [1]
    assert page_window(1, 3) == [1, 2, 3]
    assert page_window(10, 300) == [1, None, 8, 9, 10, 11, 12, None, 300]


def test_parse_search_limits() -> None:
    assert parse_search({"q": "  a   b "}).q == "a b"
    with pytest.raises(ParamError):
        parse_search({"q": "x" * 501})
    for bad in ("0", "-1", "1.5", "abc", "1001", "99999999999999999999", "١"):
        with pytest.raises(ParamError):
            parse_search({"q": "x", "page": bad})
    assert parse_search({"q": "x", "page": "1000"}).page == 1000


# -- home and UI language --------------------------------------------------------------------

def test_home_english(web_client) -> None:
    r = web_client.get("/", headers=EN)
    assert r.status_code == 200
    tree = page(r)
    assert tree.get("lang") == "en"
    box = tree.xpath("//input[@id='q']")[0]
    assert box.get("autofocus") is not None and box.get("name") == "q"
    assert tree.xpath("//label[@for='q']")[0].text_content().strip()
    info = texts(tree, "//p[@class='index-info']")[0]
    assert re.search(r"\d+ documents", info) and "Slovenian" in info and "English" in info


def test_home_slovenian_from_accept_language(web_client) -> None:
    r = web_client.get("/", headers=SL)
    tree = page(r)
    assert tree.get("lang") == "sl"
    info = texts(tree, "//p[@class='index-info']")[0]
    assert re.search(r"\d+ dokument", info) and "slovenščina" in info
    assert "Išči" in r.get_data(as_text=True)


def test_ui_param_sets_cookie_and_cookie_wins_over_header(web_client) -> None:
    r = web_client.get("/?ui=sl", headers=EN)
    assert page(r).get("lang") == "sl"
    cookie = r.headers.get("Set-Cookie", "")
    assert cookie.startswith("ui=sl") and "SameSite=Lax" in cookie
    # The cookie now beats the browser's English preference...
    assert page(web_client.get("/search?q=quokka", headers=EN)).get("lang") == "sl"
    # ...and ?ui= beats the cookie, and replaces it.
    assert page(web_client.get("/?ui=en", headers=SL)).get("lang") == "en"
    assert page(web_client.get("/", headers=SL)).get("lang") == "en"


def test_unknown_ui_and_language_fall_back_to_english(web_client) -> None:
    assert page(web_client.get("/?ui=de", headers={"Accept-Language": "de"})).get("lang") == "en"
    assert page(web_client.get("/")).get("lang") == "en"


def test_language_switch_link_keeps_the_query(web_client) -> None:
    tree = page(web_client.get("/search?q=quokka&lang=sl&page=2", headers=EN))
    link = tree.xpath("//nav[contains(@class,'ui-switch')]//a")[0]
    assert link.get("lang") == "sl" and link.get("hreflang") == "sl"
    params = query_of(link.get("href"))
    assert params == {"q": "quokka", "lang": "sl", "page": "2", "ui": "sl"}
    assert tree.xpath("//nav[contains(@class,'ui-switch')]//*[@aria-current]")[0].get("lang") \
        == "en"


def test_vary_header(web_client) -> None:
    vary = web_client.get("/").headers["Vary"]
    assert "Accept-Language" in vary and "Cookie" in vary


# -- results page ----------------------------------------------------------------------------

def test_results_have_marks_links_badges_and_lang(web_client) -> None:
    r = web_client.get("/search?q=quokka", headers=EN)
    assert r.status_code == 200
    tree = page(r)
    hits = tree.xpath("//ol[@class='hits']/li")
    assert len(hits) == 10
    for li in hits:
        assert li.get("lang") in ("en", "sl")
        link = li.xpath(".//h3/a")[0]
        assert link.get("href").startswith("/doc/bulk/") and "q=quokka" in link.get("href")
        assert li.xpath(".//p[@class='hit-snippet']/mark")
        badge = li.xpath(".//span[contains(@class,'badge')]")[0]
        assert badge.xpath("./span[@aria-hidden]")[0].text == li.get("lang").upper()
        assert li.xpath(".//time/@datetime")
    count = tree.xpath("//*[@id='result-count']")[0]
    assert count.get("aria-live") == "polite" and count.get("role") == "status"
    assert f"{WEB_QUOKKA_DOCS} results" in count.text_content()


def test_result_count_slovenian_forms(web_client) -> None:
    def count(url: str) -> str:
        tree = page(web_client.get(url, headers=SL))
        return tree.xpath("//*[@id='result-count']/strong")[0].text_content()

    assert count("/search?q=quokka") == f"{WEB_QUOKKA_DOCS} rezultatov"
    assert count("/search?q=quokka&lang=sl&year=2021") == "4 rezultati"
    assert count("/search?q=quokka&lang=sl&year=2021&page=1") == "4 rezultati"
    assert count("/search?q=zanzibar") == "1 rezultat"
    assert count("/search?q=Karavanke") == "2 rezultata"
    assert count("/search?q=xqzvwy") == "0 rezultatov"


def test_result_count_english_forms(web_client) -> None:
    def count(url: str) -> str:
        return page(web_client.get(url, headers=EN)).xpath("//*[@id='result-count']/strong")[
            0].text_content()

    assert count("/search?q=zanzibar") == "1 result"
    assert count("/search?q=Karavanke") == "2 results"


def test_facets_filter_on_click(web_client) -> None:
    tree = page(web_client.get("/search?q=quokka", headers=EN))
    lang_links = {a.text_content().split(" (")[0]: a.get("href")
                  for a in tree.xpath("//section[@aria-labelledby='facet-lang']//a")}
    assert set(lang_links) == {"Slovenian", "English"}
    assert "(12)" in texts(tree, "//section[@aria-labelledby='facet-lang']//a")[0]
    filtered = page(web_client.get(lang_links["Slovenian"], headers=EN))
    langs = {li.get("lang") for li in filtered.xpath("//ol[@class='hits']/li")}
    assert langs == {"sl"}
    assert "12 results" in texts(filtered, "//*[@id='result-count']")[0]
    active = filtered.xpath("//section[@aria-labelledby='facet-lang']//*[@aria-current]")
    assert active[0].text_content().startswith("Slovenian")
    # Year facet on top of the language filter; "All years" removes it again.
    years = {a.text_content().split(" (")[0]: a.get("href")
             for a in filtered.xpath("//section[@aria-labelledby='facet-year']//a")}
    assert {"2021", "2022", "2023"} <= set(years)
    by_year = page(web_client.get(years["2022"], headers=EN))
    assert query_of(years["2022"]) == {"q": "quokka", "lang": "sl", "year": "2022"}
    dates = by_year.xpath("//ol[@class='hits']//time/@datetime")
    assert dates and all(d.startswith("2022") for d in dates)
    clear = by_year.xpath("//section[@aria-labelledby='facet-year']//a")[0]
    assert query_of(clear.get("href")) == {"q": "quokka", "lang": "sl"}


def test_paging(web_client) -> None:
    first = page(web_client.get("/search?q=quokka", headers=EN))
    nav = first.xpath("//nav[contains(@class,'pagination')]")[0]
    assert nav.get("aria-label") == "Result pages"
    assert nav.xpath(".//*[@aria-current='page']")[0].text_content().strip().endswith("1")
    nxt = nav.xpath(".//a[@rel='next']")[0].get("href")
    assert query_of(nxt)["page"] == "2" and not nav.xpath(".//a[@rel='prev']")
    second = page(web_client.get(nxt, headers=EN))
    assert second.xpath("//ol[@class='hits']")[0].get("start") == "11"
    assert "Showing results 11–20" in texts(second, "//*[@id='result-count']")[0]
    ids_1 = first.xpath("//ol[@class='hits']//h3/a/@href")
    ids_2 = second.xpath("//ol[@class='hits']//h3/a/@href")
    assert not set(ids_1) & set(ids_2)
    last = page(web_client.get("/search?q=quokka&page=3", headers=EN))
    assert len(last.xpath("//ol[@class='hits']/li")) == WEB_QUOKKA_DOCS - 20
    assert last.xpath("//a[@rel='prev']") and not last.xpath("//a[@rel='next']")


def test_page_beyond_the_last_is_explained(web_client) -> None:
    r = web_client.get("/search?q=quokka&page=9", headers=EN)
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "There is no page 9" in body and "Go to the first page" in body


def test_sort_newest(web_client) -> None:
    tree = page(web_client.get("/search?q=quokka&sort=newest", headers=EN))
    dates = tree.xpath("//ol[@class='hits']//time/@datetime")
    assert dates == sorted(dates, reverse=True) and dates[0].startswith("2023")
    active = tree.xpath("//nav[@class='sort']//*[@aria-current]")[0]
    assert active.text_content() == "newest first"
    relevance = tree.xpath("//nav[@class='sort']//a")[0].get("href")
    assert "sort" not in query_of(relevance)
    sl = page(web_client.get("/search?q=quokka&sort=newest", headers=SL))
    assert sl.xpath("//nav[@class='sort']//*[@aria-current]")[0].text_content() == \
        "najprej najnovejše"


@pytest.mark.parametrize("ui, said", [(EN, "Did you mean: quokka island?"),
                                       (SL, "Ste mislili: quokka island?")])
def test_did_you_mean(web_client, ui, said) -> None:
    # "quokka" matches directly: the misspelt word's correction is offered, not searched.
    tree = page(web_client.get("/search?q=quokka+islnad", headers=ui))
    link = tree.xpath("//p[@class='suggestion']/a")
    assert link, "expected a did-you-mean link"
    assert query_of(link[0].get("href"))["q"] == "quokka island"
    assert texts(tree, "//p[@class='suggestion']") == [said]


@pytest.mark.parametrize("ui, said", [
    (EN, "Showing results for quokka — search instead for quoka"),
    (SL, "Prikazani so zadetki za quokka — namesto tega išči quoka")])
def test_a_query_matching_nothing_is_searched_corrected(web_client, ui, said) -> None:
    tree = page(web_client.get("/search?q=quoka", headers=ui))
    assert texts(tree, "//p[@class='suggestion']") == [said]
    assert len(tree.xpath("//ol[@class='hits']/li")) == 10
    link = tree.xpath("//p[@class='suggestion']/a")[0]
    assert link.text_content() == "quoka"
    # "Search instead" quotes the word, which searches it as typed: nothing, no correction.
    verbatim = page(web_client.get(link.get("href"), headers=ui))
    assert not verbatim.xpath("//ol[@class='hits']/li")
    assert not verbatim.xpath("//p[@class='suggestion']")


def test_empty_state_in_both_languages(web_client) -> None:
    en = web_client.get("/search?q=xqzvwy", headers=EN).get_data(as_text=True)
    assert "No results for “xqzvwy”" in en and "Check the spelling" in en
    sl = web_client.get("/search?q=xqzvwy&lang=sl", headers=SL).get_data(as_text=True)
    assert "Za »xqzvwy« ni zadetkov" in sl and "Preverite črkovanje" in sl
    assert "Odstranite filtre" in sl  # a filter is on: offer to drop it


def test_empty_query_redirects_home(web_client) -> None:
    r = web_client.get("/search?q=++")
    assert r.status_code == 302 and r.headers["Location"].endswith("/")


@pytest.mark.parametrize("url, sl_text, en_text", [
    ("/search?q=" + "a" * 501, "Iskalni niz je predolg", "The query is too long"),
    ("/search?q=x&page=0", "Številka strani", "The page number"),
    ("/search?q=x&page=abc", "Številka strani", "The page number"),
    ("/search?q=x&page=100000", "Številka strani", "The page number"),
    ("/search?q=x&lang=de", "Neznan jezik", "Unknown language"),
    ("/search?q=x&year=20x4", "štiri števke", "four digits"),
    ("/search?q=x&sort=random", "Razvrščanje", "Sort must be"),
])
def test_bad_parameters_get_a_bilingual_400(web_client, url, sl_text, en_text) -> None:
    r = web_client.get(url, headers=SL)
    assert r.status_code == 400
    tree = page(r)
    messages = tree.xpath("//p[contains(@class,'error-message')]")
    assert [m.get("lang") for m in messages] == ["sl", "en"]
    assert sl_text in messages[0].text_content() and en_text in messages[1].text_content()


# -- document page ---------------------------------------------------------------------------

def test_document_page_highlights_and_links_translation(web_client) -> None:
    r = web_client.get("/doc/pair/en/karavanke-tunnel?q=tunnel", headers=EN)
    assert r.status_code == 200
    tree = page(r)
    article = tree.xpath("//article")[0]
    assert article.get("lang") == "en"
    assert texts(article, ".//h1")[0].startswith("Karavanke tunnel reopens")
    assert any(m.text_content().lower() == "tunnel" for m in article.xpath(".//mark"))
    assert len(article.xpath(".//div[@class='doc-body']/p")) >= 2
    meta = texts(article, ".//dl//dd")
    assert "10 May 2023" in meta and "pair/en/karavanke-tunnel" in meta
    source = article.xpath(".//a[@class='source-link']")[0]
    assert source.get("href") == "https://www.gov.si/en/news/karavanke-tunnel/"
    assert "noopener" in source.get("rel")
    link = article.xpath(".//a[@class='translation-link']")[0]
    assert link.get("hreflang") == "sl" and "This document in Slovenian" in link.text_content()
    assert link.get("href").startswith("/doc/pair/sl/karavanke-tunnel")
    other = page(web_client.get(link.get("href"), headers=EN))
    assert other.xpath("//article")[0].get("lang") == "sl"
    back = other.xpath("//a[@class='translation-link']")[0]
    assert back.get("href").startswith("/doc/pair/en/karavanke-tunnel")


def test_document_page_in_slovenian_ui(web_client) -> None:
    tree = page(web_client.get("/doc/pair/sl/karavanke-tunnel?q=predor", headers=SL))
    assert tree.get("lang") == "sl"
    assert "10. 5. 2023" in texts(tree, "//dl//dd")
    assert "Ta dokument v angleščini" in texts(tree, "//a[@class='translation-link']")[0]
    assert texts(tree, "//p[@class='back']")[0].startswith("‹ Nazaj na rezultate")


def test_document_without_translation_or_query(web_client) -> None:
    tree = page(web_client.get("/doc/bulk/en/quokka-00"))
    assert not tree.xpath("//a[@class='translation-link']")
    assert not tree.xpath("//mark") and not tree.xpath("//p[@class='back']")


def test_unknown_document_is_a_bilingual_404(web_client) -> None:
    r = web_client.get("/doc/no/such/doc.txt", headers=SL)
    assert r.status_code == 404
    messages = page(r).xpath("//p[contains(@class,'error-message')]")
    assert [m.get("lang") for m in messages] == ["sl", "en"]
    assert "Dokumenta »no/such/doc.txt« ni" in messages[0].text_content()


def test_unknown_page_is_a_bilingual_404(web_client) -> None:
    r = web_client.get("/nowhere", headers=EN)
    assert r.status_code == 404
    messages = page(r).xpath("//p[contains(@class,'error-message')]")
    assert [m.get("lang") for m in messages] == ["en", "sl"]
    assert "does not exist" in messages[0].text_content()
    assert "ni" in messages[1].text_content()


def test_javascript_source_url_is_not_linked(web_client) -> None:
    r = web_client.get("/doc/odd/javascript-url")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "javascript:alert" not in body
    assert "<svg" not in body and "&lt;svg onload=alert(1)&gt;" in body


# -- escaping --------------------------------------------------------------------------------

def test_script_in_query_is_escaped(web_client) -> None:
    q = '<script>alert(1)</script><img src=x onerror=alert(1)>"'
    r = web_client.get("/search", query_string={"q": q})
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    tree = page(r)
    assert tree.xpath("//input[@id='q']")[0].get("value") == q
    scripts = tree.xpath("//script")
    assert [s.get("src") for s in scripts] == ["/static/app.js", "/static/typeahead.js"]
    assert not any(s.text for s in scripts)
    assert not tree.xpath("//main//img")


def test_script_in_document_is_escaped(web_client) -> None:
    results = web_client.get("/search?q=zanzibar").get_data(as_text=True)
    assert "<script>" not in results.replace('<script src="/static/app.js" defer></script>', "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in results  # the title, as text
    r = web_client.get("/doc/xss/evil.txt?q=zanzibar")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    tree = page(r)
    assert not tree.xpath("//main//img")
    assert all(s.get("src", "").startswith("/static/") and not s.text
               for s in tree.xpath("//script"))
    assert not tree.xpath("//*[@onerror]")
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "<mark>zanzibar</mark>" in body


# -- JSON API --------------------------------------------------------------------------------

def test_api_search_shape(web_client) -> None:
    r = web_client.get("/api/search?q=quokka&lang=en&per_page=5&page=2")
    assert r.status_code == 200 and r.is_json
    data = r.get_json()
    for key in ("query", "total", "page", "per_page", "pages", "lang", "year", "sort", "facets",
                "suggestion", "elapsed_ms", "hits"):
        assert key in data, key
    assert data["total"] == 12 and data["page"] == 2 and data["per_page"] == 5
    assert data["pages"] == 3 and len(data["hits"]) == 5
    assert data["facets"]["lang"] == {"en": 12}
    hit = data["hits"][0]
    assert {"id", "title", "lang", "date", "score", "snippet", "rank"} <= set(hit)
    assert hit["lang"] == "en" and "<mark>" in hit["snippet"] and hit["rank"] == 6


def test_api_search_without_snippets_and_sorted(web_client) -> None:
    data = web_client.get("/api/search?q=quokka&snippets=false&sort=newest").get_json()
    assert all(h["snippet"] == "" for h in data["hits"])
    dates = [h["date"] for h in data["hits"]]
    assert dates == sorted(dates, reverse=True) and data["sort"] == "newest"


def test_api_suggestion_and_correction(web_client) -> None:
    data = web_client.get("/api/search?q=quokka+islnad").get_json()
    assert (data["suggestion"], data["corrected"]) == ("quokka island", None)
    data = web_client.get("/api/search?q=quoka").get_json()
    assert (data["suggestion"], data["corrected"], data["query"]) == (None, "quokka", "quoka")
    assert data["total"] == WEB_QUOKKA_DOCS


@pytest.mark.parametrize("url, code", [
    ("/api/search", "query_missing"),
    ("/api/search?q=" + "b" * 501, "query_too_long"),
    ("/api/search?q=x&page=0", "bad_page"),
    ("/api/search?q=x&page=-3", "bad_page"),
    ("/api/search?q=x&page=1001", "bad_page"),
    ("/api/search?q=x&page=1e3", "bad_page"),
    ("/api/search?q=x&per_page=0", "bad_per_page"),
    ("/api/search?q=x&per_page=500", "bad_per_page"),
    ("/api/search?q=x&lang=fr", "bad_lang"),
    ("/api/search?q=x&year=99", "bad_year"),
    ("/api/search?q=x&sort=oldest", "bad_sort"),
    ("/api/search?q=x&snippets=maybe", "bad_snippets"),
])
def test_api_400(web_client, url: str, code: str) -> None:
    r = web_client.get(url)
    assert r.status_code == 400 and r.is_json
    error = r.get_json()["error"]
    assert error["status"] == 400 and error["code"] == code
    assert error["message"] == error["messages"]["en"] and error["messages"]["sl"]


def test_api_404_and_405_are_json(web_client) -> None:
    r = web_client.get("/api/nope")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    r = web_client.get("/api/doc/no/such/doc")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "document_not_found"
    r = web_client.post("/api/search?q=x")
    assert r.status_code == 405 and r.is_json and "GET" in r.headers["Allow"]


def test_api_document_and_stats(web_client) -> None:
    doc = web_client.get("/api/doc/pair/sl/karavanke-tunnel?q=predor").get_json()
    assert doc["translation_id"] == "pair/en/karavanke-tunnel" and "<mark>" in doc["html"]
    stats = web_client.get("/api/stats").get_json()
    assert stats["doc_count"] >= 33 and set(stats["by_lang"]) == {"en", "sl"}
    assert "path" not in stats


def test_openapi_document_is_valid(web_client) -> None:
    from openapi_spec_validator import validate

    r = web_client.get("/api/openapi.json")
    assert r.status_code == 200
    spec = r.get_json()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert {"/api/search", "/api/doc/{doc_id}", "/api/stats", "/healthz"} <= set(spec["paths"])
    params = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert params == {"q", "lang", "year", "sort", "page", "per_page", "snippets", "group"}


def test_api_answers_match_the_openapi_schema(web_client) -> None:
    from openapi_schema_validator import OAS30Validator

    spec = web_client.get("/api/openapi.json").get_json()

    def check(schema_name: str, instance: dict) -> None:
        schema = dict(spec["components"]["schemas"][schema_name])
        schema["components"] = spec["components"]
        OAS30Validator(schema).validate(instance)

    check("Results", web_client.get("/api/search?q=Karavanke").get_json())
    check("Results", web_client.get("/api/search?q=quoka").get_json())
    assert {"suggestion", "corrected"} <= set(spec["components"]["schemas"]["Results"][
        "properties"])
    check("Document", web_client.get("/api/doc/pair/en/karavanke-tunnel").get_json())
    check("Stats", web_client.get("/api/stats").get_json())
    check("Error", web_client.get("/api/search?page=x").get_json())


def test_healthz(web_client) -> None:
    r = web_client.get("/healthz")
    assert r.status_code == 200 and r.get_json()["status"] == "ok"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.get_json()["documents"] >= 33


# -- missing index, refresh, crashes ---------------------------------------------------------

def test_missing_index_gives_503_everywhere(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "SEARCH_INDEX": str(tmp_path / "none")})
    client = app.test_client()
    r = client.get("/healthz")
    assert r.status_code == 503 and r.get_json()["code"] == "index_missing"
    r = client.get("/api/search?q=x")
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "index_missing"
    r = client.get("/search?q=x", headers=SL)
    assert r.status_code == 503
    messages = page(r).xpath("//p[contains(@class,'error-message')]")
    assert "Iskalni indeks še ne obstaja" in messages[0].text_content()
    assert "does not exist yet" in messages[1].text_content()
    r = client.get("/", headers=EN)
    assert r.status_code == 503 and "does not exist yet" in r.get_data(as_text=True)
    assert page(r).xpath("//input[@id='q']")  # the search box is still there


def test_index_built_after_start_is_picked_up(tmp_path: Path, monkeypatch) -> None:
    import search.searcher
    from search.indexer import index_paths

    app = create_app({"TESTING": True, "SEARCH_INDEX": str(tmp_path / "idx"),
                      "INDEX_RETRY_SECONDS": 0})
    client = app.test_client()
    assert client.get("/healthz").status_code == 503
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Wallaby sighting\n\nA wallaby was seen near the lake.\n")
    index_paths([docs], tmp_path / "idx")
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/search?q=wallaby").get_json()["total"] == 1
    (docs / "b.txt").write_text("Second wallaby\n\nAnother wallaby appeared in the park.\n")
    index_paths([docs], tmp_path / "idx")
    # The index looks for new commits at most every REFRESH_INTERVAL seconds; with no
    # interval the very next request must see the commit (no waiting on a clock).
    monkeypatch.setattr(search.searcher, "REFRESH_INTERVAL", 0.0)
    assert client.get("/api/search?q=wallaby").get_json()["total"] == 2
    index_holder(app).close()


def test_unexpected_errors_are_bilingual_500s_without_traces(web_index, monkeypatch) -> None:
    app = create_app({"SEARCH_INDEX": str(web_index)})  # not TESTING: errors are handled
    client = app.test_client()
    index = index_holder(app).get()

    def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(index, "search", boom)
    r = client.get("/search?q=quokka", headers=SL)
    assert r.status_code == 500
    body = r.get_data(as_text=True)
    assert "secret internal detail" not in body and "Traceback" not in body
    messages = page(r).xpath("//p[contains(@class,'error-message')]")
    assert [m.get("lang") for m in messages] == ["sl", "en"]
    r = client.get("/api/search?q=quokka")
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "internal_error"
    assert "secret" not in r.get_data(as_text=True)
    index_holder(app).close()


# -- security headers and static files -------------------------------------------------------

@pytest.mark.parametrize("url", ["/", "/search?q=quokka", "/doc/xss/evil.txt", "/nowhere",
                                 "/api/search?q=x", "/api/nope", "/healthz",
                                 "/static/style.css", "/static/app.js"])
def test_security_headers(web_client, url: str) -> None:
    headers = web_client.get(url).headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "default-src 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style(web_client) -> None:
    for url in ("/", "/search?q=quokka", "/doc/pair/en/karavanke-tunnel?q=tunnel", "/nowhere"):
        tree = page(web_client.get(url))
        assert all(s.get("src") and not (s.text or "").strip() for s in tree.xpath("//script"))
        assert not tree.xpath("//style") and not tree.xpath("//*[@style]")
        assert not [a for a in tree.xpath("//@*") if a.attrname.startswith("on")]


def test_static_assets(web_client) -> None:
    css = web_client.get("/static/style.css")
    assert css.status_code == 200 and "prefers-color-scheme: dark" in css.get_data(as_text=True)
    js = web_client.get("/static/app.js")
    assert js.status_code == 200 and "javascript" in js.headers["Content-Type"]
    assert web_client.get("/static/favicon.svg").status_code == 200


# -- the real server ---------------------------------------------------------------------------

def test_serve_builds_missing_index_from_seeds_and_serves(tmp_path: Path,
                                                          web_server_factory) -> None:
    index = tmp_path / "fresh-index"
    base = web_server_factory(["--port", "0", "--index", str(index)])
    assert base.startswith("http://127.0.0.1:") and not base.endswith(":0/")
    with urllib.request.urlopen(base + "healthz", timeout=10) as r:
        health = json.loads(r.read())
    assert health["status"] == "ok"
    assert health["documents"] == len(list((REPO_ROOT / "seeds").glob("*.txt")))
    with urllib.request.urlopen(base + "search?q=police", timeout=10) as r:
        assert r.status == 200 and "<mark>" in r.read().decode()
        assert r.headers["Server"] == "bilingual-search"
    assert (index / "current").exists()


def test_serve_keeps_an_existing_index(web_index: Path, web_server_factory) -> None:
    base = web_server_factory(["--port", "0", "--index", str(web_index)])
    with urllib.request.urlopen(base + "api/search?q=quokka", timeout=10) as r:
        assert json.loads(r.read())["total"] == WEB_QUOKKA_DOCS


def test_server_error_responses_over_http(web_index: Path, web_server_factory) -> None:
    base = web_server_factory(["--port", "0", "--index", str(web_index)])
    for path, status in (("api/search?page=0&q=x", 400), ("api/nope", 404), ("nope", 404)):
        try:
            urllib.request.urlopen(base + path, timeout=10)
        except urllib.error.HTTPError as e:
            assert e.code == status
            body = e.read().decode()
            assert "Traceback" not in body and "werkzeug" not in body.lower()
        else:
            raise AssertionError(f"{path} did not fail")


def test_rate_limit(web_index: Path) -> None:
    app = create_app({"TESTING": True, "SEARCH_INDEX": str(web_index),
                      "RATE_LIMIT_PER_MINUTE": 3})
    client = app.test_client()
    assert [client.get("/api/search?q=quokka").status_code for _ in range(3)] == [200] * 3
    r = client.get("/api/search?q=quokka")
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) >= 1
    r = client.get("/search?q=quokka", headers=SL)
    assert r.status_code == 429 and "Preveč iskanj" in r.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200  # monitors are never limited
    assert client.get("/").status_code == 200
    index_holder(app).close()


def test_rate_limiter_refills() -> None:
    from web.ratelimit import RateLimiter

    limiter = RateLimiter(60, max_clients=2)
    assert limiter.allow("a", now=0.0)[0]
    for _ in range(59):
        limiter.allow("a", now=0.0)
    allowed, wait = limiter.allow("a", now=0.0)
    assert not allowed and 0.9 < wait <= 1.0
    assert limiter.allow("a", now=1.0)[0]
    for client in "bcd":
        limiter.allow(client, now=2.0)
    assert len(limiter._buckets) <= 2


def test_serve_with_two_worker_processes(web_index: Path, web_server_factory) -> None:
    base = web_server_factory(["--port", "0", "--index", str(web_index), "--workers", "2",
                               "--threads", "2"])
    for _ in range(6):  # fresh connections: either worker may answer, both must work
        with urllib.request.urlopen(base + "api/search?q=quokka", timeout=10) as r:
            assert json.loads(r.read())["total"] == WEB_QUOKKA_DOCS


def test_filters_typed_into_the_query_show_as_active(web_client) -> None:
    tree = page(web_client.get("/search?q=quokka+lang:sl", headers=EN))
    assert {li.get("lang") for li in tree.xpath("//ol[@class='hits']/li")} == {"sl"}
    active = tree.xpath("//section[@aria-labelledby='facet-lang']//*[@aria-current]")
    assert active[0].text_content().startswith("Slovenian")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(min_size=1, max_size=80))
def test_any_query_is_answered_and_escaped(web_client, q: str) -> None:
    """Whatever a person types: never a 500, and their text never becomes markup."""
    r = web_client.get("/search", query_string={"q": q, "ui": "sl"})
    assert r.status_code in (200, 302, 400)
    body = r.get_data(as_text=True)
    # Only the page's own two scripts (app.js, typeahead.js); a redirect has none.
    assert body.count("<script") == body.count('<script src="/static/') == (
        2 if r.status_code != 302 else 0)
    api = web_client.get("/api/search", query_string={"q": q})
    assert api.status_code in (200, 400) and api.is_json


@pytest.mark.skipif(__import__("search.translation").translation.load_dictionary() is None,
                    reason="Debian's dict-freedict-slv-eng is not installed")
def test_results_say_which_translated_words_matched(web_client) -> None:
    # "meja" (border) is in no English text: English releases come only through translation,
    # and each such result says which translated words it matched, in the result's language.
    tree = page(web_client.get("/search?q=meja", headers=EN))
    notes = tree.xpath("//p[@class='hit-translation']")
    assert notes, "expected a 'found through translation' line"
    assert "Found through translation:" in notes[0].text_content()
    assert "border" in notes[0].xpath("./span")[0].text_content()
    assert notes[0].xpath("./span")[0].get("lang") == "en"
    sl = page(web_client.get("/search?q=meja", headers=SL))
    assert "Najdeno prek prevoda:" in sl.xpath("//p[@class='hit-translation']")[0].text_content()


# -- documents of unknown language ------------------------------------------------------------

@pytest.fixture(scope="module")
def unknown_lang_client(tmp_path_factory):
    from search.indexer import index_paths

    root = tmp_path_factory.mktemp("und-web")
    docs = [{"id": "und-invrs", "title": "INVRS (Algorithm 66)", "text": "INVRS (Algorithm 66)"},
            {"id": "sl-invrs", "title": "Algoritem INVRS",
             "text": "Algoritem INVRS obrne matriko; opisan je bil v reviji leta 1961."},
            {"id": "en-invrs", "title": "The INVRS algorithm",
             "text": "The INVRS algorithm inverts a matrix; it was published in 1961."}]
    (root / "docs.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n"
                                             for d in docs), encoding="utf-8")
    index_paths([root / "docs.jsonl"], root / "index")
    app = create_app({"TESTING": True, "SEARCH_INDEX": str(root / "index")})
    yield app.test_client()
    index_holder(app).close()


@pytest.mark.parametrize("headers, name", [(SL, "neznan jezik"), (EN, "unknown language")])
def test_unknown_language_is_named_in_the_facet_and_found_under_each_language(
        unknown_lang_client, headers, name):
    tree = page(unknown_lang_client.get("/search?q=INVRS", headers=headers))
    chips = texts(tree, "//section[@class='facet'][1]//li")
    assert f"{name} (1)" in chips, chips
    for lang in ("sl", "en"):
        tree = page(unknown_lang_client.get(f"/search?q=INVRS&lang={lang}", headers=headers))
        badges = tree.xpath("//ol[@class='hits']//span[contains(@class, 'badge')]/@class")
        assert sorted(badges) == sorted([f"badge badge--{lang}", "badge badge--und"])


def test_api_filters_by_unknown_language(unknown_lang_client):
    data = unknown_lang_client.get("/api/search?q=INVRS&lang=und").get_json()
    assert [h["id"] for h in data["hits"]] == ["und-invrs"] and data["hits"][0]["lang"] == "und"
    data = unknown_lang_client.get("/api/search?q=INVRS&lang=en").get_json()
    assert {h["lang"] for h in data["hits"]} == {"en", "und"}
    assert data["facets"]["lang"] == {"en": 1, "und": 1}
