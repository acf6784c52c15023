"""The document API: add, replace, delete and read documents by id, as Meilisearch and
Elasticsearch users expect (``PUT``/``DELETE``/``GET /api/documents/{id}``, a batch with
``POST /api/documents``).

Writes go through the library writer (:func:`search.open_writer`): each request is one
all-or-nothing commit under the index's writer lock, so they never clash with
``search-cli index``. They need ``Authorization: Bearer KEY`` with a key from
``search-cli serve --api-key-file FILE`` or ``$SEARCH_API_KEYS``; with no key configured
every write is refused (403), so a server is read-only unless someone decides otherwise.
Keys are compared in constant time and never logged. Reading stays public, as searching is.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from search import IndexLocked, InvalidDocument, SearchError, open_writer
from search.writer import DOCUMENT_FIELDS, IndexWriter, json_type
from web import i18n, index_holder
from web.errors import json_error

bp = Blueprint("documents", __name__, url_prefix="/api/documents")

#: Largest request body of a document write (bytes); app config ``DOCUMENTS_MAX_BYTES``.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
#: Seconds a write waits for another writer (``search-cli index``) before a 503.
DEFAULT_LOCK_TIMEOUT = 10.0
#: Environment variable with API keys (separated by commas or white space).
ENV_KEYS = "SEARCH_API_KEYS"
#: Shorter keys are refused: they can be guessed.
MIN_KEY_CHARS = 16
#: Media types of a batch given as one JSON document per line.
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl",
                "application/jsonlines", "application/json-seq")


# -- keys -------------------------------------------------------------------------------------

def load_api_keys(key_file: str | Path | None = None,
                  environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The API keys of ``key_file`` (one a line; blank lines and ``#`` comments skipped)
    and of ``$SEARCH_API_KEYS``. Raises ``ValueError`` (the message never shows a key) for
    an unreadable file or a key shorter than :data:`MIN_KEY_CHARS` characters."""
    environ = os.environ if environ is None else environ
    found: list[tuple[str, str]] = []  # (where, key)
    if key_file is not None:
        try:
            lines = Path(key_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"Cannot read the API key file {key_file}: "
                             f"{getattr(exc, 'strerror', None) or exc}") from None
        for n, line in enumerate(lines, 1):
            key = line.strip()
            if key and not key.startswith("#"):
                found.append((f"{key_file} line {n}", key))
    for n, key in enumerate(environ.get(ENV_KEYS, "").replace(",", " ").split(), 1):
        found.append((f"${ENV_KEYS} (key {n})", key))
    for where, key in found:
        if len(key) < MIN_KEY_CHARS:
            raise ValueError(f"The API key in {where} is shorter than {MIN_KEY_CHARS} "
                             "characters. Make one with: python -c \"import secrets; "
                             "print(secrets.token_urlsafe(32))\"")
    return tuple(dict.fromkeys(key for _, key in found))


def _digest(key: str) -> bytes:
    # Hashing first makes every comparison the same length (compare_digest's time is
    # independent of the contents, not of the lengths).
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def _authorize() -> Response | None:
    """None when the request carries a configured key; else the 403 or 401 to answer."""
    keys: tuple[str, ...] = tuple(current_app.config.get("API_KEYS") or ())
    if not keys:
        return _error(403, "writes_disabled", "err_writes_disabled")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        response = _error(401, "unauthorized", "err_api_key_missing")
    else:
        given = _digest(token)
        # Every key is compared, so the time does not say which one (or whether one) matched.
        matches = [hmac.compare_digest(given, _digest(key)) for key in keys]
        if any(matches):
            return None
        response = _error(401, "unauthorized", "err_api_key_wrong")
    response.headers["WWW-Authenticate"] = 'Bearer realm="documents"'
    return response


# -- errors -----------------------------------------------------------------------------------

def _error(status: int, code: str, key: str, **params: object) -> Response:
    response, _ = json_error(status, code, key, **params)
    response.status_code = status
    return response


def _with_details(response: Response, **details: Any) -> Response:
    """Add machine-readable details (the document, the field) to an error body."""
    body = response.get_json()
    body["error"].update(details)
    response.set_data(json.dumps(body, ensure_ascii=False))
    return response


def _document_message(exc: InvalidDocument, lang: str) -> str:
    where = []
    if exc.index is not None:
        where.append(i18n.t("doc_where_index", lang, index=exc.index))
    if exc.doc_id is not None:
        where.append(i18n.t("doc_where_id", lang, id=exc.doc_id))
    if exc.field is not None:
        where.append(i18n.t("doc_where_field", lang, field=exc.field))
    params = dict(exc.params)
    names = i18n.JSON_TYPES.get(lang, {})
    for name in ("expected", "got"):
        if name in params:
            params[name] = names.get(str(params[name]), params[name])
    if "max" in params:
        params["max"] = i18n.format_number(int(params["max"]), lang)  # type: ignore[arg-type]
    problem = i18n.t(f"doc_problem_{exc.problem}", lang, **params)
    text = ", ".join(where)
    text = f"{text}: {problem}." if text else f"{problem}."
    return text[0].upper() + text[1:]


def _invalid(exc: InvalidDocument) -> Response:
    """400 naming the document (its place in the batch, its id) and the field."""
    messages = {lang: _document_message(exc, lang) for lang in i18n.UI_LANGS}
    body = {"error": {"status": 400, "code": "invalid_document", "message": messages["en"],
                      "messages": messages, "field": exc.field, "problem": exc.problem,
                      "document": {"index": exc.index, "id": exc.doc_id}}}
    response = jsonify(body)
    response.status_code = 400
    return response


def _bad_json(exc: json.JSONDecodeError, line: int | None = None) -> Response:
    line = exc.lineno if line is None else line
    response = _error(400, "invalid_json", "err_invalid_json", line=line, column=exc.colno)
    return _with_details(response, line=line)


class _BadBody(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


# -- bodies -----------------------------------------------------------------------------------

def _text_body() -> str:
    data = request.get_data(cache=False)  # bounded by request.max_content_length (413)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _BadBody(_bad_json(json.JSONDecodeError("not UTF-8", "", exc.start))) from None


def _loads(text: str, line: int | None = None) -> Any:
    """``json.loads``; any failure (also nesting too deep, or an integer of thousands of
    digits, which json refuses with a plain ValueError) is a 400 naming the line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _BadBody(_bad_json(exc, line=line)) from None
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise _BadBody(_bad_json(json.JSONDecodeError(reason, text, 0), line=line)) from None


def _batch() -> list[Any]:
    """The documents of a batch body: a JSON array, or one JSON document a line."""
    text = _text_body()
    mimetype = request.mimetype or ""
    if text.lstrip().startswith("[") and mimetype not in NDJSON_TYPES:
        docs = _loads(text)
        if not isinstance(docs, list):  # pragma: no cover - "[" always parses to a list
            docs = [docs]
    else:
        docs = [_loads(line, line=n) for n, line in enumerate(text.splitlines(), 1)
                if line.strip()]
    if not docs:
        raise _BadBody(_error(400, "empty_batch", "err_empty_batch"))
    return docs


# -- writing ----------------------------------------------------------------------------------

def _write(change: Callable[[IndexWriter], Any]) -> tuple[Any, IndexWriter]:
    """Run ``change`` in one writer (one commit); then show the commit to this process's
    open index at once (other worker processes see it within their refresh interval)."""
    holder = index_holder(current_app)
    timeout = float(current_app.config.get("DOCUMENTS_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT))
    with open_writer(holder.path, timeout=timeout) as writer:
        result = change(writer)
    try:
        holder.get().refresh(force=True)
    except SearchError:
        pass  # not open yet here: the next request opens the index with the commit in it
    return result, writer


def _counts(writer: IndexWriter) -> dict[str, int]:
    report = writer.report
    assert report is not None
    return {"added": report.added, "updated": report.updated, "unchanged": report.unchanged,
            "deleted": report.deleted}


def _ignored(doc: Any) -> list[str]:
    return sorted(k for k in doc if k not in DOCUMENT_FIELDS) if isinstance(doc, dict) else []


def _handle(view: Callable[[], ResponseReturnValue]) -> ResponseReturnValue:
    """Authorize, run ``view``, and turn what the writer raises into clear answers."""
    refused = _authorize()
    if refused is not None:
        return refused
    try:
        return view()
    except _BadBody as exc:
        return exc.response
    except InvalidDocument as exc:
        return _invalid(exc)
    except IndexLocked:
        response = _error(503, "index_busy", "err_index_busy")
        response.headers["Retry-After"] = "5"
        return response


@bp.before_request
def _body_limit() -> None:
    # The app refuses bodies over 64 KB; writes here may be larger (also when the length is
    # not declared up front: the body is cut off at this many bytes with a 413).
    request.max_content_length = int(current_app.config.get("DOCUMENTS_MAX_BYTES",
                                                            DEFAULT_MAX_BYTES))


@bp.put("/<path:doc_id>")
def put_document(doc_id: str) -> ResponseReturnValue:
    """Insert or replace one document; 201 when it is new, else 200."""

    def view() -> ResponseReturnValue:
        doc = _loads(_text_body())
        if not isinstance(doc, dict):
            raise InvalidDocument(None, "not_object", "not an object", doc_id=doc_id,
                                  got=json_type(doc))
        given = doc.get("id")
        if given is not None and str(given).strip() != doc_id.strip():
            raise InvalidDocument("id", "id_mismatch", "differs from the id in the address",
                                  doc_id=doc_id, path_id=doc_id)
        doc = {**doc, "id": doc_id}
        added, writer = _write(lambda w: w.add(doc))
        counts = _counts(writer)
        result = ("created" if counts["added"] else "updated" if counts["updated"]
                  else "unchanged")
        response = jsonify({"id": added, "result": result, "ignored_fields": _ignored(doc)})
        if result == "created":
            response.status_code = 201
            response.headers["Location"] = request.path
        return response

    return _handle(view)


@bp.post("")
def post_documents() -> ResponseReturnValue:
    """Insert or replace a batch of documents in one commit: all of them or none."""

    def view() -> ResponseReturnValue:
        docs = _batch()
        ids, writer = _write(lambda w: w.add_many(docs))
        ignored = sorted({k for doc in docs for k in _ignored(doc)})
        return jsonify({"documents": len(ids), **_counts(writer), "ignored_fields": ignored})

    return _handle(view)


@bp.delete("/<path:doc_id>")
def delete_document(doc_id: str) -> ResponseReturnValue:
    """Delete one document; 404 if there is none with this id."""

    def view() -> ResponseReturnValue:
        _, writer = _write(lambda w: w.delete(doc_id))
        if not _counts(writer)["deleted"]:
            return _error(404, "document_not_found", "err_doc_not_found", id=doc_id)
        return jsonify({"id": doc_id, "result": "deleted"})

    return _handle(view)


@bp.get("/<path:doc_id>")
def get_document(doc_id: str) -> ResponseReturnValue:
    """One document as stored (public, like searching); ``source`` says whether it came
    from a file (``search-cli index``) or through this API."""
    doc = index_holder(current_app).get().document(doc_id)
    if doc is None:
        return _error(404, "document_not_found", "err_doc_not_found", id=doc_id)
    return jsonify({"id": doc.id, "title": doc.title, "text": doc.text, "lang": doc.lang,
                    "date": doc.date, "url": doc.url, "translation_id": doc.translation_id,
                    "source": "file" if doc.path else "api"})

