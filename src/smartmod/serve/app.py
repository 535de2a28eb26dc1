"""The ASGI application: ``create_app(settings)`` builds the Starlette app of the HTTP API.

Endpoints: ``POST /v1/moderate``, ``GET /v1/models``, ``GET /healthz``, ``GET /metrics``
and ``GET /openapi.json`` (described there). Scoring runs in Starlette's thread pool so the
event loop keeps answering while a batch is scored; each model scores one batch at a time,
because the network's layers keep their activations on themselves for the backward pass and
so are not safe to call from two threads at once. With ``--candidate`` a share of the requests
goes to a second model (``smartmod.serve.ab``); every model's predictions are monitored for
drift (``smartmod.serve.monitoring``).
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartmod.moderation.moderator import Moderator
from smartmod.moderation.registry import ModelRegistry
from smartmod.serve.ab import ABRouter, ModelArm, request_key
from smartmod.serve.errors import APIError, ASCIIJSONResponse, api_error_handler, http_exception_handler
from smartmod.serve.explain import explain
from smartmod.serve.exposition import CONTENT_TYPE
from smartmod.serve.metrics import ServeMetrics
from smartmod.serve.middleware import ObservedRequests
from smartmod.serve.monitoring import Monitoring
from smartmod.serve.openapi import openapi_document
from smartmod.serve.page import page_routes
from smartmod.serve.settings import ServerSettings
from smartmod.serve.validation import parse_texts, read_json_body

__all__ = ["create_app"]

logger = logging.getLogger("smartmod.serve")


def _model_reference(moderator: Moderator) -> dict[str, str]:
    return {"name": str(moderator.name), "version": str(moderator.version)}


def _score_and_describe(arm: ModelArm, monitoring: Monitoring, texts: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The arm's results and the texts' monitored input features, computed off the event loop."""
    return arm.moderate(texts), monitoring.input_features(arm.moderator, texts)


async def moderate(request: Request) -> ASCIIJSONResponse:
    """``POST /v1/moderate``: ``{"texts": [...], "key"?: str}`` to one result per text, scored by the
    model the key routes to (``smartmod.serve.ab``); the call is logged and monitored."""
    state = request.app.state
    key, document = request_key(await read_json_body(request, state.settings.max_body_bytes), request.headers)
    texts = parse_texts(document, state.settings.max_texts, state.settings.max_text_chars)
    arm = state.router.route(key)
    start = time.perf_counter()
    results, inputs = await run_in_threadpool(_score_and_describe, arm, state.monitoring, texts)
    seconds = time.perf_counter() - start
    state.metrics.record_moderation(results)
    model = arm.model
    state.monitoring.record(model, results, inputs)
    flagged = [index for index, result in enumerate(results) if result["flagged"]]
    logger.info("moderated model=%s version=%s texts=%d flagged=%d flagged_texts=%s seconds=%.4f",
                model["name"], model["version"], len(results), len(flagged), flagged, seconds)
    return ASCIIJSONResponse({"model": model, "results": results})


async def list_models(request: Request) -> ASCIIJSONResponse:
    """``GET /v1/models``: the served models with their categories and thresholds; under A/B
    (``--candidate``) each also names its ``stage`` and its ``share`` of the requests."""
    router: ABRouter = request.app.state.router
    routing = router.candidate is not None
    return ASCIIJSONResponse({"models": [{**arm.model, "categories": list(arm.moderator.categories), "thresholds": dict(arm.moderator.thresholds),
                                          **({"stage": arm.stage, "share": arm.share} if routing else {})} for arm in router.arms]})


async def health(request: Request) -> ASCIIJSONResponse:
    """``GET /healthz``: the server is up and its model is loaded."""
    return ASCIIJSONResponse({"status": "ok", "model": _model_reference(request.app.state.moderator)})


async def prometheus_metrics(request: Request) -> Response:
    """``GET /metrics``: the Prometheus text exposition of ``ServeMetrics`` and ``Monitoring``."""
    state = request.app.state
    return Response(state.metrics.render() + state.monitoring.render(), media_type=CONTENT_TYPE)


async def openapi(request: Request) -> ASCIIJSONResponse:
    """``GET /openapi.json``: the OpenAPI description of this server."""
    return ASCIIJSONResponse(request.app.state.openapi)


def create_app(settings: ServerSettings | None = None, moderator: Moderator | None = None) -> Starlette:
    """The Starlette application of the moderation API.

    Parameters
    ----------
    settings : ServerSettings, optional
        Limits and the model to load; the defaults when omitted.
    moderator : Moderator, optional
        An already loaded production model; ``settings.model`` resolved through the registry when omitted.
    """
    settings = settings or ServerSettings()
    registry = ModelRegistry(settings.registry)
    moderator = moderator or Moderator.load(registry.resolve(settings.model))
    candidate = Moderator.load(registry.resolve(settings.candidate)) if settings.candidate else None
    scoring_lock = threading.Lock()
    router = ABRouter(moderator, candidate, settings.candidate_share, production_lock=scoring_lock)
    server_metrics = ServeMetrics(str(moderator.name), str(moderator.version), moderator.categories)
    monitoring = Monitoring([(arm.model["name"], arm.model["version"], arm.moderator.categories, arm.moderator.bundle.reference)
                             for arm in router.arms], settings.monitor_window, settings.drift_threshold, settings.log_predictions)
    app = Starlette(
        routes=[
            Route("/v1/moderate", moderate, methods=["POST"]),
            Route("/v1/explain", explain, methods=["POST"]),
            Route("/v1/models", list_models, methods=["GET"]),
            Route("/healthz", health, methods=["GET"]),
            Route("/metrics", prometheus_metrics, methods=["GET"]),
            Route("/openapi.json", openapi, methods=["GET"]),
            *page_routes(),
        ],
        middleware=[Middleware(ObservedRequests, metrics=server_metrics)],
        exception_handlers={APIError: api_error_handler, HTTPException: http_exception_handler},
    )
    app.state.settings = settings
    app.state.moderator = moderator
    app.state.metrics = server_metrics
    app.state.scoring_lock = scoring_lock
    app.state.router = router
    app.state.monitoring = monitoring
    app.state.openapi = openapi_document(settings, moderator.categories)
    for arm in router.arms:
        server_metrics.model_info.set(1, **arm.model)
        logger.info("serving model=%s version=%s stage=%s share=%g", arm.model["name"], arm.model["version"], arm.stage, arm.share)
    return app
