"""POST /v1/moderate, GET /v1/models and GET /healthz over real HTTP with the bundled default model."""
from __future__ import annotations

from smartmod.moderation import Moderator

INSULT = "You are a worthless idiot, shut up."
PRAISE = "Thank you for the thoughtful review."


def test_moderate_flags_the_insult_and_not_the_praise(server):
    reply = server.post_json("/v1/moderate", {"texts": [INSULT, PRAISE]})
    assert reply.status == 200 and reply.headers["content-type"].startswith("application/json")
    insult, praise = reply.json()["results"]
    assert insult["flagged"] is True and "toxicity" in insult["categories"]
    assert praise["flagged"] is False and praise["categories"] == []


def test_moderate_returns_the_same_scores_as_the_python_api(server):
    moderator = Moderator.load("default")
    body = server.post_json("/v1/moderate", {"texts": [INSULT, PRAISE]}).json()
    assert body["model"] == {"name": moderator.name, "version": str(moderator.version)}
    for served, local in zip(body["results"], moderator.moderate([INSULT, PRAISE])):
        assert served["flagged"] == local["flagged"] and served["categories"] == local["categories"]
        assert served["scores"].keys() == local["scores"].keys()
        for category, score in local["scores"].items():
            assert abs(served["scores"][category] - score) < 1e-6


def test_moderate_accepts_an_empty_list_and_empty_texts(server):
    assert server.post_json("/v1/moderate", {"texts": []}).json()["results"] == []
    assert len(server.post_json("/v1/moderate", {"texts": ["", "   "]}).json()["results"]) == 2


def test_moderate_accepts_a_charset_in_the_content_type(server):
    reply = server.request("POST", "/v1/moderate", b'{"texts": ["hello"]}', {"Content-Type": "application/json; charset=utf-8"})
    assert reply.status == 200


def test_moderate_scores_non_ascii_and_lone_surrogates(server):
    reply = server.request("POST", "/v1/moderate", b'{"texts": ["caf\\u00e9 \xf0\x9f\x98\x80", "\\ud800"]}',
                           {"Content-Type": "application/json"})
    assert reply.status == 200 and len(reply.json()["results"]) == 2


def test_models_lists_the_loaded_model_with_categories_and_thresholds(server):
    moderator = Moderator.load("default")
    reply = server.get("/v1/models")
    assert reply.status == 200
    assert reply.json() == {"models": [{"name": moderator.name, "version": str(moderator.version),
                                        "categories": list(moderator.categories), "thresholds": moderator.thresholds}]}


def test_healthz_is_ok_and_names_the_model(server):
    reply = server.get("/healthz")
    assert reply.status == 200 and reply.json()["status"] == "ok" and reply.json()["model"]["version"]


def test_every_prediction_is_logged_with_the_model_version(server):
    version = server.get("/healthz").json()["model"]["version"]
    server.post_json("/v1/moderate", {"texts": [INSULT, PRAISE, PRAISE]})
    lines = [line for line in server.log().splitlines() if "moderated " in line]
    assert any(f"version={version} texts=3 flagged=1 flagged_texts=[0]" in line for line in lines), server.log()
