"""Threshold metrics: confusion matrices, precision, recall, F1 and accuracy.

A score at or above its threshold is a positive prediction (the convention of
:func:`~smartmod.eval.curves.roc_curve`). Rows whose label is NaN are not labeled and do not
count. From the counts TP, FP, FN, TN of one category (van Rijsbergen 1979):

    precision = TP / (TP + FP),   recall = TP / (TP + FN),
    F1 = 2 TP / (2 TP + FP + FN)  (the harmonic mean of precision and recall),
    accuracy = (TP + TN) / (TP + FP + FN + TN).

A ratio whose denominator is zero takes ``zero_division`` (0.0 by default, as
``sklearn.metrics`` with ``zero_division=0``). Averages over categories:

* macro: the unweighted mean of the per-category figures, over the categories that have at least
  one labeled row (a category with none has NaN figures and is left out);
* micro: the same formulas on the counts summed over categories, so every labeled
  (row, category) entry counts once.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy

from smartmod.eval.validation import (
    as_binary_labels, as_categories, as_label_matrix, as_per_category, as_score_matrix, as_scores,
)

__all__ = [
    "confusion_matrix",
    "binary_confusion_matrix",
    "confusion_matrices",
    "precision_recall_f1",
    "accuracy",
    "classification_summary",
]


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int | None = None) -> numpy.ndarray:
    """Counts of (true class, predicted class) pairs over the labeled rows.

    Parameters
    ----------
    y_true : (N,) array of class ids 0..K-1, float with NaN for rows not labeled
    y_pred : (N,) array of predicted class ids 0..K-1
    n_classes : int, optional
        K; by default one more than the largest id in ``y_true`` or ``y_pred`` (at least 1).

    Returns
    -------
    (K, K) int64 array
        Entry [i, j] counts rows of true class i predicted as j (``sklearn.metrics.confusion_matrix``
        with ``labels=range(K)``).
    """
    truth = numpy.asarray(y_true, dtype=numpy.float64)
    predicted = numpy.asarray(y_pred, dtype=numpy.float64)
    if truth.ndim != 1 or predicted.shape != truth.shape:
        raise ValueError(f"y_true and y_pred must be 1-D arrays of one length, got shapes {truth.shape} and {predicted.shape}")
    known = ~numpy.isnan(truth)
    for name, ids in (("y_true", truth[known]), ("y_pred", predicted)):
        if not (numpy.isfinite(ids).all() and (ids >= 0).all() and (ids == numpy.round(ids)).all()):
            raise ValueError(f"{name} must hold class ids 0, 1, 2, ... (NaN marks an unlabeled y_true row)")
    largest = int(max(truth[known].max(initial=0), predicted.max(initial=0)))
    k = largest + 1 if n_classes is None else int(n_classes)
    if k <= largest:
        raise ValueError(f"n_classes={n_classes} is too small for class id {largest}")
    truth, predicted = truth[known], predicted[known]
    flat = k * truth.astype(numpy.int64) + predicted.astype(numpy.int64)  # (n,) index of the [true, predicted] cell
    return numpy.bincount(flat, minlength=k * k).reshape(k, k)


def binary_confusion_matrix(y_true: Any, y_score: Any, threshold: float) -> numpy.ndarray:
    """The 2x2 confusion matrix ``[[TN, FP], [FN, TP]]`` of one category at ``threshold``.

    Parameters
    ----------
    y_true : (N,) array of 0, 1, NaN (not labeled)
    y_score : (N,) float array; ``y_score >= threshold`` predicts positive
    threshold : float

    Returns
    -------
    (2, 2) int64 array
    """
    labels = as_binary_labels(y_true)
    scores = as_scores(y_score, labels.shape)
    return confusion_matrix(labels, (scores >= threshold).astype(numpy.int64), n_classes=2)


def confusion_matrices(Y: Any, P: Any, thresholds: Any) -> numpy.ndarray:
    """One binary confusion matrix per category.

    Parameters
    ----------
    Y : (N, C) array of 0, 1, NaN
    P : (N, C) float scores
    thresholds : float or (C,) floats
        ``P[:, c] >= thresholds[c]`` predicts positive.

    Returns
    -------
    (C, 2, 2) int64 array
        ``[c] = [[TN, FP], [FN, TP]]`` of category c.
    """
    labels = as_label_matrix(Y)
    scores = as_score_matrix(P, labels)
    cutoffs = as_per_category(thresholds, [f"column {c}" for c in range(labels.shape[1])])
    matrices = [binary_confusion_matrix(labels[:, c], scores[:, c], cutoffs[c]) for c in range(labels.shape[1])]
    return numpy.array(matrices, dtype=numpy.int64).reshape(-1, 2, 2)


def _ratio(numerator: numpy.ndarray, denominator: numpy.ndarray, zero_division: float) -> numpy.ndarray:
    """numerator / denominator elementwise, ``zero_division`` where the denominator is 0."""
    numerator, denominator = numpy.asarray(numerator, dtype=numpy.float64), numpy.asarray(denominator, dtype=numpy.float64)
    safe = numpy.where(denominator == 0, 1.0, denominator)
    return numpy.where(denominator == 0, zero_division, numerator / safe)


def precision_recall_f1(tp: Any, fp: Any, fn: Any, zero_division: float = 0.0) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Precision TP/(TP+FP), recall TP/(TP+FN) and F1 2TP/(2TP+FP+FN) from counts.

    Parameters
    ----------
    tp, fp, fn : arrays of one shape (S,), or scalars
    zero_division : float
        The value of a ratio whose denominator is 0 (NaN is allowed).

    Returns
    -------
    precision, recall, f1 : float64 arrays of shape (S,)
    """
    tp, fp, fn = (numpy.asarray(count, dtype=numpy.float64) for count in (tp, fp, fn))
    return _ratio(tp, tp + fp, zero_division), _ratio(tp, tp + fn, zero_division), _ratio(2 * tp, 2 * tp + fp + fn, zero_division)


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The fraction of labeled rows whose predicted class is the true one (NaN if none is labeled).

    Parameters
    ----------
    y_true : (N,) class ids, NaN for rows not labeled
    y_pred : (N,) predicted class ids
    """
    confusion = confusion_matrix(y_true, y_pred)  # (K, K)
    total = confusion.sum()
    return float(numpy.trace(confusion) / total) if total else numpy.nan


def _figures(tn: Any, fp: Any, fn: Any, tp: Any, zero_division: float) -> dict[str, numpy.ndarray]:
    """Precision, recall, F1 and accuracy from counts of any one shape (S,) or ()."""
    precision, recall, f1 = precision_recall_f1(tp, fp, fn, zero_division)
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": _ratio(tp + tn, tp + fp + fn + tn, numpy.nan)}


def classification_summary(Y: Any, P: Any, thresholds: Any, categories: Sequence[str], zero_division: float = 0.0) -> dict[str, Any]:
    """Per-category, macro and micro precision, recall, F1 and accuracy at fixed thresholds.

    Parameters
    ----------
    Y : (N, C) array of 0, 1, NaN (not labeled)
    P : (N, C) float scores
    thresholds : float, (C,) floats, or mapping {category: float}
        ``P[:, c] >= thresholds[c]`` predicts positive.
    categories : list of C str
    zero_division : float
        The value of precision, recall or F1 whose denominator is 0 in a category that has labeled rows.

    Returns
    -------
    dict
        ``{"per_category": {name: {"threshold", "labeled", "positives", "tp", "fp", "fn", "tn",
        "precision", "recall", "f1", "accuracy"}}, "macro": {...}, "micro": {...}}`` where the
        averages hold ``precision``, ``recall``, ``f1`` and ``accuracy``. Numbers are Python
        ints and floats; a category with no labeled row has NaN figures and is left out of the
        macro average (which is NaN when no category has a labeled row).
    """
    labels = as_label_matrix(Y)
    names = as_categories(categories, labels.shape[1])
    cutoffs = as_per_category(thresholds, names)
    counts = confusion_matrices(labels, P, cutoffs)  # (C, 2, 2)
    tn, fp, fn, tp = counts[:, 0, 0], counts[:, 0, 1], counts[:, 1, 0], counts[:, 1, 1]  # each (C,)
    labeled = counts.sum(axis=(1, 2))
    per_category = _figures(tn, fp, fn, tp, zero_division)
    for values in per_category.values():
        values[labeled == 0] = numpy.nan
    present = labeled > 0
    macro = {key: float(values[present].mean()) if present.any() else numpy.nan for key, values in per_category.items()}
    micro = {key: float(value) for key, value in _figures(tn.sum(), fp.sum(), fn.sum(), tp.sum(), zero_division).items()}
    if not present.any():
        micro = {key: numpy.nan for key in micro}
    rows = {}
    for c, name in enumerate(names):
        rows[name] = {"threshold": float(cutoffs[c]), "labeled": int(labeled[c]), "positives": int(tp[c] + fn[c]),
                      "tp": int(tp[c]), "fp": int(fp[c]), "fn": int(fn[c]), "tn": int(tn[c]),
                      **{key: float(values[c]) for key, values in per_category.items()}}
    return {"per_category": rows, "macro": macro, "micro": micro}
