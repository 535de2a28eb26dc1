"""Error analysis: the labeled examples a model gets most confidently wrong, per category.

The top false positives are the labeled negatives with the highest scores; the top false
negatives are the labeled positives with the lowest scores. Given a threshold, only actual errors
of "score >= threshold" qualify (negatives at or above it, positives below it). Ties keep row
order.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy

from smartmod.eval.validation import as_binary_labels, as_categories, as_label_matrix, as_per_category, as_score_matrix, as_scores

__all__ = ["top_errors", "error_analysis"]


def _examples(rows: numpy.ndarray, scores: numpy.ndarray, texts: Sequence[str]) -> list[dict[str, Any]]:
    return [{"index": int(i), "score": float(scores[i]), "text": texts[i]} for i in rows]


def top_errors(y_true: Any, y_score: Any, texts: Sequence[str], k: int = 10,
               threshold: float | None = None) -> dict[str, list[dict[str, Any]]]:
    """The k most confident false positives and false negatives of one category.

    Parameters
    ----------
    y_true : (N,) array of 0, 1, NaN (not labeled)
    y_score : (N,) float scores
    texts : sequence of N str, the examples' texts
    k : int, at most this many of each kind
    threshold : float, optional
        Keep only errors of "score >= threshold"; by default every labeled row qualifies.

    Returns
    -------
    dict
        ``{"false_positives": [...], "false_negatives": [...]}``, each a list of
        ``{"index", "score", "text"}`` (``index`` is the row in the inputs), most confident first.
    """
    labels = as_binary_labels(y_true)
    scores = as_scores(y_score, labels.shape)
    if len(texts) != labels.shape[0]:
        raise ValueError(f"texts must hold one text per row ({labels.shape[0]}), got {len(texts)}")
    if isinstance(k, bool) or not isinstance(k, (int, numpy.integer)) or k < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    negatives, positives = numpy.flatnonzero(labels == 0), numpy.flatnonzero(labels == 1)
    if threshold is not None:
        negatives, positives = negatives[scores[negatives] >= threshold], positives[scores[positives] < threshold]
    false_positives = negatives[numpy.argsort(-scores[negatives], kind="stable")[:k]]
    false_negatives = positives[numpy.argsort(scores[positives], kind="stable")[:k]]
    return {"false_positives": _examples(false_positives, scores, texts), "false_negatives": _examples(false_negatives, scores, texts)}


def error_analysis(Y: Any, P: Any, texts: Sequence[str], categories: Sequence[str], k: int = 10,
                   thresholds: float | Sequence[float] | Mapping[str, float] | None = None) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """:func:`top_errors` for every category.

    Parameters
    ----------
    Y : (N, C) array of 0, 1, NaN (not labeled)
    P : (N, C) float scores
    texts : sequence of N str
    categories : list of C str
    k : int
    thresholds : float, (C,) floats or mapping {category: float}, optional

    Returns
    -------
    dict {category: {"false_positives": [...], "false_negatives": [...]}}
    """
    labels = as_label_matrix(Y)
    scores = as_score_matrix(P, labels)
    names = as_categories(categories, labels.shape[1])
    cutoffs = [None] * len(names) if thresholds is None else as_per_category(thresholds, names).tolist()
    return {name: top_errors(labels[:, c], scores[:, c], texts, k, cutoffs[c]) for c, name in enumerate(names)}
