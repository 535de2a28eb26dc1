"""The report's figures as PNG bytes, drawn with matplotlib's Agg canvas.

Figures are built on ``matplotlib.figure.Figure`` with an explicit ``FigureCanvasAgg``: no pyplot,
no global backend switch, nothing left open. Per-category figures hold one panel per category.
Text that comes from data (category and metric names) is drawn with ``parse_math=False`` so a
``$`` in a name is shown, not parsed.
"""
from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

from typing import TYPE_CHECKING

import numpy

from smartmod.eval.calibration import ReliabilityBins
from smartmod.eval.curves import average_precision, precision_recall_curve, roc_auc, roc_curve

if TYPE_CHECKING:  # matplotlib is imported where a figure is drawn: scoring never pays for it
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["learning_curves_png", "roc_png", "precision_recall_png", "confusion_matrices_png", "reliability_png"]

_COLUMNS = 4


def _panels(count: int, title: str) -> tuple[Figure, list[Axes]]:
    """A figure with ``count`` panels in rows of at most four; unused grid cells are hidden."""
    columns = max(1, min(count, _COLUMNS))
    rows = max(1, math.ceil(count / columns))
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(3.4 * columns, 3.2 * rows), layout="constrained")
    FigureCanvasAgg(figure)
    axes = list(figure.subplots(rows, columns, squeeze=False).ravel())
    for unused in axes[count:]:
        unused.set_visible(False)
    figure.suptitle(title)
    return figure, axes[:count]


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96)
    return buffer.getvalue()


def _undefined(axes: Axes, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes)


def _area(value: float) -> str:
    return "undefined" if numpy.isnan(value) else f"{value:.3f}"


def learning_curves_png(history: Mapping[str, Sequence[float]]) -> bytes:
    """One panel per quantity of a training history, ``name`` beside ``val_name`` when both exist.

    Parameters
    ----------
    history : mapping {name: sequence of E floats}, one value per epoch
    """
    from matplotlib.ticker import MaxNLocator

    groups: dict[str, list[str]] = {}
    for key in history:
        base = key[4:] if key.startswith("val_") and key[4:] in history else key
        groups.setdefault(base, []).append(key)
    figure, axes = _panels(len(groups), "Learning curves")
    for panel, (base, keys) in zip(axes, groups.items()):
        for key in keys:
            values = numpy.asarray(history[key], dtype=numpy.float64)
            panel.plot(numpy.arange(1, values.size + 1), values, marker="." if values.size < 30 else None, label=key)
        panel.set_title(base, parse_math=False)
        panel.set_xlabel("epoch")
        panel.xaxis.set_major_locator(MaxNLocator(integer=True))
        panel.legend(prop={"size": 8})
    return _png(figure)


def roc_png(Y: numpy.ndarray, P: numpy.ndarray, categories: Sequence[str]) -> bytes:
    """ROC curve per category.

    Parameters
    ----------
    Y : (N, C) array of 0, 1, NaN
    P : (N, C) scores
    categories : list of C str
    """
    figure, axes = _panels(len(categories), "ROC curves")
    for c, (panel, name) in enumerate(zip(axes, categories)):
        fpr, tpr, _ = roc_curve(Y[:, c], P[:, c])
        panel.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
        if numpy.isnan(fpr).any() or numpy.isnan(tpr).any():
            _undefined(panel, "undefined:\nonly one class labeled")
        else:
            panel.plot(fpr, tpr)
        panel.set_title(f"{name} (AUC {_area(roc_auc(Y[:, c], P[:, c]))})", parse_math=False)
        panel.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.02))
    return _png(figure)


def precision_recall_png(Y: numpy.ndarray, P: numpy.ndarray, categories: Sequence[str]) -> bytes:
    """Precision-recall curve per category, with the positive rate as the chance level.

    Parameters
    ----------
    Y : (N, C) array of 0, 1, NaN
    P : (N, C) scores
    categories : list of C str
    """
    figure, axes = _panels(len(categories), "Precision-recall curves")
    for c, (panel, name) in enumerate(zip(axes, categories)):
        precision, recall, _ = precision_recall_curve(Y[:, c], P[:, c])
        if numpy.isnan(recall).any() or recall.size == 1:
            _undefined(panel, "undefined:\nno labeled positive")
        else:
            panel.plot(recall, precision, drawstyle="steps-post")
            panel.axhline(numpy.nanmean(Y[:, c]), linestyle="--", color="grey", linewidth=0.8)
        panel.set_title(f"{name} (AP {_area(average_precision(Y[:, c], P[:, c]))})", parse_math=False)
        panel.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
    return _png(figure)


def confusion_matrices_png(counts: numpy.ndarray, categories: Sequence[str]) -> bytes:
    """Each category's 2x2 confusion matrix as a shaded grid of counts.

    Parameters
    ----------
    counts : (C, 2, 2) int, ``[c] = [[TN, FP], [FN, TP]]``
    categories : list of C str
    """
    figure, axes = _panels(len(categories), "Confusion matrices (rows: label, columns: prediction)")
    for matrix, panel, name in zip(counts, axes, categories):
        panel.imshow(matrix, cmap="Blues", vmin=0, vmax=max(int(matrix.max()), 1))
        for (row, column), value in numpy.ndenumerate(matrix):
            dark = value > matrix.max() / 2
            panel.text(column, row, str(value), ha="center", va="center", color="white" if dark else "black")
        panel.set_xticks([0, 1], ["negative", "positive"])
        panel.set_yticks([0, 1], ["negative", "positive"])
        panel.set_title(name, parse_math=False)
    return _png(figure)


def reliability_png(bins: Mapping[str, Mapping[str, Any]]) -> bytes:
    """Reliability diagram per category: fraction of positives against mean probability per bin,
    before and after temperature scaling, with the diagonal of perfect calibration.

    Parameters
    ----------
    bins : mapping {category: {"reliability_before": ReliabilityBins, "reliability_after": ReliabilityBins}}
    """
    figure, axes = _panels(len(bins), "Reliability diagrams")
    for panel, (name, entry) in zip(axes, bins.items()):
        panel.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
        for key, label in (("reliability_before", "before"), ("reliability_after", "after temperature")):
            curve: ReliabilityBins = entry[key]
            filled = curve.count > 0
            panel.plot(curve.mean_probability[filled], curve.fraction_positive[filled], marker="o", markersize=3, label=label)
        panel.set_title(name, parse_math=False)
        panel.set(xlabel="mean predicted probability", ylabel="fraction positive", xlim=(0, 1), ylim=(0, 1))
        panel.legend(prop={"size": 8})
    return _png(figure)
