"""The web front-end: a Flask app that serves the search box, results and documents.

``create_app`` follows the Flask tutorial's application-factory pattern so tests can make
as many independent apps (each with its own index) as they need. The app talks to the
engine only through ``search``'s library API and never imports Whoosh.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, g, request
from markupsafe import Markup, escape
from werkzeug.utils import redirect as werkzeug_redirect

from web import i18n
from web.engine import IndexHolder

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
#: Headers on every response: the app's own and the errors waitress answers by itself.
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

#: Longest raw query string (bytes) answered; longer is 414. A 500-character query
#: (``web.params.MAX_QUERY``) of 4-byte characters, percent-encoded, takes 6,000 bytes.
MAX_QUERY_STRING = 8192

#: The only tags the engine's HTML may contain; anything else is shown as text.
_TAG = re.compile(r"<[^>]*>?")
_ALLOWED_TAGS = frozenset({"<mark>", "</mark>", "<p>", "</p>", "<br>", "<br/>", "<br />"})


def trusted_fragment(html: str | None) -> Markup:
    """Mark the engine's escaped HTML (snippets, document bodies) safe for templates.

    The engine escapes text and adds only <mark> (and <p>) tags. As defence in depth, any
    other tag that slipped through is escaped here, so a bug there cannot become XSS.
    """
    if not html:
        return Markup("")

    def keep(match: re.Match[str]) -> str:
        tag = match.group(0)
        return tag if tag.lower() in _ALLOWED_TAGS else str(escape(tag))

    return Markup(_TAG.sub(keep, html))


#: Bidirectional classes that can move the text around them: right-to-left letters and
#: digits, and the explicit controls (embeddings, overrides, isolates and their ends).
_BIDI_CLASSES = frozenset({"R", "AL", "AN", "LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI",
                           "FSI", "PDI"})


def isolate(text: object) -> str:
    """``text`` between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE, its own
    bidirectional controls balanced: for text put into a sentence or a ``<title>``, where no
    ``<bdi>`` element can isolate it. A query or title holding a right-to-left override
    (U+202E) then cannot reverse the words around it. Text without right-to-left letters or
    bidirectional controls cannot disturb its neighbours and is returned as it is."""
    from search.snippets import balance_bidi

    text = str(text)
    if not any(unicodedata.bidirectional(ch) in _BIDI_CLASSES for ch in text):
        return text
    return f"\u2068{balance_bidi(text)}\u2069"


def display_url(url: str) -> str:
    """A result's source address as people read it: no scheme, no trailing slash."""
    parts = urlsplit(url)
    shown = parts.netloc + parts.path.rstrip("/")
    return shown + (f"?{parts.query}" if parts.query else "") or url


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are rendered, so a stored ``javascript:`` URL cannot run."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build a configured app; ``config`` overrides the defaults (e.g. ``SEARCH_INDEX``)."""
    app = Flask(__name__)
    app.config.from_mapping(
        SEARCH_INDEX=None,  # None: the engine's default (env SEARCH_INDEX or ./index)
        INDEX_RETRY_SECONDS=2.0,  # how soon to try again to open an index that was missing
        RATE_LIMIT_PER_MINUTE=0,  # search requests per client and minute; 0: no limit
        SEND_FILE_MAX_AGE_DEFAULT=3600,
        MAX_CONTENT_LENGTH=64 * 1024,  # only the document API takes larger bodies
        MAX_QUERY_STRING=MAX_QUERY_STRING,
        SEARCH_OPTIONS=None,  # SearchIndex options, e.g. {"synonyms": Synonyms.load(...)}
        QUERY_LOG=None,  # a file to append one JSON line per search to (search.querylog)
        QUERY_LOG_MAX_BYTES=None,  # rotate it at this size (default: querylog's)
        API_KEYS=(),  # keys allowed to write through the document API; none: read-only
        DOCUMENTS_MAX_BYTES=10 * 1024 * 1024,  # largest body of a document write
        DOCUMENTS_LOCK_TIMEOUT=10.0,  # seconds a write waits for another writer
    )
    if config:
        app.config.from_mapping(config)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters["isolate"] = isolate
    app.json.sort_keys = False  # keep the engine's field order in API answers
    app.json.ensure_ascii = False
    app.extensions["search_index"] = IndexHolder(
        app.config["SEARCH_INDEX"], retry_seconds=float(app.config["INDEX_RETRY_SECONDS"]),
        options=app.config["SEARCH_OPTIONS"])

    _install_i18n(app)
    _install_security_headers(app)
    _install_relative_redirects(app)
    _install_request_limits(app)
    _install_rate_limit(app)
    _install_query_log(app)

    from web import api, documents, errors, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(documents.bp)
    errors.register(app)
    return app


def index_holder(app: Flask) -> IndexHolder:
    """The app's shared IndexHolder."""
    return app.extensions["search_index"]


def record_search(app: Flask, results: Any, source: str) -> None:
    """Append a search to the query log, when ``QUERY_LOG`` names one (else nothing)."""
    query_log = app.extensions.get("query_log")
    if query_log is not None:
        query_log.record(results, source)


def _install_query_log(app: Flask) -> None:
    path = app.config.get("QUERY_LOG")
    if not path:
        return
    from search.querylog import DEFAULT_MAX_BYTES, QueryLog

    app.extensions["query_log"] = QueryLog(
        path, max_bytes=int(app.config.get("QUERY_LOG_MAX_BYTES") or DEFAULT_MAX_BYTES))


def _install_i18n(app: Flask) -> None:
    @app.before_request
    def choose_ui() -> None:
        ui, remember = i18n.negotiate(request.args.get("ui"), request.cookies.get(i18n.COOKIE),
                                      request.accept_languages)
        g.ui, g.remember_ui = ui, remember

    @app.after_request
    def remember_ui(response):  # type: ignore[no-untyped-def]
        if getattr(g, "remember_ui", False):
            response.set_cookie(i18n.COOKIE, g.ui, max_age=i18n.COOKIE_MAX_AGE, path="/",
                                samesite="Lax", httponly=True)
        if request.endpoint != "static":  # pages differ by UI language; assets do not
            response.vary.add("Accept-Language")
            response.vary.add("Cookie")
        return response

    @app.context_processor
    def i18n_helpers() -> dict[str, Any]:
        ui = getattr(g, "ui", i18n.DEFAULT_UI)
        other = i18n.other_lang(ui)
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "ui"]
        switch_url = request.path + "?" + urlencode(args + [("ui", other)])
        return {
            "ui": ui,
            "other_ui": other,
            "switch_url": switch_url,
            "endonyms": i18n.ENDONYMS,
            "t": lambda key, **kw: i18n.t(key, ui, **kw),
            "both": lambda key, **kw: i18n.both(key, ui, **kw),
            "plural": lambda key, n: i18n.plural(key, n, ui),
            "lang_name": lambda code: i18n.lang_name(code, ui),
            "format_date": lambda iso: i18n.format_date(iso, ui),
            "format_number": lambda n: i18n.format_number(n, ui),
            "format_seconds": lambda ms: i18n.format_seconds(ms, ui),
            "machine_date": i18n.machine_date,
            "trusted": trusted_fragment,
            "safe_url": safe_url,
            "display_url": display_url,
        }


def _install_request_limits(app: Flask) -> None:
    """Refuse oversized requests up front with a clear 413/414, before any work is done.

    Werkzeug enforces ``MAX_CONTENT_LENGTH`` only when a body is read, and only the document
    API reads one (up to ``DOCUMENTS_MAX_BYTES``), so the declared length is checked here;
    waitress caps what it buffers as well.
    """
    max_query = int(app.config["MAX_QUERY_STRING"])
    max_body = app.config["MAX_CONTENT_LENGTH"]
    max_documents = app.config["DOCUMENTS_MAX_BYTES"]

    @app.before_request
    def request_limits():  # type: ignore[no-untyped-def]
        from web.errors import respond_error

        if len(request.query_string) > max_query:
            return respond_error(414, "uri_too_long", "err_uri_too_long", max=max_query)
        length = request.content_length
        limit = max_documents if request.blueprint == "documents" else max_body
        if limit is not None and length is not None and length > limit:
            return respond_error(413, "too_large", "err_too_large", max=limit)
        return None


def _install_rate_limit(app: Flask) -> None:
    per_minute = int(app.config["RATE_LIMIT_PER_MINUTE"] or 0)
    if per_minute <= 0:
        return
    from web.ratelimit import RateLimiter

    limiter = RateLimiter(per_minute)
    app.extensions["rate_limiter"] = limiter

    @app.before_request
    def limit_searches():  # type: ignore[no-untyped-def]
        if request.path not in ("/search", "/api/search"):
            return None
        allowed, wait = limiter.allow(request.remote_addr or "?")
        if allowed:
            return None
        from web.errors import respond_error

        response = respond_error(429, "rate_limited", "err_rate_limited")
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response


def relative_location(location: str) -> str:
    """A redirect target without scheme and host: the browser resolves it against the
    address it asked for, so a forged ``Host`` header cannot send anyone elsewhere.

    Werkzeug's own redirects (``/doc//x`` -> ``/doc/x``, merged slashes) are absolute URLs
    built from the ``Host`` header; every redirect this app makes goes to itself, so only
    the path and query are kept (``//evil`` is made ``/evil``, never a host).
    """
    parts = urlsplit(location)
    if not (parts.scheme or parts.netloc) and not location.startswith("//"):
        return location
    path = "/" + parts.path.lstrip("/")
    return path + (f"?{parts.query}" if parts.query else "")


def _install_relative_redirects(app: Flask) -> None:
    @app.after_request
    def relative_redirects(response):  # type: ignore[no-untyped-def]
        location = response.headers.get("Location")
        if location is None:
            return response
        relative = relative_location(location)
        if relative != location:
            response.headers["Location"] = relative
            if 300 <= response.status_code < 400:  # its little page names the target too
                response.set_data(werkzeug_redirect(relative, response.status_code).get_data())
        return response


def _install_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response
