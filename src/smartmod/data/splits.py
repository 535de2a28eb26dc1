"""Train / test splits and k folds that keep groups whole and preserve label and source proportions.

The text data mixes datasets that each label only some categories, so a label matrix
``Y (N, C)`` holds 1 (positive), 0 (negative) or NaN (not labeled), and some positives are rare
(2% or fewer). Rows that must stay on one side of every split (duplicate texts, sentences of one
post) share a *group*.

The assignment is iterative stratification (Sechidis, Tsoumakas & Vlahavas 2011, "On the
stratification of multi-label data") adapted to groups and processed one *cell* at a time
instead of one row at a time, so it runs in vectorized NumPy. A cell is one stratum (for example
one dataset) or one (stratum, column, positive / negative) combination. Cells are visited from
the one with the fewest rows still unassigned; all unassigned groups holding rows of that cell
are shuffled (seeded) and cut into consecutive runs, one per fold, whose sizes follow each
fold's remaining deficit of that cell. Because a group's assignment is counted in every cell it
touches, later (larger) cells correct the drift left by earlier ones. As a result each column's
positives, negatives and unlabeled rows, and each stratum, end up on every side in proportion to
its size, up to about one group per cell. The cost grows with the number of cells, so strata
should be a few coarse categories (datasets, languages), not one per row.
"""
from __future__ import annotations

import numbers
from typing import Any, Callable, Hashable, Iterable

import numpy
import scipy.sparse
from scipy.sparse.csgraph import connected_components

__all__ = ["group_duplicates", "combine_groups", "stratified_group_split", "stratified_group_kfold"]


def group_duplicates(texts: Iterable[Hashable], key: Callable[[Any], Hashable] | None = None) -> numpy.ndarray:
    """Group ids under which identical texts share a group.

    Parameters
    ----------
    texts : iterable of N hashable values (usually str)
    key : callable, optional
        Applied to each text before comparing, e.g. a normalization that lower-cases and
        collapses whitespace, so near-identical texts also share a group.

    Returns
    -------
    numpy.ndarray of int64, shape (N,)
        Group ids numbered 0, 1, ... in order of first appearance.
    """
    keys = texts if key is None else (key(text) for text in texts)
    return _first_appearance_codes(keys)


def combine_groups(first: Any, second: Any) -> numpy.ndarray:
    """Groups under which two rows share a group when either grouping links them, even indirectly.

    The result is the connected components of the graph whose edges join rows with equal keys in
    ``first`` or in ``second`` (rows a and b share a text, b and c come from one post: a, b and
    c form one group).

    Parameters
    ----------
    first, second : sequences of N hashable keys, shape (N,)
        For example :func:`group_duplicates` ids and ``"source:post_id"`` strings.

    Returns
    -------
    numpy.ndarray of int64, shape (N,)
        Group ids numbered 0, 1, ... in order of first appearance.
    """
    first_codes, second_codes = _codes(first, "first"), _codes(second, "second")
    if len(first_codes) != len(second_codes):
        raise ValueError(f"combine_groups needs two groupings of the same rows, got lengths {len(first_codes)} and {len(second_codes)}")
    if len(first_codes) == 0:
        return numpy.zeros(0, dtype=numpy.int64)
    # Bipartite graph: nodes 0..A-1 are keys of `first`, nodes A..A+B-1 keys of `second`; each row is an edge.
    n_first, n_second = int(first_codes.max()) + 1, int(second_codes.max()) + 1
    edges = numpy.ones(len(first_codes), dtype=numpy.int8)
    graph = scipy.sparse.coo_matrix((edges, (first_codes, n_first + second_codes)), shape=(n_first + n_second,) * 2)
    _, component = connected_components(graph, directed=False)
    return _first_appearance_codes(component[first_codes].tolist())


def stratified_group_split(
    Y: Any, groups: Any, test_size: float = 0.1, seed: int = 0, strata: Any = None
) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Seeded train / test split that never splits a group and keeps label and stratum proportions.

    Each column's positives, negatives and unlabeled rows, and each stratum's rows, go to the
    test side in the proportion ``test_size`` as closely as whole groups allow (see the module
    docstring for the algorithm). Positives and negatives are balanced within each stratum, so
    per-dataset figures on the test side are also representative.

    Parameters
    ----------
    Y : array of float, shape (N, C)
        Labels: 1 positive, 0 negative, NaN not labeled (values from 0.5 up count as positive).
    groups : sequence of N hashable keys, shape (N,)
        Rows with equal keys land on the same side.
    test_size : float in (0, 1)
        Target fraction of rows (of every cell) on the test side.
    seed : int
        The same seed and inputs give the same split.
    strata : sequence of N hashable keys, shape (N,), optional
        Further categories to balance, e.g. the dataset each row comes from.

    Returns
    -------
    train_idx, test_idx : numpy.ndarray of int64, shapes (N_train,) and (N_test,)
        Sorted row indices; together they cover every row once. Neither is empty: when the
        proportion would round a side down to no rows, one group moves there.
    """
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real) or not 0 < test_size < 1:
        raise ValueError(f"test_size must be a fraction strictly between 0 and 1, got {test_size!r}")
    fold_of_row = _assign_folds(Y, groups, strata, numpy.array([1.0 - test_size, test_size]), seed)
    return numpy.flatnonzero(fold_of_row == 0), numpy.flatnonzero(fold_of_row == 1)


def stratified_group_kfold(
    Y: Any, groups: Any, k: int = 5, seed: int = 0, strata: Any = None
) -> list[tuple[numpy.ndarray, numpy.ndarray]]:
    """Seeded k-fold cross-validation that never splits a group and keeps label and stratum proportions.

    Parameters
    ----------
    Y : array of float, shape (N, C)
        Labels: 1 positive, 0 negative, NaN not labeled (values from 0.5 up count as positive).
    groups : sequence of N hashable keys, shape (N,)
        Rows with equal keys land in the same fold.
    k : int, at least 2 and at most the number of groups
    seed : int
        The same seed and inputs give the same folds.
    strata : sequence of N hashable keys, shape (N,), optional
        Further categories to balance, e.g. the dataset each row comes from.

    Returns
    -------
    list of k tuples (train_idx, val_idx) of numpy.ndarray of int64
        Sorted row indices. The validation parts are disjoint, non-empty and cover every row;
        each train part is the complement of its validation part.
    """
    if isinstance(k, bool) or not isinstance(k, (int, numpy.integer)) or k < 2:
        raise ValueError(f"k must be an integer of at least 2 folds, got {k!r}")
    fold_of_row = _assign_folds(Y, groups, strata, numpy.full(k, 1.0 / k), seed)
    return [(numpy.flatnonzero(fold_of_row != fold), numpy.flatnonzero(fold_of_row == fold)) for fold in range(k)]


def _assign_folds(Y: Any, groups: Any, strata: Any, fractions: numpy.ndarray, seed: int) -> numpy.ndarray:
    """The fold (0..F-1) of every row, shape (N,), for target fractions ``(F,)`` summing to 1."""
    labels = _check_labels(Y)
    group_of_row = _codes(groups, "groups")
    stratum_of_row = numpy.zeros(len(labels), dtype=numpy.int64) if strata is None else _codes(strata, "strata")
    for name, codes in (("groups", group_of_row), ("strata", stratum_of_row)):
        if len(codes) != len(labels):
            raise ValueError(f"{name} must give one key per row of Y: Y has {len(labels)} rows, {name} has {len(codes)} keys")
    n_folds = len(fractions)
    n_groups = int(group_of_row.max()) + 1 if len(group_of_row) else 0
    if n_groups < n_folds:
        raise ValueError(f"cannot place {n_groups} groups on {n_folds} sides without leaving one empty; "
                         f"pass more groups or fewer folds")

    cells = _cell_counts(labels, group_of_row, n_groups, stratum_of_row)  # (G, K) rows of each group in each cell
    members_of_cell = cells.tocsc()
    members_of_cell.sort_indices()
    totals = numpy.asarray(cells.sum(axis=0)).ravel()  # (K,)
    desired = fractions[:, None] * totals[None, :]  # (F, K)
    assigned = numpy.zeros_like(desired)  # (F, K)
    remaining = totals.astype(numpy.float64)  # (K,) rows of each cell not yet assigned
    fold_of_group = numpy.full(n_groups, -1, dtype=numpy.int64)
    rng = numpy.random.default_rng(seed)
    while (remaining > 0).any():
        cell = int(numpy.argmin(numpy.where(remaining > 0, remaining, numpy.inf)))
        start, stop = members_of_cell.indptr[cell], members_of_cell.indptr[cell + 1]
        members, counts = members_of_cell.indices[start:stop], members_of_cell.data[start:stop]
        free = fold_of_group[members] < 0
        order = rng.permutation(int(free.sum()))
        batch, weights = members[free][order], counts[free][order]  # (B,)
        folds = _cut_into_folds(weights, desired[:, cell] - assigned[:, cell])  # (B,)
        fold_of_group[batch] = folds
        one_hot = scipy.sparse.csr_matrix((numpy.ones(len(batch)), (folds, numpy.arange(len(batch)))), shape=(n_folds, len(batch)))
        added = (one_hot @ cells[batch]).toarray()  # (F, K)
        assigned += added
        remaining -= added.sum(axis=0)
    _fill_empty_folds(fold_of_group, numpy.bincount(group_of_row, minlength=n_groups), n_folds)
    return fold_of_group[group_of_row]


def _cut_into_folds(weights: numpy.ndarray, deficits: numpy.ndarray) -> numpy.ndarray:
    """Folds (B,) for a shuffled batch whose items weigh ``weights (B,)``: consecutive runs whose
    total weights follow the positive part of ``deficits (F,)``, each item going to the run that
    holds its midpoint."""
    quotas = numpy.clip(deficits, 0.0, None)
    quotas *= weights.sum() / quotas.sum()  # the deficits sum to the batch's weight, so some are positive
    midpoints = numpy.cumsum(weights) - weights / 2.0
    return numpy.searchsorted(numpy.cumsum(quotas)[:-1], midpoints, side="right")


def _fill_empty_folds(fold_of_group: numpy.ndarray, group_sizes: numpy.ndarray, n_folds: int) -> None:
    """Move, into each empty fold, the smallest group of the fold with the most rows (in place).

    A fold ends up empty when its share of every cell rounds to less than a group, e.g.
    ``test_size=0.1`` of three rows; like scikit-learn's ``train_test_split``, we then give it one.
    """
    for fold in range(n_folds):
        if (fold_of_group == fold).any():
            continue
        rows_per_fold = numpy.bincount(fold_of_group, weights=group_sizes, minlength=n_folds)
        groups_per_fold = numpy.bincount(fold_of_group, minlength=n_folds)
        donor = int(numpy.argmax(numpy.where(groups_per_fold > 1, rows_per_fold, -1)))
        candidates = numpy.flatnonzero(fold_of_group == donor)
        fold_of_group[candidates[numpy.argmin(group_sizes[candidates])]] = fold


def _cell_counts(
    labels: numpy.ndarray, group_of_row: numpy.ndarray, n_groups: int, stratum_of_row: numpy.ndarray
) -> scipy.sparse.csr_matrix:
    """Rows of each group in each non-empty cell, a sparse (G, K) int64 matrix.

    Cells are the strata and the (stratum, column, positive / negative) combinations; unlabeled
    rows of a column are balanced through their stratum's cell.
    """
    n_columns = labels.shape[1]
    rows, columns = numpy.nonzero(~numpy.isnan(labels))
    positive = labels[rows, columns] >= 0.5
    label_cells = (stratum_of_row[rows] * n_columns + columns) * 2 + positive
    stratum_cells = (int(stratum_of_row.max()) + 1) * n_columns * 2 + stratum_of_row
    cell_ids = numpy.concatenate([label_cells, stratum_cells])
    _, cell_of_entry = numpy.unique(cell_ids, return_inverse=True)  # drop the empty cells
    group_of_entry = numpy.concatenate([group_of_row[rows], group_of_row])
    ones = numpy.ones(len(cell_of_entry), dtype=numpy.int64)
    counts = scipy.sparse.coo_matrix((ones, (group_of_entry, cell_of_entry.ravel())), shape=(n_groups, int(cell_of_entry.max()) + 1))
    return counts.tocsr()  # duplicates summed


def _check_labels(Y: Any) -> numpy.ndarray:
    labels = numpy.asarray(Y, dtype=numpy.float64)
    if labels.ndim != 2:
        raise ValueError(f"Y must be a label matrix of shape (N, C), got shape {labels.shape}; "
                         f"reshape a single column with Y.reshape(-1, 1)")
    if len(labels) == 0:
        raise ValueError("Y has no rows: there is nothing to split")
    outside = ~numpy.isnan(labels) & ((labels < 0) | (labels > 1))
    if outside.any():
        row, column = numpy.argwhere(outside)[0]
        raise ValueError(f"Y must hold 0, 1 or NaN (not labeled); {int(outside.sum())} entries lie outside [0, 1], "
                         f"e.g. Y[{row}, {column}] = {labels[row, column]}")
    return labels


def _codes(keys: Any, name: str) -> numpy.ndarray:
    """Integer codes (N,) for a sequence of hashable keys: equal keys, equal codes, numbered densely."""
    array = keys if isinstance(keys, numpy.ndarray) else numpy.fromiter(keys, dtype=object, count=len(keys))
    if array.ndim != 1:
        raise ValueError(f"{name} must hold one hashable key per row (a 1-D sequence), got shape {array.shape}")
    try:
        _, codes = numpy.unique(array, return_inverse=True)
    except TypeError:  # keys of mixed types that do not sort, e.g. str and None
        return _first_appearance_codes(array.tolist())
    return codes.astype(numpy.int64).ravel()


def _first_appearance_codes(keys: Iterable[Hashable]) -> numpy.ndarray:
    """Codes (N,) numbering distinct keys 0, 1, ... in order of first appearance."""
    code_of_key: dict[Hashable, int] = {}
    return numpy.fromiter((code_of_key.setdefault(key, len(code_of_key)) for key in keys), dtype=numpy.int64)
