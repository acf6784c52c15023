"""Page addresses as keys, so that "the document a link names" is one exact term lookup.

A link names a page by an absolute URL (``https://Example.org:443/sl/o-nas/index.html#top``)
or by a path relative to the page it stands on (``../sl/o-nas.html``); a document is known by
the address it declares (``<link rel="canonical">``, a JSONL line's ``url``) and, for a file,
by its path under the indexed folder. Both are reduced to *keys*:

* ``//host[:port]/path[?query]`` for a web address: the scheme is dropped (``http`` and
  ``https`` name one page), the host lower-cased, a default port left out;
* ``/path[?query]`` for a place in the indexed folder (``/sl/o-nas.html``).

In both, ``.`` and ``..`` are resolved, repeated and trailing slashes dropped, percent-escapes
made uniform, a trailing ``index.html`` dropped (``/sl/`` is ``/sl/index.html``) and the
fragment ignored. Resolving works on real URLs: a file's own place is the URL of the made-up
host :data:`SITE_HOST` (``.invalid`` names no real host, RFC 2606), whose addresses become
folder keys.

An absolute link to the page's own site also names a file of the folder when the folder is a
copy of that site: where the page's canonical URL or its link to itself (the hreflang link in
its own language) ends with the page's own path in the folder, the rest of the folder path is
where that host's site lies in the folder (``""`` for a copy of the site at the root,
``/example.org`` for what ``wget --mirror`` writes), and its absolute links also get the
folder key they map to. Links to other hosts stay web addresses only: they name an indexed
document only if one declares that URL as its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import quote, unquote, urljoin, urlsplit

from search.documents.language import normalize_language
from search.model import Alternate

#: The made-up host whose addresses are places in the indexed folder.
SITE_HOST = "site.invalid"
SITE = f"https://{SITE_HOST}"
#: File names that a folder's address means.
INDEX_FILES = frozenset({"index.html", "index.htm", "index.xhtml"})
#: Longer links are ignored (bounded work and key size; browsers cut at about 2,000 too).
MAX_URL_CHARS = 2048
#: At most this many alternates of one page are kept.
MAX_ALTERNATES = 32

_DEFAULT_PORTS = {"http": 80, "https": 443, "": None}
_HOST = re.compile(r"[\w.-]+")
_SAFE_PATH = "!$&'()*+,;=:@-._~"
_SAFE_QUERY = _SAFE_PATH + "/?"
#: ASCII tab and newlines are dropped from URLs, as browsers do (WHATWG URL).
_URL_JUNK = re.compile(r"[\t\n\r]")


def _path(path: str) -> str:
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(quote(unquote(segment), safe=_SAFE_PATH))
    if segments and segments[-1] in INDEX_FILES:
        segments.pop()
    return "/" + "/".join(segments)


def url_key(url: str | None) -> str | None:
    """The key of an absolute URL (``//host/path``; ``/path`` for the folder's made-up host),
    or None for what names no page we could index (``mailto:``, a relative path, junk)."""
    if not url or len(url) > MAX_URL_CHARS:
        return None
    try:
        parts = urlsplit(_URL_JUNK.sub("", url.strip()))
        port = parts.port
    except ValueError:  # a bad port or IPv6 literal
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.netloc:
        return None
    host = (parts.hostname or "").rstrip(".")
    if not _HOST.fullmatch(host):
        return None
    tail = _path(parts.path)
    if parts.query:
        tail += "?" + quote(unquote(parts.query), safe=_SAFE_QUERY)
    if host == SITE_HOST:
        return tail
    if port is not None and port not in (_DEFAULT_PORTS[scheme], 80, 443):
        host = f"{host}:{port}"
    return "//" + host + tail


def file_url(site_path: str) -> str:
    """The made-up absolute URL of a place in the indexed folder (``sl/o nas.html``)."""
    return f"{SITE}/{quote(site_path.lstrip('/'), safe='/' + _SAFE_PATH)}"


def resolve(href: str | None, base: str) -> str | None:
    """``href`` as an absolute URL, resolved against the absolute URL ``base``; None for a
    link to nothing indexable (empty, a fragment only, another scheme, too long)."""
    if not href or not isinstance(href, str):
        return None
    href = _URL_JUNK.sub("", href.strip())
    if not href or href.startswith("#") or len(href) > MAX_URL_CHARS:
        return None
    try:
        joined = urljoin(base, href)
    except ValueError:
        return None
    return joined if url_key(joined) is not None else None


def split_key(key: str) -> tuple[str, str]:
    """(host, path) of a key; host "" for a folder key."""
    if key.startswith("//"):
        host, _, rest = key[2:].partition("/")
        return host, "/" + rest
    return "", key


#: (where a host's site lies in the folder, the extension its pages were saved with)
Mount = tuple[str, str]
#: Extensions a mirroring tool adds to pages saved from addresses without one (``wget
#: --adjust-extension`` saves ``https://example.org/en/about`` as ``en/about.html``).
SAVED_EXTENSIONS = (".html", ".htm")


def mounts(site_path: str | None, own_urls: Iterable[str | None]) -> dict[str, Mount]:
    """Host -> where its site lies in the indexed folder (``""``: at the root), from the
    page's own addresses (canonical URL, self-links) that end with its folder path, with or
    without the extension the page was saved with."""
    if not site_path:
        return {}
    here = url_key(file_url(site_path)) or "/"
    home = here == "/" or site_path.rsplit("/", 1)[-1] in INDEX_FILES
    bare = [(here[:-len(ext)], ext) for ext in SAVED_EXTENSIONS if here.endswith(ext)]
    found: dict[str, Mount] = {}
    for url in own_urls:
        key = url_key(url)
        if key is None or not key.startswith("//"):
            continue
        host, path = split_key(key.split("?", 1)[0])
        if host in found:
            continue
        if path == "/":  # the site's home page: only an index file can be that
            if home:
                found[host] = ("" if here == "/" else here, "")
            continue
        # (``path`` starts with "/": each match is of whole segments)
        for stem, ext in [(here, ""), *bare]:
            if stem.endswith(path):
                found[host] = (stem[:len(stem) - len(path)], ext)
                break
    return found


def link_keys(url: str, mounted: Mapping[str, Mount]) -> tuple[str, ...]:
    """The keys an absolute link may be indexed under: its own, and the folder keys it maps
    to when its host is a site copied into the folder (see :func:`mounts`)."""
    key = url_key(url)
    if key is None:
        return ()
    host, path = split_key(key)
    out = [key]
    if host and host in mounted:
        prefix, ext = mounted[host]
        local = prefix + path if path != "/" else prefix or "/"
        out.append(local)
        plain, _, query = local.partition("?")
        if ext and plain != "/" and "." not in plain.rsplit("/", 1)[-1]:
            out.append(plain + ext + ("?" + query if query else ""))
    return tuple(dict.fromkeys(out))


def page_links(site_path: str | None, canonical: str | None,
               alternates: Sequence[tuple[str | None, str | None]], lang: str,
               languages: Iterable[str]) -> tuple[str | None, tuple[Alternate, ...]]:
    """A page's resolved canonical URL and its alternates in ``languages``.

    ``alternates``: (hreflang, href) as written; ``lang``: the page's own language (its
    alternate in that language is its link to itself, which tells where its site lies).
    Alternates in other languages (``x-default``, unknown codes), without a language, or
    to nothing indexable are dropped.
    """
    wanted = set(languages)
    here = file_url(site_path) if site_path else SITE + "/"
    own = resolve(canonical, here) if canonical else None
    base = own or here
    resolved: list[tuple[str, str]] = []
    for tag, href in alternates[:MAX_ALTERNATES * 2]:
        code = normalize_language(tag)
        url = resolve(href, base)
        if code in wanted and url is not None:
            resolved.append((code, url))
    mounted = mounts(site_path, [own, *(url for code, url in resolved if code == lang)])
    out: list[Alternate] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for code, url in resolved:
        keys = link_keys(url, mounted)
        if keys and (code, keys) not in seen:
            seen.add((code, keys))
            out.append(Alternate(code, keys))
    return own, tuple(out[:MAX_ALTERNATES])


def document_keys(canonical: str | None, site_path: str | None, url: str | None,
                  ) -> list[str]:
    """The keys a document is known by: its canonical URL, its place in the folder (and the
    folder key its canonical URL maps to), and its ``url`` (a JSONL line's, the API's)."""
    keys: list[str] = []
    mounted = mounts(site_path, [canonical])
    for value in (canonical, file_url(site_path) if site_path else None,
                  resolve(url, SITE + "/") if url else None):
        if value:
            for key in link_keys(value, mounted):
                if key not in keys:
                    keys.append(key)
    return keys


def pair_key(pair_id: str) -> str:
    """A ``pair_id`` as a key (``pair:ID``; no address key starts so): documents that
    share one are found by it as by an address."""
    return "pair:" + quote(pair_id, safe="")
