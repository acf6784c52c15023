"""search.documents.urls: addresses reduced to the keys links and documents are matched by."""

from __future__ import annotations

import hashlib

import pytest

from search.documents.urls import (
    MAX_ALTERNATES,
    document_keys,
    file_url,
    link_keys,
    mounts,
    page_links,
    resolve,
    url_key,
)
from search.model import Alternate, Document


@pytest.mark.parametrize(("url", "key"), [
    ("https://example.org/sl/o-nas.html", "//example.org/sl/o-nas.html"),
    # scheme and host case, default ports, index.html, trailing slash, fragment, dot segments
    ("HTTP://Example.ORG:80/sl/./x/../o-nas.html#vrh", "//example.org/sl/o-nas.html"),
    ("https://example.org:443/sl/index.html", "//example.org/sl"),
    ("https://example.org/sl/", "//example.org/sl"),
    ("https://example.org", "//example.org/"),
    ("https://example.org/index.html", "//example.org/"),
    ("//example.org//sl//a.html", "//example.org/sl/a.html"),
    ("https://example.org:8080/a", "//example.org:8080/a"),
    # one spelling of escapes: raw and percent-encoded letters are the same key
    ("https://example.org/sl/o nas/č.html", "//example.org/sl/o%20nas/%C4%8D.html"),
    ("https://example.org/sl/o%20nas/%c4%8d.html", "//example.org/sl/o%20nas/%C4%8D.html"),
    ("https://example.org/page?lang=sl", "//example.org/page?lang=sl"),
    (file_url("sl/o nas.html"), "/sl/o%20nas.html"),
    (file_url("index.html"), "/"),
])
def test_url_keys(url, key):
    assert url_key(url) == key


@pytest.mark.parametrize("url", [
    None, "", "/sl/a.html", "sl/a.html", "mailto:info@example.org", "javascript:void(0)",
    "ftp://example.org/a", "https://", "http://[broken/", "https://example.org:99999/",
    "https://exa mple.org/", "https://" + "x" * 3000 + ".org/",
])
def test_what_names_no_page_has_no_key(url):
    assert url_key(url) is None


@pytest.mark.parametrize(("href", "base", "key"), [
    ("../sl/a.html", file_url("en/a.html"), "/sl/a.html"),
    ("/sl/a.html", file_url("en/deep/a.html"), "/sl/a.html"),
    ("../../../../sl/a.html", file_url("en/a.html"), "/sl/a.html"),  # never above the root
    ("?lang=sl", file_url("page.html"), "/page.html?lang=sl"),
    ("../sl/x", "https://example.org/en/x", "//example.org/sl/x"),
    ("//other.example/sl/", file_url("en/a.html"), "//other.example/sl"),
    (" \n../sl/a.html\t", file_url("en/a.html"), "/sl/a.html"),
])
def test_resolve(href, base, key):
    assert url_key(resolve(href, base)) == key


@pytest.mark.parametrize("href", ["", "   ", "#top", "mailto:x@example.org", None])
def test_resolve_nothing(href):
    assert resolve(href, file_url("en/a.html")) is None


@pytest.mark.parametrize(("site_path", "own", "mount"), [
    ("en/a.html", "https://example.org/en/a.html", ("", "")),
    ("example.org/en/a.html", "https://example.org/en/a.html", ("/example.org", "")),
    ("example.org/en/a.html", "https://example.org/en/a", ("/example.org", ".html")),
    ("example.org/en/index.html", "https://example.org/en/", ("/example.org", "")),
    ("index.html", "https://example.org/", ("", "")),
])
def test_mounts_from_the_pages_own_address(site_path, own, mount):
    assert mounts(site_path, [own]) == {"example.org": mount}


@pytest.mark.parametrize(("site_path", "own"), [
    ("en/a.html", "https://example.org/about"),  # a pretty URL that is not the file's path
    ("en/a.html", "https://example.org/"),  # "I am the home page" from a page that is not
    ("xen/a.html", "https://example.org/en/a.html"),  # whole segments only
])
def test_no_mount_when_the_address_is_not_the_files(site_path, own):
    assert mounts(site_path, [own]) == {}


def test_link_keys_add_the_folder_keys_of_a_mounted_host():
    mounted = {"example.org": ("/example.org", ".html")}
    assert link_keys("https://example.org/sl/o-nas", mounted) == (
        "//example.org/sl/o-nas", "/example.org/sl/o-nas", "/example.org/sl/o-nas.html")
    assert link_keys("https://other.example/sl/o-nas", mounted) == ("//other.example/sl/o-nas",)


@pytest.mark.parametrize("lang", ["en", "sl"])
def test_page_links(lang):
    other = {"en": "sl", "sl": "en"}[lang]
    canonical, alternates = page_links(
        f"{lang}/a.html", None,
        [(lang, f"https://example.org/{lang}/a.html"),
         (f"{other.upper()}-XX", f"https://example.org/{other}/a.html"),
         ("x-default", "https://example.org/"), ("zz", "/zz.html"), ("", "/b.html"),
         (other, "#top"), (other, "https://other.example/x")],
        lang, ["en", "sl"])
    assert canonical is None
    assert alternates == (
        Alternate(lang, (f"//example.org/{lang}/a.html", f"/{lang}/a.html")),
        Alternate(other, (f"//example.org/{other}/a.html", f"/{other}/a.html")),
        Alternate(other, ("//other.example/x",)))


def test_page_links_are_bounded():
    _, alternates = page_links("en/a.html", None,
                               [("sl", f"/sl/{n}.html") for n in range(1000)], "en", ["sl"])
    assert len(alternates) == MAX_ALTERNATES


def test_document_keys():
    assert document_keys("https://example.org/en/a.html", "en/a.html", None) == [
        "//example.org/en/a.html", "/en/a.html"]
    assert document_keys(None, None, "https://WWW.example.org/cms/17/") == [
        "//www.example.org/cms/17"]
    assert document_keys(None, None, None) == []


def test_hash_of_documents_without_links_is_unchanged():
    # The hash of a document without links leaves the new fields out (an index keeps its
    # hashes across the change); the folder path never counts, links always do.
    doc = Document(id="a", title="T", text="Besedilo", lang="sl", url="https://example.org/a")
    assert doc.hash == Document(id="a", title="T", text="Besedilo", lang="sl",
                                url="https://example.org/a", site_path="a").hash
    h = hashlib.sha256()
    for part in ("T", "Besedilo", "sl", "", "https://example.org/a", ""):
        h.update(part.encode() + b"\0")
    assert doc.hash == h.hexdigest()[:32]  # the formula before links existed
    linked = Document(id="a", title="T", text="Besedilo", lang="sl", url="https://example.org/a",
                      alternates=(Alternate("en", ("/en/a",)),))
    assert linked.hash != doc.hash
    assert linked.hash != Document(id="a", title="T", text="Besedilo", lang="sl",
                                   url="https://example.org/a",
                                   alternates=(Alternate("en", ("/en/b",)),)).hash
