"""Monitoring the models a server scores with: windows of prediction statistics and their drift.

Every text a model version scores joins that version's current *window*; when the window holds
``window_size`` texts it is closed and summarized (:func:`summarize_window`): texts, flagged
rate, mean text length and out-of-vocabulary rate, per-category score histograms, and — when
the model carries a reference (``reference.json``, written at training time) — the PSI and KS
statistic of every category's score, of the text length and of the OOV rate against it
(:mod:`smartmod.eval.drift`). A PSI at or over the threshold writes an alert line to the
server log (logger ``smartmod.serve``, level WARNING)::

    drift alert model=text-tfidf-mlp version=1 feature=toxicity psi=0.734 ks=0.512 threshold=0.2 texts=1000

``/metrics`` exposes, labelled by model and version, the texts scored and flagged and the score
histograms since start (Prometheus takes its own time windows of those with ``rate()``), the
last window's statistics and the drift gauges ``smartmod_drift_psi`` / ``smartmod_drift_ks``
by feature. With ``--log-predictions FILE`` every request appends one JSON line of per-text
statistics (no text): ``smartmod monitor report`` reads that file back
(:func:`read_prediction_log`). With several workers each keeps its own windows; they all append
to the one log.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy

from smartmod.eval.drift import SCORE_EDGES, TEXT_FEATURES, DriftFigures, DriftReference, histogram_counts, text_statistics
from smartmod.moderation.bundle import REFERENCE_FILE
from smartmod.moderation.registry import ModelRegistry
from smartmod.nn.serialize import read_json
from smartmod.serve.exposition import Counter, Gauge, Histogram, render

__all__ = ["WindowSummary", "summarize_window", "ModelMonitor", "Monitoring", "PredictionLog", "read_prediction_log", "read_reference",
           "report_prediction_log", "format_report"]

logger = logging.getLogger("smartmod.serve")


@dataclass(frozen=True)
class WindowSummary:
    """The statistics of one window of texts scored by one model version.

    Attributes
    ----------
    score_histograms : {category: (B,) counts over ``SCORE_EDGES``}
    drift : {feature: DriftFigures}, empty when the model has no reference
    """

    model: str
    version: str
    texts: int
    flagged_rate: float
    mean_text_length: float
    mean_oov_rate: float
    score_histograms: dict[str, list[int]]
    drift: dict[str, DriftFigures]

    def alerts(self, threshold: float) -> list[str]:
        """The features whose PSI is at or over ``threshold``."""
        return [feature for feature, figures in self.drift.items() if figures.psi >= threshold]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "texts": self.texts, "flagged_rate": self.flagged_rate,
                "mean_text_length": self.mean_text_length, "mean_oov_rate": self.mean_oov_rate, "score_histograms": self.score_histograms,
                "score_edges": list(SCORE_EDGES), "drift": {feature: {"psi": f.psi, "ks": f.ks} for feature, f in self.drift.items()}}


def summarize_window(model: str, version: str, categories: Sequence[str], observed: dict[str, numpy.ndarray], flagged: numpy.ndarray,
                     reference: DriftReference | None) -> WindowSummary:
    """Summarize N texts of one model version.

    Parameters
    ----------
    categories : the C categories, each a key of ``observed``
    observed : {feature: (N,)} every category's score, ``"text_length"`` and ``"oov_rate"``
    flagged : (N,) bool, whether each text was flagged
    reference : the model's reference, or None (no drift figures)
    """
    return WindowSummary(
        model=model, version=version, texts=len(flagged), flagged_rate=float(numpy.mean(flagged)),
        mean_text_length=float(numpy.mean(observed["text_length"])), mean_oov_rate=float(numpy.mean(observed["oov_rate"])),
        score_histograms={category: histogram_counts(observed[category], SCORE_EDGES).tolist() for category in categories},
        drift=reference.compare(observed) if reference is not None else {},
    )


class ModelMonitor:
    """The current window of one model version; ``observe`` returns the windows it closes.

    Parameters
    ----------
    model, version : str
    categories : sequence of C str
    reference : DriftReference or None
    window_size : int, texts per window
    """

    def __init__(self, model: str, version: str, categories: Sequence[str], reference: DriftReference | None, window_size: int):
        self.model, self.version, self.categories = model, version, tuple(categories)
        self.reference, self.window_size = reference, window_size
        self._pending: list[tuple[dict[str, numpy.ndarray], numpy.ndarray]] = []
        self._pending_texts = 0

    def observe(self, observed: dict[str, numpy.ndarray], flagged: numpy.ndarray) -> list[WindowSummary]:
        """Add N texts (``observed`` {feature: (N,)}, ``flagged`` (N,)); summaries of the windows they fill."""
        self._pending.append((observed, flagged))
        self._pending_texts += len(flagged)
        closed = []
        while self._pending_texts >= self.window_size:
            features = {name: numpy.concatenate([part[name] for part, _ in self._pending]) for name in observed}  # (P,) each
            all_flagged = numpy.concatenate([part for _, part in self._pending])
            size = self.window_size
            closed.append(summarize_window(self.model, self.version, self.categories, {name: values[:size] for name, values in features.items()},
                                           all_flagged[:size], self.reference))
            self._pending = [({name: values[size:] for name, values in features.items()}, all_flagged[size:])]
            self._pending_texts -= size
        return closed


class PredictionLog:
    """Appends one JSON line per request to ``path``; each line is one ``write`` (O_APPEND), so
    several worker processes can share the file."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n").encode("utf-8")
        with self._lock:
            os.write(self._descriptor, line)


def read_prediction_log(path: str | os.PathLike) -> dict[tuple[str, str], tuple[dict[str, numpy.ndarray], numpy.ndarray]]:
    """The texts a prediction log records, by ``(model, version)``: ``({feature: (N,)}, flagged (N,))``, in log order.

    Raises
    ------
    FileNotFoundError, ValueError
        When the file is missing, or a line is not a record the server writes (naming the line).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no prediction log at {path}; start the server with 'smartmod serve --log-predictions {path}'")
    parts: dict[tuple[str, str], list[tuple[dict[str, numpy.ndarray], numpy.ndarray]]] = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                flagged = numpy.asarray(record["flagged"], dtype=bool)  # (n,)
                features = {name: numpy.asarray(values, dtype=numpy.float64) for name, values in record["features"].items()}
                if flagged.ndim != 1 or any(values.shape != flagged.shape for values in features.values()):
                    raise ValueError("every feature needs one number per flagged entry")
                parts.setdefault((str(record["model"]), str(record["version"])), []).append((features, flagged))
            except (ValueError, KeyError, TypeError, AttributeError) as error:  # json.JSONDecodeError is a ValueError
                raise ValueError(f"{path} line {number} is not a prediction record written by 'smartmod serve' ({error!r})") from None
    result = {}
    for model, records in parts.items():
        names = records[0][0]
        try:
            result[model] = ({name: numpy.concatenate([features[name] for features, _ in records]) for name in names},
                             numpy.concatenate([flagged for _, flagged in records]))
        except KeyError as error:
            raise ValueError(f"{path}: the records of {model[0]} {model[1]} do not all hold the feature {error}") from None
    return result


class Monitoring:
    """Per-model-version counters, windows, drift gauges, alerts and the prediction log of one server.

    Parameters
    ----------
    models : sequence of (name, version, categories, reference document or None)
        The models the server scores with; a reference document is ``DriftReference.to_dict()``
        (a bundle's ``reference``).
    window_size : int
        Texts per window.
    drift_threshold : float
        PSI at or over which a window's feature raises an alert line.
    log_path : str, optional
        Where to append the per-request prediction records (JSON lines).
    """

    def __init__(self, models: Sequence[tuple[str, str, Sequence[str], dict[str, Any] | None]], window_size: int, drift_threshold: float,
                 log_path: str | None = None):
        self.drift_threshold = drift_threshold
        self.monitors = {(name, version): ModelMonitor(name, version, categories, DriftReference.from_dict(reference) if reference else None,
                                                       window_size)
                         for name, version, categories, reference in models}
        self.log = PredictionLog(log_path) if log_path else None
        labels = ("model", "version")
        self.texts = Counter("smartmod_model_texts_scored_total", "Texts scored, by model version.", labels)
        self.flagged = Counter("smartmod_model_texts_flagged_total", "Texts flagged, by model version.", labels)
        self.scores = Histogram("smartmod_model_score", "Calibrated scores since start, by model version and category.",
                                SCORE_EDGES[1:], (*labels, "category"))
        self.windows = Counter("smartmod_windows_total", "Monitoring windows closed, by model version.", labels)
        self.window_flagged = Gauge("smartmod_window_flagged_ratio", "Flagged share of the texts of the last window.", labels)
        self.window_length = Gauge("smartmod_window_mean_text_length_characters", "Mean text length in the last window.", labels)
        self.window_oov = Gauge("smartmod_window_mean_oov_ratio", "Mean share of out-of-vocabulary word tokens in the last window.", labels)
        self.psi = Gauge("smartmod_drift_psi", "Population stability index of the last window against the training reference.",
                         (*labels, "feature"))
        self.ks = Gauge("smartmod_drift_ks", "Two-sample Kolmogorov-Smirnov statistic of the last window against the training reference.",
                        (*labels, "feature"))
        self.alerts = Counter("smartmod_drift_alerts_total", "Windows whose PSI reached the drift threshold, by feature.", (*labels, "feature"))
        for monitor in self.monitors.values():
            self.texts.inc(0, model=monitor.model, version=monitor.version)
            self.flagged.inc(0, model=monitor.model, version=monitor.version)
            if monitor.reference is None:
                logger.info("no drift reference in model=%s version=%s: windows are summarized without drift figures "
                            "(write one with 'smartmod monitor reference')", monitor.model, monitor.version)

    @staticmethod
    def input_features(moderator: Any, texts: Sequence[str]) -> dict[str, numpy.ndarray]:
        """The monitored input features of the texts a ``Moderator`` scores: ``{"text_length": (N,), "oov_rate": (N,)}``."""
        return text_statistics(moderator.bundle.vectorizer, texts)

    def record(self, model: dict[str, str], results: Sequence[dict[str, Any]], inputs: dict[str, numpy.ndarray]) -> None:
        """Count one request's results, feed the model's window and the prediction log.

        Parameters
        ----------
        model : {"name", "version"} of the model that scored the request
        results : N results of ``Moderator.moderate``
        inputs : {"text_length": (N,), "oov_rate": (N,)}
        """
        name, version = model["name"], model["version"]
        monitor = self.monitors[(name, version)]
        categories = monitor.categories
        observed = {category: numpy.array([result["scores"][category] for result in results], dtype=numpy.float64) for category in categories}
        observed.update(inputs)
        flagged = numpy.array([result["flagged"] for result in results], dtype=bool)  # (N,)
        self.texts.inc(len(results), model=name, version=version)
        self.flagged.inc(int(flagged.sum()), model=name, version=version)
        for category in categories:
            self.scores.observe(observed[category], model=name, version=version, category=category)
        if self.log is not None:
            self.log.write({"time": round(time.time(), 3), "model": name, "version": version, "flagged": flagged.astype(int).tolist(),
                            "features": {feature: numpy.round(values, 6).tolist() for feature, values in observed.items()}})
        for window in monitor.observe(observed, flagged):
            self._publish(window)

    def _publish(self, window: WindowSummary) -> None:
        labels = {"model": window.model, "version": window.version}
        self.windows.inc(**labels)
        self.window_flagged.set(window.flagged_rate, **labels)
        self.window_length.set(window.mean_text_length, **labels)
        self.window_oov.set(window.mean_oov_rate, **labels)
        for feature, figures in window.drift.items():
            self.psi.set(figures.psi, feature=feature, **labels)
            self.ks.set(figures.ks, feature=feature, **labels)
        logger.info("window model=%s version=%s texts=%d flagged_rate=%.4f mean_length=%.1f mean_oov=%.4f", window.model, window.version,
                    window.texts, window.flagged_rate, window.mean_text_length, window.mean_oov_rate)
        for feature in window.alerts(self.drift_threshold):
            self.alerts.inc(feature=feature, **labels)
            figures = window.drift[feature]
            logger.warning("drift alert model=%s version=%s feature=%s psi=%.3f ks=%.3f threshold=%g texts=%d", window.model, window.version,
                           feature, figures.psi, figures.ks, self.drift_threshold, window.texts)

    def render(self) -> str:
        """The monitoring metrics in the Prometheus text format."""
        return render([self.texts, self.flagged, self.scores, self.windows, self.window_flagged, self.window_length, self.window_oov,
                       self.psi, self.ks, self.alerts])


def read_reference(bundle_dir: str | os.PathLike) -> DriftReference | None:
    """The drift reference saved in a model bundle directory, or None when it has none."""
    path = Path(bundle_dir) / REFERENCE_FILE
    return DriftReference.from_dict(read_json(path, "a smartmod text model")) if path.is_file() else None


def report_prediction_log(path: str | os.PathLike, registry: ModelRegistry, last: int | None = None) -> list[WindowSummary]:
    """One summary per model version found in the prediction log at ``path``, over its ``last`` texts (all when None).

    Each model's reference comes from the registry version (or the bundled default) whose bundle
    has the logged name and version; a model found nowhere is summarized without drift figures.
    """
    if last is not None and last < 1:
        raise ValueError(f"--last must be a positive number of texts, got {last}")
    summaries = []
    for (model, version), (observed, flagged) in read_prediction_log(path).items():
        window = slice(-last, None) if last else slice(None)
        observed = {feature: values[window] for feature, values in observed.items()}
        entry = registry.find(model, version)
        categories = [feature for feature in observed if feature not in TEXT_FEATURES]
        summaries.append(summarize_window(model, version, categories, observed, flagged[window], read_reference(entry.path) if entry else None))
    return summaries


#: Fewer texts than this give PSI and KS too noisy to alert on: windows of 200 ordinary holdout
#: texts already reach a PSI of 0.12 by chance (1,000 texts: at most 0.022).
MIN_TEXTS_FOR_ALERTS = 200


def format_report(summaries: Sequence[WindowSummary], threshold: float, min_texts: int = MIN_TEXTS_FOR_ALERTS) -> str:
    """The summaries as text: a header line per model version, then PSI and KS per feature;
    ALERT marks a PSI at or over ``threshold`` in a summary of at least ``min_texts`` texts."""
    lines = []
    for summary in summaries:
        lines.append(f"model {summary.model} version {summary.version}: {summary.texts} texts, flagged {summary.flagged_rate:.1%}, "
                     f"mean length {summary.mean_text_length:.0f} characters, mean OOV rate {summary.mean_oov_rate:.3f}")
        if not summary.drift:
            lines.append("  no drift reference for this model (write one with 'smartmod monitor reference MODEL')")
            continue
        enough = summary.texts >= min_texts
        if not enough:
            lines.append(f"  only {summary.texts} texts: too few for PSI and KS to mean drift (no alert below {min_texts})")
        lines.append(f"  {'feature':<18}{'PSI':>8}{'KS':>8}")
        for feature, figures in summary.drift.items():
            alert = f"   ALERT (PSI >= {threshold:g})" if enough and figures.psi >= threshold else ""
            lines.append(f"  {feature:<18}{figures.psi:>8.3f}{figures.ks:>8.3f}{alert}")
    return "\n".join(lines) if lines else "the prediction log holds no predictions"
