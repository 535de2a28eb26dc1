"""Grouped, stratified splits: groups stay whole, label and source proportions hold, errors speak.

Properties that must hold for any input (groups never straddle, folds partition the rows) are
checked on hypothesis-generated label matrices and groupings; proportions are checked on a
synthetic mix of datasets shaped like the shared text data (each dataset labels a few columns,
rare positives at 2%, posts of several sentences, duplicate texts across posts).
"""
from __future__ import annotations

import time

import numpy
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from smartmod.data.splits import combine_groups, group_duplicates, stratified_group_kfold, stratified_group_split

# name: (rows, {column: positive rate}) — column 4 is labeled by no dataset.
SOURCES = {
    "forum": (6000, {0: 0.02, 1: 0.10, 2: 0.30}),
    "tweets": (3000, {0: 0.05, 3: 0.02}),
    "comments": (2500, {1: 0.02, 2: 0.15, 3: 0.08}),
    "small": (60, {0: 0.2}),
}
N_COLUMNS = 5


def mixed_sources(seed: int = 0) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """``(Y (N, 5), groups (N,), sources (N,))`` for the datasets in ``SOURCES``."""
    rng = numpy.random.default_rng(seed)
    blocks, sources, posts = [], [], []
    for name, (n_rows, rates) in SOURCES.items():
        labels = numpy.full((n_rows, N_COLUMNS), numpy.nan, dtype=numpy.float32)
        for column, rate in rates.items():
            labels[:, column] = rng.random(n_rows) < rate
        blocks.append(labels)
        sources += [name] * n_rows
        sentences_per_post = rng.geometric(0.5, size=n_rows)
        posts += [f"{name}:{post}" for post in numpy.repeat(numpy.arange(n_rows), sentences_per_post)[:n_rows]]
    n_rows = len(sources)
    texts = numpy.arange(n_rows)
    duplicated = rng.random(n_rows) < 0.05
    texts[duplicated] = rng.integers(0, n_rows, size=duplicated.sum())
    return numpy.vstack(blocks), combine_groups(posts, texts), numpy.array(sources)


def label_cells(Y: numpy.ndarray) -> dict[str, numpy.ndarray]:
    """Boolean (N,) masks of each column's positives, negatives and unlabeled rows."""
    cells = {}
    for column in range(Y.shape[1]):
        cells[f"column {column} positive"] = Y[:, column] == 1
        cells[f"column {column} negative"] = Y[:, column] == 0
        cells[f"column {column} unlabeled"] = numpy.isnan(Y[:, column])
    return cells


def assert_share(mask: numpy.ndarray, side: numpy.ndarray, fraction: float, what: str) -> None:
    """The rows of ``mask`` on ``side`` number ``fraction`` of them, within one row plus 1%.

    A random assignment of whole groups misses this by up to ~3x the tolerance on this data.
    """
    total, on_side = int(mask.sum()), int((mask & side).sum())
    assert abs(on_side - fraction * total) <= 1 + 0.01 * total, f"{what}: {on_side} of {total} rows, expected ~{fraction * total:.1f}"


def side_mask(indices: numpy.ndarray, n_rows: int) -> numpy.ndarray:
    mask = numpy.zeros(n_rows, dtype=bool)
    mask[indices] = True
    return mask


# -- strategies ---------------------------------------------------------------------------------


@st.composite
def grouped_labels(draw: st.DrawFn) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray | None]:
    """Small label matrices with NaNs, integer groups and optional strata."""
    n_rows = draw(st.integers(2, 40))
    n_columns = draw(st.integers(1, 3))
    entries = st.sampled_from([0.0, 1.0, numpy.nan])
    rows = st.lists(entries, min_size=n_columns, max_size=n_columns)
    Y = numpy.array(draw(st.lists(rows, min_size=n_rows, max_size=n_rows)), dtype=numpy.float32)
    groups = numpy.array(draw(st.lists(st.integers(0, n_rows), min_size=n_rows, max_size=n_rows)))
    strata = draw(st.none() | st.lists(st.sampled_from("abc"), min_size=n_rows, max_size=n_rows).map(numpy.array))
    return Y, groups, strata


def assert_groups_whole(groups: numpy.ndarray, fold_of_row: numpy.ndarray) -> None:
    for group in numpy.unique(groups):
        folds = numpy.unique(fold_of_row[groups == group])
        assert len(folds) == 1, f"group {group} is split over folds {folds.tolist()}"


# -- group ids ----------------------------------------------------------------------------------


def test_group_duplicates_gives_identical_texts_one_id_in_order_of_first_appearance():
    assert group_duplicates(["b", "a", "b", "c", "a"]).tolist() == [0, 1, 0, 2, 1]


def test_group_duplicates_compares_texts_after_the_key_function():
    groups = group_duplicates(["Hello  world", "hello world", "bye"], key=lambda text: " ".join(text.lower().split()))
    assert groups.tolist() == [0, 0, 1]
    assert groups.dtype == numpy.int64


def test_combine_groups_links_rows_through_either_grouping_transitively():
    # rows 0 and 1 share a text, rows 1 and 2 a post: 0, 1 and 2 form one group; 3 and 4 stand alone.
    texts = ["x", "x", "y", "z", "w"]
    posts = ["p1", "p2", "p2", "p3", "p4"]
    assert combine_groups(texts, posts).tolist() == [0, 0, 0, 1, 2]


@given(st.lists(st.tuples(st.integers(0, 6), st.sampled_from("abcdefg")), min_size=1, max_size=30))
def test_combine_groups_matches_a_brute_force_union_find(pairs):
    first, second = [a for a, _ in pairs], [b for _, b in pairs]
    parent = list(range(len(pairs)))

    def root(row: int) -> int:
        while parent[row] != row:
            row = parent[row]
        return row

    for i in range(len(pairs)):
        for j in range(i):
            if first[i] == first[j] or second[i] == second[j]:
                parent[root(i)] = root(j)
    combined = combine_groups(first, second)
    for i in range(len(pairs)):
        for j in range(len(pairs)):
            assert (combined[i] == combined[j]) == (root(i) == root(j)), f"rows {i}, {j}: {pairs}"


def test_combine_groups_rejects_groupings_of_different_lengths():
    with pytest.raises(ValueError, match="same rows"):
        combine_groups([1, 2, 3], [1, 2])


# -- split properties ---------------------------------------------------------------------------


@given(grouped_labels(), st.floats(0.05, 0.95), st.integers(0, 2**16))
def test_split_keeps_groups_whole_and_covers_every_row_once(case, test_size, seed):
    Y, groups, strata = case
    assume(len(numpy.unique(groups)) >= 2)
    train, test = stratified_group_split(Y, groups, test_size=test_size, seed=seed, strata=strata)
    assert len(train) > 0 and len(test) > 0
    assert numpy.array_equal(numpy.sort(numpy.concatenate([train, test])), numpy.arange(len(Y)))
    assert_groups_whole(groups, side_mask(test, len(Y)).astype(int))


@given(grouped_labels(), st.integers(2, 5), st.integers(0, 2**16))
def test_kfold_validation_parts_partition_the_rows_and_keep_groups_whole(case, k, seed):
    Y, groups, strata = case
    assume(len(numpy.unique(groups)) >= k)
    folds = stratified_group_kfold(Y, groups, k=k, seed=seed, strata=strata)
    assert len(folds) == k
    fold_of_row = numpy.full(len(Y), -1)
    for fold, (train, validation) in enumerate(folds):
        assert len(validation) > 0, f"fold {fold} is empty"
        assert (fold_of_row[validation] == -1).all(), f"fold {fold} overlaps an earlier one"
        fold_of_row[validation] = fold
        assert numpy.array_equal(numpy.sort(numpy.concatenate([train, validation])), numpy.arange(len(Y)))
    assert (fold_of_row >= 0).all()
    assert_groups_whole(groups, fold_of_row)


def test_split_keeps_each_columns_positives_negatives_and_unlabeled_at_test_size():
    Y, groups, sources = mixed_sources()
    train, test = stratified_group_split(Y, groups, test_size=0.1, seed=0, strata=sources)
    test_side = side_mask(test, len(Y))
    assert_share(numpy.ones(len(Y), dtype=bool), test_side, 0.1, "all rows")
    for what, mask in label_cells(Y).items():
        assert_share(mask, test_side, 0.1, what)
    assert_groups_whole(groups, test_side.astype(int))


def test_split_puts_every_source_on_both_sides_at_test_size():
    Y, groups, sources = mixed_sources()
    for test_size in (0.1, 0.3):
        train, test = stratified_group_split(Y, groups, test_size=test_size, seed=1, strata=sources)
        for name in SOURCES:
            assert_share(sources == name, side_mask(test, len(Y)), test_size, f"source {name}, test_size {test_size}")
            assert (sources[train] == name).any(), f"source {name} missing from train"


def test_kfold_gives_each_fold_its_share_of_every_cell_and_source():
    Y, groups, sources = mixed_sources()
    cells = {**label_cells(Y), **{f"source {name}": sources == name for name in SOURCES}}
    for fold, (_, validation) in enumerate(stratified_group_kfold(Y, groups, k=4, seed=0, strata=sources)):
        for what, mask in cells.items():
            assert_share(mask, side_mask(validation, len(Y)), 0.25, f"fold {fold}, {what}")


def test_split_is_deterministic_for_a_seed_and_varies_across_seeds():
    Y, groups, sources = mixed_sources()
    first = stratified_group_split(Y, groups, seed=3, strata=sources)
    again = stratified_group_split(Y, groups, seed=3, strata=sources)
    other = stratified_group_split(Y, groups, seed=4, strata=sources)
    assert all(numpy.array_equal(a, b) for a, b in zip(first, again))
    assert not numpy.array_equal(first[1], other[1])
    folds, folds_again = (stratified_group_kfold(Y, groups, k=3, seed=3, strata=sources) for _ in range(2))
    assert all(numpy.array_equal(a[1], b[1]) for a, b in zip(folds, folds_again))


def test_split_accepts_string_groups_and_no_strata():
    Y = numpy.array([[1], [0], [0], [numpy.nan], [1], [0]], dtype=numpy.float32)
    groups = numpy.array(["a", "a", "b", "c", "d", "e"])
    train, test = stratified_group_split(Y, groups, test_size=0.5, seed=0)
    assert sorted(train.tolist() + test.tolist()) == list(range(6))
    assert (0 in train) == (1 in train)


def test_split_accepts_a_numpy_float_test_size():
    train, test = stratified_group_split(numpy.zeros((8, 1)), numpy.arange(8), test_size=numpy.float32(0.25))
    assert len(test) == 2


def test_split_moves_one_group_to_a_side_that_would_round_to_nothing():
    Y = numpy.zeros((3, 1), dtype=numpy.float32)
    train, test = stratified_group_split(Y, [0, 1, 2], test_size=0.1)
    assert len(train) == 2 and len(test) == 1


def test_kfold_gives_every_fold_a_group_when_one_group_dwarfs_the_others():
    groups = numpy.array([0] * 10 + [1, 2, 3, 4])
    folds = stratified_group_kfold(numpy.zeros((14, 1)), groups, k=5, seed=0)
    assert sorted(len(validation) for _, validation in folds) == [1, 1, 1, 1, 10]


def test_split_of_150k_rows_and_100k_groups_takes_under_3_seconds():
    rng = numpy.random.default_rng(0)
    n_rows = 150_000
    sources = rng.choice(["a", "b", "c", "d", "e"], size=n_rows)
    Y = numpy.where(rng.random((n_rows, 8)) < 0.05, 1.0, 0.0).astype(numpy.float32)
    Y[rng.random((n_rows, 8)) < 0.5] = numpy.nan
    groups = rng.integers(0, 110_000, size=n_rows)
    started = time.perf_counter()
    train, test = stratified_group_split(Y, groups, test_size=0.1, seed=0, strata=sources)
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, f"split took {elapsed:.2f} s"
    assert abs(len(test) / n_rows - 0.1) < 0.001


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("test_size", [0, 1, -0.1, 1.5, "0.1"])
def test_split_rejects_a_test_size_outside_the_open_unit_interval(test_size):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        stratified_group_split(numpy.zeros((4, 1)), [0, 1, 2, 3], test_size=test_size)


@pytest.mark.parametrize("k", [1, 0, 2.5, True])
def test_kfold_rejects_fewer_than_two_folds(k):
    with pytest.raises(ValueError, match="at least 2 folds"):
        stratified_group_kfold(numpy.zeros((4, 1)), [0, 1, 2, 3], k=k)


def test_kfold_rejects_more_folds_than_groups():
    with pytest.raises(ValueError, match="3 groups on 4 sides"):
        stratified_group_kfold(numpy.zeros((6, 1)), [0, 0, 1, 1, 2, 2], k=4)


def test_split_rejects_a_single_group():
    with pytest.raises(ValueError, match="1 groups on 2 sides"):
        stratified_group_split(numpy.zeros((3, 1)), ["a", "a", "a"])


@pytest.mark.parametrize("groups, strata, name", [([0, 1, 2], None, "groups"), ([0, 1, 2, 3], ["a", "b"], "strata")])
def test_split_rejects_groups_or_strata_of_another_length_than_Y(groups, strata, name):
    with pytest.raises(ValueError, match=f"Y has 4 rows, {name} has"):
        stratified_group_split(numpy.zeros((4, 1)), groups, strata=strata)


def test_split_rejects_a_one_dimensional_Y_and_labels_outside_0_1():
    with pytest.raises(ValueError, match="reshape"):
        stratified_group_split(numpy.zeros(4), [0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"Y\[2, 0\] = 2.0"):
        stratified_group_split(numpy.array([[0.0], [1.0], [2.0], [numpy.nan]]), [0, 1, 2, 3])
