"""``ServerSettings``: everything ``smartmod serve`` can be configured with, as plain data."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

__all__ = ["ServerSettings"]


@dataclass(frozen=True)
class ServerSettings:
    """Where the HTTP API listens, which model it serves and what a request may hold.

    The limits protect the server from requests that would hold memory or a scoring thread
    for long; each one is named in the error a client gets when it is exceeded. The
    settings round-trip through JSON (``to_json`` / ``from_json``), which is how they reach
    the worker processes when ``workers > 1``.
    """

    host: str = field(default="127.0.0.1", metadata={"help": "address to listen on (0.0.0.0 for every interface)"})
    port: int = field(default=8000, metadata={"help": "TCP port (0 lets the operating system pick one)"})
    model: str = field(default="default", metadata={"help": "'default' (the bundled model), a model bundle directory, or a registered "
                                                            "NAME[:VERSION] (see 'smartmod models')"})
    registry: str | None = field(default=None, metadata={"help": "models directory holding registered models "
                                                                 "(default: $SMARTMOD_MODELS, else ~/.smartmod/models)"})
    candidate: str | None = field(default=None, metadata={"help": "a second model, named like --model, answering --candidate-share "
                                                                  "of the requests (A/B), sticky by the request key"})
    candidate_share: float = field(default=0.1, metadata={"help": "fraction of requests, between 0 and 1, sent to --candidate"})
    log_predictions: str | None = field(default=None, metadata={"help": "append one JSON line of per-text statistics (model, version, "
                                                                        "scores, length, OOV rate; no text) per request to this file"})
    monitor_window: int = field(default=1000, metadata={"help": "texts per monitoring window of each model version"})
    drift_threshold: float = field(default=0.2, metadata={"help": "PSI at or over which a window's drift writes an alert line to the log"})
    workers: int = field(default=1, metadata={"help": "server processes; each loads the model and keeps its own metrics"})
    max_body_bytes: int = field(default=1024 * 1024, metadata={"help": "largest request body in bytes (1 MiB); larger gets 413"})
    max_texts: int = field(default=256, metadata={"help": "most texts in one /v1/moderate request; more gets 422"})
    max_text_chars: int = field(default=20_000, metadata={"help": "most characters in one text; longer gets 422"})

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {self.port}")
        for name in ("workers", "max_body_bytes", "max_texts", "max_text_chars", "monitor_window"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0.0 <= self.candidate_share <= 1.0:
            raise ValueError(f"candidate_share must be between 0 and 1, got {self.candidate_share}")
        if not self.drift_threshold > 0.0:
            raise ValueError(f"drift_threshold must be a positive PSI (0.1: moderate shift, 0.25: large), got {self.drift_threshold}")

    def to_json(self) -> str:
        """The settings as a JSON object string."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "ServerSettings":
        """Settings from a JSON object written by ``to_json``; unknown keys raise ``TypeError``."""
        return cls(**json.loads(text))
