"""Fuzzing driven by the server's own OpenAPI description.

Request bodies are generated from the request schemas that ``GET /openapi.json`` publishes
(``schema_strategies``), so the test follows the API as it is documented, limits included.
Every body the schema accepts must be answered 200 with a response that validates against the
documented response schema; every body at all must be answered with a status the operation
documents, never a 5xx, and with an error body that validates against the ``Error`` schema.
"""
from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from tests.serve.conftest import RunningServer
from tests.serve.schema_strategies import from_schema

JSON_HEADERS = {"Content-Type": "application/json"}
fuzz = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=10,
)


@pytest.fixture(scope="module")
def document(server: RunningServer) -> dict[str, Any]:
    return server.get("/openapi.json").json()


def with_components(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """A schema whose ``#/components/...`` references resolve inside itself."""
    return {**schema, "components": document["components"]}


def request_schema(document: dict[str, Any], path: str) -> dict[str, Any]:
    """The request body's schema, a reference into the components that resolves inside it."""
    reference = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return with_components(reference, document)


def valid_bodies(document: dict[str, Any], path: str) -> st.SearchStrategy[Any]:
    reference = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return from_schema(reference, document["components"])


def schema_fields(schema: dict[str, Any], document: dict[str, Any]) -> set[str]:
    """The property names of a request schema (a reference into the components)."""
    return set(document["components"]["schemas"][schema["$ref"].split("/")[-1]]["properties"])


def assert_documented_answer(document: dict[str, Any], path: str, method: str, reply) -> None:
    """The status is one the operation documents (and not a 5xx); the body validates against its schema."""
    responses = document["paths"][path][method]["responses"]
    assert reply.status < 500, (reply.status, reply.body[:300])
    assert str(reply.status) in responses, f"{method.upper()} {path} answered an undocumented {reply.status}: {reply.body[:300]!r}"
    schema = responses[str(reply.status)]["content"]["application/json"]["schema"]
    jsonschema.validate(reply.json(), with_components(schema, document))


@pytest.mark.parametrize("path", ["/v1/moderate", "/v1/explain"])
def test_every_body_the_schema_accepts_is_scored_as_documented(server, document, path):
    @fuzz
    @given(body=valid_bodies(document, path))
    def check(body):
        # ensure_ascii=False: the body's size stays within max_body_bytes for every schema-valid text
        reply = server.request("POST", path, json.dumps(body, ensure_ascii=False).encode(), JSON_HEADERS)
        assert reply.status == 200, (body, reply.status, reply.body[:300])
        assert_documented_answer(document, path, "post", reply)

    check()


@pytest.mark.parametrize("path", ["/v1/moderate", "/v1/explain"])
def test_any_json_body_gets_a_documented_answer(server, document, path):
    schema = request_schema(document, path)

    @fuzz
    @given(body=any_json | valid_bodies(document, path) | st.dictionaries(st.sampled_from(sorted(schema_fields(schema, document))), any_json, max_size=3))
    def check(body):
        reply = server.request("POST", path, json.dumps(body, ensure_ascii=False).encode(), JSON_HEADERS)
        assert_documented_answer(document, path, "post", reply)
        valid = jsonschema.Draft202012Validator(schema).is_valid(body)
        assert (reply.status == 200) == valid, (body, reply.status, reply.body[:300])

    check()


@pytest.mark.parametrize("path", ["/v1/models", "/healthz"])
def test_get_endpoints_answer_their_documented_schema(server, document, path):
    assert_documented_answer(document, path, "get", server.get(path))
