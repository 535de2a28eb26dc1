"""Every limit and every client error, over real HTTP: the status and the JSON body that names the problem."""
from __future__ import annotations

import json

import pytest

from tests.serve.conftest import TEST_LIMITS

JSON_HEADERS = {"Content-Type": "application/json"}


def error_of(reply, status: int) -> dict:
    assert reply.status == status, reply.body
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()
    assert set(body) == {"error"} and isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def padded_body(size: int) -> bytes:
    """A valid moderation request of exactly ``size`` bytes."""
    head, tail = b'{"texts": ["', b'"]}'
    return head + b"a" * (size - len(head) - len(tail)) + tail


def test_body_over_the_limit_by_content_length_is_413_naming_the_limit(server):
    limit = TEST_LIMITS["max_body_bytes"]
    error = error_of(server.request("POST", "/v1/moderate", padded_body(limit + 1), JSON_HEADERS), 413)
    assert error["code"] == "body_too_large" and error["limit"] == {"name": "max_body_bytes", "value": limit}
    assert "max_body_bytes" in error["message"] and str(limit) in error["message"]


def test_body_at_the_limit_is_read(server):
    reply = server.request("POST", "/v1/moderate", padded_body(TEST_LIMITS["max_body_bytes"]), JSON_HEADERS)
    assert reply.status == 422 and reply.json()["error"]["code"] == "text_too_long"  # read and parsed, refused for its text


def test_chunked_body_without_content_length_is_capped_while_streaming(server):
    limit = TEST_LIMITS["max_body_bytes"]
    chunks = [b'{"texts": ["'] + [b"a" * 1024] * (limit // 1024 + 1) + [b'"]}']
    reply = server.request("POST", "/v1/moderate", iter(chunks), JSON_HEADERS, chunked=True)
    assert error_of(reply, 413)["limit"]["name"] == "max_body_bytes"


@pytest.mark.parametrize("chunked", [False, True])
def test_body_many_times_the_limit_is_refused_without_reading_it_all(server, chunked):
    body = b"a" * (4 * 1024 * 1024)
    reply = server.request("POST", "/v1/moderate", iter([body]) if chunked else body, JSON_HEADERS, chunked=chunked)
    assert error_of(reply, 413)["code"] == "body_too_large"


def test_too_many_texts_is_422_naming_the_limit(server):
    limit = TEST_LIMITS["max_texts"]
    error = error_of(server.post_json("/v1/moderate", {"texts": ["hi"] * (limit + 1)}), 422)
    assert error["code"] == "too_many_texts" and error["limit"] == {"name": "max_texts", "value": limit}
    assert "max_texts" in error["message"]


def test_as_many_texts_as_the_limit_are_scored(server):
    assert server.post_json("/v1/moderate", {"texts": ["hi"] * TEST_LIMITS["max_texts"]}).status == 200


def test_too_long_text_is_422_naming_the_limit_and_the_index(server):
    limit = TEST_LIMITS["max_text_chars"]
    error = error_of(server.post_json("/v1/moderate", {"texts": ["fine", "x" * (limit + 1)]}), 422)
    assert error["code"] == "text_too_long" and error["limit"] == {"name": "max_text_chars", "value": limit}
    assert error["field"] == "texts[1]" and "max_text_chars" in error["message"]


def test_text_length_counts_characters_not_bytes(server):
    assert server.post_json("/v1/moderate", {"texts": ["é" * TEST_LIMITS["max_text_chars"]]}).status == 200


@pytest.mark.parametrize("body", [b"", b"{", b'{"texts": [}', b"\xff\xfe{}", b"[" * 50_000, b"NaN NaN"])
def test_malformed_json_is_400(server, body):
    assert error_of(server.request("POST", "/v1/moderate", body, JSON_HEADERS), 400)["code"] == "invalid_json"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx"])
def test_a_content_type_other_than_json_is_415(server, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    error = error_of(server.request("POST", "/v1/moderate", b'{"texts": ["hi"]}', headers), 415)
    assert error["code"] == "unsupported_media_type" and "application/json" in error["message"]


@pytest.mark.parametrize("document, code, field", [
    ({}, "missing_field", "texts"),
    ({"text": ["hi"]}, "unknown_field", "text"),
    ({"texts": ["hi"], "model": "other"}, "unknown_field", "model"),
    ({"texts": "hi"}, "invalid_field", "texts"),
    ({"texts": None}, "invalid_field", "texts"),
    ({"texts": {"0": "hi"}}, "invalid_field", "texts"),
    ({"texts": ["ok", 3]}, "invalid_text", "texts[1]"),
    ({"texts": ["ok", "ok", None]}, "invalid_text", "texts[2]"),
    ({"texts": [["nested"]]}, "invalid_text", "texts[0]"),
])
def test_missing_or_ill_typed_fields_are_422_naming_the_field(server, document, code, field):
    error = error_of(server.post_json("/v1/moderate", document), 422)
    assert error["code"] == code and error["field"] == field and field in error["message"]


@pytest.mark.parametrize("document", [["hi"], "hi", 3, None, True])
def test_a_body_that_is_not_an_object_is_422(server, document):
    assert error_of(server.post_json("/v1/moderate", document), 422)["code"] == "invalid_body"


def test_a_single_string_gets_a_hint_to_wrap_it(server):
    assert '{"texts": ["..."]}' in error_of(server.post_json("/v1/moderate", {"texts": "hi"}), 422)["message"]


def test_unknown_path_is_404_json(server):
    error = error_of(server.get("/v2/nothing-here"), 404)
    assert error["code"] == "not_found" and "/v2/nothing-here" in error["message"]


def test_wrong_method_is_405_json_naming_the_allowed_method(server):
    reply = server.get("/v1/moderate")
    error = error_of(reply, 405)
    assert error["code"] == "method_not_allowed" and "POST" in error["message"] and reply.headers["allow"] == "POST"


def test_no_error_body_leaks_internals(server):
    replies = [server.request("POST", "/v1/moderate", b"[" * 50_000, JSON_HEADERS), server.post_json("/v1/moderate", {"texts": [1]}),
               server.get("/nope")]
    for reply in replies:
        text = json.dumps(reply.json())
        assert "Traceback" not in text and ".py" not in text
    assert "Traceback" not in server.log()
