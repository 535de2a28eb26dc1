"""Tools against class imbalance: loss weights, random re-sampling of rows, and SMOTE.

Labels follow the multi-label convention of the text data: ``Y (N, C)`` holds 1 (positive),
0 (negative) or NaN (not labeled), and a labeled value counts as positive from 0.5 up. Row
re-sampling touches only the rows labeled for the column being balanced; rows that do not label
it are kept exactly once.

References: King & Zeng 2001 for inverse-frequency ("balanced") weights; Chawla, Bowyer, Hall
& Kegelmeyer 2002, "SMOTE: Synthetic Minority Over-sampling Technique", JAIR 16.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy
import scipy.sparse

__all__ = [
    "positive_weights",
    "class_weights",
    "random_oversample",
    "random_undersample",
    "nearest_neighbors",
    "smote",
]

# Distance blocks hold at most this many float64 entries (32 MiB) at once.
_BLOCK_ENTRIES = 1 << 22


def positive_weights(Y: Any, cap: float | None = None) -> numpy.ndarray:
    """Per-column ``negatives / positives`` over labeled rows: the ``pos_weight`` of a binary
    cross-entropy that makes a column's positives weigh as much as its negatives.

    Parameters
    ----------
    Y : array of float, shape (N, C)
        Labels: 1, 0 or NaN (not labeled).
    cap : float > 0, optional
        Upper bound on every weight, so a column with a handful of positives cannot dominate.

    Returns
    -------
    numpy.ndarray of float32, shape (C,)
        A column lacking positives or negatives among its labeled rows gets 1.0 (no reweighting):
        there the ratio is undefined or 0, and 0 would erase its positives from the loss.
    """
    if cap is not None:
        _check_positive("cap", cap)
    positive, negative = _label_masks(Y)
    positives, negatives = positive.sum(axis=0), negative.sum(axis=0)  # (C,)
    defined = (positives > 0) & (negatives > 0)
    weights = numpy.where(defined, negatives / numpy.maximum(positives, 1), 1.0)
    if cap is not None:
        weights = numpy.minimum(weights, cap)
    return weights.astype(numpy.float32)


def class_weights(y: Any, num_classes: int) -> numpy.ndarray:
    """Balanced class weights ``n / (num_classes * count_c)`` for a softmax loss, as scikit-learn's
    ``compute_class_weight("balanced")``: every class then carries the same total weight.

    Parameters
    ----------
    y : array of int, shape (N,)
        Class indices in ``[0, num_classes)``.
    num_classes : int >= 1

    Returns
    -------
    numpy.ndarray of float32, shape (num_classes,)
        Classes absent from ``y`` get 1.0: their weight never multiplies a row of this data.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    targets = numpy.asarray(y)
    if targets.ndim != 1 or len(targets) == 0:
        raise ValueError(f"y must be a non-empty 1-D array of class indices, got shape {targets.shape}")
    if not numpy.issubdtype(targets.dtype, numpy.integer):
        raise TypeError(f"y must hold integer class indices, got dtype {targets.dtype}")
    if targets.min() < 0 or targets.max() >= num_classes:
        raise ValueError(f"class indices must lie in [0, {num_classes}), got values from {targets.min()} to {targets.max()}")
    counts = numpy.bincount(targets, minlength=num_classes)  # (num_classes,)
    weights = numpy.where(counts > 0, len(targets) / (num_classes * numpy.maximum(counts, 1)), 1.0)
    return weights.astype(numpy.float32)


def random_oversample(Y: Any, column: int, ratio: float, seed: int = 0) -> numpy.ndarray:
    """Rows to train on so that positives : negatives of ``column`` reach ``ratio`` by repeating positives.

    Positives are repeated as evenly as possible: each appears ``m`` or ``m + 1`` times, the ones
    getting the extra copy drawn at random. The positive count becomes
    ``round(ratio * negatives)``; when it is already at least that, every row is kept once.

    Parameters
    ----------
    Y : array of float, shape (N, C)
        Labels: 1, 0 or NaN (not labeled).
    column : int
        The column to balance.
    ratio : float > 0
        Target positives / negatives among the rows labeled for ``column``.
    seed : int

    Returns
    -------
    numpy.ndarray of int64, shape (N + extra,)
        Sorted row indices: every row once, the added copies of positives beside their original.
    """
    positive, negative = _column_rows(Y, column, ratio)
    rng = numpy.random.default_rng(seed)
    extra = max(round(ratio * len(negative)) - len(positive), 0)
    if extra and not len(positive):
        raise ValueError(f"column {column} has no positive labeled rows to repeat")
    copies = positive[_even_draws(len(positive), extra, rng)]
    return numpy.sort(numpy.concatenate([numpy.arange(len(Y)), copies]))


def random_undersample(Y: Any, column: int, ratio: float, seed: int = 0) -> numpy.ndarray:
    """Rows to train on so that positives : negatives of ``column`` reach ``ratio`` by dropping negatives.

    The negative count becomes ``round(positives / ratio)``; when it is already at most that,
    every row is kept. Negatives that are positive in another column are dropped last, so the
    positives of other categories are kept whenever enough other negatives exist.

    Parameters
    ----------
    Y : array of float, shape (N, C)
        Labels: 1, 0 or NaN (not labeled).
    column : int
        The column to balance.
    ratio : float > 0
        Target positives / negatives among the rows labeled for ``column``.
    seed : int

    Returns
    -------
    numpy.ndarray of int64, shape (N - dropped,)
        Sorted row indices of the rows kept, each once.
    """
    positive, negative = _column_rows(Y, column, ratio)
    if not len(positive):
        raise ValueError(f"column {column} has no positive labeled rows; undersampling would drop every negative")
    rng = numpy.random.default_rng(seed)
    n_drop = max(len(negative) - round(len(positive) / ratio), 0)
    positive_elsewhere = _label_masks(Y)[0][negative].any(axis=1)  # (negatives,)
    drop_order = numpy.concatenate([rng.permutation(negative[~positive_elsewhere]),
                                    rng.permutation(negative[positive_elsewhere])])
    keep = numpy.ones(len(Y), dtype=bool)
    keep[drop_order[:n_drop]] = False
    return numpy.flatnonzero(keep)


def nearest_neighbors(X: Any, k: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The ``k`` nearest other rows of every row by Euclidean distance, nearest first.

    Squared distances come from ``|a|² + |b|² - 2 a·b`` with the products ``X[block] @ X.T``
    computed a block of rows at a time (sparse products for sparse ``X``), and the ``k``
    smallest of each row picked with ``argpartition``: memory stays at one block, not N².

    Parameters
    ----------
    X : array of float, shape (N, D), or scipy.sparse matrix (N, D)
    k : int in [1, N - 1]

    Returns
    -------
    indices : numpy.ndarray of int64, shape (N, k)
        Row indices of each row's neighbours, a row never being its own neighbour (identical
        rows at distance 0 are neighbours).
    distances : numpy.ndarray of float64, shape (N, k)
        The matching Euclidean distances, ascending along each row.
    """
    points = _as_features(X)
    n_rows = points.shape[0]
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= n_rows - 1:
        raise ValueError(f"k must be an integer in [1, {n_rows - 1}] for {n_rows} rows, got {k!r}")
    if scipy.sparse.issparse(points):
        points = points.astype(numpy.float64)
        squared_norms = numpy.asarray(points.multiply(points).sum(axis=1)).ravel()  # (N,)
        transposed = points.T.tocsr()  # (D, N), converted once for all blocks
    else:
        points = points.astype(numpy.float64, copy=False)
        squared_norms = numpy.einsum("ij,ij->i", points, points)
        transposed = points.T
    block_rows = max(1, _BLOCK_ENTRIES // n_rows)
    indices = numpy.empty((n_rows, k), dtype=numpy.int64)
    distances = numpy.empty((n_rows, k), dtype=numpy.float64)
    for start in range(0, n_rows, block_rows):
        stop = min(start + block_rows, n_rows)
        rows = numpy.arange(start, stop)
        products = points[start:stop] @ transposed  # (b, N)
        products = products.toarray() if scipy.sparse.issparse(products) else products
        squared = squared_norms[rows, None] + squared_norms[None, :] - 2.0 * products  # (b, N)
        squared[numpy.arange(len(rows)), rows] = numpy.inf  # a row is not its own neighbour
        nearest = numpy.argpartition(squared, k - 1, axis=1)[:, :k]  # (b, k), unordered
        nearest_squared = numpy.take_along_axis(squared, nearest, axis=1)
        order = numpy.argsort(nearest_squared, axis=1, kind="stable")
        indices[rows] = numpy.take_along_axis(nearest, order, axis=1)
        distances[rows] = numpy.sqrt(numpy.maximum(numpy.take_along_axis(nearest_squared, order, axis=1), 0.0))
    return indices, distances


def smote(X: Any, y: Any, k: int = 5, ratio: float = 1.0, seed: int = 0) -> tuple[Any, numpy.ndarray]:
    """SMOTE (Chawla et al. 2002): synthetic minority rows on segments between minority neighbours.

    Each synthetic row is ``x_i + u (x_j - x_i)`` for a minority row ``x_i``, one of its ``k``
    nearest minority neighbours ``x_j`` (drawn uniformly) and ``u ~ U[0, 1)``. As in the paper,
    every minority row serves as ``x_i`` equally often (``m`` or ``m + 1`` times, the extra
    ones drawn at random). The rows are built as a sparse mixing matrix times the minority rows,
    so a sparse ``X`` stays sparse.

    Parameters
    ----------
    X : array of float, shape (N, D), or scipy.sparse matrix (N, D)
        Feature vectors, e.g. TF-IDF rows.
    y : array of {0, 1}, shape (N,)
        Binary classes; the minority is the class with fewer rows.
    k : int >= 1
        Neighbours to interpolate towards; lowered to ``minority - 1`` when the minority is smaller.
    ratio : float in (0, 1]
        Target minority / majority count after sampling: ``round(ratio * majority)`` minority
        rows. Nothing is added when the minority already reaches it.
    seed : int

    Returns
    -------
    X_new : numpy.ndarray (N + S, D), or scipy.sparse.csr_matrix (N + S, D) for sparse ``X``
        ``X`` followed by the S synthetic rows, in ``X``'s float dtype.
    y_new : numpy.ndarray, shape (N + S,)
        ``y`` followed by S copies of the minority class, in ``y``'s dtype.
    """
    features, classes = _as_features(X), numpy.asarray(y)
    if classes.ndim != 1 or len(classes) != features.shape[0]:
        raise ValueError(f"y must be 1-D with one class per row of X ({features.shape[0]} rows), got shape {classes.shape}")
    if not numpy.isin(classes, (0, 1)).all():
        raise ValueError(f"y must hold binary classes 0 and 1, got values {numpy.unique(classes)[:10].tolist()}")
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    _check_positive("ratio", ratio)
    if ratio > 1:
        raise ValueError(f"ratio is the minority / majority count to reach and must be at most 1, got {ratio!r}")
    counts = numpy.bincount(classes.astype(numpy.int64), minlength=2)
    minority = int(numpy.argmin(counts))
    n_new = round(ratio * counts[1 - minority]) - counts[minority]
    if n_new <= 0:
        return features.copy(), classes.copy()
    if counts[minority] < 2:
        raise ValueError(f"SMOTE needs at least 2 rows of the minority class {minority} to interpolate between, got {counts[minority]}")

    minority_rows = features[numpy.flatnonzero(classes == minority)]  # (M, D)
    neighbors, _ = nearest_neighbors(minority_rows, min(k, counts[minority] - 1))  # (M, k')
    rng = numpy.random.default_rng(seed)
    base = _even_draws(counts[minority], n_new, rng)  # (S,)
    partner = neighbors[base, rng.integers(neighbors.shape[1], size=n_new)]  # (S,)
    gap = rng.random(n_new)  # (S,)
    weights = numpy.concatenate([1.0 - gap, gap]).astype(features.dtype)  # (2S,)
    rows, columns = numpy.tile(numpy.arange(n_new), 2), numpy.concatenate([base, partner])
    mixing = scipy.sparse.csr_matrix((weights, (rows, columns)), shape=(n_new, counts[minority]))  # (S, M): 1 - u at x_i, u at x_j
    synthetic = mixing @ minority_rows  # (S, D)
    if scipy.sparse.issparse(features):
        features_new = scipy.sparse.vstack([features, synthetic], format="csr")
    else:
        features_new = numpy.vstack([features, synthetic])
    return features_new, numpy.concatenate([classes, numpy.full(n_new, minority, dtype=classes.dtype)])


def _even_draws(n_items: int, n_draws: int, rng: numpy.random.Generator) -> numpy.ndarray:
    """Indices (n_draws,) in [0, n_items), each drawn ``n_draws // n_items`` times or once more."""
    full_rounds, remainder = divmod(n_draws, n_items) if n_items else (0, 0)
    every_item = numpy.tile(numpy.arange(n_items), full_rounds)
    return numpy.concatenate([every_item, rng.choice(n_items, remainder, replace=False)]).astype(numpy.int64)


def _label_masks(Y: Any) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Boolean (N, C) masks of the positive and the negative entries of a label matrix."""
    labels = numpy.asarray(Y, dtype=numpy.float64)
    if labels.ndim != 2:
        raise ValueError(f"Y must be a label matrix of shape (N, C), got shape {labels.shape}; "
                         f"reshape a single column with Y.reshape(-1, 1)")
    labeled = ~numpy.isnan(labels)
    return labeled & (labels >= 0.5), labeled & (labels < 0.5)


def _column_rows(Y: Any, column: int, ratio: float) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Row indices of the positives and of the negatives of ``column``, after checking the arguments."""
    _check_positive("ratio", ratio)
    positive, negative = _label_masks(Y)
    n_columns = positive.shape[1]
    if isinstance(column, bool) or not isinstance(column, numbers.Integral) or not 0 <= column < n_columns:
        raise ValueError(f"column must be an integer in [0, {n_columns}) for Y with {n_columns} columns, got {column!r}")
    return numpy.flatnonzero(positive[:, column]), numpy.flatnonzero(negative[:, column])


def _check_positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number greater than 0, got {value!r}")


def _as_features(X: Any) -> Any:
    """A 2-D float ndarray, or a CSR matrix for sparse input."""
    if scipy.sparse.issparse(X):
        features = X.tocsr()
    else:
        features = numpy.asarray(X)
    if features.ndim != 2:
        raise ValueError(f"X must be a 2-D feature matrix (N, D), got shape {features.shape}")
    if not numpy.issubdtype(features.dtype, numpy.floating):
        features = features.astype(numpy.float64)
    return features
