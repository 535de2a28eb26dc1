"""The outermost layer of the API: every request is counted and timed, and none can crash it.

An exception that escapes an endpoint is logged with its traceback on the server (logger
``smartmod.serve``) and answered with a 500 JSON body that says nothing of the internals.
"""
from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartmod.serve.errors import error_response
from smartmod.serve.metrics import ServeMetrics

__all__ = ["ObservedRequests"]

logger = logging.getLogger("smartmod.serve")


class ObservedRequests:
    """ASGI middleware: request metrics plus the catch-all 500.

    Parameters
    ----------
    app : ASGI application
        The application it wraps.
    metrics : ServeMetrics
        Where requests, latencies and internal errors are counted.
    """

    def __init__(self, app: ASGIApp, metrics: ServeMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        response_started = False

        async def send_observed(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except Exception:
            logger.exception("internal error answering %s %s", scope["method"], scope["path"])
            self.metrics.record_error("internal_error")
            if response_started:
                raise
            response = error_response(500, "internal_error", "the server could not answer this request; the error has been logged")
            await response(scope, receive, send_observed)
        finally:
            self.metrics.record_request(scope["path"], scope["method"], status, time.perf_counter() - start)
