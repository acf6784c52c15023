"""Grouped results on the web page and in the JSON API (search.grouping), in both UI languages.

The app runs on a real index of translation pairs (tests/grouping_corpus.py).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from grouping_corpus import HELP_DOCS, HOSTILE_EN_TITLE, HOSTILE_SL_TITLE, build_index

from web import create_app, i18n, index_holder

SL = {"Accept-Language": "sl-SI,sl;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB,en;q=0.8"}
UI = {"sl": SL, "en": EN}
#: The text of the "also in" link, by UI language and the other version's language.
ALSO = {("sl", "en"): "Tudi v angleščini", ("sl", "sl"): "Tudi v slovenščini",
        ("en", "en"): "Also in English", ("en", "sl"): "Also in Slovenian"}
OTHER = {"sl": "en", "en": "sl"}


@pytest.fixture(scope="module")
def group_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("grouping"))


@pytest.fixture(scope="module")
def client(group_index: Path):
    app = create_app({"TESTING": True, "SEARCH_INDEX": str(group_index)})
    yield app.test_client()
    index_holder(app).close()


def page(response) -> lxml.html.HtmlElement:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return lxml.html.fromstring(response.get_data(as_text=True))


def hits(tree) -> list[dict]:
    """Each hit of a result page: its document id, language, and its "also in" link."""
    out = []
    for li in tree.xpath("//ol[@class='hits']/li"):
        href = li.xpath(".//h3/a/@href")[0]
        also = li.xpath(".//p[@class='hit-also']/a")
        out.append({"id": urlsplit(href).path.removeprefix("/doc/"), "lang": li.get("lang"),
                    "also": also[0] if also else None})
    return out


def folded_note(tree) -> str:
    return " ".join(tree.xpath("string(//p[@class='folded-note'])").split())


def count(tree) -> str:
    return tree.xpath("string(//*[@id='result-count']/strong)")


@pytest.mark.parametrize("ui", ["sl", "en"])
def test_a_pair_is_one_hit_in_the_ui_language(client, ui: str) -> None:
    # An English query ranks the English versions first; the page shows the visitor's.
    tree = page(client.get("/search?q=police+cooperation+in+Tirana", headers=UI[ui]))
    found = {h["id"]: h for h in hits(tree)}
    for name in ("tirana", "podgorica"):
        assert f"seed/{OTHER[ui]}/{name}" not in found
        hit = found[f"seed/{ui}/{name}"]
        link = hit["also"]
        assert hit["lang"] == ui and link is not None and link.get("data-grouped") is not None
        assert link.text_content().startswith(ALSO[ui, OTHER[ui]] + ": ")
        assert link.get("hreflang") == OTHER[ui] and link.get("lang") is None
        assert urlsplit(link.get("href")).path == f"/doc/seed/{OTHER[ui]}/{name}"
    api = client.get("/api/search?q=police+cooperation+in+Tirana").get_json()
    assert count(tree) == i18n.plural("result", api["total"], ui)  # documents, not hits
    assert api["folded"] >= 2 and len(hits(tree)) == min(10, api["total"] - api["folded"])


@pytest.mark.parametrize(("query", "n", "sl", "en"), [
    ("walrus", 1, "1 par", "1 pair"),
    ("Poklukar", 2, "2 para", "2 pairs"),
    ("Poklukar walrus", 3, "3 pari", "3 pairs"),
    pytest.param("APSO", 5, "5 parov", "5 pairs", marks=pytest.mark.skipif(
        not HELP_DOCS.exists(), reason="needs the shared evaluation data")),
])
def test_the_folded_count_in_both_ui_languages(client, query: str, n: int, sl: str,
                                               en: str) -> None:
    api = client.get("/api/search", query_string={"q": query}).get_json()
    assert api["folded"] == n
    assert folded_note(page(client.get("/search", query_string={"q": query}, headers=SL))) \
        == f"Strani, objavljene v obeh jezikih, so prikazane enkrat: {sl}. " \
           "Prikaži obe različici posebej"
    assert folded_note(page(client.get("/search", query_string={"q": query}, headers=EN))) \
        == f"Pages published in both languages are shown once: {en}. " \
           "Show both versions separately"


@pytest.mark.parametrize("ui", ["sl", "en"])
def test_grouping_off_lists_both_versions(client, ui: str) -> None:
    grouped = page(client.get("/search?q=Poklukar", headers=UI[ui]))
    off_href = grouped.xpath("//p[@class='folded-note']/a/@href")[0]
    assert parse_qs(urlsplit(off_href).query)["group"] == ["false"]
    tree = page(client.get(off_href, headers=UI[ui]))
    listed = {h["id"]: h for h in hits(tree)}
    assert set(listed) == {f"seed/{lang}/{name}" for lang in ("sl", "en")
                           for name in ("tirana", "podgorica")}
    for doc_id, hit in listed.items():
        lang = doc_id.split("/")[1]
        assert hit["also"].get("data-grouped") is None
        assert hit["also"].text_content().startswith(ALSO[ui, OTHER[lang]])
    assert count(tree) == count(grouped) == i18n.plural("result", 4, ui)
    # The way back, and the other links keep the choice.
    back = tree.xpath("//p[@class='folded-note']/a")[0]
    assert back.text_content() == i18n.t("group_versions", ui)
    assert "group" not in parse_qs(urlsplit(back.get("href")).query)
    facet = tree.xpath("//section[@class='facet']//a[contains(@href, 'lang=')]/@href")[0]
    assert parse_qs(urlsplit(facet).query)["group"] == ["false"]


@pytest.mark.parametrize("ui", ["sl", "en"])
@pytest.mark.parametrize("lang", ["sl", "en"])
def test_no_grouping_under_a_language_filter(client, ui: str, lang: str) -> None:
    tree = page(client.get(f"/search?q=Poklukar&lang={lang}", headers=UI[ui]))
    found = hits(tree)
    assert {h["id"] for h in found} == {f"seed/{lang}/tirana", f"seed/{lang}/podgorica"}
    assert not folded_note(tree)
    for hit in found:  # the other version is still one click away
        assert hit["also"].get("data-grouped") is None
        assert hit["also"].text_content().startswith(ALSO[ui, OTHER[lang]])


@pytest.mark.parametrize("ui", ["sl", "en"])
def test_the_other_versions_title_is_escaped(client, ui: str) -> None:
    response = client.get("/search?q=walrus", headers=UI[ui])
    tree = page(response)
    (hit,) = hits(tree)
    assert hit["id"] == f"odd/{ui}/walrus"
    title = HOSTILE_EN_TITLE if ui == "sl" else HOSTILE_SL_TITLE
    assert hit["also"].text_content() == f"{ALSO[ui, OTHER[ui]]}: {title}"
    assert not tree.xpath("//ol[@class='hits']//script | //ol[@class='hits']//img")
    html = response.get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html


def test_the_api_fields_and_the_group_parameter(client) -> None:
    def search(**params: str) -> dict:
        response = client.get("/api/search", query_string={"q": "walrus", **params})
        assert response.status_code == 200
        return response.get_json()

    best = search()
    (hit,) = best["hits"]
    assert best["folded"] == 1 and best["total"] == 2 and best["pages"] == 1
    assert hit["grouped"] is True and hit["translation_id"] == f"odd/{OTHER[hit['lang']]}/walrus"
    assert hit["translation_lang"] == OTHER[hit["lang"]]
    separate = search(group="false")
    assert separate["folded"] == 0 and len(separate["hits"]) == 2
    assert {h["id"]: h["translation_id"] for h in separate["hits"]} == {
        "odd/en/walrus": "odd/sl/walrus", "odd/sl/walrus": "odd/en/walrus"}
    assert not any(h["grouped"] for h in separate["hits"])
    for lang in ("sl", "en"):
        (preferred,) = search(group=lang)["hits"]
        assert preferred["lang"] == lang and preferred["grouped"] is True
        filtered = search(lang=lang)
        assert filtered["folded"] == 0 and [h["lang"] for h in filtered["hits"]] == [lang]
        assert filtered["hits"][0]["translation_id"] == f"odd/{OTHER[lang]}/walrus"


@pytest.mark.parametrize("value", ["maybe", "de", "2"])
def test_a_bad_group_value_is_a_clear_error(client, value: str) -> None:
    response = client.get("/api/search", query_string={"q": "walrus", "group": value})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_group" and "group" in error["messages"]["sl"]


@pytest.mark.skipif(not HELP_DOCS.exists(), reason="needs the shared evaluation data")
def test_result_pages_are_consistent(client) -> None:
    seen: list[str] = []
    folded: list[str] = []
    pages = None
    n = 1
    while True:
        tree = page(client.get(f"/search?q=Python&per_page=4&page={n}", headers=SL))
        found = hits(tree)
        if not found:
            break
        links = tree.xpath("//nav[@class='pagination']//a[contains(@class, 'page-link')]")
        last = max(int(q) for a in links for q in parse_qs(urlsplit(a.get("href")).query)
                   .get("page", ["1"]))
        pages = max(pages or 0, last, n)
        seen += [h["id"] for h in found]
        folded += [urlsplit(h["also"].get("href")).path.removeprefix("/doc/") for h in found
                   if h["also"] is not None and h["also"].get("data-grouped") is not None]
        n += 1
    api = client.get("/api/search?q=Python&per_page=4").get_json()
    assert len(seen) == len(set(seen)) == api["total"] - api["folded"]
    assert not set(seen) & set(folded) and len(folded) == api["folded"]
    assert n - 1 == pages == api["pages"]
