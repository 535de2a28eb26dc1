"""Class-imbalance tools: weights by hand and against scikit-learn, exact re-sampling ratios on
hypothesis-generated label columns, neighbours against ``sklearn.neighbors.NearestNeighbors``,
and SMOTE rows checked by brute force to lie on segments between minority neighbours."""
from __future__ import annotations

import numpy
import pytest
import scipy.sparse
from hypothesis import assume, given
from hypothesis import strategies as st
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.class_weight import compute_class_weight

from smartmod.data import imbalance
from smartmod.data.imbalance import (
    class_weights,
    nearest_neighbors,
    positive_weights,
    random_oversample,
    random_undersample,
    smote,
)

nan = numpy.nan


# -- loss weights -------------------------------------------------------------------------------

# column 0: 1 positive, 4 negatives; column 1: 2 positives, 3 negatives;
# column 2: positives only; column 3: negatives only.
LABELS = numpy.array(
    [
        [1, 0, nan, 0],
        [0, 0, nan, 0],
        [0, 1, 1, 0],
        [0, 1, 1, 0],
        [nan, 0, 1, nan],
        [0, nan, nan, 0],
    ],
    dtype=numpy.float32,
)


def test_positive_weights_are_negatives_over_positives_among_labeled_rows():
    weights = positive_weights(LABELS)
    assert weights.dtype == numpy.float32
    assert weights.tolist() == [4.0, 1.5, 1.0, 1.0]


def test_positive_weights_are_capped():
    assert positive_weights(LABELS, cap=2.0).tolist() == [2.0, 1.5, 1.0, 1.0]


@pytest.mark.parametrize("cap", [0, -1.0, nan, True])
def test_positive_weights_reject_a_cap_that_is_not_positive(cap):
    with pytest.raises(ValueError, match="cap must be a finite number greater than 0"):
        positive_weights(LABELS, cap=cap)


def test_class_weights_match_scikit_learn_balanced():
    y = numpy.random.default_rng(0).integers(0, 4, size=50)
    expected = compute_class_weight("balanced", classes=numpy.arange(4), y=y)
    numpy.testing.assert_allclose(class_weights(y, 4), expected, rtol=1e-6)


def test_class_weights_give_absent_classes_weight_one():
    weights = class_weights(numpy.array([0, 0, 0, 2]), 3)
    numpy.testing.assert_allclose(weights, [4 / (3 * 3), 1.0, 4 / (3 * 1)], rtol=1e-6)


@pytest.mark.parametrize(
    "y, num_classes, error, match",
    [
        ([0, 1, 3], 3, ValueError, r"lie in \[0, 3\)"),
        ([-1, 0], 2, ValueError, r"lie in \[0, 2\)"),
        ([0.0, 1.0], 2, TypeError, "integer class indices"),
        ([], 2, ValueError, "non-empty"),
        ([0, 1], 0, ValueError, "num_classes must be a positive integer"),
    ],
)
def test_class_weights_reject_bad_targets(y, num_classes, error, match):
    with pytest.raises(error, match=match):
        class_weights(numpy.array(y), num_classes)


# -- random re-sampling -------------------------------------------------------------------------


@st.composite
def label_matrix_and_ratio(draw: st.DrawFn) -> tuple[numpy.ndarray, float, int]:
    """Y (N, 2) of 0 / 1 / NaN with at least one positive in column 0, a ratio and a seed."""
    n_rows = draw(st.integers(3, 60))
    entries = st.sampled_from([0.0, 1.0, nan])
    Y = numpy.array(draw(st.lists(st.tuples(entries, entries), min_size=n_rows, max_size=n_rows)), dtype=numpy.float32)
    assume((Y[:, 0] == 1).any())
    return Y, draw(st.floats(0.05, 4.0)), draw(st.integers(0, 1000))


@given(label_matrix_and_ratio())
def test_oversample_repeats_positives_evenly_up_to_the_ratio_and_keeps_other_rows_once(case):
    Y, ratio, seed = case
    rows = random_oversample(Y, 0, ratio, seed)
    copies = numpy.bincount(rows, minlength=len(Y))
    positive, negative = Y[:, 0] == 1, Y[:, 0] == 0
    assert (numpy.diff(rows) >= 0).all(), "indices must be sorted"
    assert (copies[~positive] == 1).all(), "negatives and unlabeled rows must appear exactly once"
    assert copies[positive].sum() == max(round(ratio * negative.sum()), positive.sum())
    assert copies[positive].max() - copies[positive].min() <= 1, f"uneven repeats {copies[positive]}"


@given(label_matrix_and_ratio())
def test_undersample_drops_negatives_down_to_the_ratio_and_keeps_other_rows(case):
    Y, ratio, seed = case
    rows = random_undersample(Y, 0, ratio, seed)
    kept = numpy.zeros(len(Y), dtype=bool)
    kept[rows] = True
    positive, negative = Y[:, 0] == 1, Y[:, 0] == 0
    assert numpy.array_equal(rows, numpy.unique(rows)), "indices must be sorted and distinct"
    assert kept[~negative].all(), "positives and unlabeled rows must be kept"
    assert kept[negative].sum() == min(round(positive.sum() / ratio), negative.sum())


def test_undersample_drops_negatives_that_are_positive_elsewhere_last():
    # column 0: 2 positives, 10 negatives, of which rows 2-4 are positives of column 1.
    Y = numpy.zeros((12, 2), dtype=numpy.float32)
    Y[:2, 0] = 1
    Y[2:5, 1] = 1
    for seed in range(10):
        rows = random_undersample(Y, 0, ratio=0.5, seed=seed)  # keeps 4 of the 10 negatives
        assert len(rows) == 6
        assert {2, 3, 4} <= set(rows.tolist())


@pytest.mark.parametrize("resample", [random_oversample, random_undersample])
def test_resampling_is_deterministic_for_a_seed_and_varies_across_seeds(resample):
    rng = numpy.random.default_rng(0)
    Y = (rng.random((200, 1)) < 0.1).astype(numpy.float32)
    Y[rng.random(200) < 0.2] = nan
    assert numpy.array_equal(resample(Y, 0, 0.5, seed=7), resample(Y, 0, 0.5, seed=7))
    assert not numpy.array_equal(resample(Y, 0, 0.5, seed=7), resample(Y, 0, 0.5, seed=8))


@pytest.mark.parametrize("resample", [random_oversample, random_undersample])
def test_resampling_keeps_every_row_once_when_the_ratio_is_already_reached(resample):
    Y = numpy.array([[1], [1], [0], [nan]], dtype=numpy.float32)
    assert resample(Y, 0, ratio=1.0).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("resample", [random_oversample, random_undersample])
@pytest.mark.parametrize(
    "column, ratio, match",
    [(2, 1.0, r"column must be an integer in \[0, 2\)"), (-1, 1.0, "column must be"), (0, 0.0, "ratio must be"), (0, nan, "ratio must be")],
)
def test_resampling_rejects_bad_columns_and_ratios(resample, column, ratio, match):
    with pytest.raises(ValueError, match=match):
        resample(numpy.array([[1, 0], [0, 0]], dtype=numpy.float32), column, ratio)


@pytest.mark.parametrize("resample", [random_oversample, random_undersample])
def test_resampling_rejects_a_column_without_positives(resample):
    with pytest.raises(ValueError, match="no positive labeled rows"):
        resample(numpy.array([[0], [0], [nan]], dtype=numpy.float32), 0, 0.5)


def test_resampling_rejects_a_one_dimensional_Y():
    with pytest.raises(ValueError, match="reshape"):
        random_oversample(numpy.array([1, 0, 0], dtype=numpy.float32), 0, 1.0)


# -- nearest neighbours -------------------------------------------------------------------------


def random_sparse(n_rows: int, n_columns: int, seed: int) -> scipy.sparse.csr_matrix:
    return scipy.sparse.random(n_rows, n_columns, density=0.3, format="csr", random_state=seed, dtype=numpy.float64)


@pytest.mark.parametrize("block_entries", [imbalance._BLOCK_ENTRIES, 50])
@pytest.mark.parametrize("sparse", [False, True])
def test_nearest_neighbors_match_scikit_learn(sparse, block_entries, monkeypatch):
    monkeypatch.setattr(imbalance, "_BLOCK_ENTRIES", block_entries)  # 50: one row per block
    X = random_sparse(40, 12, seed=1) if sparse else numpy.random.default_rng(1).normal(size=(40, 6))
    indices, distances = nearest_neighbors(X, 4)
    their_distances, their_indices = NearestNeighbors(n_neighbors=4).fit(X).kneighbors()  # excludes each row itself
    numpy.testing.assert_array_equal(indices, their_indices)
    numpy.testing.assert_allclose(distances, their_distances, rtol=1e-9, atol=1e-12)


def test_nearest_neighbors_count_identical_rows_but_never_the_row_itself():
    indices, distances = nearest_neighbors(numpy.array([[0.0, 0.0], [0.0, 0.0], [5.0, 5.0]]), 1)
    assert indices[:, 0].tolist() == [1, 0, 0]
    assert distances[:2, 0].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("k", [0, 3, 2.0])
def test_nearest_neighbors_reject_k_outside_1_to_n_minus_1(k):
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, 2\] for 3 rows"):
        nearest_neighbors(numpy.eye(3), k)


# -- SMOTE --------------------------------------------------------------------------------------


def imbalanced(n_rows: int = 60, n_minority: int = 12, seed: int = 0) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Dense float64 features (N, 3) with classes (N,) whose first ``n_minority`` rows are class 1."""
    X = numpy.random.default_rng(seed).normal(size=(n_rows, 3))
    y = numpy.zeros(n_rows, dtype=numpy.int64)
    y[:n_minority] = 1
    return X, y


def assert_on_neighbor_segments(X_minority: numpy.ndarray, synthetic: numpy.ndarray, k: int) -> None:
    """Every synthetic row is x_i + u (x_j - x_i), u in [0, 1], x_j among x_i's k nearest (brute force)."""
    distances = numpy.linalg.norm(X_minority[:, None, :] - X_minority[None, :, :], axis=-1)
    numpy.fill_diagonal(distances, numpy.inf)
    neighbors = numpy.argsort(distances, axis=1)[:, :k]
    for row, point in enumerate(synthetic):
        found = False
        for i in range(len(X_minority)):
            for j in neighbors[i]:
                direction = X_minority[j] - X_minority[i]
                u = (point - X_minority[i]) @ direction / (direction @ direction)
                if -1e-9 <= u <= 1 + 1e-9 and numpy.allclose(X_minority[i] + u * direction, point, atol=1e-9):
                    found = True
        assert found, f"synthetic row {row} {point} lies on no segment between a minority row and one of its {k} neighbours"


def test_smote_rows_lie_on_segments_between_minority_neighbors():
    X, y = imbalanced()
    X_new, y_new = smote(X, y, k=3, ratio=1.0, seed=0)
    assert X_new.shape == (96, 3) and (y_new[60:] == 1).all()
    numpy.testing.assert_array_equal(X_new[:60], X)
    numpy.testing.assert_array_equal(y_new[:60], y)
    assert_on_neighbor_segments(X[:12], X_new[60:], k=3)


def test_smote_adds_minority_rows_up_to_the_ratio_of_the_majority():
    X, y = imbalanced()
    _, y_new = smote(X, y, ratio=0.5)
    assert (y_new == 1).sum() == round(0.5 * 48)
    assert (y_new == 0).sum() == 48


def test_smote_oversamples_whichever_class_is_rarer():
    X, y = imbalanced()
    X_new, y_new = smote(X, 1 - y, k=2, ratio=0.5)  # class 0 now holds the 12 minority rows
    assert (y_new[60:] == 0).all() and (y_new == 0).sum() == 24
    assert_on_neighbor_segments(X[:12], X_new[60:], k=2)


def test_smote_uses_fewer_neighbours_when_the_minority_has_fewer_than_k_plus_1_rows():
    X, y = imbalanced(n_rows=20, n_minority=3)
    X_new, _ = smote(X, y, k=5, ratio=1.0)
    assert_on_neighbor_segments(X[:3], X_new[20:], k=2)


def test_smote_returns_the_inputs_when_the_ratio_is_already_reached():
    X, y = imbalanced(n_rows=20, n_minority=10)
    X_new, y_new = smote(X, y, ratio=1.0)
    numpy.testing.assert_array_equal(X_new, X)
    numpy.testing.assert_array_equal(y_new, y)


def test_smote_keeps_sparse_features_sparse_and_matches_dense():
    X = random_sparse(50, 20, seed=3).astype(numpy.float32)
    y = (numpy.arange(50) < 10).astype(numpy.int64)
    sparse_X, sparse_y = smote(X, y, k=3, ratio=0.8, seed=5)
    dense_X, dense_y = smote(X.toarray(), y, k=3, ratio=0.8, seed=5)
    assert scipy.sparse.isspmatrix_csr(sparse_X) or isinstance(sparse_X, scipy.sparse.csr_array)
    assert sparse_X.dtype == dense_X.dtype == numpy.float32
    numpy.testing.assert_allclose(sparse_X.toarray(), dense_X, rtol=1e-6, atol=1e-7)
    numpy.testing.assert_array_equal(sparse_y, dense_y)


def test_smote_is_deterministic_for_a_seed_and_varies_across_seeds():
    X, y = imbalanced()
    numpy.testing.assert_array_equal(smote(X, y, seed=4)[0], smote(X, y, seed=4)[0])
    assert not numpy.array_equal(smote(X, y, seed=4)[0], smote(X, y, seed=5)[0])


@pytest.mark.parametrize(
    "change, match",
    [
        ({"y": numpy.array([0, 1, 2, 0, 0, 0])}, "binary classes 0 and 1"),
        ({"y": numpy.array([0, 1, 1])}, "one class per row of X"),
        ({"ratio": 1.5}, "at most 1"),
        ({"ratio": 0.0}, "ratio must be a finite number greater than 0"),
        ({"k": 0}, "k must be a positive integer"),
        ({"y": numpy.array([1, 0, 0, 0, 0, 0])}, "at least 2 rows of the minority class 1"),
        ({"X": numpy.zeros(6)}, "2-D feature matrix"),
    ],
)
def test_smote_rejects_bad_arguments(change, match):
    arguments = {"X": numpy.random.default_rng(0).normal(size=(6, 2)), "y": numpy.array([1, 1, 0, 0, 0, 0]), "k": 1, "ratio": 1.0}
    arguments.update(change)
    with pytest.raises(ValueError, match=match):
        smote(**arguments)
