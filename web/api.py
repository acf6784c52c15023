"""The JSON API: the same search as the pages, for programs, described by OpenAPI 3."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from web import index_holder, isolate, record_search
from web.errors import json_error
from web.openapi import openapi_document
from web.params import parse_complete, parse_query, parse_search

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/search")
def search() -> ResponseReturnValue:
    """Results.to_dict(): hits with snippets, total, facets, suggestion and paging; a page
    and its translation are one hit, the better-ranked version (``group``: false, or the
    language whose version to show; see search.grouping)."""
    params = parse_search(request.args, require_query=True)
    index = index_holder(current_app).get()
    results = index.search(params.q, lang=params.lang, year=params.year, sort=params.sort,
                           page=params.page, per_page=params.per_page,
                           snippets=params.snippets, group=params.group)
    record_search(current_app, results, "api")
    return jsonify(results.to_dict())


@bp.get("/complete")
def complete() -> ResponseReturnValue:
    """Completions of what is being typed: ``{"completions": [{"text", "lang", "kind"}]}``."""
    params = parse_complete(request.args)
    completions = index_holder(current_app).get().complete(params.q, lang=params.lang)
    response = jsonify({"query": params.q, "completions": [c.to_dict() for c in completions]})
    response.headers["Cache-Control"] = "public, max-age=60"  # typing repeats prefixes
    return response


@bp.get("/doc/<path:doc_id>")
def document(doc_id: str) -> ResponseReturnValue:
    """DocumentView.to_dict(): the whole document, highlighted for ``q`` when given."""
    q = parse_query(request.args.get("q"))
    doc = index_holder(current_app).get().document(doc_id, query=q or None)
    if doc is None:
        return json_error(404, "document_not_found", "err_doc_not_found",
                          id=isolate(doc_id))
    return jsonify(doc.to_dict())


@bp.get("/stats")
def stats() -> ResponseReturnValue:
    """Document count by language and year, engine version, and each field's analysis steps.

    Not ``IndexStats`` as it is: its ``path`` says where the index lives on the server
    (nobody's business), and its analysers are Python reprs with whole stop lists.
    """
    info = index_holder(current_app).get().stats()
    return jsonify({"doc_count": info.doc_count, "by_lang": info.by_lang,
                    "by_year": info.by_year, "engine_version": info.engine_version,
                    "analyzers": {name: analysis_steps(text)
                                  for name, text in sorted(info.analyzers.items())}})


#: A tokenizer's or filter's class name where its repr opens: ``LowercaseFilter(``.
_STEP = re.compile(r"\b([A-Z]\w*(?:Tokenizer|Filter))\(")


def analysis_steps(analyzer_repr: str) -> list[str]:
    """The tokenizer and filters of an analyser, in order, from the repr the index records:
    ``["UnicodeWordTokenizer", "LowercaseFilter", "StopFilter", "LemmaFilter"]``."""
    return _STEP.findall(analyzer_repr)


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3 description of this API."""
    return jsonify(openapi_document())
