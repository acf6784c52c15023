"""search.links: declared translations (pair_id, hreflang, canonical, sitemap.xml) resolved
from real pages indexed in real runs, in both directions and across incremental runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import SEED_EN, SEED_SL

from search.indexer import index_paths
from search.links import SITEMAP_LINKS_FILE, declared_translation, translation_of
from search.searcher import SearchIndex
from search.storage import IndexLayout

#: Real prose, long enough for each page's language to be detected from its text alone.
TEXT = {
    "en": ("About the ministry", "The Ministry of the Interior is responsible for the police, "
           "internal security, migration and international protection. It prepares the laws "
           "on public order and looks after the safety of the people who live here."),
    "sl": ("O ministrstvu", "Ministrstvo za notranje zadeve je pristojno za policijo, notranjo "
           "varnost, migracije in mednarodno zaščito. Pripravlja zakone o javnem redu in skrbi "
           "za varnost ljudi, ki tukaj živijo."),
}
OTHER = {"en": "sl", "sl": "en"}


def page(root: Path, rel: str, lang: str, head: str = "", *, html_lang: bool = True) -> Path:
    """Write a real HTML page in ``lang`` at ``root/rel``, with ``head`` in its <head>."""
    title, text = TEXT[lang]
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    attr = f' lang="{lang}"' if html_lang else ""
    path.write_text(f"<!doctype html>\n<html{attr}><head><meta charset='utf-8'>"
                    f"<title>{title}</title>\n{head}\n</head><body><main><h1>{title}</h1>"
                    f"<p>{text}</p></main></body></html>\n", encoding="utf-8")
    return path


def alt(lang: str, href: str) -> str:
    return f'<link rel="alternate" hreflang="{lang}" href="{href}">'


def canonical(href: str) -> str:
    return f'<link rel="canonical" href="{href}">'


def sitemap(root: Path, entries: list[tuple[str, dict[str, str]]],
            name: str = "sitemap.xml") -> Path:
    """A real sitemap.xml: (loc, {hreflang: href}) per <url>."""
    urls = []
    for loc, alternates in entries:
        links = "".join(f'\n    <xhtml:link rel="alternate" hreflang="{lang}" href="{href}"/>'
                        for lang, href in alternates.items())
        urls.append(f"  <url>\n    <loc>{loc}</loc>{links}\n  </url>")
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"\n'
                    '        xmlns:xhtml="http://www.w3.org/1999/xhtml">\n'
                    + "\n".join(urls) + "\n</urlset>\n", encoding="utf-8")
    return path


def touch_later(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def translations(index: Path, ids: list[str]) -> dict[str, str | None]:
    """Each id's translation as ``SearchIndex.document`` gives it."""
    with SearchIndex(index) as ix:
        return {doc_id: ix.document(doc_id).translation_id for doc_id in ids}


def build(tmp_path: Path, site: Path) -> Path:
    index = tmp_path / "index"
    # Declared links only: the pages are real translations, which finding unmarked pairs
    # (search/pairing.py) would link by their text.
    report = index_paths([site], index, find_translations=False)
    assert not report.problems, report.problems
    return index


# -- hreflang in page heads ------------------------------------------------------------------

@pytest.mark.parametrize("linking", ["en", "sl"])
def test_relative_hreflang_links_both_directions(tmp_path, linking):
    site = tmp_path / "site"
    files = {"en": "en/about.html", "sl": "sl/o-nas.html"}
    other = OTHER[linking]
    for lang, rel in files.items():
        head = alt(other, "../" + files[other]) if lang == linking else ""
        page(site, rel, lang, head)
    index = build(tmp_path, site)
    # Only one page declares the link; both get their translation.
    assert translations(index, list(files.values())) == {
        files["en"]: files["sl"], files["sl"]: files["en"]}
    with SearchIndex(index) as ix:
        hits = ix.search(TEXT[linking][0].split()[-1]).hits
        found = {h.id: h.translation_id for h in hits}
        assert found[files[linking]] == files[other]
        assert hits[0].to_dict()["translation_id"] in files.values()


@pytest.mark.parametrize("lang", ["en", "sl"])
def test_absolute_hreflang_links_to_canonical_urls(tmp_path, lang):
    # Pretty canonical URLs that are not the files' paths: the absolute link (scheme, host
    # case, default port, trailing index.html, fragment all different) names the canonical.
    site = tmp_path / "site"
    other = OTHER[lang]
    page(site, f"{lang}/page.html", lang,
         canonical(f"https://example.org/{lang}/page/")
         + alt(other, f"HTTP://Example.ORG:80/{other}/stran/index.html#top"))
    page(site, f"{other}/stran.html", other, canonical(f"https://example.org/{other}/stran/"))
    index = build(tmp_path, site)
    assert translations(index, [f"{lang}/page.html", f"{other}/stran.html"]) == {
        f"{lang}/page.html": f"{other}/stran.html", f"{other}/stran.html": f"{lang}/page.html"}


def test_relative_links_resolve_against_the_canonical_url(tmp_path):
    # The page lives at a/b/en.html in the folder, but says it is https://example.org/en/x:
    # its relative link means https://example.org/sl/x, which the other page declares.
    site = tmp_path / "site"
    page(site, "a/b/en.html", "en", canonical("https://example.org/en/x") + alt("sl", "../sl/x"))
    page(site, "c/sl.html", "sl", canonical("https://example.org/sl/x"))
    index = build(tmp_path, site)
    assert translations(index, ["a/b/en.html"]) == {"a/b/en.html": "c/sl.html"}


#: (English file, its URL, Slovenian file, its URL) as mirroring tools save pages
MIRRORS = [
    ("example.org/en/about.html", "https://example.org/en/about.html",
     "example.org/sl/o-nas.html", "https://example.org/sl/o-nas.html"),  # wget --mirror
    ("example.org/en/about.html", "https://example.org/en/about",
     "example.org/sl/o-nas.html", "https://example.org/sl/o-nas"),  # --adjust-extension
    ("example.org/en/index.html", "https://example.org/en/",
     "example.org/sl/index.html", "https://example.org/sl/"),
    ("en/about.html", "https://example.org/en/about.html",
     "sl/o-nas.html", "https://example.org/sl/o-nas.html"),  # a copy of the site's root
]


@pytest.mark.parametrize(("en_file", "en_url", "sl_file", "sl_url"), MIRRORS)
def test_absolute_links_name_files_of_a_mirrored_site(tmp_path, en_file, en_url, sl_file,
                                                      sl_url):
    # No page has a canonical URL; the English page's link to itself tells where the site
    # lies in the folder, so its absolute link names the Slovenian file.
    site = tmp_path / "mirror"
    page(site, en_file, "en", alt("en", en_url) + alt("sl", sl_url))
    page(site, sl_file, "sl")
    index = build(tmp_path, site)
    assert translations(index, [en_file, sl_file]) == {en_file: sl_file, sl_file: en_file}


def test_links_name_jsonl_documents_by_their_url(tmp_path):
    site = tmp_path / "site"
    page(site, "en/about.html", "en", alt("sl", "https://www.example.org/sl/o-nas"))
    title, text = TEXT["sl"]
    (site / "docs.jsonl").write_text(json.dumps(
        {"id": "cms/17", "title": title, "text": text, "url": "https://WWW.example.org/sl/o-nas/"},
        ensure_ascii=False) + "\n", encoding="utf-8")
    index = build(tmp_path, site)
    assert translations(index, ["en/about.html", "cms/17"]) == {
        "en/about.html": "cms/17", "cms/17": "en/about.html"}


def test_pair_id_still_links_and_comes_first(tmp_path):
    site = tmp_path / "site"
    lines = [{"id": f"{lang}-1", "title": TEXT[lang][0], "text": TEXT[lang][1], "lang": lang,
              "pair_id": "p1"} for lang in ("en", "sl")]
    lines.append({"id": "sl-2", "title": TEXT["sl"][0], "text": TEXT["sl"][1], "lang": "sl",
                  "url": "https://example.org/sl/2"})
    (site).mkdir()
    (site / "docs.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n"
                                            for x in lines), encoding="utf-8")
    page(site, "en/x.html", "en", alt("sl", "https://example.org/sl/2"))
    index = build(tmp_path, site)
    assert translations(index, ["en-1", "sl-1", "en/x.html", "sl-2"]) == {
        "en-1": "sl-1", "sl-1": "en-1", "en/x.html": "sl-2", "sl-2": "en/x.html"}


# -- sitemap.xml ----------------------------------------------------------------------------

def _sitemap_site(site: Path) -> None:
    page(site, "en/about.html", "en")
    page(site, "sl/o-nas.html", "sl")
    page(site, "en/contact.html", "en")


SITEMAP = [("https://example.org/en/about.html",
            {"en": "https://example.org/en/about.html", "sl": "https://example.org/sl/o-nas.html",
             "x-default": "https://example.org/"})]


def test_sitemap_alternates_link_pages_without_links(tmp_path):
    site = tmp_path / "site"
    _sitemap_site(site)
    sitemap(site, SITEMAP)
    index = build(tmp_path, site)
    assert translations(index, ["en/about.html", "sl/o-nas.html", "en/contact.html"]) == {
        "en/about.html": "sl/o-nas.html", "sl/o-nas.html": "en/about.html",
        "en/contact.html": None}
    with SearchIndex(index) as ix:  # the sitemap is no document
        assert len(ix) == 3


def test_sitemap_in_a_later_run_and_changed_alone(tmp_path):
    site = tmp_path / "site"
    _sitemap_site(site)
    index = build(tmp_path, site)
    ids = ["en/about.html", "sl/o-nas.html", "en/contact.html"]
    with SearchIndex(index) as ix:  # open across the runs below
        assert ix.document("sl/o-nas.html").translation_id is None
        # The sitemap arrives in a later run that adds no document (nothing is committed).
        sm = sitemap(site, SITEMAP)
        report = index_paths([site], index)
        assert (report.added, report.updated, report.problems) == (0, 0, [])
        assert ix.document("sl/o-nas.html").translation_id == "en/about.html"
        assert ix.document("en/about.html").translation_id == "sl/o-nas.html"
        # Only the sitemap changes: the Slovenian page now translates the contact page.
        sitemap(site, [("https://example.org/sl/o-nas.html",
                        {"en": "https://example.org/en/contact.html"})])
        touch_later(sm)
        index_paths([site], index)
        assert {d: ix.document(d).translation_id for d in ids} == {
            "en/about.html": None, "sl/o-nas.html": "en/contact.html",
            "en/contact.html": "sl/o-nas.html"}
        # The sitemap is deleted: its links go with it.
        sm.unlink()
        index_paths([site], index)
        assert {d: ix.document(d).translation_id for d in ids} == dict.fromkeys(ids)
    gen = IndexLayout(index).current()
    assert json.loads((gen / SITEMAP_LINKS_FILE).read_text()) == {"sitemaps": {}}


def test_sitemap_in_a_subfolder_of_a_copied_site(tmp_path):
    # A copy of https://example.org/docs/ in the folder docs/, with its own sitemap whose
    # URLs all lie under /docs/.
    site = tmp_path / "site"
    page(site, "docs/en/a.html", "en")
    page(site, "docs/sl/a.html", "sl")
    sitemap(site / "docs", [("https://example.org/docs/en/a.html",
                             {"sl": "https://example.org/docs/sl/a.html"})])
    index = build(tmp_path, site)
    assert translations(index, ["docs/en/a.html"]) == {"docs/en/a.html": "docs/sl/a.html"}


def test_broken_sitemap_is_reported_and_the_pages_indexed(tmp_path):
    site = tmp_path / "site"
    _sitemap_site(site)
    (site / "sitemap.xml").write_text("<urlset><url><loc>https://example.org/en/", "utf-8")
    report = index_paths([site], tmp_path / "index")
    assert report.added == 3
    assert [p.source for p in report.problems] == [str((site / "sitemap.xml").resolve())]
    assert "malformed sitemap XML" in report.problems[0].reason


# -- incremental runs -----------------------------------------------------------------------

@pytest.mark.parametrize("first", ["en", "sl"])
def test_link_to_a_page_indexed_in_a_later_run(tmp_path, first):
    site = tmp_path / "site"
    later = OTHER[first]
    page(site, f"{first}/a.html", first, alt(later, f"/{later}/a.html"))
    index = build(tmp_path, site)
    with SearchIndex(index) as ix:
        assert ix.document(f"{first}/a.html").translation_id is None
        page(site, f"{later}/a.html", later)  # the other page arrives
        report = index_paths([site], index)
        assert (report.added, report.unchanged) == (1, 1)  # the first page is not re-read
        ix.refresh(force=True)
        assert ix.document(f"{first}/a.html").translation_id == f"{later}/a.html"
        assert ix.document(f"{later}/a.html").translation_id == f"{first}/a.html"
        (site / later / "a.html").unlink()  # and goes again
        index_paths([site], index)
        ix.refresh(force=True)
        assert ix.document(f"{first}/a.html").translation_id is None


# -- declared against found -----------------------------------------------------------------

def test_declared_link_overrides_a_found_one(tmp_path):
    site = tmp_path / "site"
    page(site, "en/a.html", "en", alt("sl", "../sl/a.html"))
    page(site, "sl/a.html", "sl")
    page(site, "sl/b.html", "sl")
    page(site, "en/c.html", "en")
    index = build(tmp_path, site)
    with SearchIndex(index) as ix:
        s = ix._searcher  # the Whoosh searcher, as search.links takes it
        stored = {d: s.document(id=d) for d in ("en/a.html", "sl/a.html", "sl/b.html",
                                                "en/c.html")}
        found = {"en/a.html": "sl/b.html", "sl/b.html": "en/a.html",
                 "en/c.html": "sl/b.html"}
        assert translation_of(s, stored["en/a.html"], found) == "sl/a.html"
        # sl/b.html was "found" for en/a.html, which declares another: nothing.
        assert translation_of(s, stored["sl/b.html"], found) is None
        # A found pair with no declared link on either side is taken.
        assert translation_of(s, stored["en/c.html"], found) == "sl/b.html"
        # A found partner in the same language, or missing, is not.
        assert translation_of(s, stored["en/c.html"], {"en/c.html": "en/a.html"}) is None
        assert translation_of(s, stored["en/c.html"], {"en/c.html": "gone"}) is None
        assert declared_translation(s, stored["en/c.html"]) is None
        # The hook SearchIndex gives the found pairs through.
        assert ix._translation(stored["en/c.html"], found=found) == "sl/b.html"
        assert ix._translation(stored["en/a.html"], found=found) == "sl/a.html"


def test_no_link_among_the_seeds(seed_search):
    ids = [*SEED_EN, *SEED_SL]
    assert {d: seed_search.document(d).translation_id for d in ids} == dict.fromkeys(ids)
    hits = seed_search.search("policija", per_page=10).hits
    assert hits and all(h.translation_id is None for h in hits)


# -- what must link nothing -----------------------------------------------------------------

def test_link_to_a_document_in_the_same_language_is_ignored(tmp_path):
    site = tmp_path / "site"
    # Declared Slovenian, but the page it names is English; and an English page linked as
    # English ("en" to another en page is no translation).
    page(site, "en/a.html", "en", alt("sl", "b.html") + alt("en", "c.html"))
    page(site, "en/b.html", "en")
    page(site, "en/c.html", "en")
    index = build(tmp_path, site)
    assert translations(index, ["en/a.html", "en/b.html", "en/c.html"]) == dict.fromkeys(
        ["en/a.html", "en/b.html", "en/c.html"])


ODD_HEADS = [
    '<link rel="alternate" href="../sl/a.html">',  # no hreflang (a feed, a print version)
    '<link rel="alternate" hreflang="" href="../sl/a.html">',
    alt("x-default", "../sl/a.html"),
    alt("zz", "../sl/a.html"),  # unknown language code
    alt("de-DE", "../sl/a.html"),  # a language we do not index
    alt("sl", "https://other.example/sl/a.html"),  # another site (same path as ours)
    alt("sl", ""), alt("sl", "#top"), alt("sl", "javascript:void(0)"),
    alt("sl", "mailto:info@example.org"), alt("sl", "http://[broken/"),
    alt("sl", "https://example.org:99999/sl/a.html"), alt("sl", "https://exa mple.org/sl"),
    alt("sl", "/" + "x" * 5000),
    '<link rel="stylesheet" hreflang="sl" href="../sl/a.html">',
    '<a rel="alternate" hreflang="sl" href="../sl/a.html">not in the head</a>',
]


@pytest.mark.parametrize("head", ODD_HEADS)
def test_odd_markup_links_nothing(tmp_path, head):
    site = tmp_path / "site"
    page(site, "en/a.html", "en", canonical("https://example.org/en/a.html") + head)
    page(site, "sl/a.html", "sl")
    index = build(tmp_path, site)
    assert translations(index, ["en/a.html", "sl/a.html"]) == {
        "en/a.html": None, "sl/a.html": None}


def test_an_address_two_documents_claim_is_ambiguous(tmp_path):
    site = tmp_path / "site"
    page(site, "en/a.html", "en", alt("sl", "https://example.org/sl/"))
    page(site, "sl/a.html", "sl", canonical("https://example.org/sl/"))
    page(site, "sl/b.html", "sl", canonical("https://example.org/sl/"))
    index = build(tmp_path, site)
    assert translations(index, ["en/a.html"]) == {"en/a.html": None}


def test_links_are_symmetric_or_nothing(tmp_path):
    # en/x names sl/y, but sl/y names en/z (which names it back): sl/y and en/z are a pair,
    # en/x has no translation (grouping never sees x -> y with y -> z).
    site = tmp_path / "site"
    page(site, "en/x.html", "en", alt("sl", "../sl/y.html"))
    page(site, "sl/y.html", "sl", alt("en", "../en/z.html"))
    page(site, "en/z.html", "en")
    # Two English pages claim one Slovenian page that names neither: no pair at all.
    page(site, "en/a.html", "en", alt("sl", "../sl/b.html"))
    page(site, "en/c.html", "en", alt("sl", "../sl/b.html"))
    page(site, "sl/b.html", "sl")
    index = build(tmp_path, site)
    ids = ["en/x.html", "sl/y.html", "en/z.html", "en/a.html", "en/c.html", "sl/b.html"]
    assert translations(index, ids) == {
        "en/x.html": None, "sl/y.html": "en/z.html", "en/z.html": "sl/y.html",
        "en/a.html": None, "en/c.html": None, "sl/b.html": None}


def test_a_rebuild_keeps_the_sitemap_links(tmp_path):
    site = tmp_path / "site"
    _sitemap_site(site)
    sitemap(site, SITEMAP)
    index = build(tmp_path, site)
    old = IndexLayout(index).current()
    report = index_paths([site], index, rebuild=True)
    assert report.added == 3 and IndexLayout(index).current() != old
    assert translations(index, ["sl/o-nas.html"]) == {"sl/o-nas.html": "en/about.html"}


def test_links_name_documents_written_through_the_api(tmp_path):
    from search.writer import open_writer

    site = tmp_path / "site"
    page(site, "en/about.html", "en", alt("sl", "https://example.org/sl/o-nas"))
    index = build(tmp_path, site)
    with SearchIndex(index) as ix:
        assert ix.document("en/about.html").translation_id is None
        with open_writer(index) as w:
            w.add({"id": "news/42", "title": TEXT["sl"][0], "text": TEXT["sl"][1],
                   "url": "https://example.org/sl/o-nas"})
        ix.refresh(force=True)
        assert ix.document("en/about.html").translation_id == "news/42"
        assert ix.document("news/42").translation_id == "en/about.html"


@pytest.mark.parametrize("content", ["{broken", '{"sitemaps": [1, 2]}',
                                     '{"sitemaps": {"x": [[["sl", "/sl/o-nas.html"]], 5]}}'])
def test_a_damaged_sitemap_links_file_only_loses_its_links(tmp_path, content):
    site = tmp_path / "site"
    _sitemap_site(site)
    sitemap(site, SITEMAP)
    index = build(tmp_path, site)
    (IndexLayout(index).current() / SITEMAP_LINKS_FILE).write_text(content)
    with SearchIndex(index) as ix:
        assert ix.document("sl/o-nas.html").translation_id is None
        assert ix.search("ministrstvo").total >= 1
