"""The OpenAPI 3.0 document for /api: one place that says what the API accepts and returns."""

from __future__ import annotations

from typing import Any

from search.analysis import LANGUAGES
from search.grouping import GROUP_WINDOW, WINDOW_PAGES
from web import MAX_QUERY_STRING
from web.openapi_common import error_response, nullable
from web.openapi_documents import document_paths, document_schemas
from web.params import (
    DEFAULT_PER_PAGE,
    LANGS,
    MAX_COMPLETE,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_QUERY,
)

_TOO_LONG = error_response(f"The query string is over {MAX_QUERY_STRING} bytes.")


def openapi_document() -> dict[str, Any]:
    """Build the document; its server URL is relative, so it never echoes the Host header."""
    query_param = {"name": "q", "in": "query", "required": True,
                   "description": "The query, in Slovenian or English. Words, \"phrases\", "
                                  "AND/OR/NOT, and field:value are understood; malformed "
                                  "syntax is searched as plain words.",
                   "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY}}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Bilingual search API",
            "version": "1.0.0",
            "description": "Full-text search over Slovenian and English documents. Error "
                           "messages come in English (`message`) and in both languages "
                           "(`messages`).",
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/search": {
                "get": {
                    "operationId": "search",
                    "summary": "Search the index",
                    "parameters": [
                        query_param,
                        # An empty value is the same as none (what an HTML form sends).
                        {"name": "lang", "in": "query", "allowEmptyValue": True,
                         "description": "Only documents in this language (with those of "
                                        "unknown language); `und`: only those of unknown "
                                        "language.",
                         "schema": {"type": "string", "enum": list(LANGS)}},
                        {"name": "year", "in": "query", "allowEmptyValue": True,
                         "description": "Only documents from this year.",
                         "schema": {"type": "string", "pattern": "^[0-9]{4}$"}},
                        {"name": "sort", "in": "query", "allowEmptyValue": True, "schema": {
                            "type": "string", "enum": ["relevance", "newest"],
                            "default": "relevance"}},
                        {"name": "page", "in": "query", "allowEmptyValue": True, "schema": {
                            "type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                            "default": 1}},
                        {"name": "per_page", "in": "query", "allowEmptyValue": True,
                         "schema": {"type": "integer", "minimum": 1,
                                    "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE}},
                        {"name": "snippets", "in": "query", "allowEmptyValue": True,
                         "description": "Whether to build highlighted snippets (slower).",
                         "schema": {"type": "boolean", "default": True}},
                        {"name": "group", "in": "query", "allowEmptyValue": True,
                         "description": "With no language filter, a document and its "
                                        "translation are one hit: `true` shows the "
                                        "better-ranked version, a language code that "
                                        "language's version (in the place of the better-"
                                        "ranked one), `false` lists every document. Pairs "
                                        "are folded among the first max("
                                        f"{GROUP_WINDOW}, {WINDOW_PAGES} × per_page) "
                                        "candidates.",
                         "schema": {"type": "string",
                                    "enum": ["true", "false", *LANGUAGES],
                                    "default": "true"}},
                    ],
                    "responses": {
                        "200": {"description": "A page of results.", "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Results"}}}},
                        "400": error_response("A parameter is invalid (e.g. a query over "
                                               f"{MAX_QUERY} characters or a page number "
                                               f"outside 1-{MAX_PAGE})."),
                        "414": _TOO_LONG,
                        "429": error_response("Too many searches from this client in a "
                                               "minute (`search-cli serve --rate-limit`); "
                                               "see the Retry-After header."),
                        "503": error_response("The index is missing or cannot be read."),
                    },
                },
            },
            "/api/complete": {
                "get": {
                    "operationId": "complete",
                    "summary": "Completions of what is being typed",
                    "description": "Up to 8 completions, in both languages unless `lang` "
                                   "restricts: the last word finished (inflections of a "
                                   "Slovenian word are one completion, shown as its lemma), "
                                   "or a title or two-word title phrase that starts with "
                                   "the text. Diacritics are optional (`sar` finds "
                                   "`Šaranović`). A trailing space means the last word is "
                                   "finished.",
                    "parameters": [
                        {"name": "q", "in": "query", "required": True,
                         "allowEmptyValue": True,
                         "description": "What has been typed so far (empty: nothing "
                                        "completes).",
                         "schema": {"type": "string", "maxLength": MAX_COMPLETE}},
                        {"name": "lang", "in": "query", "allowEmptyValue": True,
                         "description": "Only completions in this language.",
                         "schema": {"type": "string", "enum": list(LANGUAGES)}},
                    ],
                    "responses": {
                        "200": {"description": "The completions, most frequent first.",
                                "content": {"application/json": {"schema": {
                                    "$ref": "#/components/schemas/Completions"}}}},
                        "400": error_response(f"`q` is missing or over {MAX_COMPLETE} "
                                               "characters, or `lang` is not sl or en."),
                        "503": error_response("The index is missing or cannot be read."),
                    },
                },
            },
            "/api/doc/{doc_id}": {
                "get": {
                    "operationId": "document",
                    "summary": "A whole document",
                    "parameters": [
                        {"name": "doc_id", "in": "path", "required": True,
                         "description": "The document id; it may contain slashes.",
                         "schema": {"type": "string"}},
                        {"name": "q", "in": "query", "description": "Highlight this query.",
                         "schema": {"type": "string", "maxLength": MAX_QUERY}},
                    ],
                    "responses": {
                        "200": {"description": "The document.", "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Document"}}}},
                        "400": error_response("The highlighting query is invalid (too long, "
                                               "too many wildcards, a word too long)."),
                        "404": error_response("No such document."),
                        "414": _TOO_LONG,
                        "503": error_response("The index is missing or cannot be read."),
                    },
                },
            },
            "/api/stats": {
                "get": {
                    "operationId": "stats",
                    "summary": "Size and make-up of the index",
                    "description": "Documents by language and year, the engine version, and "
                                   "the analysis steps of each field; where the index lives "
                                   "on the server is not told.",
                    "responses": {
                        "200": {"description": "Index statistics.", "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Stats"}}}},
                        "503": error_response("The index is missing or cannot be read."),
                    },
                },
            },
            **document_paths(),
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "For monitors: can the index be opened?",
                    "responses": {
                        "200": {"description": "The index opens.", "content": {
                            "application/json": {"schema": {"$ref":
                                                            "#/components/schemas/Health"}}}},
                        "503": {"description": "`unavailable`: the index cannot be opened; "
                                "`degraded`: its folder was deleted, searches are answered "
                                "from what the server has open.", "content": {
                            "application/json": {"schema": {"$ref":
                                                            "#/components/schemas/Health"}}}},
                    },
                },
            },
        },
        "components": {
            "schemas": {**_schemas(), **document_schemas()},
            "securitySchemes": {"apiKey": {
                "type": "http", "scheme": "bearer",
                "description": "A key from `search-cli serve --api-key-file FILE` (one key a "
                               "line) or `$SEARCH_API_KEYS`. Without any configured key every "
                               "write is refused with 403."}},
        },
    }


_AS_STORED = ("As stored: it may hold Unicode bidirectional controls (U+202A-U+202E, "
              "U+2066-U+2069), even unbalanced; isolate it when showing it (<bdi>).")
_BALANCED = ("Every bidirectional control it opens is closed within it (and within each "
             "paragraph), so a cut cannot leave a right-to-left override open.")


def _schemas() -> dict[str, Any]:
    counts = {"type": "object", "additionalProperties": {"type": "integer"}}
    return {
        "Hit": {
            "type": "object",
            "required": ["id", "title", "lang", "score", "snippet", "rank"],
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string", "description": _AS_STORED},
                "lang": {"type": "string"},
                "date": nullable("string", description="ISO 8601, possibly partial"),
                "score": {"type": "number"},
                "snippet": {"type": "string", "description": "Escaped HTML; matches are "
                            "wrapped in <mark>. " + _BALANCED},
                "rank": {"type": "integer"},
                "url": nullable("string"),
                "translated_terms": {"type": "array", "items": {"type": "string"}},
                "page": nullable("integer", description="PDF: the page (from 1) of the "
                                  "first match."),
                "translation_id": nullable("string", description="The same document in "
                                            "the other language, if indexed."),
                "translation_lang": nullable("string"),
                "translation_title": nullable("string", description=_AS_STORED),
                "grouped": {"type": "boolean", "description": "The translation was folded "
                            "into this hit (it is not listed on its own)."},
            },
        },
        "Results": {
            "type": "object",
            "required": ["query", "total", "page", "per_page", "pages", "facets", "hits"],
            "properties": {
                "query": {"type": "string"},
                "total": {"type": "integer", "minimum": 0},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1},
                "pages": {"type": "integer", "minimum": 1},
                "lang": nullable("string"),
                "year": nullable("string"),
                "sort": {"type": "string", "enum": ["relevance", "newest"]},
                "facets": {"type": "object", "properties": {"lang": counts, "year": counts},
                           "additionalProperties": counts},
                "suggestion": nullable("string", description="\"Did you mean\" query: "
                                        "the query with its misspelt words corrected, "
                                        "offered but not searched."),
                "corrected": nullable("string", description="The corrected query that was "
                                       "searched instead of `query`, none of whose words "
                                       "matched directly (\"showing results for\"). "
                                       "A word in double quotes is searched as typed."),
                "synonyms": {"type": "array", "description": "Declared synonyms the query "
                             "also searched (serve --synonyms).", "items": {
                                 "type": "object", "required": ["matched", "expanded"],
                                 "properties": {
                                     "matched": {"type": "string"},
                                     "lang": nullable("string"),
                                     "expanded": {"type": "array",
                                                  "items": {"type": "string"}}}}},
                "folded": {"type": "integer", "minimum": 0, "description": "Translation "
                           "pairs shown as one hit (`grouped`). `total` and `facets` count "
                           "documents; `pages` counts the `total - folded` hits."},
                "elapsed_ms": {"type": "number"},
                "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
            },
        },
        "Completions": {
            "type": "object",
            "required": ["query", "completions"],
            "properties": {
                "query": {"type": "string"},
                "completions": {"type": "array", "maxItems": 8, "items": {
                    "type": "object",
                    "required": ["text", "lang", "kind"],
                    "properties": {
                        "text": {"type": "string", "description": "The whole query it "
                                 "completes to."},
                        "lang": {"type": "string"},
                        "kind": {"type": "string", "enum": ["word", "phrase", "title"]},
                    },
                }},
            },
        },
        "Document": {
            "type": "object",
            "required": ["id", "title", "lang", "text", "html"],
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string", "description": _AS_STORED},
                "lang": {"type": "string"},
                "date": nullable("string"),
                "text": {"type": "string", "description": _AS_STORED},
                "html": {"type": "string", "description": "Escaped HTML paragraphs; query "
                         "matches are wrapped in <mark>. " + _BALANCED},
                "url": nullable("string"),
                "translation_id": nullable("string", description="The same document in "
                                            "the other language."),
                "page": nullable("integer", description="PDF: the page (from 1) of the "
                                  "first match of q."),
                "page_count": nullable("integer", description="PDF: pages read."),
            },
        },
        "Stats": {
            "type": "object",
            "required": ["doc_count", "by_lang", "by_year", "engine_version", "analyzers"],
            "additionalProperties": False,
            "properties": {
                "doc_count": {"type": "integer", "minimum": 0},
                "by_lang": counts,
                "by_year": counts,
                "engine_version": {"type": "string"},
                "analyzers": {"type": "object", "description": "Each indexed text field "
                              "(title_sl, body_en, ...) and the steps its words go through, "
                              "in order: a tokenizer, then filters (LowercaseFilter, "
                              "StopFilter, LemmaFilter, SnowballFilter, FoldFilter...), as "
                              "recorded when the index was built.",
                              "additionalProperties": {"type": "array",
                                                       "items": {"type": "string"}}},
            },
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": {"type": "string", "enum": ["ok", "degraded", "unavailable"]},
                "code": {"type": "string", "enum": ["index_gone", "index_missing",
                                                    "index_incompatible",
                                                    "index_unavailable"]},
                "message": {"type": "string", "description": "In English."},
                "messages": {"type": "object", "properties": {
                    "en": {"type": "string"}, "sl": {"type": "string"}}},
                "documents": {"type": "integer", "minimum": 0},
                "by_lang": counts,
                "engine_version": {"type": "string"},
            },
        },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["status", "code", "message", "messages"],
                "properties": {
                    "status": {"type": "integer"},
                    "code": {"type": "string"},
                    "message": {"type": "string", "description": "In English."},
                    "messages": {"type": "object", "properties": {
                        "en": {"type": "string"}, "sl": {"type": "string"}}},
                    "field": nullable("string", description="Invalid documents: the "
                                       "field that is wrong (null: the whole document)."),
                    "problem": {"type": "string", "description": "Invalid documents: what is "
                                "wrong (missing, type, empty, too_long, control, lang, date, "
                                "not_object, unindexable, id_mismatch)."},
                    "document": {"type": "object", "description": "Invalid documents: which "
                                 "one.", "properties": {
                                     "index": nullable("integer", description="Position in "
                                                        "the batch, from 0."),
                                     "id": nullable("string")}},
                    "line": {"type": "integer", "description": "Invalid JSON: the line."},
                },
            }},
        },
    }
