"""``ServerSettings``: everything ``smartmod serve`` can be configured with, as plain data."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass

__all__ = ["ServerSettings"]


@dataclass(frozen=True)
class ServerSettings:
    """Where the HTTP API listens, which model it serves and what a request may hold.

    The limits protect the server from requests that would hold memory or a scoring thread
    for long; each one is named in the error a client gets when it is exceeded. The
    settings round-trip through JSON (``to_json`` / ``from_json``), which is how they reach
    the worker processes when ``workers > 1``.
    """

    host: str = "127.0.0.1"  # loopback only; pass 0.0.0.0 to listen on every interface
    port: int = 8000  # 0 lets the operating system pick a free port
    model: str = "default"  # "default" (the bundled model) or a model bundle directory
    workers: int = 1  # server processes; each loads its own model and keeps its own metrics
    max_body_bytes: int = 1024 * 1024  # 1 MiB: larger bodies get 413, counted while streaming
    max_texts: int = 256  # texts in one /v1/moderate request; more get 422
    max_text_chars: int = 20_000  # characters in one text; longer texts get 422

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {self.port}")
        for name in ("workers", "max_body_bytes", "max_texts", "max_text_chars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    def to_json(self) -> str:
        """The settings as a JSON object string."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "ServerSettings":
        """Settings from a JSON object written by ``to_json``; unknown keys raise ``TypeError``."""
        return cls(**json.loads(text))
