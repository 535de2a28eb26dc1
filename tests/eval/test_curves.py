"""ROC and precision-recall curves and their areas against scikit-learn, ties and NaN labels included."""
from __future__ import annotations

import numpy
import pytest
import sklearn.metrics as skm
from hypothesis import assume, given

from smartmod.eval.curves import (
    average_precision, counts_by_threshold, precision_recall_curve, ranking_summary, roc_auc, roc_curve,
)
from tests.eval.strategies import both_classes, labeled_column, labeled_part


@given(labeled_column())
def test_roc_curve_matches_sklearn_without_dropping_points(column):
    y_true, y_score = column
    assume(both_classes(y_true))
    fpr, tpr, thresholds = roc_curve(y_true, y_score)
    expected_fpr, expected_tpr, expected_thresholds = skm.roc_curve(*labeled_part(y_true, y_score), drop_intermediate=False)
    numpy.testing.assert_allclose(fpr, expected_fpr, rtol=0, atol=1e-12)
    numpy.testing.assert_allclose(tpr, expected_tpr, rtol=0, atol=1e-12)
    numpy.testing.assert_array_equal(thresholds, expected_thresholds)


@given(labeled_column())
def test_roc_auc_matches_sklearn(column):
    y_true, y_score = column
    assume(both_classes(y_true))
    assert roc_auc(y_true, y_score) == pytest.approx(skm.roc_auc_score(*labeled_part(y_true, y_score)), abs=1e-12)


@given(labeled_column())
def test_precision_recall_curve_matches_sklearn(column):
    y_true, y_score = column
    assume((y_true == 1).any())
    precision, recall, thresholds = precision_recall_curve(y_true, y_score)
    expected_precision, expected_recall, expected_thresholds = skm.precision_recall_curve(*labeled_part(y_true, y_score))
    numpy.testing.assert_allclose(precision, expected_precision, rtol=0, atol=1e-12)
    numpy.testing.assert_allclose(recall, expected_recall, rtol=0, atol=1e-12)
    numpy.testing.assert_array_equal(thresholds, expected_thresholds)


@given(labeled_column())
def test_average_precision_matches_sklearn(column):
    y_true, y_score = column
    assume((y_true == 1).any())
    assert average_precision(y_true, y_score) == pytest.approx(skm.average_precision_score(*labeled_part(y_true, y_score)), abs=1e-12)


def test_tied_scores_form_one_threshold_and_count_half_in_auc():
    fpr, tpr, thresholds = roc_curve([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])
    numpy.testing.assert_array_equal(thresholds, [numpy.inf, 0.9, 0.5, 0.2])
    numpy.testing.assert_array_equal(fpr, [0, 0, 0.5, 1])
    numpy.testing.assert_array_equal(tpr, [0, 0.5, 1, 1])
    assert roc_auc([0, 1], [0.3, 0.3]) == 0.5


def test_unlabeled_rows_are_the_same_as_absent_rows():
    y_true = numpy.array([1, numpy.nan, 0, 1, numpy.nan, 0])
    y_score = numpy.array([0.9, 0.0, 0.4, 0.3, 1.0, 0.1])
    known = ~numpy.isnan(y_true)
    for curve in (roc_curve, precision_recall_curve):
        for ours, dropped in zip(curve(y_true, y_score), curve(y_true[known], y_score[known])):
            numpy.testing.assert_array_equal(ours, dropped)
    assert roc_auc(y_true, y_score) == roc_auc(y_true[known], y_score[known]) == 0.75


def test_counts_by_threshold_are_cumulative_in_decreasing_score_order():
    false_positives, true_positives, thresholds, positives = counts_by_threshold([1, 0, 1, 0], [0.8, 0.8, 0.5, 0.1])
    numpy.testing.assert_array_equal(thresholds, [0.8, 0.5, 0.1])
    numpy.testing.assert_array_equal(true_positives, [1, 2, 2])
    numpy.testing.assert_array_equal(false_positives, [1, 1, 2])
    assert positives == 2


@pytest.mark.parametrize("y_true", [[0, 0, 0], [1, 1, 1], [numpy.nan, numpy.nan, numpy.nan]])
def test_roc_auc_is_nan_without_both_classes(y_true):
    assert numpy.isnan(roc_auc(y_true, [0.2, 0.5, 0.9]))


def test_average_precision_is_nan_without_positives_and_one_with_only_positives():
    assert numpy.isnan(average_precision([0, 0, numpy.nan], [0.2, 0.5, 0.9]))
    assert numpy.isnan(average_precision([numpy.nan], [0.5]))
    assert average_precision([1, 1, numpy.nan], [0.2, 0.5, 0.9]) == skm.average_precision_score([1, 1], [0.2, 0.5]) == 1.0


def test_one_class_curves_have_nan_rates_not_errors():
    fpr, tpr, _ = roc_curve([1, 1], [0.2, 0.4])
    assert numpy.isnan(fpr).all() and not numpy.isnan(tpr).any()
    _, recall, _ = precision_recall_curve([0, 0], [0.2, 0.4])
    assert numpy.isnan(recall[:-1]).all() and recall[-1] == 0


def test_ranking_summary_explains_each_undefined_area():
    Y = numpy.array([[1, 0, 1, numpy.nan], [0, 0, 1, numpy.nan], [1, 0, 1, numpy.nan]])
    P = numpy.array([[0.9, 0.1, 0.5, 0.5], [0.2, 0.3, 0.6, 0.5], [0.7, 0.2, 0.4, 0.5]])
    summary = ranking_summary(Y, P, ["both", "negatives", "positives", "none"])
    assert summary["both"]["roc_auc"] == 1.0 and summary["both"]["note"] is None
    assert numpy.isnan(summary["negatives"]["roc_auc"]) and "no labeled positives" in summary["negatives"]["note"]
    assert numpy.isnan(summary["positives"]["roc_auc"]) and summary["positives"]["average_precision"] == 1.0
    assert "no labeled negatives" in summary["positives"]["note"]
    assert "no labeled rows" in summary["none"]["note"]
    assert (summary["both"]["positives"], summary["both"]["negatives"]) == (2, 1)


def test_curves_scale_to_a_million_rows():
    generator = numpy.random.default_rng(0)
    y_true = (generator.random(1_000_000) < 0.1).astype(float)
    y_score = numpy.round(generator.random(1_000_000) + 0.2 * y_true, 3)  # many ties
    assert 0.5 < roc_auc(y_true, y_score) < 1 and 0.1 < average_precision(y_true, y_score) < 1
