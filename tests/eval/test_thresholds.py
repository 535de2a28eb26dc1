"""Threshold choice: maximum F1 and target precision equal a brute-force search over every candidate."""
from __future__ import annotations

import dataclasses

import numpy
import pytest
import sklearn.metrics as skm
from hypothesis import assume, given
from hypothesis import strategies as st

from smartmod.eval.thresholds import ThresholdChoice, choose_thresholds, max_f1_threshold, precision_target_threshold
from tests.eval.strategies import labeled_column, labeled_part


def brute_force(y_true: numpy.ndarray, y_score: numpy.ndarray) -> list[tuple[float, float, float, float]]:
    """(threshold, precision, recall, F1) of "score >= t" for every distinct labeled score t, by sklearn."""
    y, s = labeled_part(y_true, y_score)
    rows = []
    for t in numpy.unique(s):
        predicted = (s >= t).astype(int)
        rows.append((t, skm.precision_score(y, predicted, zero_division=0), skm.recall_score(y, predicted), skm.f1_score(y, predicted)))
    return rows


@given(labeled_column())
def test_max_f1_threshold_equals_brute_force_and_is_the_highest_among_ties(column):
    y_true, y_score = column
    assume((y_true == 1).any())
    choice = max_f1_threshold(y_true, y_score)
    candidates = brute_force(y_true, y_score)
    best = max(f1 for *_, f1 in candidates)
    assert choice.f1 == pytest.approx(best)
    assert choice.threshold == max(t for t, *_, f1 in candidates if f1 == pytest.approx(best))
    y, s = labeled_part(y_true, y_score)
    assert skm.f1_score(y, s >= choice.threshold) == pytest.approx(choice.f1)


@given(labeled_column(), st.sampled_from([0.3, 0.5, 0.8, 1.0]))
def test_precision_target_threshold_equals_brute_force(column, target):
    y_true, y_score = column
    assume((y_true == 1).any())
    choice = precision_target_threshold(y_true, y_score, target)
    candidates = brute_force(y_true, y_score)
    reaching = [t for t, precision, *_ in candidates if precision >= target - 1e-12]
    if reaching:
        assert choice.threshold == min(reaching) and choice.note is None
    else:
        best = max(precision for _, precision, *_ in candidates)
        assert choice.threshold == min(t for t, precision, *_ in candidates if precision == pytest.approx(best))
        assert "not reached" in choice.note


def test_target_precision_takes_the_lowest_threshold_that_reaches_it():
    # precision by threshold: 0.9 → 1, 0.8 → 1/2, 0.7 → 2/3, 0.1 → 2/4
    choice = precision_target_threshold([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1], 0.6)
    assert (choice.threshold, choice.precision, choice.recall) == (0.7, pytest.approx(2 / 3), 1.0)


def test_unreachable_target_falls_back_to_the_most_precise_threshold():
    # precision by threshold: 0.9 → 0, 0.8 → 1/2, 0.7 → 1/3, 0.6 → 1/4, 0.1 → 2/5
    choice = precision_target_threshold([0, 1, 0, 0, 1], [0.9, 0.8, 0.7, 0.6, 0.1], 0.9)
    assert (choice.threshold, choice.precision) == (0.8, 0.5)
    assert choice.note == "precision 0.9 is not reached; the threshold of highest precision (0.5) is used"


def test_a_column_without_positives_raises_and_choose_thresholds_uses_the_default():
    with pytest.raises(ValueError, match="at least one labeled positive"):
        max_f1_threshold([0, 0, numpy.nan], [0.1, 0.2, 0.3])
    Y = numpy.array([[1, 0], [0, numpy.nan], [1, 0]])
    P = numpy.array([[0.8, 0.4], [0.3, 0.9], [0.6, 0.2]])
    choices = choose_thresholds(Y, P, ["a", "b"], default=0.7)
    assert choices["a"] == ThresholdChoice(0.6, 1.0, 1.0, 1.0, "max_f1")
    assert choices["b"].threshold == 0.7 and choices["b"].rule == "default" and "no labeled positive" in choices["b"].note
    assert choose_thresholds(Y, P, ["a", "b"], target_precision=0.9)["a"].rule == "target_precision"


def test_threshold_choice_serializes_to_plain_data():
    assert dataclasses.asdict(ThresholdChoice(0.5, 1.0, 0.5, 2 / 3, "max_f1")) == {
        "threshold": 0.5, "precision": 1.0, "recall": 0.5, "f1": 2 / 3, "rule": "max_f1", "note": None}


@pytest.mark.parametrize("target", [0.0, 1.5, -0.1])
def test_target_precision_outside_zero_one_is_rejected(target):
    with pytest.raises(ValueError, match=r"target_precision must be in \(0, 1\]"):
        precision_target_threshold([0, 1], [0.2, 0.8], target)
