"""POST /v1/explain over real HTTP: the explanation of the Python API, the limits and errors of /v1/moderate."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from smartmod.explain import EXPLANATION_METHODS
from smartmod.moderation import Moderator
from tests.serve.conftest import TEST_LIMITS
from tests.serve.test_errors import JSON_HEADERS, error_of
from tests.serve.test_fuzz import fuzz, json_values

INSULT = "You are a worthless idiot, shut up."


@pytest.fixture(scope="module")
def moderator() -> Moderator:
    return Moderator.load("default")


def test_explain_answers_what_the_python_api_returns_plus_the_model(server, moderator):
    reply = server.post_json("/v1/explain", {"text": INSULT})
    assert reply.status == 200 and reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert body.pop("model") == {"name": moderator.name, "version": str(moderator.version)}
    local = moderator.explain(INSULT)
    assert body.keys() == local.keys()
    assert body["text"] == INSULT and body["method"] == local["method"] and body["category"] == local["category"]
    assert body["flagged"] is True and body["categories"] == local["categories"] and body["spans"] == local["spans"]
    assert body["scores"] == pytest.approx(local["scores"], abs=1e-6)
    assert [(t["text"], t["start"], t["end"]) for t in body["tokens"]] == [(t["text"], t["start"], t["end"]) for t in local["tokens"]]


def test_explain_scores_agree_with_moderate(server):
    explained = server.post_json("/v1/explain", {"text": INSULT}).json()
    moderated = server.post_json("/v1/moderate", {"texts": [INSULT]}).json()["results"][0]
    assert explained["scores"] == pytest.approx(moderated["scores"], abs=1e-6)
    assert explained["flagged"] == moderated["flagged"] and explained["categories"] == moderated["categories"]


def test_token_offsets_point_into_the_text_and_spans_cover_harmful_words(server):
    body = server.post_json("/v1/explain", {"text": INSULT}).json()
    for token in body["tokens"]:
        assert INSULT[token["start"]:token["end"]] == token["text"]
    assert body["spans"] and all(INSULT[span["start"]:span["end"]] == span["text"] for span in body["spans"])
    assert "idiot" in " ".join(span["text"] for span in body["spans"])


@pytest.mark.parametrize("method", EXPLANATION_METHODS)
def test_each_method_can_be_asked_for(server, method):
    body = server.post_json("/v1/explain", {"text": INSULT, "method": method}).json()
    assert body["method"] == method and len(body["tokens"]) == 7


def test_a_category_can_be_asked_for(server):
    assert server.post_json("/v1/explain", {"text": INSULT, "category": "threat"}).json()["category"] == "threat"


def test_null_method_and_category_mean_the_defaults(server):
    default = server.post_json("/v1/explain", {"text": INSULT}).json()
    nulls = server.post_json("/v1/explain", {"text": INSULT, "method": None, "category": None}).json()
    assert (nulls["method"], nulls["category"]) == (default["method"], default["category"])


def test_offsets_count_characters_beyond_ascii(server):
    text = "caf\u00e9 \U0001f600 you idiot"
    body = server.post_json("/v1/explain", {"text": text}).json()
    assert body["text"] == text and all(text[t["start"]:t["end"]] == t["text"] for t in body["tokens"])


def test_empty_text_is_explained_without_tokens(server):
    body = server.post_json("/v1/explain", {"text": ""}).json()
    assert body["tokens"] == [] and body["spans"] == []


@pytest.mark.parametrize("field, value", [("method", "magic"), ("method", 3), ("category", "rudeness"), ("category", ["threat"])])
def test_an_unknown_method_or_category_is_422_listing_the_allowed_values(server, moderator, field, value):
    error = error_of(server.post_json("/v1/explain", {"text": INSULT, field: value}), 422)
    allowed = EXPLANATION_METHODS if field == "method" else moderator.categories
    assert error["code"] == "invalid_field" and error["field"] == field
    assert all(name in error["message"] for name in allowed)


@pytest.mark.parametrize("document, code, field", [
    ({}, "missing_field", "text"),
    ({"texts": [INSULT]}, "unknown_field", "texts"),
    ({"text": INSULT, "model": "other"}, "unknown_field", "model"),
    ({"text": [INSULT]}, "invalid_text", "text"),
    ({"text": None}, "invalid_text", "text"),
])
def test_missing_or_ill_typed_fields_are_422_naming_the_field(server, document, code, field):
    error = error_of(server.post_json("/v1/explain", document), 422)
    assert error["code"] == code and error["field"] == field


def test_a_body_that_is_not_an_object_is_422(server):
    assert error_of(server.post_json("/v1/explain", INSULT), 422)["code"] == "invalid_body"


def test_too_long_text_is_422_naming_the_limit(server):
    limit = TEST_LIMITS["max_text_chars"]
    error = error_of(server.post_json("/v1/explain", {"text": "x" * (limit + 1)}), 422)
    assert error["code"] == "text_too_long" and error["limit"] == {"name": "max_text_chars", "value": limit}
    assert "max_text_chars" in error["message"]


def test_body_over_the_limit_is_413_naming_the_limit(server):
    limit = TEST_LIMITS["max_body_bytes"]
    error = error_of(server.request("POST", "/v1/explain", json.dumps({"text": "x" * limit}).encode(), JSON_HEADERS), 413)
    assert error["limit"] == {"name": "max_body_bytes", "value": limit}


def test_malformed_json_is_400_and_a_wrong_content_type_415(server):
    assert error_of(server.request("POST", "/v1/explain", b'{"text": ', JSON_HEADERS), 400)["code"] == "invalid_json"
    assert error_of(server.request("POST", "/v1/explain", b'{"text": "hi"}', {"Content-Type": "text/plain"}), 415)["code"] == (
        "unsupported_media_type")


def test_every_explanation_is_logged_with_the_model_version(server):
    version = server.get("/healthz").json()["model"]["version"]
    server.post_json("/v1/explain", {"text": INSULT, "category": "insult"})
    assert any(f"explained model=" in line and f"version={version}" in line and "category=insult" in line
               for line in server.log().splitlines()), server.log()


def test_openapi_describes_explain_with_the_methods_categories_and_limit(server, moderator):
    document = server.get("/openapi.json").json()
    operation = document["paths"]["/v1/explain"]["post"]
    for status in ("400", "413", "415", "422", "500"):
        assert operation["responses"][status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    request = document["components"]["schemas"]["ExplainRequest"]["properties"]
    assert request["text"]["maxLength"] == TEST_LIMITS["max_text_chars"]
    assert request["method"]["enum"][:-1] == list(EXPLANATION_METHODS) and request["category"]["enum"][:-1] == list(moderator.categories)


explain_bodies = st.one_of(
    st.dictionaries(st.sampled_from(["text", "method", "category", "texts"]), json_values, max_size=3),
    st.fixed_dictionaries({"text": st.text(max_size=60)},
                          optional={"method": st.sampled_from([*EXPLANATION_METHODS, "x"]), "category": st.text(max_size=10)}),
).map(lambda document: json.dumps(document).encode())


@fuzz
@given(body=explain_bodies | st.binary(max_size=100))
def test_no_body_gets_a_server_error(server, body):
    reply = server.request("POST", "/v1/explain", body, JSON_HEADERS)
    assert reply.status < 500, (reply.status, reply.body)
    assert ("tokens" in reply.json()) if reply.status == 200 else ("error" in reply.json())
