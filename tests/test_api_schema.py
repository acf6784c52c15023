"""Property-based fuzzing of the JSON API against its own OpenAPI document (schemathesis).

Every operation of ``web.openapi`` gets requests generated from the document, valid ones
and invalid ones, sent to the app as ``search-cli serve`` builds it (errors handled, not
raised). Each response must be no 5xx, have a status and content type the document lists,
and match its schema. Bounded and reproducible: a fixed number of examples per operation and
mode, derandomized, no database of past examples, so every run does the same work.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from web import index_holder
from web.openapi import openapi_document
from web.server import _make_app

#: Examples per API operation and mode: small enough for every test run.
EXAMPLES = 40
OPERATIONS = [(path, method.upper(), mode) for path, item in openapi_document()["paths"].items()
              for method, operation in item.items()
              # Invalid requests need parameters to be invalid in.
              for mode in (GenerationMode if operation.get("parameters")
                           else [GenerationMode.POSITIVE])]


@pytest.fixture(scope="module")
def api_schema(web_index: Path):
    app = _make_app(web_index, 0)
    yield schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    index_holder(app).close()


@pytest.mark.parametrize("path, method, mode", OPERATIONS,
                         ids=[f"{m} {p} {mode.value}" for p, m, mode in OPERATIONS])
def test_the_api_keeps_its_openapi_promises(api_schema, path: str, method: str,
                                            mode: GenerationMode) -> None:
    operation = api_schema[path][method]
    calls = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        response = case.call_and_validate()
        calls.append(response.status_code)

    check()
    assert calls and max(calls) < 500
