"""Threshold metrics against scikit-learn, on hypothesis data with ties, NaN labels and one-class columns."""
from __future__ import annotations

import numpy
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st

from smartmod.eval.metrics import (
    accuracy, binary_confusion_matrix, classification_summary, confusion_matrices, confusion_matrix, precision_recall_f1,
)
from tests.eval.strategies import labeled_column, labeled_matrix, labeled_part

THRESHOLDS = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])


@given(labeled_column(), THRESHOLDS)
def test_binary_confusion_matrix_matches_sklearn_on_labeled_rows(column, threshold):
    y_true, y_score = column
    y, s = labeled_part(y_true, y_score)
    expected = skm.confusion_matrix(y, (s >= threshold).astype(int), labels=[0, 1]) if y.size else numpy.zeros((2, 2))
    numpy.testing.assert_array_equal(binary_confusion_matrix(y_true, y_score, threshold), expected)


@given(st.data())
def test_multiclass_confusion_matrix_and_accuracy_match_sklearn(data):
    n, k = data.draw(st.integers(1, 40)), data.draw(st.integers(2, 5))
    y_true = numpy.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)), dtype=float)
    y_pred = numpy.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    y_true[0], y_pred[0] = k - 1, k - 1  # every class id in range, as sklearn wants
    numpy.testing.assert_array_equal(confusion_matrix(y_true, y_pred, n_classes=k), skm.confusion_matrix(y_true, y_pred, labels=range(k)))
    assert accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))


def test_multiclass_confusion_matrix_drops_unlabeled_rows_and_infers_size():
    y_true = numpy.array([0, 2, numpy.nan, 1, 2])
    y_pred = numpy.array([0, 1, 2, 1, 2])
    numpy.testing.assert_array_equal(confusion_matrix(y_true, y_pred), [[1, 0, 0], [0, 1, 0], [0, 1, 1]])
    assert accuracy(y_true, y_pred) == 0.75


def test_accuracy_with_no_labeled_row_is_nan():
    assert numpy.isnan(accuracy([numpy.nan, numpy.nan], [0, 1]))


@given(labeled_matrix(), THRESHOLDS)
def test_per_category_figures_match_sklearn_on_each_column_labeled_rows(matrix, threshold):
    Y, P = matrix
    summary = classification_summary(Y, P, threshold, [f"c{c}" for c in range(Y.shape[1])])
    for c in range(Y.shape[1]):
        row = summary["per_category"][f"c{c}"]
        y, s = labeled_part(Y[:, c], P[:, c])
        if y.size == 0:
            assert row["labeled"] == 0 and all(numpy.isnan(row[key]) for key in ("precision", "recall", "f1", "accuracy"))
            continue
        predicted = (s >= threshold).astype(int)
        assert row["precision"] == pytest.approx(skm.precision_score(y, predicted, zero_division=0))
        assert row["recall"] == pytest.approx(skm.recall_score(y, predicted, zero_division=0))
        assert row["f1"] == pytest.approx(skm.f1_score(y, predicted, zero_division=0))
        assert row["accuracy"] == pytest.approx(skm.accuracy_score(y, predicted))
        assert (row["labeled"], row["positives"]) == (y.size, int(y.sum()))


@given(labeled_matrix(min_columns=2, with_nan=False), THRESHOLDS, st.sampled_from(["macro", "micro"]))
def test_macro_and_micro_averages_match_sklearn_multilabel(matrix, threshold, average):
    Y, P = matrix  # two columns at least: sklearn reads a single column as binary, not multi-label
    predicted = (P >= threshold).astype(int)
    summary = classification_summary(Y, P, threshold, [f"c{c}" for c in range(Y.shape[1])])[average]
    assert summary["f1"] == pytest.approx(skm.f1_score(Y.astype(int), predicted, average=average, zero_division=0))
    assert summary["precision"] == pytest.approx(skm.precision_score(Y.astype(int), predicted, average=average, zero_division=0))
    assert summary["recall"] == pytest.approx(skm.recall_score(Y.astype(int), predicted, average=average, zero_division=0))


@given(labeled_matrix(), THRESHOLDS)
def test_averages_with_unlabeled_entries_count_only_labeled_ones(matrix, threshold):
    Y, P = matrix
    summary = classification_summary(Y, P, threshold, [f"c{c}" for c in range(Y.shape[1])])
    known = ~numpy.isnan(Y)
    pooled_truth, pooled_prediction = Y[known].astype(int), (P[known] >= threshold).astype(int)
    if not known.any():
        assert numpy.isnan(summary["micro"]["f1"]) and numpy.isnan(summary["macro"]["f1"])
        return
    assert summary["micro"]["f1"] == pytest.approx(skm.f1_score(pooled_truth, pooled_prediction, zero_division=0))
    assert summary["micro"]["accuracy"] == pytest.approx(skm.accuracy_score(pooled_truth, pooled_prediction))
    per_column = [skm.f1_score(*labeled_part(Y[:, c], P[:, c] >= threshold), zero_division=0)
                  for c in range(Y.shape[1]) if known[:, c].any()]
    assert summary["macro"]["f1"] == pytest.approx(numpy.mean(per_column))


def test_thresholds_by_name_by_position_and_scalar_agree():
    Y = numpy.array([[1, 0], [0, 1], [1, numpy.nan]])
    P = numpy.array([[0.6, 0.2], [0.4, 0.7], [0.3, 0.9]])
    by_name = classification_summary(Y, P, {"b": 0.5, "a": 0.5}, ["a", "b"])
    assert by_name == classification_summary(Y, P, [0.5, 0.5], ["a", "b"]) == classification_summary(Y, P, 0.5, ["a", "b"])
    numpy.testing.assert_array_equal(confusion_matrices(Y, P, 0.5), [[[1, 0], [1, 1]], [[1, 0], [0, 1]]])


def test_precision_recall_f1_uses_zero_division_for_empty_denominators():
    precision, recall, f1 = precision_recall_f1([0, 2], [0, 2], [0, 0], zero_division=numpy.nan)
    assert numpy.isnan(precision[0]) and numpy.isnan(recall[0]) and numpy.isnan(f1[0])
    numpy.testing.assert_allclose([precision[1], recall[1], f1[1]], [0.5, 1.0, 2 / 3])


@pytest.mark.parametrize("Y, P, thresholds, categories, message", [
    ([[0, 2]], [[0.1, 0.2]], 0.5, ["a", "b"], "0, 1 or NaN"),
    ([[0, 1]], [[0.1]], 0.5, ["a", "b"], "shape"),
    ([[0, 1]], [[0.1, numpy.nan]], 0.5, ["a", "b"], "finite"),
    ([[0, 1]], [[0.1, 0.2]], 0.5, ["a"], "2 strings"),
    ([[0, 1]], [[0.1, 0.2]], {"a": 0.5}, ["a", "b"], "no entry for categories \\['b'\\]"),
    ([[0, 1]], [[0.1, 0.2]], [0.5, 0.5, 0.5], ["a", "b"], "one per category"),
])
def test_bad_inputs_raise_errors_that_say_what_was_expected(Y, P, thresholds, categories, message):
    with pytest.raises(ValueError, match=message):
        classification_summary(Y, P, thresholds, categories)
