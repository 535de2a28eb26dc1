"""``POST /v1/explain``: why the model scores a text as it does, word by word.

The body ``{"text": str, "method"?: str, "category"?: str}`` is answered with what
``Moderator.explain(text, method=..., category=...)`` returns (the scores, the flag, one
importance per token and the character spans judged harmful) plus the ``model`` that
explained it. It obeys the limits of ``/v1/moderate`` (body size, text length) and its errors.
An explanation runs the network many times on one text (and, for the gradient method, its
backward pass), so it runs in the thread pool under the production model's scoring lock.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from smartmod.explain import EXPLANATION_METHODS
from smartmod.moderation.moderator import Moderator
from smartmod.serve.errors import ASCIIJSONResponse
from smartmod.serve.validation import parse_explain_request, read_json_body

__all__ = ["explain"]

logger = logging.getLogger("smartmod.serve")


def _explain_under_lock(moderator: Moderator, lock: threading.Lock, text: str, options: dict[str, str]) -> dict[str, Any]:
    with lock:
        return moderator.explain(text, **options)


async def explain(request: Request) -> ASCIIJSONResponse:
    """``POST /v1/explain``: one text to its scores, token importances and harmful spans; the call is logged."""
    state = request.app.state
    moderator: Moderator = state.moderator
    document = await read_json_body(request, state.settings.max_body_bytes)
    text, options = parse_explain_request(document, state.settings.max_text_chars, EXPLANATION_METHODS, moderator.categories)
    start = time.perf_counter()
    explanation = await run_in_threadpool(_explain_under_lock, moderator, state.scoring_lock, text, options)
    seconds = time.perf_counter() - start
    model = {"name": str(moderator.name), "version": str(moderator.version)}
    logger.info("explained model=%s version=%s method=%s category=%s chars=%d flagged=%s spans=%d seconds=%.4f",
                model["name"], model["version"], explanation["method"], explanation["category"], len(text),
                explanation["flagged"], len(explanation["spans"]), seconds)
    return ASCIIJSONResponse({**explanation, "model": model})
