"""PSI by hand, KS against scipy.stats.ks_2samp, the reference summaries and the OOV rate."""
from __future__ import annotations

import json
import math

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import ks_2samp

from smartmod.eval.drift import (
    SCORE_EDGES, DistributionSummary, DriftReference, histogram_counts, ks_statistic, out_of_vocabulary_rates,
    population_stability_index,
)
from smartmod.text.vectorize import TfidfVectorizer

samples = st.lists(st.floats(-1e3, 1e3, allow_nan=False) | st.sampled_from([0.0, 0.5, 1.0]), min_size=1, max_size=60)


def test_psi_matches_a_hand_worked_example():
    # p = (0.5, 0.3, 0.2), q = (0.3, 0.3, 0.4): (−0.2) ln 0.6 + 0 + 0.2 ln 2 = 0.10217 + 0.13863
    assert population_stability_index([50, 30, 20], [30, 30, 40]) == pytest.approx(0.2 * math.log(2) - 0.2 * math.log(0.6), abs=1e-12)
    assert population_stability_index([50, 30, 20], [30, 30, 40]) == pytest.approx(0.240795, abs=1e-6)


def test_psi_is_zero_for_equal_proportions_and_symmetric():
    assert population_stability_index([1, 2, 3], [10, 20, 30]) == pytest.approx(0.0, abs=1e-15)
    assert population_stability_index([5, 1, 4], [2, 6, 2]) == pytest.approx(population_stability_index([2, 6, 2], [5, 1, 4]))


def test_psi_floors_an_empty_bin_instead_of_dividing_by_zero():
    # p = (1, 0) → (1, 1e-4); q = (0.5, 0.5): −0.5 ln 0.5 + (0.5 − 1e-4) ln(0.5 / 1e-4)
    expected = -0.5 * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert population_stability_index([10, 0], [5, 5]) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("expected, actual, message", [
    ([1, 2], [1, 2, 3], "the same bins"),
    ([0, 0], [1, 1], "positive total"),
    ([1, -1], [1, 1], "non-negative"),
])
def test_psi_refuses_histograms_it_cannot_compare(expected, actual, message):
    with pytest.raises(ValueError, match=message):
        population_stability_index(expected, actual)


@given(samples, samples)
def test_ks_statistic_matches_scipy(sample_a, sample_b):
    assert ks_statistic(sample_a, sample_b) == pytest.approx(ks_2samp(sample_a, sample_b).statistic, abs=1e-12)


def test_ks_statistic_of_disjoint_samples_is_one_and_of_equal_samples_zero():
    assert ks_statistic([0.1, 0.2], [0.8, 0.9, 0.95]) == 1.0
    assert ks_statistic([0.3, 0.1, 0.3], [0.1, 0.3, 0.3]) == 0.0


def test_ks_statistic_names_an_empty_sample():
    with pytest.raises(ValueError, match="sample_b must be a non-empty 1-D array"):
        ks_statistic([1.0], [])


def test_histogram_counts_use_half_open_bins_and_clip_to_the_end_bins():
    counts = histogram_counts([-5.0, 0.0, 0.05, 0.1, 0.99, 1.0, 7.0], [0.0, 0.1, 0.5, 1.0])
    assert counts.tolist() == [3, 1, 3]


def test_distribution_summary_round_trips_through_json_and_sees_no_drift_on_its_own_sample():
    values = numpy.random.default_rng(0).beta(0.5, 5.0, 5000)
    summary = DistributionSummary.of(values, SCORE_EDGES)
    again = DistributionSummary.from_dict(json.loads(json.dumps(summary.to_dict())))
    assert again == summary and sum(summary.counts) == 5000 and len(summary.quantiles) == 201
    figures = again.drift(values)
    assert figures.psi == pytest.approx(0.0, abs=1e-12) and figures.ks <= 0.005 + 1e-3


def test_distribution_summary_sees_a_shifted_sample_drift():
    generator = numpy.random.default_rng(1)
    summary = DistributionSummary.of(generator.beta(0.5, 5.0, 5000), SCORE_EDGES)
    shifted = generator.beta(5.0, 0.5, 500)
    figures = summary.drift(shifted)
    assert figures.psi > 1.0 and figures.ks == pytest.approx(ks_2samp(summary.quantiles, shifted).statistic)


@pytest.fixture(scope="module")
def vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(min_df=1).fit(["you are an idiot", "have a nice day"])


def test_out_of_vocabulary_rate_is_the_share_of_unknown_word_tokens(vectorizer):
    rates = out_of_vocabulary_rates(vectorizer, ["You are an IDIOT!", "have a zorblax day", "qwv wqx", "", "?!"])
    assert rates.tolist() == [0.0, 0.25, 1.0, 0.0, 0.0]


def test_drift_reference_compares_every_feature_and_round_trips(vectorizer):
    texts = ["you are an idiot", "have a nice day", "a nice idiot", "day"]
    scores = numpy.array([[0.9, 0.1], [0.1, 0.0], [0.6, 0.2], [0.05, 0.0]])
    reference = DriftReference.from_predictions(scores, ["toxicity", "threat"], texts, vectorizer)
    again = DriftReference.from_dict(json.loads(json.dumps(reference.to_dict())))
    assert again.rows == 4 and set(again.features) == {"toxicity", "threat", "text_length", "oov_rate"}
    observed = {"toxicity": scores[:, 0], "threat": scores[:, 1], "text_length": numpy.array([16.0, 15, 12, 3]), "oov_rate": numpy.zeros(4)}
    assert all(figures.psi == pytest.approx(0.0, abs=1e-12) for figures in again.compare(observed).values())


def test_a_foreign_document_is_not_a_drift_reference():
    with pytest.raises(ValueError, match="not a smartmod drift reference"):
        DriftReference.from_dict({"format": "something else"})
