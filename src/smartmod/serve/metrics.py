"""The metrics ``GET /metrics`` exposes: traffic, latency, errors and what the model decides.

With ``workers > 1`` every worker process keeps its own metrics, as Prometheus client
libraries do without a multiprocess mode; a scrape sees the worker that answered it.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy

from smartmod.serve.exposition import Counter, Gauge, Histogram, render

__all__ = ["ServeMetrics", "ENDPOINTS"]

ENDPOINTS = ("/v1/moderate", "/v1/explain", "/v1/models", "/healthz", "/metrics", "/openapi.json",
             "/", "/static/page.js", "/static/page.css", "/static/favicon.svg")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)  # seconds
SCORE_BUCKETS = (0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)  # calibrated probability


class ServeMetrics:
    """Every metric of one server process, and the events that update them.

    Parameters
    ----------
    model_name, model_version : str
        The served model, exposed as ``smartmod_model_info{name, version} 1``.
    categories : sequence of str
        The model's categories, in the order of its score columns.
    """

    def __init__(self, model_name: str, model_version: str, categories: Sequence[str]):
        self.categories = tuple(categories)
        self.model_info = Gauge("smartmod_model_info", "The model this server scores with (the value is always 1).", ("name", "version"))
        self.requests = Counter("smartmod_http_requests_total", "HTTP requests answered, by endpoint, method and status code.",
                                ("endpoint", "method", "status"))
        self.latency = Histogram("smartmod_http_request_duration_seconds", "Time from request to complete response, by endpoint.",
                                 LATENCY_BUCKETS, ("endpoint",))
        self.errors = Counter("smartmod_http_errors_total", "Error responses, by error code (as in the body's error.code).", ("code",))
        self.texts_scored = Counter("smartmod_texts_scored_total", "Texts scored by /v1/moderate.")
        self.texts_flagged = Counter("smartmod_texts_flagged_total", "Texts flagged (any category at or over its threshold).")
        self.category_flagged = Counter("smartmod_category_flagged_total", "Texts flagged for each category.", ("category",))
        self.flagged_ratio = Gauge("smartmod_flagged_ratio", "Fraction of the texts scored since start that were flagged.")
        self.scores = Histogram("smartmod_score", "Calibrated scores of every text scored, by category.", SCORE_BUCKETS, ("category",))
        self.model_info.set(1, name=model_name, version=model_version)
        for category in self.categories:
            self.category_flagged.inc(0, category=category)
            self.scores.observe([], category=category)

    @staticmethod
    def endpoint_label(path: str) -> str:
        """The path for a known endpoint, ``"unmatched"`` otherwise (keeps the label set small)."""
        return path if path in ENDPOINTS else "unmatched"

    def record_request(self, path: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        endpoint = self.endpoint_label(path)
        method = method if method in ("GET", "POST", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS") else "other"
        self.requests.inc(endpoint=endpoint, method=method, status=str(status))
        self.latency.observe(seconds, endpoint=endpoint)

    def record_error(self, code: str) -> None:
        """Count one error response by its ``error.code``."""
        self.errors.inc(code=code)

    def record_moderation(self, results: Sequence[dict[str, Any]]) -> None:
        """Count the texts of one ``Moderator.moderate`` call, their flags and their scores."""
        scores = numpy.array([[result["scores"][c] for c in self.categories] for result in results], dtype=numpy.float64)
        scores = scores.reshape(len(results), len(self.categories))  # (N, C)
        self.texts_scored.inc(len(results))
        self.texts_flagged.inc(sum(result["flagged"] for result in results))
        for column, category in enumerate(self.categories):
            self.category_flagged.inc(sum(category in result["categories"] for result in results), category=category)
            self.scores.observe(scores[:, column], category=category)
        scored = self.texts_scored.value()
        self.flagged_ratio.set(self.texts_flagged.value() / scored if scored else 0.0)

    def render(self) -> str:
        """All metrics in the Prometheus text format."""
        return render([self.model_info, self.requests, self.latency, self.errors, self.texts_scored, self.texts_flagged,
                       self.category_flagged, self.flagged_ratio, self.scores])
