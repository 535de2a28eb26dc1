"""A/B routing on the real server: the default model in production, the tiny bundle as candidate."""
from __future__ import annotations

import json
import re

import pytest

from smartmod.moderation.moderator import Moderator
from smartmod.serve.ab import ABRouter, key_point, request_key
from smartmod.serve.errors import APIError
from tests.moderation.conftest import tiny_bundle_dir  # noqa: F401  (the fixture)
from tests.serve.conftest import RunningServer

SHARE = 0.5
TINY = {"name": "tiny", "version": "0"}


@pytest.fixture(scope="module")
def ab_server(tmp_path_factory, tiny_bundle_dir, request):  # noqa: F811
    folder = tmp_path_factory.mktemp("ab")
    running = RunningServer(folder / "server.log", "--candidate", tiny_bundle_dir, "--candidate-share", str(SHARE),
                            "--log-predictions", str(folder / "predictions.jsonl"))
    running.predictions = folder / "predictions.jsonl"

    def stop() -> None:
        assert running.stop() == 0, running.log()

    request.addfinalizer(stop)
    return running


def model_for(server, key: str | None = None, header: str | None = None) -> dict[str, str]:
    document = {"texts": ["you stupid idiot"], **({"key": key} if key is not None else {})}
    headers = {"Content-Type": "application/json", **({"X-Request-Key": header} if header is not None else {})}
    reply = server.request("POST", "/v1/moderate", json.dumps(document).encode(), headers)
    assert reply.status == 200, reply.body
    return reply.json()["model"]


def expected_model(key: str) -> str:
    return "tiny" if key_point(key) < SHARE else Moderator.load("default").name


def test_a_key_always_gets_the_model_its_hash_picks_in_the_body_or_the_header(ab_server):
    for key in [f"user-{number}" for number in range(12)]:
        served = {model_for(ab_server, key=key)["name"], model_for(ab_server, key=key)["name"], model_for(ab_server, header=key)["name"]}
        assert served == {expected_model(key)}, key


def test_the_body_key_wins_over_the_header(ab_server):
    body_key = next(f"k{n}" for n in range(100) if expected_model(f"k{n}") == "tiny")
    header_key = next(f"k{n}" for n in range(100) if expected_model(f"k{n}") != "tiny")
    assert model_for(ab_server, key=body_key, header=header_key) == TINY


def test_requests_without_a_key_reach_both_models(ab_server):
    assert {model_for(ab_server)["name"] for _ in range(40)} == {"tiny", Moderator.load("default").name}


def test_models_lists_both_with_stage_and_share(ab_server):
    models = ab_server.get("/v1/models").json()["models"]
    assert [(model["name"], model["stage"], model["share"]) for model in models] == [
        (Moderator.load("default").name, "production", 1 - SHARE), ("tiny", "candidate", SHARE)]


def test_metrics_and_logs_carry_the_version_of_the_model_that_answered(ab_server):
    model_for(ab_server, key=next(f"k{n}" for n in range(100) if expected_model(f"k{n}") == "tiny"))
    text = ab_server.get("/metrics").body.decode()
    default = Moderator.load("default")
    assert re.search(r'^smartmod_model_texts_scored_total\{model="tiny",version="0"\} [1-9]', text, re.MULTILINE)
    assert f'smartmod_model_texts_scored_total{{model="{default.name}",version="{default.version}"}}' in text
    assert 'smartmod_model_info{name="tiny",version="0"} 1' in text
    assert "moderated model=tiny version=0 texts=1" in ab_server.log()
    records = [json.loads(line) for line in ab_server.predictions.read_text().splitlines()]
    assert {(record["model"], record["version"]) for record in records} == {("tiny", "0"), (default.name, default.version)}


@pytest.mark.parametrize("document, message", [({"texts": [], "key": 7}, "'key' must be a string"),
                                               ({"texts": [], "key": "k" * 300}, "more than 256")])
def test_a_bad_key_is_a_422_naming_the_key(ab_server, document, message):
    reply = ab_server.post_json("/v1/moderate", document)
    assert reply.status == 422 and reply.json()["error"]["field"] == "key" and message in reply.json()["error"]["message"]


def test_key_points_are_uniform_so_the_candidate_gets_its_share():
    points = [key_point(f"user-{number}") for number in range(20_000)]
    assert all(0.0 <= point < 1.0 for point in points)
    assert abs(sum(point < 0.1 for point in points) / len(points) - 0.1) < 0.01  # 4.7 standard deviations


def test_request_key_takes_the_body_field_out_of_the_document():
    assert request_key({"texts": ["a"], "key": "u1"}, {"x-request-key": "u2"}) == ("u1", {"texts": ["a"]})
    assert request_key({"texts": ["a"]}, {"x-request-key": "u2"}) == ("u2", {"texts": ["a"]})
    assert request_key([1], {}) == (None, [1])
    with pytest.raises(APIError, match="'key' must be a string"):
        request_key({"key": None}, {})


def test_a_candidate_that_is_the_production_model_is_refused():
    default = Moderator.load("default")
    with pytest.raises(ValueError, match="the candidate is the production model"):
        ABRouter(default, Moderator.load("default"), 0.1)
