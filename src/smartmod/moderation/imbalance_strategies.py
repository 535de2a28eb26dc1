"""The ways the text model can meet class imbalance, behind one switch (``config.imbalance``).

Harm is rare: in the shared data 2-30% of labeled rows are positive depending on the category.
Each strategy returns the loss and the training rows (features and labels) to fit on:

- ``none``: plain masked binary cross-entropy.
- ``pos_weight``: positives weighted by negatives / positives per category (capped).
- ``focal``: focal loss (Lin et al. 2017), which down-weights easy examples.
- ``oversample`` / ``undersample``: rows repeated / dropped until every category has at least
  ``MIN_POSITIVE_SHARE`` positives among its labeled rows, category by category (undersampling
  drops negatives that are positive for another category last).
- ``smote``: synthetic positives (Chawla et al. 2002) interpolated between TF-IDF vectors of
  positives of one category; a synthetic row is labeled for that category only.
"""
from __future__ import annotations

from typing import Any

import numpy
import scipy.sparse

from smartmod.data.imbalance import positive_weights, random_oversample, random_undersample, smote
from smartmod.nn.losses import BCEWithLogitsLoss, FocalLoss

__all__ = ["STRATEGIES", "RESAMPLING", "CATEGORY_WEIGHTINGS", "MIN_POSITIVE_SHARE", "balanced_category_weights", "training_set", "with_category_weights"]

STRATEGIES = ("none", "pos_weight", "focal", "oversample", "undersample", "smote")
RESAMPLING = ("oversample", "undersample", "smote")  # the strategies that pick or make rows by their 0/1 labels
MIN_POSITIVE_SHARE = 0.2
POSITIVE_WEIGHT_CAP = 10.0
CATEGORY_WEIGHTINGS = ("none", "balanced")  # TextTrainingConfig.category_weights


def _rare_columns(labels: numpy.ndarray) -> list[int]:
    labeled = ~numpy.isnan(labels)
    positives = numpy.nansum(labels, axis=0)
    share = positives / numpy.maximum(labeled.sum(axis=0), 1)
    return [column for column in range(labels.shape[1]) if 0 < share[column] < MIN_POSITIVE_SHARE]


def balanced_category_weights(labels: numpy.ndarray, cap: float = POSITIVE_WEIGHT_CAP) -> numpy.ndarray:
    """(C,) loss weights that give each category about the same share of the masked loss.

    A category only a small dataset labels (spam: SMS alone, 3% of the rows) otherwise gets a
    few percent of the gradient and stops learning when the well-labeled ones stop. Weight
    ``w_c = n_max / n_c`` (``n_c`` rows labeling category c; the best-labeled gets 1), capped at
    ``cap``. It scales a category's whole loss, positives and negatives alike, so unlike
    ``pos_weight`` it does not move the probabilities the optimum gives: calibration stays.
    """
    labeled = (~numpy.isnan(labels)).sum(axis=0).astype(numpy.float64)  # (C,)
    weights = numpy.where(labeled > 0, labeled.max() / numpy.maximum(labeled, 1.0), 1.0)
    return numpy.minimum(weights, cap)


def training_set(strategy: str, features: Any, labels: numpy.ndarray, seed: int) -> tuple[Any, Any, numpy.ndarray]:
    """``(loss, features, labels)`` to train on under ``strategy``; inputs are the training rows."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown imbalance strategy {strategy!r}; choose one of {STRATEGIES}")
    if strategy == "pos_weight":
        return BCEWithLogitsLoss(pos_weight=positive_weights(labels, cap=POSITIVE_WEIGHT_CAP).tolist()), features, labels
    if strategy == "focal":
        return FocalLoss(), features, labels
    if strategy in ("oversample", "undersample"):
        resample = random_oversample if strategy == "oversample" else random_undersample
        rows = numpy.arange(len(labels))
        for column in _rare_columns(labels):
            rows = rows[resample(labels[rows], column, MIN_POSITIVE_SHARE / (1 - MIN_POSITIVE_SHARE), seed + column)]
        return BCEWithLogitsLoss(), features[rows], labels[rows]
    if strategy == "smote":
        extra_features, extra_labels = [], []
        for column in _rare_columns(labels):
            labeled = numpy.flatnonzero(~numpy.isnan(labels[:, column]))
            y = (labels[labeled, column] >= 0.5).astype(numpy.int64)
            ratio = MIN_POSITIVE_SHARE / (1 - MIN_POSITIVE_SHARE)
            new_x, new_y = smote(features[labeled], y, k=5, ratio=ratio, seed=seed + column)
            synthetic = new_x[len(labeled):]
            block = numpy.full((synthetic.shape[0], labels.shape[1]), numpy.nan, dtype=numpy.float32)
            block[:, column] = new_y[len(labeled):]
            extra_features.append(synthetic)
            extra_labels.append(block)
        if extra_features:
            if scipy.sparse.issparse(features):
                features = scipy.sparse.vstack([features, *extra_features]).tocsr()
            else:
                features = numpy.vstack([features, *extra_features])
            labels = numpy.vstack([labels, *extra_labels])
    return BCEWithLogitsLoss(), features, labels


def with_category_weights(loss: Any, weighting: str, labels: numpy.ndarray) -> Any:
    """``loss`` with the per-category weights ``weighting`` names over the training ``labels``
    (``"none"``: ``loss`` itself; ``"balanced"``: :func:`balanced_category_weights`)."""
    if weighting not in CATEGORY_WEIGHTINGS:
        raise ValueError(f"unknown category_weights {weighting!r}; choose one of {CATEGORY_WEIGHTINGS}")
    if weighting == "none":
        return loss
    if not isinstance(loss, BCEWithLogitsLoss):
        raise ValueError(f"category_weights {weighting!r} needs a binary cross-entropy loss; "
                         f"the {type(loss).__name__} of this imbalance strategy has no category weights")
    return BCEWithLogitsLoss(pos_weight=loss.pos_weight, weight=balanced_category_weights(labels).tolist())
