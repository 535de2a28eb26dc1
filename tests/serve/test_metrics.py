"""GET /metrics over real HTTP: the Prometheus text format, and counts that follow the traffic."""
from __future__ import annotations

import re

from smartmod.moderation import Moderator

SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?P<labels>\{[^}]*\})? (?P<value>\S+)$')


def parse_samples(text: str) -> dict[str, float]:
    """``{'name{labels}': value}`` for every sample line; fails on any line that is not valid exposition text."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        samples[match["name"] + (match["labels"] or "")] = float(match["value"])
    return samples


def scrape(server) -> dict[str, float]:
    reply = server.get("/metrics")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse_samples(reply.body.decode())


def test_metrics_declare_a_type_for_every_metric(server):
    text = server.get("/metrics").body.decode()
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.MULTILINE))
    assert types["smartmod_http_requests_total"] == "counter"
    assert types["smartmod_http_request_duration_seconds"] == "histogram"
    assert types["smartmod_score"] == "histogram" and types["smartmod_flagged_ratio"] == "gauge"
    for name in parse_samples(text):
        base = re.sub(r"(_bucket|_sum|_count)?(\{.*)?$", "", name)
        assert base in types or re.sub(r"\{.*$", "", name) in types, name


def test_moderation_counts_go_up(server):
    before = scrape(server)
    server.post_json("/v1/moderate", {"texts": ["You are a worthless idiot, shut up.", "Thank you for the thoughtful review."]})
    after = scrape(server)
    ok = 'smartmod_http_requests_total{endpoint="/v1/moderate",method="POST",status="200"}'
    assert after[ok] == before.get(ok, 0) + 1
    assert after["smartmod_texts_scored_total"] == before["smartmod_texts_scored_total"] + 2
    assert after["smartmod_texts_flagged_total"] == before["smartmod_texts_flagged_total"] + 1
    assert after['smartmod_category_flagged_total{category="toxicity"}'] == before['smartmod_category_flagged_total{category="toxicity"}'] + 1
    assert after["smartmod_flagged_ratio"] == after["smartmod_texts_flagged_total"] / after["smartmod_texts_scored_total"]
    latency = 'smartmod_http_request_duration_seconds_count{endpoint="/v1/moderate"}'
    assert after[latency] == before.get(latency, 0) + 1


def test_score_histogram_has_every_category_and_cumulative_buckets(server):
    server.post_json("/v1/moderate", {"texts": ["hello there"]})
    samples = scrape(server)
    for category in Moderator.load("default").categories:
        buckets = [(float(le), value) for name, value in samples.items()
                   for le in re.findall(rf'^smartmod_score_bucket{{category="{category}",le="([^"]+)"}}$', name)]
        counts = [value for _, value in sorted(buckets)]
        assert counts == sorted(counts) and counts[-1] == samples[f'smartmod_score_count{{category="{category}"}}'] >= 1


def test_errors_are_counted_by_code_and_status(server):
    before = scrape(server)
    server.request("POST", "/v1/moderate", b"{", {"Content-Type": "application/json"})
    server.get("/no-such-path")
    after = scrape(server)
    assert after['smartmod_http_errors_total{code="invalid_json"}'] == before.get('smartmod_http_errors_total{code="invalid_json"}', 0) + 1
    assert after['smartmod_http_errors_total{code="not_found"}'] == before.get('smartmod_http_errors_total{code="not_found"}', 0) + 1
    unmatched = 'smartmod_http_requests_total{endpoint="unmatched",method="GET",status="404"}'
    assert after[unmatched] == before.get(unmatched, 0) + 1


def test_model_info_names_the_version(server):
    version = server.get("/healthz").json()["model"]["version"]
    assert any(name.startswith("smartmod_model_info{") and f'version="{version}"' in name for name in scrape(server))


def test_every_route_of_the_app_is_a_labelled_endpoint():
    from starlette.routing import Route

    from smartmod.serve.app import create_app
    from smartmod.serve.metrics import ENDPOINTS

    app = create_app(moderator=Moderator.load("default"))
    paths = {route.path for route in app.routes if isinstance(route, Route)}
    assert paths <= set(ENDPOINTS), f"routes counted as 'unmatched' in /metrics: {sorted(paths - set(ENDPOINTS))}"
