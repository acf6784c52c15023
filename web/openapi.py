"""The OpenAPI 3.0 document for /api: one place that says what the API accepts and returns."""

from __future__ import annotations

from typing import Any

from web.params import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, MAX_QUERY


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _nullable(type_: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "nullable": True, **extra}


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
                        {"name": "lang", "in": "query", "description": "Only documents in "
                         "this language.", "schema": {"type": "string", "enum": ["sl", "en"]}},
                        {"name": "year", "in": "query", "description": "Only documents "
                         "from this year.", "schema": {"type": "string",
                                                       "pattern": "^[0-9]{4}$"}},
                        {"name": "sort", "in": "query", "schema": {
                            "type": "string", "enum": ["relevance", "newest"],
                            "default": "relevance"}},
                        {"name": "page", "in": "query", "schema": {
                            "type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                            "default": 1}},
                        {"name": "per_page", "in": "query", "schema": {
                            "type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE,
                            "default": DEFAULT_PER_PAGE}},
                        {"name": "snippets", "in": "query", "description": "Whether to "
                         "build highlighted snippets (slower).",
                         "schema": {"type": "boolean", "default": True}},
                    ],
                    "responses": {
                        "200": {"description": "A page of results.", "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Results"}}}},
                        "400": _error_response("A parameter is invalid (e.g. a query over "
                                               f"{MAX_QUERY} characters or a page number "
                                               f"outside 1-{MAX_PAGE})."),
                        "503": _error_response("The index is missing or cannot be read."),
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
                        "404": _error_response("No such document."),
                        "503": _error_response("The index is missing or cannot be read."),
                    },
                },
            },
            "/api/stats": {
                "get": {
                    "operationId": "stats",
                    "summary": "Size and make-up of the index",
                    "responses": {
                        "200": {"description": "Index statistics.", "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Stats"}}}},
                        "503": _error_response("The index is missing or cannot be read."),
                    },
                },
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "For monitors: can the index be opened?",
                    "responses": {
                        "200": {"description": "The index opens.", "content": {
                            "application/json": {"schema": {"type": "object"}}}},
                        "503": {"description": "The index cannot be opened.", "content": {
                            "application/json": {"schema": {"type": "object"}}}},
                    },
                },
            },
        },
        "components": {"schemas": _schemas()},
    }


def _schemas() -> dict[str, Any]:
    counts = {"type": "object", "additionalProperties": {"type": "integer"}}
    return {
        "Hit": {
            "type": "object",
            "required": ["id", "title", "lang", "score", "snippet", "rank"],
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "lang": {"type": "string"},
                "date": _nullable("string", description="ISO 8601, possibly partial"),
                "score": {"type": "number"},
                "snippet": {"type": "string", "description": "Escaped HTML; matches are "
                            "wrapped in <mark>."},
                "rank": {"type": "integer"},
                "url": _nullable("string"),
                "translated_terms": {"type": "array", "items": {"type": "string"}},
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
                "lang": _nullable("string"),
                "year": _nullable("string"),
                "sort": {"type": "string", "enum": ["relevance", "newest"]},
                "facets": {"type": "object", "properties": {"lang": counts, "year": counts},
                           "additionalProperties": counts},
                "suggestion": _nullable("string", description="\"Did you mean\" query: "
                                        "the query with its misspelt words corrected, "
                                        "offered but not searched."),
                "corrected": _nullable("string", description="The corrected query that was "
                                       "searched instead of `query`, none of whose words "
                                       "matched directly (\"showing results for\"). "
                                       "A word in double quotes is searched as typed."),
                "elapsed_ms": {"type": "number"},
                "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
            },
        },
        "Document": {
            "type": "object",
            "required": ["id", "title", "lang", "text", "html"],
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "lang": {"type": "string"},
                "date": _nullable("string"),
                "text": {"type": "string"},
                "html": {"type": "string", "description": "Escaped HTML paragraphs; query "
                         "matches are wrapped in <mark>."},
                "url": _nullable("string"),
                "translation_id": _nullable("string", description="The same document in "
                                            "the other language."),
            },
        },
        "Stats": {
            "type": "object",
            "properties": {
                "doc_count": {"type": "integer"},
                "by_lang": counts,
                "by_year": counts,
                "engine_version": {"type": "string"},
                "analyzers": {"type": "object",
                              "additionalProperties": {"type": "string"}},
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
                },
            }},
        },
    }
