"""Input checks shared by the evaluation functions.

Conventions of the whole package: labels are floats with NaN meaning "not labeled" (0/1 ints or
booleans are accepted too), scores are finite floats of the labels' shape, and a category's
figures use only the rows labeled for it. Every check raises a ValueError that names the
argument, what was expected and what arrived.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy

__all__ = [
    "as_binary_labels",
    "as_scores",
    "as_label_matrix",
    "as_score_matrix",
    "as_categories",
    "as_per_category",
    "check_probabilities",
    "labeled_pairs",
]


def as_binary_labels(y_true: Any, name: str = "y_true", ndim: int = 1) -> numpy.ndarray:
    """``y_true`` as a float64 array of 0, 1 and NaN (not labeled), checked to have ``ndim`` axes."""
    labels = numpy.asarray(y_true, dtype=numpy.float64)
    if labels.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {labels.shape}")
    known = labels[~numpy.isnan(labels)]
    if not numpy.isin(known, (0.0, 1.0)).all():
        odd = numpy.unique(known[~numpy.isin(known, (0.0, 1.0))])[:5]
        raise ValueError(f"{name} must hold 0, 1 or NaN (not labeled), got values such as {odd.tolist()}")
    return labels


def as_scores(y_score: Any, shape: tuple[int, ...], name: str = "y_score") -> numpy.ndarray:
    """``y_score`` as a finite float64 array of exactly ``shape`` (the labels' shape)."""
    scores = numpy.asarray(y_score, dtype=numpy.float64)
    if scores.shape != tuple(shape):
        raise ValueError(f"{name} must have the labels' shape {tuple(shape)}, got {scores.shape}")
    if not numpy.isfinite(scores).all():
        raise ValueError(f"{name} must be finite; it holds {int((~numpy.isfinite(scores)).sum())} NaN or infinite values")
    return scores


def as_label_matrix(Y: Any) -> numpy.ndarray:
    """``Y`` as an (N, C) float64 array of 0, 1 and NaN."""
    return as_binary_labels(Y, name="Y", ndim=2)


def as_score_matrix(P: Any, Y: numpy.ndarray) -> numpy.ndarray:
    """``P`` as a finite (N, C) float64 array of the labels' shape."""
    return as_scores(P, Y.shape, name="P")


def as_categories(categories: Sequence[str], n_columns: int) -> list[str]:
    """``categories`` as a list of ``n_columns`` distinct strings."""
    names = list(categories)
    if len(names) != n_columns or not all(isinstance(name, str) for name in names):
        raise ValueError(f"categories must be {n_columns} strings (one per column), got {names!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"category names must be distinct, got {names!r}")
    return names


def as_per_category(values: Any, categories: list[str], name: str = "thresholds") -> numpy.ndarray:
    """One finite number per category (thresholds, temperatures) as a (C,) float64 array.

    Parameters
    ----------
    values : float, sequence of C floats, or mapping {category: float}
        One number for all categories, one per column, or one per category name (every
        category must be present).
    categories : list of C str
    name : str, the argument's name in error messages
    """
    if isinstance(values, Mapping):
        missing = [category for category in categories if category not in values]
        if missing:
            raise ValueError(f"{name} has no entry for categories {missing}; it has {sorted(values)}")
        values = [values[category] for category in categories]
    array = numpy.asarray(values, dtype=numpy.float64)
    if array.ndim == 0:
        array = numpy.full(len(categories), float(array))
    if array.shape != (len(categories),) or not numpy.isfinite(array).all():
        raise ValueError(f"{name} must be one finite number or {len(categories)} (one per category), got {values!r}")
    return array


def check_probabilities(probabilities: numpy.ndarray, name: str) -> None:
    """Raise unless every entry lies in [0, 1]."""
    if ((probabilities < 0) | (probabilities > 1)).any():
        raise ValueError(f"{name} must hold probabilities in [0, 1]; convert logits with "
                         "smartmod.eval.calibration.apply_temperature(logits, 1.0)")


def labeled_pairs(y_true: Any, y_score: Any) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The labeled rows of a 1-D column: ``(labels, scores)``, labels as int64 0/1, shapes (n,).

    Parameters
    ----------
    y_true : (N,) array of 0, 1, NaN
    y_score : (N,) float array
    """
    labels = as_binary_labels(y_true)
    scores = as_scores(y_score, labels.shape)
    known = ~numpy.isnan(labels)
    return labels[known].astype(numpy.int64), scores[known]
