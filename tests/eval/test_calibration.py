"""Reliability bins against sklearn's calibration_curve, ECE by hand, temperature scaling on synthetic logits."""
from __future__ import annotations

import numpy
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.special import expit
from sklearn.calibration import calibration_curve

from smartmod.eval.calibration import (
    apply_temperature, expected_calibration_error, fit_temperature, fit_temperatures, logit, negative_log_likelihood,
    reliability_bins,
)
from smartmod.eval.curves import roc_auc
from tests.eval.strategies import labeled_column, labeled_part


def synthetic_logits(temperature: float, n: int = 20_000, seed: int = 0) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Logits z ~ N(0, 3²) and labels y ~ Bernoulli(σ(z / T)): T is the temperature that calibrates z."""
    generator = numpy.random.default_rng(seed)
    z = generator.normal(0.0, 3.0, n)
    return (generator.random(n) < expit(z / temperature)).astype(float), z


@given(labeled_column(), st.integers(1, 20))
def test_reliability_bins_match_sklearn_calibration_curve(column, n_bins):
    y_true, y_prob = column
    y, p = labeled_part(y_true, y_prob)
    assume(y.size > 0)
    bins = reliability_bins(y_true, y_prob, n_bins)
    fraction_positive, mean_probability = calibration_curve(y, p, n_bins=n_bins, strategy="uniform")
    filled = bins.count > 0
    numpy.testing.assert_allclose(bins.fraction_positive[filled], fraction_positive, rtol=1e-12)
    numpy.testing.assert_allclose(bins.mean_probability[filled], mean_probability, rtol=1e-12)
    assert bins.count.sum() == y.size and numpy.isnan(bins.mean_probability[~filled]).all()
    numpy.testing.assert_allclose(bins.edges, numpy.linspace(0, 1, n_bins + 1))


def test_probabilities_on_a_bin_edge_go_to_the_lower_bin():
    bins = reliability_bins([0, 1, 1], [0.0, 0.5, 1.0], n_bins=2)
    numpy.testing.assert_array_equal(bins.count, [2, 1])


def test_ece_by_hand():
    # bins of width 1/3: {0.2, 0.2, 0.3} → mean 0.2333, 1/3 positive; {0.8, 0.9} → mean 0.85, 1/2 positive;
    # ECE = 3/5 · |1/3 − 0.2333| + 2/5 · |0.5 − 0.85| = 0.06 + 0.14
    y_true = [0, 0, 1, 1, 0, numpy.nan]
    y_prob = [0.2, 0.2, 0.3, 0.8, 0.9, 0.5]
    assert expected_calibration_error(y_true, y_prob, n_bins=3) == pytest.approx(0.2)


def test_ece_with_the_default_fifteen_bins():
    assert expected_calibration_error([0, 1], [0.05, 0.95]) == pytest.approx(0.05)
    assert expected_calibration_error([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.0
    assert numpy.isnan(expected_calibration_error([numpy.nan], [0.5]))


@pytest.mark.parametrize("true_temperature", [0.5, 2.0, 3.0])
def test_fitted_temperature_recovers_the_generating_one_within_ten_percent(true_temperature):
    y_true, z = synthetic_logits(true_temperature)
    fitted = fit_temperature(y_true, z)
    assert fitted == pytest.approx(true_temperature, rel=0.1)
    assert negative_log_likelihood(y_true, z, fitted) < negative_log_likelihood(y_true, z)
    assert expected_calibration_error(y_true, apply_temperature(z, fitted)) < expected_calibration_error(y_true, expit(z))


def test_temperature_fits_from_clipped_probabilities_too():
    y_true, z = synthetic_logits(2.0)
    assert fit_temperature(y_true, logit(expit(z))) == pytest.approx(2.0, rel=0.1)


def test_fit_temperatures_per_category_keeps_one_for_a_single_class_column():
    y_true, z = synthetic_logits(2.0)
    Y = numpy.stack([y_true, numpy.where(numpy.arange(y_true.size) % 2, numpy.nan, 1.0)], axis=1)
    temperatures = fit_temperatures(Y, numpy.stack([z, z], axis=1))
    assert temperatures[0] == pytest.approx(2.0, rel=0.1) and temperatures[1] == 1.0
    with pytest.raises(ValueError, match="positives and negatives"):
        fit_temperature(Y[:, 1], z)


def test_temperature_rescales_confidence_without_reordering_scores():
    y_true, z = synthetic_logits(2.0, n=2_000)
    assert roc_auc(y_true, apply_temperature(z, 2.0)) == pytest.approx(roc_auc(y_true, z), abs=1e-12)


def test_apply_temperature_broadcasts_one_temperature_per_column():
    z = numpy.array([[2.0, -4.0], [0.0, 8.0]])
    numpy.testing.assert_allclose(apply_temperature(z, [2.0, 4.0]), expit([[1.0, -1.0], [0.0, 2.0]]))
    numpy.testing.assert_allclose(apply_temperature(z, 1.0), expit(z))


@pytest.mark.parametrize("temperature, message", [(0.0, "> 0"), (-1.0, "> 0"), ([1.0, 2.0, 3.0], "one per column")])
def test_apply_temperature_rejects_bad_temperatures(temperature, message):
    with pytest.raises(ValueError, match=message):
        apply_temperature(numpy.zeros((3, 2)), temperature)


def test_logit_is_finite_at_zero_and_one_and_inverts_sigmoid():
    assert numpy.isfinite(logit([0.0, 1.0])).all()
    numpy.testing.assert_allclose(logit(expit(numpy.array([-5.0, 0.0, 3.0]))), [-5.0, 0.0, 3.0], atol=1e-9)


def test_negative_log_likelihood_matches_the_bernoulli_formula():
    y_true, z = numpy.array([1.0, 0.0, numpy.nan]), numpy.array([2.0, -1.0, 7.0])
    p = expit(z[:2] / 1.5)
    expected = -numpy.mean([numpy.log(p[0]), numpy.log(1 - p[1])])
    assert negative_log_likelihood(y_true, z, 1.5) == pytest.approx(expected)


def test_reliability_bins_reject_scores_outside_zero_one():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        reliability_bins([0, 1], [-0.5, 2.0])
