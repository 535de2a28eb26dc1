"""The catch-all: an exception inside an endpoint becomes a logged 500 JSON body without internals."""
from __future__ import annotations

import asyncio
import json
import logging

from smartmod.serve.metrics import ServeMetrics
from smartmod.serve.middleware import ObservedRequests


async def failing_endpoint(scope, receive, send):
    raise RuntimeError("secret detail at /srv/smartmod/internal.py line 42")


def call(app, path: str = "/v1/moderate") -> list[dict]:
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": [], "query_string": b""}
    asyncio.run(app(scope, receive, send))
    return sent


def test_an_unhandled_exception_is_a_500_json_body_without_internals(caplog):
    metrics = ServeMetrics("model", "1", ["toxicity"])
    with caplog.at_level(logging.ERROR, logger="smartmod.serve"):
        start, body = call(ObservedRequests(failing_endpoint, metrics))
    assert start["status"] == 500
    assert json.loads(body["body"])["error"]["code"] == "internal_error"
    assert b"secret" not in body["body"] and b".py" not in body["body"]
    assert "secret detail" in caplog.text and "RuntimeError" in caplog.text  # the server's log has the traceback


def test_an_unhandled_exception_is_counted():
    metrics = ServeMetrics("model", "1", ["toxicity"])
    call(ObservedRequests(failing_endpoint, metrics))
    assert metrics.errors.value(code="internal_error") == 1
    assert metrics.requests.value(endpoint="/v1/moderate", method="POST", status="500") == 1
