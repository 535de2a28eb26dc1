"""Whatever a client sends to /v1/moderate, the server answers with JSON and never a 5xx."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings, strategies as st

JSON_HEADERS = {"Content-Type": "application/json"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
bodies = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    st.dictionaries(st.sampled_from(["texts", "text", "model"]), json_values, max_size=2).map(lambda value: json.dumps(value).encode()),
    st.lists(st.text(max_size=50), max_size=10).map(lambda texts: json.dumps({"texts": texts}).encode()),
    st.binary(max_size=200),
)
fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def assert_answered(reply) -> None:
    assert reply.status < 500, (reply.status, reply.body)
    body = json.loads(reply.body)
    assert ("results" in body) if reply.status == 200 else ("error" in body), body


@fuzz
@given(body=bodies)
def test_no_json_body_gets_a_server_error(server, body):
    assert_answered(server.request("POST", "/v1/moderate", body, JSON_HEADERS))


@fuzz
@given(body=st.binary(max_size=100), content_type=st.sampled_from(["application/json", "text/plain", "", "application/json; charset=latin-1"]))
def test_no_bytes_under_any_content_type_get_a_server_error(server, body, content_type):
    assert_answered(server.request("POST", "/v1/moderate", body, {"Content-Type": content_type} if content_type else {}))


@fuzz
@given(path=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="?#%"), max_size=30),
       method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"]))
def test_no_path_or_method_gets_a_server_error(server, path, method):
    reply = server.request(method, "/" + path)
    assert reply.status < 500
    if reply.status >= 400 or reply.headers["content-type"].startswith("application/json"):
        json.loads(reply.body)  # every error is JSON; a success is JSON, metrics text or a file of the web page
