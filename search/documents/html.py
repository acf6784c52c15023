"""HTML pages to title, main text, declared language, date and links, with lxml.

The page text a reader cares about is the article, not the site around it: we prefer ``<main>``
or ``<article>``, drop navigation, site header/footer, scripts and styles, and keep block
structure as line breaks so the text reads like text (and snippets do not glue words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import lxml.etree as etree
import lxml.html

from search.documents.metadata import parse_iso_date
from search.documents.text import ReadError, clean_text, decode_bytes

#: Elements whose content is never page text.
SKIP_TAGS = frozenset({
    "head", "title", "script", "style", "noscript", "template", "nav", "iframe", "object",
    "embed", "svg", "math", "canvas", "select", "option", "button", "textarea", "input",
    "datalist", "dialog", "map", "aside",
})
#: Site chrome: skipped unless inside an article or section (an article's own header is content).
CHROME_TAGS = frozenset({"header", "footer"})
#: ARIA roles that mark the same chrome on generic elements.
CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "complementary",
                          "menu", "menubar"})
CONTENT_TAGS = frozenset({"article", "section"})
#: Block elements end a paragraph (blank line); list items, rows and <br> end a line.
PARAGRAPH_TAGS = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "main", "body",
    "blockquote", "pre", "table", "ul", "ol", "dl", "figure", "figcaption", "address", "hr",
    "details", "summary", "fieldset", "form", "center", "header", "footer", "aside", "caption",
})
LINE_TAGS = frozenset({"li", "tr", "dt", "dd", "br", "legend", "thead", "tbody", "tfoot"})
CELL_TAGS = frozenset({"td", "th"})
# Flattening for pages nested deeper than libxml2 allows: all tags but the listed ones go. First
# only generic wrappers; if that is not enough, everything but what must still be dropped.
_FLATTEN = [re.compile(
    rb"</?(?!(?:" + keep + rb")\b)([a-zA-Z][\w:-]*)(?:\s[^>]*)?/?>") for keep in (
    rb"html|head|body|title|h1|main|article|header|footer|nav|aside|script|style|noscript|"
    rb"template|meta|link|pre|br|p",
    rb"html|head|body|title|script|style|noscript|template|meta|link|br",
)]
_INLINE = frozenset({b"a", b"abbr", b"b", b"bdi", b"bdo", b"cite", b"code", b"data", b"dfn",
                     b"em", b"font", b"i", b"kbd", b"mark", b"q", b"s", b"samp", b"small",
                     b"span", b"strong", b"sub", b"sup", b"time", b"u", b"var", b"wbr"})


def _flatten_tag(m: re.Match) -> bytes:
    return b"" if m.group(1).lower() in _INLINE else b"<br>"

_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([-\w.:]+)|<\?xml[^>]+encoding\s*=\s*["']([-\w.:]+)""",
    re.I)
_WS = re.compile(r"[ \t\r\n\f]+")
_TITLE_SEPARATORS = re.compile(r"\s+[|–—:·-]\s+|\s+[|»]\s*")
#: At most this many alternates of a page are read (a page lists one per language it has).
MAX_HEAD_LINKS = 256
_DATE_META = ("article:published_time", "datepublished", "date", "dc.date", "dc.date.issued",
              "dcterms.date", "dcterms.issued", "dcterms.created", "pubdate", "publish-date",
              "publication_date", "og:published_time")


@dataclass(frozen=True)
class HtmlPage:
    """What a page says about itself."""

    title: str  #: "" when the page has neither <title> nor <h1>
    text: str
    lang_hint: str | None
    date: str | None  #: from <meta> or <time datetime>, ISO 8601
    canonical: str | None = None  #: ``<link rel="canonical">``'s href, as written
    #: (hreflang, href) of each ``<link rel="alternate" hreflang>``, as written, in order
    alternates: tuple[tuple[str, str], ...] = ()


def declared_encoding(data: bytes) -> str | None:
    """The encoding a page declares in <meta charset> / <meta http-equiv> / <?xml encoding?>."""
    m = _CHARSET.search(data[:4096])
    if not m:
        return None
    name = (m.group(1) or m.group(2)).decode("ascii", "replace").lower()
    # As browsers do: Latin-1 and ASCII labels mean windows-1252, a superset.
    if name in ("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii"):
        return "cp1252"
    return name


def _parse(data: bytes):
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True,
                                  huge_tree=True, default_doctype=False)
    try:
        root = lxml.html.document_fromstring(data, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as e:
        raise ReadError(f"malformed HTML: {e or 'no text'}") from None
    too_deep = any("depth" in (err.message or "").lower() for err in parser.error_log)
    return root, too_deep


def _text_content(el) -> str:
    return _WS.sub(" ", "".join(el.itertext())).strip()


def _is_chrome(el, in_content: bool) -> bool:
    if el.tag in SKIP_TAGS:
        return True
    if el.get("hidden") is not None or el.get("aria-hidden") == "true":
        return True
    if in_content:
        return False
    return el.tag in CHROME_TAGS or (el.get("role") or "").lower() in CHROME_ROLES


def extract_text(container) -> str:
    """The readable text under ``container``: chrome dropped, blocks on their own lines."""
    parts: list[str] = []
    pending = 0  # newlines owed before the next text
    content_depth = 0  # how many article/section elements we are inside
    pre_depth = 0
    walker = etree.iterwalk(container, events=("start", "end"))

    def emit(s: str | None) -> None:
        nonlocal pending
        if not s:
            return
        if not pre_depth:
            s = _WS.sub(" ", s)
            if s == " " and (pending or not parts):
                return  # layout whitespace between blocks is not text
        if pending:
            parts.append("\n" * pending)
            pending = 0
        parts.append(s)

    def brk(n: int) -> None:
        nonlocal pending
        if parts:
            pending = max(pending, n)

    for event, el in walker:
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if el is not container and _is_chrome(el, content_depth > 0):
                walker.skip_subtree()
                el.set("data-skipped", "1")  # so the "end" event knows to emit only the tail
                continue
            if tag in CONTENT_TAGS:
                content_depth += 1
            if tag == "pre":
                pre_depth += 1
            if tag in PARAGRAPH_TAGS:
                brk(2)
            elif tag in LINE_TAGS:
                brk(1)
            elif tag in CELL_TAGS:
                emit(" ")
            emit(el.text)
        else:
            skipped = el.attrib.pop("data-skipped", None)
            if not skipped:
                if tag in CONTENT_TAGS:
                    content_depth -= 1
                if tag == "pre":
                    pre_depth -= 1
                if tag in PARAGRAPH_TAGS:
                    brk(2)
                elif tag in LINE_TAGS:
                    brk(1)
                elif tag in CELL_TAGS:
                    emit(" ")
            if el is not container:
                emit(el.tail)
    return clean_text("".join(parts))


def _choose_container(root):
    """The element holding the page's own content: <main>, else <article>s, else <body>."""
    mains = [el for el in root.iter("main") if el.get("hidden") is None]
    if mains:
        return mains[:1]
    articles = [el for el in root.iter("article")
                if not any(a.tag == "article" for a in el.iterancestors())]
    if articles:
        return articles
    body = root.find("body")
    return [body if body is not None else root]


def _title(root, container_text_sources) -> str:
    title_el = root.find("head/title")
    if title_el is None:
        title_el = root.find(".//title")
    title = _text_content(title_el) if title_el is not None else ""
    h1 = ""
    for scope in (*container_text_sources, root):
        h1_el = next(scope.iter("h1"), None)
        if h1_el is not None:
            h1 = _text_content(h1_el)
            if h1:
                break
    if title and h1:
        # "Article title | Site name": when one part of <title> is the <h1>, that part is the
        # title a reader would give.
        parts = [p.strip() for p in _TITLE_SEPARATORS.split(title) if p.strip()]
        if len(parts) > 1 and h1.casefold() in (p.casefold() for p in parts):
            return h1
    return title or h1


def _lang_hint(root, containers) -> str | None:
    for el in (*containers, root.find("body"), root):
        if el is None:
            continue
        lang = el.get("lang") or el.get("xml:lang")
        if lang and lang.strip():
            return lang.strip()
    for meta in root.iter("meta"):
        if (meta.get("http-equiv") or "").lower() == "content-language" and meta.get("content"):
            return meta.get("content").split(",")[0].strip()
    return None


def _date(root, containers) -> str | None:
    wanted = {name: i for i, name in enumerate(_DATE_META)}
    best: tuple[int, str] | None = None
    for meta in root.iter("meta"):
        name = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if name in wanted:
            date = parse_iso_date(meta.get("content"))
            if date and (best is None or wanted[name] < best[0]):
                best = (wanted[name], date)
    if best:
        return best[1]
    for container in containers:
        for time_el in container.iter("time"):
            date = parse_iso_date(time_el.get("datetime"))
            if date:
                return date
    return None


def _rel(el) -> set[str]:
    return set((el.get("rel") or "").lower().split())


def head_links(root) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The page's canonical href and its (hreflang, href) alternates, as written: the links
    with which sites declare a page's own address and its translations. Only ``<link>``
    elements count (``<a hreflang>`` in the text is a link to read, not a declaration); an
    alternate without hreflang (a feed, a print version) is none."""
    canonical: str | None = None
    alternates: list[tuple[str, str]] = []
    for el in root.iter("link"):
        rel, href = _rel(el), (el.get("href") or "").strip()
        if not href:
            continue
        if "canonical" in rel and canonical is None:
            canonical = href
        elif ("alternate" in rel and (el.get("hreflang") or "").strip()
              and len(alternates) < MAX_HEAD_LINKS):
            alternates.append((el.get("hreflang").strip(), href))
    return canonical, tuple(alternates)


def parse_html(data: bytes) -> HtmlPage:
    """Parse a page from its bytes. Raises :class:`ReadError` when it has no text."""
    decoded = decode_bytes(data, declared=declared_encoding(data))
    utf8 = decoded.text.encode("utf-8", "surrogatepass")
    if not decoded.text.strip():
        raise ReadError("empty file")
    root, too_deep = _parse(utf8)
    for flatten in _FLATTEN:
        if not too_deep:
            break
        # Deeper than libxml2 allows (thousands of levels): whatever lies below the limit would
        # be lost, so drop wrapper tags and parse again.
        utf8 = flatten.sub(_flatten_tag, utf8)
        root, too_deep = _parse(utf8)
    containers = _choose_container(root)
    text = "\n\n".join(t for t in (extract_text(c) for c in containers) if t)
    if not text and containers[0].tag != "body":
        body = root.find("body")
        text = extract_text(body) if body is not None else ""
    title = _title(root, containers)
    if not text:
        raise ReadError("malformed HTML: no text" if not title else
                        "HTML has no text (only navigation, scripts or markup)")
    canonical, alternates = head_links(root)
    return HtmlPage(title=title, text=text, lang_hint=_lang_hint(root, containers),
                    date=_date(root, containers), canonical=canonical, alternates=alternates)
