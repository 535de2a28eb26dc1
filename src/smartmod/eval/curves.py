"""ROC and precision-recall curves and their areas, from one sort of the scores (O(N log N)).

Sorting the labeled rows by decreasing score and cumulating their labels gives, at every distinct
score t, the counts TP(t) and FP(t) of the rule "score >= t". Tied scores make one threshold
(one point of the curve), as in ``sklearn.metrics``.

* ROC (Fawcett 2006, "An introduction to ROC analysis"): FPR = FP / negatives against
  TPR = TP / positives, from (0, 0) at threshold +inf. Its area by the trapezoidal rule is the
  probability that a random positive scores above a random negative, ties counting one half.
* Precision-recall: precision = TP / (TP + FP) against recall = TP / positives. Average
  precision is the step-wise (non-interpolated) area of ``sklearn.metrics.average_precision_score``,
  AP = Σ_k (R_k − R_{k−1}) P_k over thresholds in decreasing order with R_0 = 0; the trapezoidal
  rule would overestimate it (Davis & Goadrich 2006).

Undefined cases give NaN, never an error: ROC AUC when the labeled rows lack a class, average
precision when they hold no positive (sklearn returns 0.0 and warns there), FPR without
negatives and TPR or recall without positives. :func:`ranking_summary` says which case applies.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy

from smartmod.eval.validation import as_categories, as_label_matrix, as_score_matrix, labeled_pairs

__all__ = ["counts_by_threshold", "roc_curve", "roc_auc", "precision_recall_curve", "average_precision", "ranking_summary"]


def counts_by_threshold(y_true: Any, y_score: Any) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray, int]:
    """FP and TP of "score >= t" at each distinct labeled score t, in decreasing order of t.

    Parameters
    ----------
    y_true : (N,) array of 0, 1, NaN (not labeled)
    y_score : (N,) float scores

    Returns
    -------
    false_positives, true_positives : (T,) float64, T = the number of distinct labeled scores
    thresholds : (T,) float64, decreasing
    positives : int, the labeled positives
    """
    labels, scores = labeled_pairs(y_true, y_score)
    order = numpy.argsort(-scores, kind="stable")
    labels, scores = labels[order], scores[order]
    tie_ends = numpy.flatnonzero(numpy.diff(scores))  # the last row of each run of equal scores but the final run
    last_of_tie = numpy.r_[tie_ends, scores.size - 1] if scores.size else tie_ends
    true_positives = numpy.cumsum(labels, dtype=numpy.float64)[last_of_tie]
    false_positives = last_of_tie + 1 - true_positives
    return false_positives, true_positives, scores[last_of_tie], int(labels.sum())


def _fraction(counts: numpy.ndarray, total: float) -> numpy.ndarray:
    """counts / total, all NaN when total is 0."""
    return counts / total if total else numpy.full(counts.shape, numpy.nan)


def roc_curve(y_true: Any, y_score: Any) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """The receiver operating characteristic curve, one point per distinct score.

    Parameters
    ----------
    y_true : (N,) array of 0, 1, NaN (not labeled)
    y_score : (N,) float scores; higher means more likely positive

    Returns
    -------
    fpr, tpr : (T + 1,) float64
        False and true positive rates of "score >= thresholds[i]"; NaN when the labeled rows have
        no negative (fpr) or no positive (tpr).
    thresholds : (T + 1,) float64
        +inf, then the distinct scores in decreasing order (``sklearn.metrics.roc_curve`` with
        ``drop_intermediate=False``).
    """
    false_positives, true_positives, thresholds, positives = counts_by_threshold(y_true, y_score)
    false_positives, true_positives = numpy.r_[0.0, false_positives], numpy.r_[0.0, true_positives]  # (T + 1,)
    return _fraction(false_positives, false_positives[-1]), _fraction(true_positives, positives), numpy.r_[numpy.inf, thresholds]


def roc_auc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve by the trapezoidal rule; NaN when the labeled rows lack a class.

    Parameters
    ----------
    y_true : (N,) array of 0, 1, NaN (not labeled)
    y_score : (N,) float scores
    """
    fpr, tpr, _ = roc_curve(y_true, y_score)
    if numpy.isnan(fpr).any() or numpy.isnan(tpr).any():
        return numpy.nan
    return float(numpy.sum(numpy.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def _precision_recall(y_true: Any, y_score: Any) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Precision, recall (NaN without positives) and thresholds, each (T,), in decreasing order of threshold."""
    false_positives, true_positives, thresholds, positives = counts_by_threshold(y_true, y_score)
    precision = true_positives / (true_positives + false_positives)  # every threshold flags at least one row
    return precision, _fraction(true_positives, positives), thresholds


def precision_recall_curve(y_true: Any, y_score: Any) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Precision and recall at every distinct score, laid out as ``sklearn.metrics.precision_recall_curve``.

    Parameters
    ----------
    y_true : (N,) array of 0, 1, NaN (not labeled)
    y_score : (N,) float scores

    Returns
    -------
    precision, recall : (T + 1,) float64
        Of "score >= thresholds[i]" for i < T, then the end point precision 1, recall 0.
        Recall is NaN (but for the end point) when no labeled row is positive.
    thresholds : (T,) float64
        The distinct scores in increasing order.
    """
    precision, recall, thresholds = _precision_recall(y_true, y_score)
    return numpy.r_[precision[::-1], 1.0], numpy.r_[recall[::-1], 0.0], thresholds[::-1]


def average_precision(y_true: Any, y_score: Any) -> float:
    """AP = Σ_k (R_k − R_{k−1}) P_k over decreasing thresholds, R_0 = 0; NaN without a labeled positive.

    Parameters
    ----------
    y_true : (N,) array of 0, 1, NaN (not labeled)
    y_score : (N,) float scores
    """
    precision, recall, _ = _precision_recall(y_true, y_score)  # (T,) each
    if recall.size == 0 or numpy.isnan(recall).any():
        return numpy.nan
    return float(numpy.sum(numpy.diff(recall, prepend=0.0) * precision))


def _undefined_note(positives: int, negatives: int) -> str | None:
    """Why ROC AUC or average precision is NaN for a category, or None when both are defined."""
    if positives == 0 and negatives == 0:
        return "no labeled rows: ROC AUC and average precision are undefined"
    if positives == 0:
        return "no labeled positives: ROC AUC and average precision are undefined"
    if negatives == 0:
        return "no labeled negatives: ROC AUC is undefined (average precision is 1)"
    return None


def ranking_summary(Y: Any, P: Any, categories: Sequence[str]) -> dict[str, dict[str, Any]]:
    """ROC AUC and average precision per category, with a note where they are undefined.

    Parameters
    ----------
    Y : (N, C) array of 0, 1, NaN (not labeled)
    P : (N, C) float scores
    categories : list of C str

    Returns
    -------
    dict
        ``{name: {"roc_auc", "average_precision", "positives", "negatives", "note"}}``; ``note``
        is None when both areas are defined, else a sentence saying why one is NaN.
    """
    labels = as_label_matrix(Y)
    scores = as_score_matrix(P, labels)
    summary = {}
    for c, name in enumerate(as_categories(categories, labels.shape[1])):
        positives, negatives = int((labels[:, c] == 1).sum()), int((labels[:, c] == 0).sum())
        summary[name] = {"roc_auc": roc_auc(labels[:, c], scores[:, c]),
                         "average_precision": average_precision(labels[:, c], scores[:, c]),
                         "positives": positives, "negatives": negatives, "note": _undefined_note(positives, negatives)}
    return summary
