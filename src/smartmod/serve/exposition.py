"""Counters, gauges and histograms written in the Prometheus text exposition format 0.0.4.

Format reference: https://prometheus.io/docs/instrumenting/exposition_formats/ — one
``# HELP`` and one ``# TYPE`` line per metric, then ``name{label="value"} number`` samples;
a histogram has cumulative ``_bucket{le="..."}`` samples ending with ``le="+Inf"``, plus
``_sum`` and ``_count``. Label values escape backslash, double quote and newline.
"""
from __future__ import annotations

import math
import threading
from typing import Iterable, Sequence

import numpy

__all__ = ["Counter", "Gauge", "Histogram", "CONTENT_TYPE", "render"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape(value: str) -> str:
    return _escape_help(value).replace('"', '\\"')


def _format_labels(pairs: Sequence[tuple[str, str]]) -> str:
    if not pairs:
        return ""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in pairs) + "}"


def _format_number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return str(int(value)) if float(value).is_integer() and abs(value) < 2**53 else repr(float(value))


class _Metric:
    """A named metric with a fixed list of label names and one series per label combination."""

    kind = ""

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()):
        self.name = name
        self.help = help
        self.labelnames = tuple(labelnames)
        self._lock = threading.Lock()

    def _key(self, labels: dict[str, str]) -> tuple[str, ...]:
        if set(labels) != set(self.labelnames):
            raise ValueError(f"metric {self.name} takes labels {list(self.labelnames)}, got {sorted(labels)}")
        return tuple(str(labels[name]) for name in self.labelnames)

    def _pairs(self, key: tuple[str, ...]) -> list[tuple[str, str]]:
        return list(zip(self.labelnames, key))

    def lines(self) -> list[str]:
        """The metric's exposition lines: HELP, TYPE, then its samples."""
        return [f"# HELP {self.name} {_escape_help(self.help)}",
                f"# TYPE {self.name} {self.kind}", *self._samples()]

    def _samples(self) -> list[str]:
        raise NotImplementedError


class Counter(_Metric):
    """A value that only goes up (requests served, texts scored)."""

    kind = "counter"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()):
        super().__init__(name, help, labelnames)
        self._values: dict[tuple[str, ...], float] = {} if labelnames else {(): 0.0}

    def inc(self, amount: float = 1.0, /, **labels: str) -> None:
        if amount < 0:
            raise ValueError(f"counter {self.name} can only go up, got an increment of {amount}")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        """The current value of one series (0 when it has never been incremented)."""
        return self._values.get(self._key(labels), 0.0)

    def _samples(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_format_labels(self._pairs(key))} {_format_number(value)}" for key, value in items]


class Gauge(_Metric):
    """A value that is set (a ratio, a constant ``1`` carrying information in its labels)."""

    kind = "gauge"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()):
        super().__init__(name, help, labelnames)
        self._values: dict[tuple[str, ...], float] = {} if labelnames else {(): 0.0}

    def set(self, value: float, /, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = float(value)

    def _samples(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_format_labels(self._pairs(key))} {_format_number(value)}" for key, value in items]


class Histogram(_Metric):
    """Counts of observations at or below each bucket bound, with their sum and count.

    Parameters
    ----------
    buckets : sequence of float
        Increasing upper bounds; ``+Inf`` is added.
    """

    kind = "histogram"

    def __init__(self, name: str, help: str, buckets: Sequence[float], labelnames: Sequence[str] = ()):
        super().__init__(name, help, labelnames)
        bounds = [float(bound) for bound in buckets if not math.isinf(bound)]
        if bounds != sorted(set(bounds)) or not bounds:
            raise ValueError(f"histogram {name} needs strictly increasing bucket bounds, got {list(buckets)}")
        self.bounds = numpy.asarray(bounds)  # (B,)
        self._series: dict[tuple[str, ...], tuple[numpy.ndarray, float, int]] = {}

    def observe(self, values: float | Iterable[float], /, **labels: str) -> None:
        """Add one observation or an array of them."""
        observed = numpy.sort(numpy.atleast_1d(numpy.asarray(values, dtype=numpy.float64)).ravel())  # (N,)
        at_or_below = numpy.searchsorted(observed, self.bounds, side="right")  # (B,) cumulative counts
        key = self._key(labels)
        with self._lock:
            counts, total, count = self._series.get(key, (numpy.zeros(len(self.bounds), dtype=numpy.int64), 0.0, 0))
            self._series[key] = (counts + at_or_below, total + float(observed.sum()), count + len(observed))

    def _samples(self) -> list[str]:
        with self._lock:
            items = sorted(self._series.items())
        lines = []
        for key, (counts, total, count) in items:
            pairs = self._pairs(key)
            for bound, cumulative in zip([*self.bounds, math.inf], [*counts, count]):
                lines.append(f"{self.name}_bucket{_format_labels([*pairs, ('le', _format_number(bound))])} {int(cumulative)}")
            lines.append(f"{self.name}_sum{_format_labels(pairs)} {_format_number(total)}")
            lines.append(f"{self.name}_count{_format_labels(pairs)} {count}")
        return lines


def render(metrics: Iterable[_Metric]) -> str:
    """The exposition text of ``metrics``, newline-terminated."""
    return "\n".join(line for metric in metrics for line in metric.lines()) + "\n"
