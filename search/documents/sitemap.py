"""Site maps (``sitemap.xml``): the translations a site declares for its pages, all at once.

Sites that do not put hreflang links in every page's head often list them in their site map
instead (the form search engines document)::

    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
            xmlns:xhtml="http://www.w3.org/1999/xhtml">
      <url>
        <loc>https://example.org/en/about.html</loc>
        <xhtml:link rel="alternate" hreflang="sl" href="https://example.org/sl/o-nas.html"/>
        <xhtml:link rel="alternate" hreflang="en" href="https://example.org/en/about.html"/>
      </url>
    </urlset>

Each ``<url>`` becomes one group of addresses that translate each other. A site map is no
document: it is read (streamed, at most :data:`MAX_URLS` entries and :data:`MAX_BYTES`, the
protocol's limits) into :class:`~search.model.SiteLinks`, which the indexer keeps with the
file, and which name pages by key (see :mod:`search.documents.urls`). The site map is taken
to describe the site copied into the folder it stands in: a URL's path is looked up as the
path under that folder, and also as its path below the directory all the map's URLs share
(a map of ``https://example.org/docs/...`` in a copy of ``docs/``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any

import lxml.etree as etree

from search.documents.language import normalize_language
from search.documents.sources import open_regular
from search.documents.urls import MAX_ALTERNATES, file_url, resolve, split_key, url_key
from search.model import Alternate, Caveat, Problem, ReadResult, SiteLinks, Source

#: The sitemap protocol's limits: 50,000 URLs and 50 MB (uncompressed) per file.
MAX_URLS = 50_000
MAX_BYTES = 50 * 1024 * 1024


class _Capped:
    """A file object that ends after ``limit`` bytes (the parser then reports the cut)."""

    def __init__(self, f: Any, limit: int) -> None:
        self.f, self.left, self.cut = f, limit, False

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            self.cut = self.cut or bool(self.f.read(1))
            return b""
        data = self.f.read(self.left if size is None or size < 0 else min(size, self.left))
        self.left -= len(data)
        return data


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _entries(element: Any) -> tuple[str | None, list[tuple[str, str]]]:
    """A ``<url>`` element's loc and (hreflang, href) alternates, as written."""
    loc: str | None = None
    links: list[tuple[str, str]] = []
    for child in element:
        name = _local(child.tag)
        if name == "loc" and loc is None:
            loc = (child.text or "").strip() or None
        elif (name == "link" and "alternate" in (child.get("rel") or "").lower().split()
              and (child.get("hreflang") or "").strip() and child.get("href")):
            links.append((child.get("hreflang").strip(), child.get("href")))
    return loc, links


def _parse(source: Source, result: ReadResult) -> list[tuple[str | None, list]]:
    """The map's ``<url>`` entries (loc, alternates); problems and caveats into ``result``."""
    path = str(source.path)
    found: list[tuple[str | None, list]] = []
    with open_regular(source.path) as f:
        if not f.read(4096).strip():
            result.problems.append(Problem(path, "empty file"))
            return []
        f.seek(0)
        capped = _Capped(f, MAX_BYTES)
        events = etree.iterparse(capped, events=("start", "end"), resolve_entities=False,
                                 no_network=True, load_dtd=False, remove_comments=True,
                                 remove_pis=True)
        root_name = None
        try:
            for event, el in events:
                if root_name is None:
                    root_name = _local(el.tag)
                    if root_name not in ("urlset", "sitemapindex"):
                        result.problems.append(Problem(
                            path, f"not a sitemap: the root element is <{root_name}>, not "
                                  "<urlset>"))
                        return []
                    continue
                if event != "end" or _local(el.tag) != "url":
                    continue
                if len(found) >= MAX_URLS:
                    result.problems.append(Caveat(
                        path, f"only the first {MAX_URLS:,} <url> entries are read (the "
                              "sitemap protocol's limit)"))
                    break
                found.append(_entries(el))
                el.clear()
                while el.getprevious() is not None:  # streamed: drop what was read
                    del el.getparent()[0]
        except etree.XMLSyntaxError as e:
            where = f" (line {e.lineno})" if getattr(e, "lineno", None) else ""
            if capped.cut:
                reason = f"sitemap larger than {MAX_BYTES // 2**20} MB: only its start is read"
            else:
                reason = f"malformed sitemap XML{where}: {e.msg or e}"
            if found:
                result.problems.append(Caveat(path, f"{reason}; {len(found):,} entries before "
                                                    "it are used"))
            else:
                result.problems.append(Problem(path, reason))
    return found


def _common_dir(paths: Iterable[str]) -> str:
    """The directory all of ``paths`` lie in ("" for the root)."""
    dirs = [posixpath.dirname(p.split("?", 1)[0]) for p in paths]
    if not dirs:
        return ""
    common = posixpath.commonpath(dirs)
    return "" if common == "/" else common


def _keys(url: str, prefix: str, common: str) -> tuple[str, ...]:
    """The keys a URL of the map may be indexed under (see the module docstring)."""
    key = url_key(url)
    if key is None:
        return ()
    host, path = split_key(key)
    if not host:
        return (key,)
    out = [key]
    below = path[len(common):] if common and path.startswith(common + "/") else None
    for p in (path, below):
        if p is not None:
            local = prefix + p if p != "/" else prefix or "/"
            if local not in out:
                out.append(local)
    return tuple(out)


def read_sitemap(source: Source, languages: Iterable[str]) -> ReadResult:
    """A site map's translation groups (:class:`SiteLinks` in ``links``), or its problem."""
    wanted = set(languages)
    result = ReadResult()
    here = file_url(source.key)
    entries = []
    for loc, links in _parse(source, result):
        loc_url = resolve(loc, here) if loc else None
        alternates = [(code, url) for code, url in
                      ((normalize_language(tag), resolve(href, here))
                       for tag, href in links[:MAX_ALTERNATES * 2])
                      if code in wanted and url is not None]
        if alternates:
            entries.append((loc_url, alternates[:MAX_ALTERNATES]))
    hosts: dict[str, list[str]] = {}
    for loc_url, alternates in entries:
        for url in (loc_url, *(u for _, u in alternates)):
            key = url_key(url) if url else None
            if key and key.startswith("//"):
                host, path = split_key(key)
                hosts.setdefault(host, []).append(path)
    common = {host: _common_dir(paths) for host, paths in hosts.items()}
    folder = posixpath.dirname(source.key)
    prefix = "/" + folder if folder else ""

    def keys(url: str) -> tuple[str, ...]:
        key = url_key(url) or ""
        return _keys(url, prefix, common.get(split_key(key)[0], ""))

    groups: list[tuple[Alternate, ...]] = []
    for loc_url, alternates in entries:
        group: dict[tuple[str, ...], str | None] = {}
        if loc_url and keys(loc_url):
            group[keys(loc_url)] = None
        for code, url in alternates:
            k = keys(url)
            if k and group.get(k) is None:  # the loc's own alternate gives its language
                group[k] = code
        if len(group) > 1:
            groups.append(tuple(Alternate(code, k) for k, code in group.items()))
    if groups:
        result.links = SiteLinks(str(source.path), tuple(groups))
    return result
