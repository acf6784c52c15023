"""Result grouping with its caches gives exactly what it gives without them.

Grouping keeps, per searcher, what it read of documents (search.links.StoredCache), each
document's version and translation (search.grouping.VersionCache), and reads the side files
once a search. The reference here resolves every translation afresh for every search through
the uncached functions (search.links.translation_of, Searcher.document, the side files read
from disk), on a real index holding all three kinds of links: declared (hreflang, pair_id),
a site map's groups, and pairs found at index time among real help pages that declare none.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from grouping_corpus import HELP_DOCS, python_help_pairs
from test_links import alt, page, sitemap

from search import grouping
from search.analysis import LANGUAGES
from search.indexer import index_paths
from search.links import load_sitemap_links, translation_of
from search.pairing import load_found_pairs
from search.searcher import SearchIndex

pytestmark = pytest.mark.skipif(not HELP_DOCS.exists(),
                                reason=f"{HELP_DOCS} is missing (the shared evaluation data)")

#: Help pairs (both versions mentioning Python) indexed without their pair_id.
FOUND_PAIRS = 30
#: Queries in each language: the help pages, the site's pages, both.
QUERIES = {"en": ["Python", "Python macro script", "ministry police security", "the"],
           "sl": ["Python", "makro Python skripta", "ministrstvo policija varnost", "za"]}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("grouping-cache")
    site = root / "site"
    # Declared in the page heads (hreflang, both ways), and by a site map only.
    page(site, "en/a.html", "en", alt("sl", "../sl/a.html"))
    page(site, "sl/a.html", "sl", alt("en", "../en/a.html"))
    page(site, "en/about.html", "en")
    page(site, "sl/o-nas.html", "sl")
    sitemap(site, [("https://example.org/en/about.html",
                    {"en": "https://example.org/en/about.html",
                     "sl": "https://example.org/sl/o-nas.html"})])
    pairs = python_help_pairs()
    chosen = sorted(pairs)
    records = [{"id": d["id"], "title": d["title"], "text": d["text"]}  # no pair_id, no lang
               for p in chosen[:FOUND_PAIRS] for d in pairs[p].values()]
    records += [{"id": d["id"], "title": d["title"], "text": d["text"], "pair_id": p}
                for p in chosen[FOUND_PAIRS:FOUND_PAIRS + 5] for d in pairs[p].values()]
    docs = root / "help.jsonl"
    docs.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    report = index_paths([site, docs], root / "index")
    assert not report.problems, report.problems
    return root / "index"


@pytest.fixture(scope="module")
def ix(index: Path) -> Iterator[SearchIndex]:
    with SearchIndex(index) as opened:
        yield opened


def reference(ix: SearchIndex, monkeypatch: pytest.MonkeyPatch):
    """Make ``ix`` group through the uncached functions, every search afresh."""
    results = ix._results

    def uncached(group, lang, per_page):
        s, gen = results._searcher, results._gen
        found, sitemaps = load_found_pairs(gen), load_sitemap_links(gen)
        return grouping.Pairs(s.stored_fields,
                              lambda f: translation_of(s, f, found, sitemaps=sitemaps),
                              lambda i: s.document(id=i),
                              fold=group is not False and lang is None, per_page=per_page,
                              prefer=group if isinstance(group, str) else None)

    monkeypatch.setattr(results, "pairs", uncached)


def shown(results) -> tuple:
    return (results.total, results.folded,
            [(h.id, h.rank, round(h.score, 9), h.translation_id, h.translation_lang,
              h.translation_title, h.grouped) for h in results.hits])


def searches() -> list[tuple[str, dict]]:
    out = []
    for lang in LANGUAGES:
        for text in QUERIES[lang]:
            for group in (True, False, *LANGUAGES):
                out.append((text, {"group": group}))
            out.append((text, {"per_page": 5, "page": 2}))
            out.append((text, {"per_page": 3, "page": 3, "group": lang}))
            out.append((text, {"lang": lang}))
    return out


def test_the_index_holds_every_kind_of_link(index: Path) -> None:
    with SearchIndex(index) as fresh:
        s, gen = fresh._results._searcher, fresh._results._gen
        found, sitemaps = load_found_pairs(gen), load_sitemap_links(gen)
        assert len(found) >= FOUND_PAIRS  # found pairs: both directions of each
        by_id = {d["id"]: d for d in s.all_stored_fields()}
        for a, b in [("en/a.html", "sl/a.html"), ("en/about.html", "sl/o-nas.html")]:
            assert translation_of(s, by_id[a], found, sitemaps=sitemaps) == b
            assert translation_of(s, by_id[b], found, sitemaps=sitemaps) == a
        # The site map's link is a link of its own (not only a found pair's).
        assert translation_of(s, by_id["en/about.html"], {}, sitemaps=sitemaps) \
            == "sl/o-nas.html"
        assert translation_of(s, by_id["en/about.html"], {}) is None


@pytest.mark.parametrize("order", ["forwards", "backwards"])
@pytest.mark.parametrize("size", [6, grouping.GROUP_WINDOW])
def test_cached_grouping_equals_the_uncached_reference(index: Path, ix: SearchIndex, order: str,
                                                       size: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # A small window leaves many a translation outside it in one search, inside in another.
    monkeypatch.setattr(grouping, "GROUP_WINDOW", size)
    monkeypatch.setattr(grouping, "WINDOW_PAGES", 1)
    ix.clear_cache()
    todo = searches() if order == "forwards" else searches()[::-1]
    cached = [shown(ix.search(text, **kw)) for text, kw in todo]
    again = [shown(ix.search(text, **kw)) for text, kw in todo]  # warm caches
    with SearchIndex(index) as fresh:
        reference(fresh, monkeypatch)
        expected = [shown(fresh.search(text, **kw)) for text, kw in todo]
    assert cached == expected
    assert again == expected
    # What is compared: folding happened, through found pairs and declared links alike.
    folded = {h[0] for total, n, hits in expected for h in hits if h[6]}
    found = load_found_pairs(ix._results._gen)
    assert any(doc_id in found for doc_id in folded)
    assert any(doc_id.endswith(".html") for doc_id in folded)
    assert sum(n for _, n, _ in expected) > 0
