"""The plausibility metrics on hand-worked examples."""
from __future__ import annotations

import numpy
import pytest

from smartmod.explain.plausibility import span_f1, token_auprc, token_f1
from smartmod.explain.spans import harmful_spans, span_offsets, span_threshold
from smartmod.explain.words import split_words


def test_span_f1_is_the_dice_overlap_of_character_offsets():
    # gold "idiot" = 4..8, predicted "an idiot" = 1..8: |P ∩ G| = 5, |P| = 8, |G| = 5
    assert span_f1(range(1, 9), range(4, 9)) == pytest.approx(2 * 5 / 13)
    assert span_f1({4, 5, 6, 7, 8}, [8, 7, 6, 5, 4]) == 1.0
    assert span_f1({0, 1}, {5, 6}) == 0.0


def test_span_f1_with_empty_gold_rewards_only_an_empty_prediction():
    assert span_f1(set(), set()) == 1.0
    assert span_f1({3}, set()) == 0.0


def test_span_f1_of_an_empty_prediction_against_gold_is_zero():
    assert span_f1(set(), {3, 4}) == 0.0


def test_token_f1_counts_selected_tokens_against_the_rationale():
    selected = numpy.array([0, 1, 1, 0], dtype=bool)
    rationale = numpy.array([0, 1, 0, 1], dtype=bool)
    assert token_f1(selected, rationale) == pytest.approx(2 * 1 / (2 + 2))


def test_token_auprc_is_average_precision_of_the_importances():
    # ranking: t2 (gold), t0, t1 (gold): precision 1 at recall 1/2, 2/3 at recall 1 -> (1 + 2/3) / 2
    assert token_auprc(numpy.array([0.5, 0.1, 0.9]), numpy.array([False, True, True])) == pytest.approx((1 + 2 / 3) / 2)


def test_token_metrics_refuse_a_post_without_rationale():
    with pytest.raises(ValueError, match="rationale"):
        token_f1(numpy.ones(2, dtype=bool), numpy.zeros(2, dtype=bool))
    with pytest.raises(ValueError, match="rationale"):
        token_auprc(numpy.ones(2), numpy.zeros(2, dtype=bool))


def test_harmful_spans_join_consecutive_words_over_the_threshold():
    text = "you are a stupid, ugly idiot and fine"
    words = split_words(text)  # you are a stupid ugly idiot and fine
    importances = numpy.array([0.0, 0.1, 0.0, 2.0, 1.0, 3.0, 0.2, 1.5])
    spans = harmful_spans(text, words, importances, threshold=1.0)
    assert spans == [{"start": 10, "end": 28, "text": "stupid, ugly idiot"}, {"start": 33, "end": 37, "text": "fine"}]
    assert span_offsets(spans) == set(range(10, 28)) | set(range(33, 37))
    assert harmful_spans(text, words, importances, threshold=5.0) == []


def test_span_threshold_is_a_fraction_of_the_top_importance_with_a_floor():
    assert span_threshold(numpy.array([4.0, 1.0, -2.0]), fraction=0.5, floor=0.5) == 2.0
    assert span_threshold(numpy.array([0.6, 0.1]), fraction=0.5, floor=0.5) == 0.5
    assert span_threshold(numpy.array([]), fraction=0.5, floor=0.5) == 0.5
