"""A/B routing: a configured share of requests goes to a candidate model, sticky by a request key.

A request may carry a key (the body's ``"key"`` field, else the ``X-Request-Key`` header): a
user or conversation id, say. The key is hashed to a point u in [0, 1) — the first 8 bytes of
its SHA-256, read as an integer and divided by 2^64 — and the request goes to the candidate
when u < share. The same key therefore always meets the same model, in every worker process
and across restarts, and over many keys the candidate gets the configured share. A request
without a key draws u at random.
"""
from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass, field
from typing import Any, Mapping

from smartmod.moderation.moderator import Moderator
from smartmod.serve.errors import APIError

__all__ = ["ModelArm", "ABRouter", "key_point", "request_key", "KEY_FIELD", "KEY_HEADER", "MAX_KEY_CHARS"]

KEY_FIELD = "key"
KEY_HEADER = "x-request-key"
MAX_KEY_CHARS = 256


def key_point(key: str) -> float:
    """The key's fixed point in [0, 1): SHA-256 of its UTF-8 bytes, first 8 bytes over 2^64."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def request_key(document: Any, headers: Mapping[str, str]) -> tuple[str | None, Any]:
    """The request's routing key and the document without it.

    The body's ``"key"`` field wins over the ``X-Request-Key`` header; no key gives None.

    Raises
    ------
    APIError
        422 when the key is not a string or is longer than ``MAX_KEY_CHARS``.
    """
    if isinstance(document, dict) and KEY_FIELD in document:
        key = document[KEY_FIELD]
        document = {name: value for name, value in document.items() if name != KEY_FIELD}
        if not isinstance(key, str):
            raise APIError(422, "invalid_field", f"'key' must be a string that picks the model sticky for this client, got {type(key).__name__}",
                           field=KEY_FIELD)
    else:
        key = headers.get(KEY_HEADER)
    if key is not None and len(key) > MAX_KEY_CHARS:
        raise APIError(422, "invalid_field", f"the request key has {len(key)} characters, more than {MAX_KEY_CHARS}; send a shorter id",
                       field=KEY_FIELD)
    return key, document


@dataclass
class ModelArm:
    """One model the router can send requests to, with its stage and share of the traffic.

    Scoring holds ``lock``: the network keeps activations on its layers, so one model scores
    one batch at a time (two models can score at once).
    """

    moderator: Moderator
    stage: str  # "production" or "candidate"
    share: float  # fraction of requests routed here
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def model(self) -> dict[str, str]:
        """``{"name", "version"}`` of the model, as every response and log line carries it."""
        return {"name": str(self.moderator.name), "version": str(self.moderator.version)}

    def moderate(self, texts: list[str]) -> list[dict[str, Any]]:
        """``Moderator.moderate`` under the arm's lock."""
        with self.lock:
            return self.moderator.moderate(texts)


class ABRouter:
    """Production alone, or production and a candidate sharing the traffic by request key.

    Parameters
    ----------
    production : Moderator
    candidate : Moderator, optional
    candidate_share : float
        Fraction of requests, in [0, 1], sent to the candidate.
    production_lock : threading.Lock, optional
        The lock production scores under (shared with the other endpoints that use the model).
    seed : int, optional
        Seeds the draws of requests without a key.
    """

    def __init__(self, production: Moderator, candidate: Moderator | None = None, candidate_share: float = 0.0,
                 production_lock: threading.Lock | None = None, seed: int | None = None):
        if not 0.0 <= candidate_share <= 1.0:
            raise ValueError(f"the candidate share must be between 0 and 1, got {candidate_share}")
        share = candidate_share if candidate is not None else 0.0
        self.production = ModelArm(production, "production", 1.0 - share, production_lock or threading.Lock())
        self.candidate = ModelArm(candidate, "candidate", share) if candidate is not None else None
        if self.candidate is not None and self.candidate.model == self.production.model:
            raise ValueError(f"the candidate is the production model ({production.name} {production.version}); pick another version")
        if candidate is not None and candidate.categories != production.categories:
            raise ValueError(f"the candidate scores categories {list(candidate.categories)}, production {list(production.categories)}; "
                             "A/B needs models with the same categories")
        self._random = random.Random(seed)

    @property
    def arms(self) -> tuple[ModelArm, ...]:
        """Production, then the candidate when there is one."""
        return (self.production,) if self.candidate is None else (self.production, self.candidate)

    def route(self, key: str | None) -> ModelArm:
        """The arm that answers a request with this key (a random draw when ``key`` is None)."""
        if self.candidate is None:
            return self.production
        point = key_point(key) if key is not None else self._random.random()
        return self.candidate if point < self.candidate.share else self.production
