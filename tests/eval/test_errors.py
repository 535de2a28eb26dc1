"""Error analysis: the most confident mistakes among labeled rows, with their texts."""
from __future__ import annotations

import numpy
import pytest

from smartmod.eval.errors import error_analysis, top_errors

Y_TRUE = numpy.array([0, 1, 0, numpy.nan, 1, 0, 1])
SCORES = numpy.array([0.9, 0.2, 0.9, 1.0, 0.6, 0.1, 0.05])
TEXTS = [f"text {i}" for i in range(7)]


def test_false_positives_are_the_highest_scored_labeled_negatives_ties_in_row_order():
    found = top_errors(Y_TRUE, SCORES, TEXTS, k=2)
    assert found["false_positives"] == [{"index": 0, "score": 0.9, "text": "text 0"}, {"index": 2, "score": 0.9, "text": "text 2"}]


def test_false_negatives_are_the_lowest_scored_labeled_positives():
    assert [example["index"] for example in top_errors(Y_TRUE, SCORES, TEXTS, k=5)["false_negatives"]] == [6, 1, 4]


def test_a_threshold_keeps_only_actual_errors():
    found = top_errors(Y_TRUE, SCORES, TEXTS, k=5, threshold=0.5)
    assert [e["index"] for e in found["false_positives"]] == [0, 2]
    assert [e["index"] for e in found["false_negatives"]] == [6, 1]


def test_error_analysis_runs_per_category_with_thresholds_by_name():
    Y = numpy.stack([Y_TRUE, 1 - numpy.nan_to_num(Y_TRUE)], axis=1)
    P = numpy.stack([SCORES, SCORES], axis=1)
    found = error_analysis(Y, P, TEXTS, ["a", "b"], k=1, thresholds={"a": 0.5, "b": 0.5})
    assert found["a"] == top_errors(Y_TRUE, SCORES, TEXTS, k=1, threshold=0.5)
    assert found["b"]["false_negatives"][0]["index"] == 5


def test_texts_must_match_the_rows():
    with pytest.raises(ValueError, match="one text per row"):
        top_errors(Y_TRUE, SCORES, TEXTS[:3])
