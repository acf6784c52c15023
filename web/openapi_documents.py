"""The /api/documents part of the OpenAPI document (see :mod:`web.openapi`, which includes
it): what the document API (:mod:`web.documents`) accepts and returns."""

from __future__ import annotations

from typing import Any

from search.documents import MAX_TEXT_CHARS
from search.writer import MAX_ID_CHARS, MAX_TITLE_CHARS, MAX_URL_CHARS
from web.openapi_common import error_response, nullable


def json_body(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def document_paths() -> dict[str, Any]:
    doc_id = {"name": "doc_id", "in": "path", "required": True,
              "description": "The document id; it may contain slashes.",
              "schema": {"type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS}}
    secured = [{"apiKey": []}]
    write_errors = {
        "401": error_response("No API key, or a wrong one (with `WWW-Authenticate: Bearer`)."),
        "403": error_response("Writing is turned off: the server has no API key configured; "
                               "the message says how to turn it on."),
        "413": error_response("The body is larger than the limit (default 10 MB)."),
        "503": error_response("The index is being updated by another process (try again "
                               "after `Retry-After` seconds), or it cannot be read."),
    }
    invalid = error_response("Invalid JSON, or an invalid document: the error names the "
                              "document (`document.index` in the batch, `document.id`) and "
                              "the `field`.")
    return {
        "/api/documents": {
            "post": {
                "operationId": "addDocuments",
                "summary": "Add or replace a batch of documents, all in one commit",
                "description": "A JSON array of documents, or one JSON document a line "
                               "(NDJSON, `Content-Type: application/x-ndjson`). Either all "
                               "documents are written or, if any is invalid, none. Within a "
                               "batch the last document of an id wins.",
                "security": secured,
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {
                        "type": "array", "items": {"$ref": "#/components/schemas/NewDocument"}}},
                    "application/x-ndjson": {"schema": {"type": "string"}}}},
                "responses": {
                    "200": {"description": "Committed.", "content": json_body("BatchResult")},
                    "400": invalid, **write_errors},
            },
        },
        "/api/documents/{doc_id}": {
            "get": {
                "operationId": "getDocument",
                "summary": "One document as stored (public)",
                "parameters": [doc_id],
                "responses": {
                    "200": {"description": "The document.",
                            "content": json_body("StoredDocument")},
                    "404": error_response("No such document."),
                    "503": error_response("The index is missing or cannot be read."),
                },
            },
            "put": {
                "operationId": "putDocument",
                "summary": "Add or replace one document",
                "description": "The body's `id`, if given, must equal the one in the address.",
                "security": secured,
                "parameters": [doc_id],
                "requestBody": {"required": True, "content": json_body("NewDocument")},
                "responses": {
                    "200": {"description": "Replaced (or unchanged).",
                            "content": json_body("WriteResult")},
                    "201": {"description": "Created.", "content": json_body("WriteResult"),
                            "headers": {"Location": {"schema": {"type": "string"}}}},
                    "400": invalid,
                    "404": error_response("No such route: an id holding a line break cannot "
                                           "be addressed in a URL (use POST /api/documents)."),
                    **write_errors},
            },
            "delete": {
                "operationId": "deleteDocument",
                "summary": "Delete one document",
                "security": secured,
                "parameters": [doc_id],
                "responses": {
                    "200": {"description": "Deleted.", "content": json_body("WriteResult")},
                    "400": error_response("The id is not valid (too long, control "
                                           "characters)."),
                    "404": error_response("No such document."),
                    **{k: v for k, v in write_errors.items() if k != "413"}},
            },
        },
    }


def document_schemas() -> dict[str, Any]:
    return {
        "NewDocument": {
            "type": "object",
            "required": ["text"],
            "description": "Other fields are ignored (and listed in `ignored_fields`).",
            "properties": {
                "id": {"oneOf": [{"type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS},
                                 {"type": "integer"}],
                       "description": "Required in a batch; in the address for PUT."},
                "text": {"type": "string", "minLength": 1, "maxLength": MAX_TEXT_CHARS},
                "title": nullable("string", maxLength=MAX_TITLE_CHARS,
                                   description="Else taken from the text."),
                "date": nullable("string", description="ISO 8601: 2024, 2024-07, 2024-07-03 "
                                  "(else a date at the start of the text)."),
                "lang": nullable("string", description="sl or en (else detected)."),
                "url": nullable("string", maxLength=MAX_URL_CHARS),
                "pair_id": {"oneOf": [{"type": "string"}, {"type": "integer"}],
                            "nullable": True, "description": "Documents that are "
                            "translations of each other share it."},
            },
        },
        "StoredDocument": {
            "type": "object",
            "required": ["id", "title", "text", "lang", "source"],
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "text": {"type": "string"},
                "lang": {"type": "string"},
                "date": nullable("string"),
                "url": nullable("string"),
                "translation_id": nullable("string"),
                "source": {"type": "string", "enum": ["file", "api"], "description": "file: "
                           "from `search-cli index` (a folder sync updates and deletes it); "
                           "api: written through this API (left alone by folder syncs)."},
            },
        },
        "WriteResult": {
            "type": "object",
            "required": ["id", "result"],
            "properties": {
                "id": {"type": "string"},
                "result": {"type": "string",
                           "enum": ["created", "updated", "unchanged", "deleted"]},
                "ignored_fields": {"type": "array", "items": {"type": "string"}},
            },
        },
        "BatchResult": {
            "type": "object",
            "required": ["documents", "added", "updated", "unchanged", "deleted"],
            "properties": {
                "documents": {"type": "integer", "description": "Documents in the body."},
                "added": {"type": "integer"},
                "updated": {"type": "integer"},
                "unchanged": {"type": "integer"},
                "deleted": {"type": "integer"},
                "ignored_fields": {"type": "array", "items": {"type": "string"}},
            },
        },
    }
