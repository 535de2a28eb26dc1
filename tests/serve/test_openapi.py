"""GET /openapi.json: an OpenAPI 3 document that describes every endpoint and whose references resolve."""
from __future__ import annotations

from typing import Any, Iterator

from tests.serve.conftest import TEST_LIMITS


def references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def test_openapi_document_lists_every_endpoint(server):
    reply = server.get("/openapi.json")
    assert reply.status == 200
    document = reply.json()
    assert document["openapi"].startswith("3.") and document["info"]["title"] and document["info"]["version"]
    assert set(document["paths"]) == {"/v1/moderate", "/v1/explain", "/v1/models", "/healthz", "/metrics", "/openapi.json"}
    assert set(document["paths"]["/v1/moderate"]) == {"post"}


def test_every_reference_resolves_to_a_schema(server):
    document = server.get("/openapi.json").json()
    found = list(references(document))
    assert found
    for reference in found:
        assert reference.startswith("#/components/schemas/") and reference.split("/")[-1] in document["components"]["schemas"]


def test_moderate_documents_every_error_status_with_the_error_schema(server):
    responses = server.get("/openapi.json").json()["paths"]["/v1/moderate"]["post"]["responses"]
    for status in ("400", "413", "415", "422", "500"):
        assert responses[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_request_schema_carries_the_servers_limits_and_categories(server):
    document = server.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    texts = schemas["ModerateRequest"]["properties"]["texts"]
    assert texts["maxItems"] == TEST_LIMITS["max_texts"] and texts["items"]["maxLength"] == TEST_LIMITS["max_text_chars"]
    categories = server.get("/v1/models").json()["models"][0]["categories"]
    assert schemas["ModerationResult"]["properties"]["scores"]["required"] == categories
