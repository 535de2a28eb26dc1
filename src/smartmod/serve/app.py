"""The ASGI application: ``create_app(settings)`` builds the Starlette app of the HTTP API.

Endpoints: ``POST /v1/moderate``, ``GET /v1/models``, ``GET /healthz``, ``GET /metrics``
and ``GET /openapi.json`` (described there). Scoring runs in Starlette's thread pool so the
event loop keeps answering while a batch is scored; one batch is scored at a time, because
the network's layers keep their activations on themselves for the backward pass and so are
not safe to call from two threads at once.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Sequence

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from smartmod.moderation.moderator import Moderator
from smartmod.serve.errors import APIError, ASCIIJSONResponse, api_error_handler, http_exception_handler
from smartmod.serve.explain import explain
from smartmod.serve.exposition import CONTENT_TYPE
from smartmod.serve.metrics import ServeMetrics
from smartmod.serve.middleware import ObservedRequests
from smartmod.serve.openapi import openapi_document
from smartmod.serve.page import page_routes
from smartmod.serve.settings import ServerSettings
from smartmod.serve.validation import read_texts

__all__ = ["create_app"]

logger = logging.getLogger("smartmod.serve")


def _model_reference(moderator: Moderator) -> dict[str, str]:
    return {"name": str(moderator.name), "version": str(moderator.version)}


def _moderate_one_batch_at_a_time(moderator: Moderator, lock: threading.Lock, texts: Sequence[str]) -> list[dict[str, Any]]:
    with lock:
        return moderator.moderate(texts)


async def moderate(request: Request) -> ASCIIJSONResponse:
    """``POST /v1/moderate``: ``{"texts": [...]}`` to one result per text; the call is logged."""
    state = request.app.state
    texts = await read_texts(request, state.settings)
    start = time.perf_counter()
    results = await run_in_threadpool(_moderate_one_batch_at_a_time, state.moderator, state.scoring_lock, texts)
    seconds = time.perf_counter() - start
    state.metrics.record_moderation(results)
    model = _model_reference(state.moderator)
    flagged = [index for index, result in enumerate(results) if result["flagged"]]
    logger.info("moderated model=%s version=%s texts=%d flagged=%d flagged_texts=%s seconds=%.4f",
                model["name"], model["version"], len(results), len(flagged), flagged, seconds)
    return ASCIIJSONResponse({"model": model, "results": results})


async def list_models(request: Request) -> ASCIIJSONResponse:
    """``GET /v1/models``: the loaded model with its categories and thresholds."""
    moderator: Moderator = request.app.state.moderator
    return ASCIIJSONResponse({"models": [{**_model_reference(moderator), "categories": list(moderator.categories),
                                          "thresholds": dict(moderator.thresholds)}]})


async def health(request: Request) -> ASCIIJSONResponse:
    """``GET /healthz``: the server is up and its model is loaded."""
    return ASCIIJSONResponse({"status": "ok", "model": _model_reference(request.app.state.moderator)})


async def prometheus_metrics(request: Request) -> Response:
    """``GET /metrics``: the Prometheus text exposition of ``ServeMetrics``."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE)


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
        An already loaded model; ``Moderator.load(settings.model)`` when omitted.
    """
    settings = settings or ServerSettings()
    moderator = moderator or Moderator.load(settings.model)
    server_metrics = ServeMetrics(str(moderator.name), str(moderator.version), moderator.categories)
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
    app.state.scoring_lock = threading.Lock()
    app.state.openapi = openapi_document(settings, moderator.categories)
    logger.info("serving model=%s version=%s", moderator.name, moderator.version)
    return app
