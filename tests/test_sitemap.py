"""search.documents.sitemap: the translation groups of real sitemap.xml files, and how
finding and reading sources treat them."""

from __future__ import annotations

from pathlib import Path

import pytest

from search.documents import find_sources, is_supported, read_source
from search.documents import sitemap as sitemap_module
from search.model import Alternate, Caveat, Source

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"\n'
        '        xmlns:xhtml="http://www.w3.org/1999/xhtml">\n')


def write(root: Path, rel: str, body: str) -> Source:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    sources = [s for s in find_sources([root]) if isinstance(s, Source) and s.key == rel]
    assert len(sources) == 1
    return sources[0]


def url(loc: str, **alternates: str) -> str:
    links = "".join(f'<xhtml:link rel="alternate" hreflang="{lang.replace("_", "-")}" '
                    f'href="{href}"/>' for lang, href in alternates.items())
    return f"<url><loc>{loc}</loc>{links}</url>\n"


@pytest.mark.parametrize("name", ["sitemap.xml", "Sitemap.XML", "sitemap-pages.xml",
                                  "sitemap_sl.xml"])
def test_sitemaps_are_found_by_name(tmp_path, name):
    assert is_supported(tmp_path / name)
    write(tmp_path, name, HEAD + "</urlset>")


@pytest.mark.parametrize("name", ["feed.xml", "data.xml", "mysitemap.xml", "sitemap.xml.bak"])
def test_other_xml_files_are_not(tmp_path, name):
    (tmp_path / name).write_text("<x/>")
    assert not is_supported(tmp_path / name)
    assert list(find_sources([tmp_path])) == []


def test_groups_of_a_sitemap(tmp_path):
    source = write(tmp_path, "sitemap.xml", HEAD
                   + url("https://example.org/en/a.html", en="https://example.org/en/a.html",
                         sl_SI="https://example.org/sl/a.html",
                         x_default="https://example.org/")
                   + url("https://example.org/sl/b.html", en="https://example.org/en/b.html",
                         de="https://example.org/de/b.html", zz="https://example.org/zz/b.html")
                   + url("https://example.org/en/alone.html")  # no alternates: no group
                   + url("https://example.org/en/c.html", sl="mailto:x@example.org")
                   + "</urlset>")
    result = read_source(source)
    assert result.documents == [] and result.problems == []
    assert result.links.source == str(source.path)
    assert result.links.groups == (
        (Alternate("en", ("//example.org/en/a.html", "/en/a.html")),
         Alternate("sl", ("//example.org/sl/a.html", "/sl/a.html"))),
        # The loc has no alternate of its own: its language is not declared.
        (Alternate(None, ("//example.org/sl/b.html", "/sl/b.html")),
         Alternate("en", ("//example.org/en/b.html", "/en/b.html"))),
    )


def test_keys_of_a_sitemap_in_a_subfolder(tmp_path):
    # docs/sitemap.xml of https://example.org/docs/: each URL is also looked up below the
    # folder the map stands in, and below the directory all its URLs share.
    source = write(tmp_path, "docs/sitemap.xml", HEAD
                   + url("https://example.org/docs/en/a.html",
                         sl="https://example.org/docs/sl/a.html") + "</urlset>")
    (en, sl) = read_source(source).links.groups[0]
    assert en.keys == ("//example.org/docs/en/a.html", "/docs/docs/en/a.html",
                       "/docs/en/a.html")
    assert sl.keys[-1] == "/docs/sl/a.html"


def test_sitemap_index_has_no_groups(tmp_path):
    source = write(tmp_path, "sitemap.xml", '<?xml version="1.0"?>\n<sitemapindex xmlns='
                   '"http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>https://'
                   'example.org/sitemap-en.xml</loc></sitemap></sitemapindex>')
    result = read_source(source)
    assert (result.links, result.problems) == (None, [])


@pytest.mark.parametrize(("body", "reason"), [
    ("", "empty file"),
    ("<html><body>not a map</body></html>", "not a sitemap: the root element is <html>"),
    ("<urlset><url><loc>https://example.org/en/", "malformed sitemap XML"),
    ("\x00\x01binary", "malformed sitemap XML"),
])
def test_broken_sitemaps_are_problems(tmp_path, body, reason):
    source = write(tmp_path, "sitemap.xml", body)
    result = read_source(source)
    assert result.links is None
    assert len(result.problems) == 1 and not isinstance(result.problems[0], Caveat)
    assert result.problems[0].source == str(source.path)
    assert result.problems[0].reason.startswith(reason)


def test_a_cut_sitemap_keeps_what_came_before_the_cut(tmp_path):
    source = write(tmp_path, "sitemap.xml", HEAD
                   + url("https://example.org/en/a.html", sl="https://example.org/sl/a.html")
                   + "<url><loc>https://exa")
    result = read_source(source)
    assert len(result.links.groups) == 1
    assert [type(p) for p in result.problems] == [Caveat]
    assert "1 entries before it are used" in result.problems[0].reason


def test_entities_are_not_expanded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("https://example.org/sl/secret.html")
    source = write(tmp_path, "sitemap.xml",
                   '<?xml version="1.0"?>\n'
                   f'<!DOCTYPE urlset [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
                   + HEAD.split("\n", 1)[1]
                   + url("&x;", en="https://example.org/en/a.html") + "</urlset>")
    result = read_source(source)
    assert "secret" not in repr(result)
    assert result.problems == []


def test_entries_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(sitemap_module, "MAX_URLS", 3)
    source = write(tmp_path, "sitemap.xml", HEAD + "".join(
        url(f"https://example.org/en/{n}.html", sl=f"https://example.org/sl/{n}.html")
        for n in range(10)) + "</urlset>")
    result = read_source(source)
    assert len(result.links.groups) == 3
    assert [type(p) for p in result.problems] == [Caveat]
