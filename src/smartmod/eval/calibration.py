"""Calibration of per-category (binary) probabilities: reliability bins, ECE, temperature scaling.

* Reliability diagram (DeGroot & Fienberg 1983; Niculescu-Mizil & Caruana 2005): B equal-width
  bins on [0, 1], bin b holding the probabilities in (b/B, (b+1)/B] (bin 0 also holds 0), as
  ``sklearn.calibration.calibration_curve(strategy="uniform")``; per bin the mean probability,
  the fraction of positives and the count.
* Expected calibration error (Naeini et al. 2015; Guo et al. 2017), over the N labeled rows:
  ECE = Σ_b (n_b / N) |fraction_positive_b − mean_probability_b|.
* Temperature scaling (Guo et al. 2017, "On calibration of modern neural networks"):
  p = σ(z / T) with one T > 0 per category, fitted on held-out logits z by minimizing the binary
  negative log-likelihood NLL(T) = mean[log(1 + exp(z/T)) − y z/T]. The search is bounded
  (Brent's method) over log T in [log 0.01, log 100]; separable data drive T to the lower bound.
  T rescales confidence but never reorders scores, so AUC, AP and the ranking are unchanged.

Probabilities become logits with :func:`logit`, clipped so that 0 and 1 stay finite.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy
from scipy.special import expit

from smartmod.eval.validation import as_label_matrix, as_score_matrix, check_probabilities, labeled_pairs

__all__ = [
    "ReliabilityBins",
    "reliability_bins",
    "expected_calibration_error",
    "logit",
    "negative_log_likelihood",
    "fit_temperature",
    "fit_temperatures",
    "apply_temperature",
]

TEMPERATURE_BOUNDS = (1e-2, 1e2)


@dataclass(frozen=True)
class ReliabilityBins:
    """Equal-width bins of predicted probability; empty bins have NaN means and count 0.

    Attributes
    ----------
    edges : (B + 1,) float64, 0 to 1
    mean_probability : (B,) float64, the mean predicted probability (confidence) in each bin
    fraction_positive : (B,) float64, the fraction of labeled positives in each bin
    count : (B,) int64, the labeled rows in each bin
    """

    edges: numpy.ndarray
    mean_probability: numpy.ndarray
    fraction_positive: numpy.ndarray
    count: numpy.ndarray


def reliability_bins(y_true: Any, y_prob: Any, n_bins: int = 15) -> ReliabilityBins:
    """Reliability-diagram data of one category over its labeled rows.

    Parameters
    ----------
    y_true : (N,) array of 0, 1, NaN (not labeled)
    y_prob : (N,) probabilities in [0, 1]
    n_bins : int
        B, the number of equal-width bins.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, numpy.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    labels, probabilities = labeled_pairs(y_true, y_prob)
    check_probabilities(probabilities, "y_prob")
    edges = numpy.linspace(0.0, 1.0, n_bins + 1)
    bin_of = numpy.searchsorted(edges[1:-1], probabilities, side="left")  # (n,) bin b covers (edges[b], edges[b+1]]
    count = numpy.bincount(bin_of, minlength=n_bins)  # (B,)
    with numpy.errstate(invalid="ignore"):  # an empty bin's means are 0 / 0 = NaN
        mean_probability = numpy.bincount(bin_of, weights=probabilities, minlength=n_bins) / count
        fraction_positive = numpy.bincount(bin_of, weights=labels, minlength=n_bins) / count
    return ReliabilityBins(edges, mean_probability, fraction_positive, count)


def expected_calibration_error(y_true: Any, y_prob: Any, n_bins: int = 15) -> float:
    """ECE = Σ_b (n_b / N) |fraction_positive_b − mean_probability_b| over the labeled rows; NaN if none.

    Parameters
    ----------
    y_true : (N,) array of 0, 1, NaN (not labeled)
    y_prob : (N,) probabilities in [0, 1]
    n_bins : int
    """
    bins = reliability_bins(y_true, y_prob, n_bins)
    total = bins.count.sum()
    if total == 0:
        return numpy.nan
    gaps = numpy.abs(bins.fraction_positive - bins.mean_probability)[bins.count > 0]
    return float(numpy.sum(bins.count[bins.count > 0] / total * gaps))


def logit(probabilities: Any, eps: float = 1e-7) -> numpy.ndarray:
    """log(p / (1 − p)) after clipping p to [eps, 1 − eps]; any shape, float64.

    The clip keeps 0 and 1 finite (at about ±16.1 for the default ``eps``).
    """
    p = numpy.clip(numpy.asarray(probabilities, dtype=numpy.float64), eps, 1 - eps)
    return numpy.log(p) - numpy.log1p(-p)


def negative_log_likelihood(y_true: Any, logits: Any, temperature: float = 1.0) -> float:
    """Mean binary NLL of σ(z / T) over the labeled rows: mean[log(1 + exp(z/T)) − y z/T]; NaN if none.

    Parameters
    ----------
    y_true : (N,) array of 0, 1, NaN (not labeled)
    logits : (N,) float z
    temperature : float T > 0
    """
    labels, z = labeled_pairs(y_true, logits)
    if labels.size == 0:
        return numpy.nan
    scaled = z / temperature
    return float(numpy.mean(numpy.logaddexp(0.0, scaled) - labels * scaled))


def fit_temperature(y_true: Any, logits: Any) -> float:
    """The temperature T minimizing :func:`negative_log_likelihood`, within [0.01, 100].

    Parameters
    ----------
    y_true : (N,) array of 0, 1, NaN (not labeled); both classes must be labeled
    logits : (N,) float z (for probabilities pass ``logit(p)``)
    """
    labels, z = labeled_pairs(y_true, logits)
    if labels.min(initial=1) == labels.max(initial=0):
        raise ValueError("fitting a temperature needs labeled positives and negatives; this column lacks one class "
                         "(fit_temperatures keeps T = 1 for such categories)")
    low, high = numpy.log(TEMPERATURE_BOUNDS)
    from scipy.optimize import minimize_scalar  # imported here: scoring never fits a temperature

    result = minimize_scalar(lambda log_t: negative_log_likelihood(labels, z, float(numpy.exp(log_t))),
                             bounds=(low, high), method="bounded", options={"xatol": 1e-8})
    return float(numpy.exp(result.x))


def fit_temperatures(Y: Any, logits: Any) -> numpy.ndarray:
    """One temperature per category; T = 1 (unchanged scores) where a category lacks a labeled class.

    Parameters
    ----------
    Y : (N, C) array of 0, 1, NaN (not labeled)
    logits : (N, C) float

    Returns
    -------
    (C,) float64
    """
    labels = as_label_matrix(Y)
    z = as_score_matrix(logits, labels)
    temperatures = numpy.ones(labels.shape[1])
    for c in range(labels.shape[1]):
        known = labels[:, c][~numpy.isnan(labels[:, c])]
        if (known == 0).any() and (known == 1).any():
            temperatures[c] = fit_temperature(labels[:, c], z[:, c])
    return temperatures


def apply_temperature(logits: Any, temperature: Any) -> numpy.ndarray:
    """Calibrated probabilities σ(z / T).

    Parameters
    ----------
    logits : (N,) or (N, C) float z
    temperature : float or (C,) floats T > 0, broadcast over the last axis

    Returns
    -------
    float64 array of the logits' shape
    """
    z = numpy.asarray(logits, dtype=numpy.float64)
    t = numpy.asarray(temperature, dtype=numpy.float64)
    if not (numpy.isfinite(t).all() and (t > 0).all()):
        raise ValueError(f"temperature must be finite and > 0, got {temperature!r}")
    if t.ndim > 1 or (t.ndim == 1 and (z.ndim == 0 or t.shape[0] != z.shape[-1])):
        raise ValueError(f"temperature must be one number or one per column ({z.shape[-1:]}), got shape {t.shape}")
    return expit(z / t)
