"""Server-rendered pages: home, results and document. They work without JavaScript."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from search.errors import SearchError
from web import i18n, index_holder, isolate, record_search
from web.errors import error_page, index_error_key
from web.params import SearchParams, parse_query, parse_search

if TYPE_CHECKING:
    from search import SearchIndex

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str | tuple[str, int]:
    """The search box, with how many documents in which languages can be found."""
    try:
        stats = index_holder(current_app).get().stats()
    except SearchError as exc:
        _code, key = index_error_key(exc)
        return render_template("home.html", stats=None,
                               problem=i18n.both(key, g.ui)), 503
    return render_template("home.html", stats=stats, problem=None)


@bp.get("/search")
def search() -> str | tuple[str, int] | Response:
    """A page of results with facets, sorting, paging and "did you mean"."""
    params = parse_search(request.args)
    if not params.q:
        return redirect(url_for("pages.home"))
    index = index_holder(current_app).get()
    # A page and its translation are one hit, in the visitor's language where it has one.
    group = g.ui if params.group is True else params.group
    results = index.search(params.q, lang=params.lang, year=params.year, sort=params.sort,
                           page=params.page, per_page=params.per_page, snippets=True,
                           group=group)
    if not request.headers.get("X-Search-Live"):  # typed live: not yet a search of record
        record_search(current_app, results, "page")
    first = (results.page - 1) * results.per_page + 1
    return render_template("search.html", params=params, results=results,
                           first=first, last=first + len(results.hits) - 1,
                           page_links=page_window(results.page, results.pages),
                           suggestion_lang=(_majority(results.facets.get("lang", {}))
                                            if results.corrected else
                                            suggestion_language(index, results.suggestion)))


@bp.get("/doc/<path:doc_id>")
def document(doc_id: str) -> str | tuple[str, int]:
    """One whole document with the query's matches highlighted and its translation linked."""
    q = parse_query(request.args.get("q"))
    index = index_holder(current_app).get()
    doc = index.document(doc_id, query=q or None)
    if doc is None:
        return error_page(404, "err_doc_not_found", id=isolate(doc_id))
    return render_template("doc.html", doc=doc, q=q, params=SearchParams(q=q))


@bp.get("/healthz")
def healthz() -> tuple[dict, int, dict[str, str]]:
    """For monitors: 200 with the index's size when it opens and is on disk, 503 and the
    reason otherwise (``unavailable``: it cannot be opened; ``degraded``: it is open but its
    folder is gone, so searches are answered from what was open)."""
    headers = {"Cache-Control": "no-store"}
    try:
        index = index_holder(current_app).get()
        stats = index.stats()
    except SearchError as exc:
        code, key = index_error_key(exc)
        return {"status": "unavailable", "code": code, "message": i18n.t(key, "en"),
                "messages": {lang: i18n.t(key, lang) for lang in i18n.UI_LANGS}}, 503, headers
    body = {"status": "ok", "documents": stats.doc_count, "by_lang": stats.by_lang,
            "engine_version": stats.engine_version}
    if not index_on_disk(index.path):
        # Searches still work from the files the process holds open, but the next restart
        # or update will not: a monitor must hear about it now.
        key = "err_index_gone"
        return {**body, "status": "degraded", "code": "index_gone",
                "message": i18n.t(key, "en"),
                "messages": {lang: i18n.t(key, lang) for lang in i18n.UI_LANGS}}, 503, headers
    return body, 200, headers


def index_on_disk(path: str | Path) -> bool:
    """Whether the served index folder still has a current generation on disk.

    An open index keeps answering from its open files after its folder was deleted (or
    moved, or its ``current`` pointer broken), which hides the loss until the next restart.
    """
    from search.storage import IndexLayout

    return IndexLayout(path).current() is not None


def suggestion_language(index: SearchIndex, suggestion: str | None) -> str | None:
    """The language of a "did you mean" suggestion, for its ``lang`` attribute: the one most
    of its matches are in (None on a tie or without matches, so the page's language holds).

    The suggestion is made of the index's own words, so a Slovenian UI can offer an English
    word; marked, a screen reader pronounces it as that language. Suggestions come only for
    queries that found almost nothing, so the extra count is rare and cheap (no snippets).
    """
    if not suggestion:
        return None
    return _majority(index.search(suggestion, per_page=1, snippets=False).facets.get("lang", {}))


def _majority(counts: dict[str, int]) -> str | None:
    """The language most of ``counts`` are in; None on a tie or when there are none."""
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def page_window(page: int, pages: int, radius: int = 2) -> list[int | None]:
    """Page numbers to link: the first, the last and ``radius`` around the current one.

    None marks a gap ("…"), so a 300-page result does not print 300 links.
    """
    wanted = {1, pages} | set(range(max(1, page - radius), min(pages, page + radius) + 1))
    out: list[int | None] = []
    previous = 0
    for n in sorted(wanted):
        if n - previous > 1:
            out.append(None)
        out.append(n)
        previous = n
    return out
