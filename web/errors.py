"""Error pages and JSON errors: bilingual, with the right status, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, make_response, render_template, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from search.errors import IncompatibleIndex, IndexNotFound, SearchError
from web import i18n
from web.params import ParamError

log = logging.getLogger(__name__)

#: HTTP status -> (machine code, i18n message key) for errors werkzeug raises.
_HTTP: dict[int, tuple[str, str]] = {
    400: ("bad_request", "err_bad_request"),
    404: ("not_found", "err_not_found"),
    405: ("method_not_allowed", "err_method"),
    413: ("too_large", "err_bad_request"),
    414: ("uri_too_long", "err_bad_request"),
    429: ("rate_limited", "err_rate_limited"),
    500: ("internal_error", "err_internal"),
}


def wants_json() -> bool:
    """API and monitoring routes answer in JSON, everything else in HTML."""
    return request.path.startswith("/api/") or request.path in ("/api", "/healthz")


def index_error_key(exc: SearchError) -> tuple[str, str]:
    """(code, message key) for an engine error: why the index cannot be used."""
    if isinstance(exc, IndexNotFound):
        return "index_missing", "err_index_missing"
    if isinstance(exc, IncompatibleIndex):
        return "index_incompatible", "err_index_incompatible"
    return "index_unavailable", "err_index_unavailable"


def json_error(status: int, code: str, key: str, **params: object) -> tuple[Response, int]:
    """The API's error body: a stable code plus the message in English and Slovenian."""
    body = {"error": {"status": status, "code": code,
                      "message": i18n.t(key, "en", **params),
                      "messages": {lang: i18n.t(key, lang, **params) for lang in i18n.UI_LANGS}}}
    return jsonify(body), status


def error_page(status: int, key: str, **params: object) -> tuple[str, int]:
    """A bilingual HTML error page (UI language first, the other one below)."""
    ui = getattr(g, "ui", i18n.DEFAULT_UI)
    return render_template("error.html", status=status,
                           messages=i18n.both(key, ui, **params)), status


def respond_error(status: int, code: str, key: str, **params: object) -> Response:
    """JSON or HTML error, whichever the route speaks."""
    if wants_json():
        return make_response(json_error(status, code, key, **params))
    try:
        return make_response(error_page(status, key, **params))
    except Exception:  # the error page itself failed: still say something useful, safely
        log.exception("error page failed")
        text = "".join(f"<p lang=\"{lang}\">{escape(msg)}</p>"
                       for lang, msg in i18n.both(key, i18n.DEFAULT_UI, **params))
        return make_response(f"<!doctype html><title>{status}</title>{text}", status)


def register(app: Flask) -> None:
    """Install the handlers on ``app``."""

    @app.errorhandler(ParamError)
    def param_error(exc: ParamError):  # type: ignore[no-untyped-def]
        return respond_error(exc.status, exc.code, exc.key, **exc.params)

    @app.errorhandler(SearchError)
    def engine_error(exc: SearchError):  # type: ignore[no-untyped-def]
        log.warning("search index unavailable: %s", exc)
        code, key = index_error_key(exc)
        return respond_error(503, code, key)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        code, key = _HTTP.get(status, ("http_error", "err_bad_request" if status < 500
                                       else "err_internal"))
        response = respond_error(status, code, key)
        allowed = getattr(exc, "valid_methods", None)
        if status == 405 and allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error on %s", request.path)
        return respond_error(500, "internal_error", "err_internal")
