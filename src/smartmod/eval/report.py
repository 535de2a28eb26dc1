"""The evaluation report: every figure of a model on a labeled set, as JSON-ready data and files.

:class:`EvaluationReport` gathers threshold metrics (:mod:`~smartmod.eval.metrics`), ROC AUC and
average precision (:mod:`~smartmod.eval.curves`), calibration before and after temperature
scaling (:mod:`~smartmod.eval.calibration`), per-source results, a cross-dataset matrix, error
analysis (:mod:`~smartmod.eval.errors`) and learning curves. :meth:`EvaluationReport.write` puts
``report.json``, ``report.html`` and PNG plots in one folder.

Every file is built in memory before the first is written, so a failure while computing writes
nothing. Each file is then written atomically (temporary file, then rename) and ``report.json``
last: no file is ever half written, and a new ``report.json`` appears only once its plots and
page are in place. In the JSON, NaN and infinities become ``null``.
"""
from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy

from smartmod.eval import plots
from smartmod.eval.calibration import (
    apply_temperature, expected_calibration_error, fit_temperatures, logit, negative_log_likelihood, reliability_bins,
)
from smartmod.eval.curves import ranking_summary
from smartmod.eval.errors import error_analysis
from smartmod.eval.metrics import classification_summary, confusion_matrices
from smartmod.eval.report_html import render_html
from smartmod.eval.validation import as_categories, as_label_matrix, as_per_category, as_score_matrix, check_probabilities
from smartmod.nn.serialize import atomic_write_bytes

__all__ = ["EvaluationReport", "json_ready"]

PLOT_FILES = {
    "learning_curves": "learning_curves.png",
    "roc": "roc.png",
    "precision_recall": "precision_recall.png",
    "confusion_matrices": "confusion_matrices.png",
    "reliability": "reliability.png",
}


def json_ready(value: Any) -> Any:
    """``value`` with NumPy arrays and scalars, tuples and dataclasses turned into JSON types and
    every NaN or infinity into None; mapping keys become strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_ready(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(key): json_ready(item) for key, item in value.items()}
    if isinstance(value, numpy.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, numpy.generic):
        return json_ready(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _check_history(history: Any) -> None:
    """Raise unless ``history`` is None or a mapping {name: 1-D sequence of numbers}."""
    if history is None:
        return
    if not isinstance(history, Mapping):
        raise ValueError(f"history must map names to per-epoch values, like {{'loss': [...]}}; got {type(history).__name__}")
    for name, values in history.items():
        try:
            array = numpy.asarray(values, dtype=numpy.float64)
        except (TypeError, ValueError):
            array = None
        if not isinstance(name, str) or array is None or array.ndim != 1:
            raise ValueError(f"history[{name!r}] must be a list of numbers (one per epoch), got {values!r}")


def _check_cross_dataset(cross_dataset: Any) -> None:
    """Raise unless ``cross_dataset`` is None or a mapping {train_source: {eval_source: figures}}."""
    if cross_dataset is None:
        return
    if not (isinstance(cross_dataset, Mapping) and all(isinstance(row, Mapping) for row in cross_dataset.values())):
        raise ValueError("cross_dataset must map each training source to {evaluation source: figures}, "
                         f"like {{'a': {{'b': {{'macro_f1': 0.7}}}}}}; got {cross_dataset!r}")


class EvaluationReport:
    """Every evaluation figure of one model on one labeled set.

    Parameters
    ----------
    Y : (N, C) array of 0, 1, NaN (not labeled)
    P : (N, C) predicted probabilities in [0, 1]
    categories : list of C str
    thresholds : float, (C,) floats or mapping {category: float}
        ``P[:, c] >= thresholds[c]`` flags category c.
    sources : (N,) str, optional
        The dataset of each row; each source gets the figures of the categories it labels.
    texts : sequence of N str, optional
        The rows' texts, for error analysis.
    history : mapping {name: sequence of float}, optional
        A training history such as ``{"loss": [...], "val_loss": [...]}``, for learning curves.
    cross_dataset : mapping {train_source: {eval_source: float or {metric: float}}}, optional
        Figures of models trained on one source and evaluated on another; rendered as given.
    temperatures : float or (C,) floats, optional
        Temperatures fitted elsewhere (on validation data). By default they are fitted on these
        rows, which makes the calibrated figures optimistic; the report says which it did.
    n_bins : int
        Bins of the reliability diagrams and of ECE.
    top_k : int
        False positives and false negatives listed per category.
    title : str
    """

    def __init__(self, Y: Any, P: Any, categories: Sequence[str], thresholds: Any = 0.5, *, sources: Any = None,
                 texts: Sequence[str] | None = None, history: Mapping[str, Sequence[float]] | None = None,
                 cross_dataset: Mapping[str, Mapping[str, Any]] | None = None, temperatures: Any = None,
                 n_bins: int = 15, top_k: int = 10, title: str = "smartmod evaluation report"):
        self.Y = as_label_matrix(Y)
        self.P = as_score_matrix(P, self.Y)
        check_probabilities(self.P, "P")
        self.categories = as_categories(categories, self.Y.shape[1])
        self.thresholds = as_per_category(thresholds, self.categories)
        self.sources = None if sources is None else numpy.asarray(sources).astype(str)
        if self.sources is not None and self.sources.shape != (self.Y.shape[0],):
            raise ValueError(f"sources must hold one name per row ({self.Y.shape[0]}), got shape {self.sources.shape}")
        if texts is not None and len(texts) != self.Y.shape[0]:
            raise ValueError(f"texts must hold one text per row ({self.Y.shape[0]}), got {len(texts)}")
        _check_history(history)
        _check_cross_dataset(cross_dataset)
        self.texts, self.history, self.cross_dataset = texts, history, cross_dataset
        self.temperatures = None if temperatures is None else as_per_category(temperatures, self.categories, "temperatures")
        if self.temperatures is not None and (self.temperatures <= 0).any():
            raise ValueError(f"temperatures must be > 0, got {temperatures!r}")
        self.n_bins, self.top_k, self.title = n_bins, top_k, title

    @cached_property
    def _calibration(self) -> dict[str, Any]:
        """ECE, NLL and reliability bins per category, before and after temperature scaling."""
        logits = logit(self.P)  # (N, C)
        fitted_here = self.temperatures is None
        temperatures = fit_temperatures(self.Y, logits) if fitted_here else self.temperatures  # (C,)
        calibrated = apply_temperature(logits, temperatures)  # (N, C)
        per_category = {}
        for c, name in enumerate(self.categories):
            y = self.Y[:, c]
            per_category[name] = {
                "temperature": float(temperatures[c]),
                "ece_before": expected_calibration_error(y, self.P[:, c], self.n_bins),
                "ece_after": expected_calibration_error(y, calibrated[:, c], self.n_bins),
                "nll_before": negative_log_likelihood(y, logits[:, c]),
                "nll_after": negative_log_likelihood(y, logits[:, c], temperatures[c]),
                "reliability_before": reliability_bins(y, self.P[:, c], self.n_bins),
                "reliability_after": reliability_bins(y, calibrated[:, c], self.n_bins),
            }
        source = ("fitted on these rows (optimistic: the calibrated figures are in-sample)" if fitted_here
                  else "given (fitted elsewhere)")
        return {"n_bins": self.n_bins, "temperatures": source, "per_category": per_category}

    def _per_dataset(self) -> dict[str, Any] | None:
        """Metrics per source, over the categories each source labels."""
        if self.sources is None:
            return None
        results = {}
        for source in sorted(set(self.sources.tolist())):
            rows = self.sources == source
            labels = self.Y[rows]  # (n_source, C)
            labeled = numpy.flatnonzero((~numpy.isnan(labels)).any(axis=0))
            names = [self.categories[c] for c in labeled]
            results[source] = {
                "rows": int(rows.sum()),
                "categories": names,
                "metrics": classification_summary(labels[:, labeled], self.P[rows][:, labeled], self.thresholds[labeled], names),
                "ranking": ranking_summary(labels[:, labeled], self.P[rows][:, labeled], names),
            }
        return results

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (NaN as None); :meth:`write` adds the plot file names."""
        return json_ready({
            "title": self.title,
            "rows": self.Y.shape[0],
            "categories": self.categories,
            "thresholds": dict(zip(self.categories, self.thresholds.tolist())),
            "metrics": classification_summary(self.Y, self.P, self.thresholds, self.categories),
            "ranking": ranking_summary(self.Y, self.P, self.categories),
            "calibration": self._calibration,
            "per_dataset": self._per_dataset(),
            "cross_dataset": self.cross_dataset,
            "errors": None if self.texts is None
            else error_analysis(self.Y, self.P, self.texts, self.categories, self.top_k, self.thresholds),
            "history": self.history,
        })

    def _plots(self) -> dict[str, bytes]:
        """PNG bytes by plot name (learning curves only with a history)."""
        images = {
            "roc": plots.roc_png(self.Y, self.P, self.categories),
            "precision_recall": plots.precision_recall_png(self.Y, self.P, self.categories),
            "confusion_matrices": plots.confusion_matrices_png(confusion_matrices(self.Y, self.P, self.thresholds), self.categories),
            "reliability": plots.reliability_png(self._calibration["per_category"]),
        }
        if self.history:
            images["learning_curves"] = plots.learning_curves_png(self.history)
        return images

    def write(self, directory: str | Path) -> dict[str, Any]:
        """Write ``report.json``, ``report.html`` and the PNG plots into ``directory`` (created if needed).

        Returns
        -------
        dict
            The report data as written to ``report.json``; ``data["plots"]`` maps plot names to
            file names relative to ``directory``.
        """
        directory = Path(directory)
        images = self._plots()
        data = self.to_dict()
        data["plots"] = {name: PLOT_FILES[name] for name in PLOT_FILES if name in images}
        text = json.dumps(data, indent=2, allow_nan=False, ensure_ascii=False)
        page = render_html(data)
        for name, image in images.items():
            atomic_write_bytes(directory / PLOT_FILES[name], image)
        atomic_write_bytes(directory / "report.html", page.encode("utf-8"))
        atomic_write_bytes(directory / "report.json", text.encode("utf-8"))
        return data
