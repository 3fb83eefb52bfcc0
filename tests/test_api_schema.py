"""Schemathesis against the served OpenAPI document: for a bounded number of generated requests
per route, with an editor's token, no 500 and every answer matches the document (status code,
content type, headers, body schema). On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api_server import database, serve
from conftest import BACKENDS, free_port

# Enough to reach every parameter and body shape of the few routes, and bounded: about 30 s a
# backend on the 2-core machine.
EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module", params=BACKENDS)
def server(request, tmp_path_factory):
    url = database(request, tmp_path_factory)
    # Pulls only from a port where nothing listens: generated addresses never leave the
    # machine (they are refused), and the one allowed gives the documented 502.
    yield from serve(
        url,
        tmp_path_factory.mktemp("api-schema"),
        LIFTOFF_MLFLOW_URIS=f"http://127.0.0.1:{free_port()}",
    )


@pytest.fixture(scope="module")
def editor_token(server):
    return server.token("editor")[0]


def test_every_route_answers_as_its_document_says(server, editor_token):
    # Driven by hand rather than by schemathesis' pytest plugin, which does not run under the
    # pytest here ('Function' object has no attribute '_nodeid').
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    headers = {"Authorization": f"Bearer {editor_token}"}
    seen = []
    for result in schema.get_all_operations():
        operation = result.ok()
        seen.append(operation.label)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case):
            case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS, timeout=60)

        check()
    # Every route with something to generate (the document itself takes no input).
    assert set(seen) == {
        "POST /imports",
        "GET /initiatives",
        "GET /initiatives/{name}/summary",
        "GET /batches/{batch_id}",
        "POST /batches/{batch_id}/rollback",
        "POST /pulls/mlflow",
    }, seen
