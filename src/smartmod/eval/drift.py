"""Drift of a text model's inputs and outputs against a reference: PSI and the two-sample KS statistic.

A model is trusted on data like the data it was validated on. Drift compares what the model
sees now (a window of live predictions) with its *reference*: the distributions, on its
validation rows, of each category's score, of the text length in characters and of the
out-of-vocabulary rate (the share of a text's word tokens missing from the vectorizer's word
vocabulary). Two figures per feature:

* Population stability index (Siddiqi 2006, *Credit Risk Scorecards*; Yurdakul 2018,
  "Statistical properties of the population stability index"), over B bins with reference
  proportions p and current proportions q::

      PSI = Σ_b (q_b − p_b) ln(q_b / p_b)

  an empty bin's proportion is floored at ``PSI_FLOOR`` so the logarithm stays finite. The
  usual reading: below 0.1 no shift, 0.1 to 0.25 a moderate shift, above 0.25 a large one.
* Two-sample Kolmogorov–Smirnov statistic (Kolmogorov 1933; Smirnov 1948), the largest gap
  between the two empirical distribution functions::

      D = sup_x |F_a(x) − F_b(x)|

  as ``scipy.stats.ks_2samp(a, b).statistic``.

The reference keeps each feature as a :class:`DistributionSummary`: its counts over fixed bin
edges (for PSI) and its ``REFERENCE_QUANTILES`` quantiles, which stand in for the reference
sample in the KS statistic; equally spaced quantiles move the reference's distribution function
by at most 1 / (Q − 1) = 0.005.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy

from smartmod.text.tokenize import word_tokens

__all__ = [
    "SCORE_EDGES", "TEXT_LENGTH_EDGES", "OOV_RATE_EDGES", "TEXT_FEATURES", "histogram_counts", "population_stability_index",
    "ks_statistic", "DriftFigures", "DistributionSummary", "DriftReference", "out_of_vocabulary_rates", "text_statistics",
]

SCORE_EDGES = (0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)  # calibrated probability
TEXT_LENGTH_EDGES = (0, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)  # characters; longer texts count in the last bin
OOV_RATE_EDGES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0)  # share of word tokens
TEXT_FEATURES = {"text_length": TEXT_LENGTH_EDGES, "oov_rate": OOV_RATE_EDGES}  # the input features beside the scores
PSI_FLOOR = 1e-4  # proportion given to an empty bin
REFERENCE_QUANTILES = 201
REFERENCE_FORMAT = "smartmod.drift.reference"
REFERENCE_FORMAT_VERSION = 1


def _sample(values: Any, name: str) -> numpy.ndarray:
    """``values`` as a non-empty finite 1-D float64 array, or a ValueError naming ``name``."""
    sample = numpy.asarray(values, dtype=numpy.float64)
    if sample.ndim != 1 or sample.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of numbers, got shape {sample.shape}")
    if not numpy.isfinite(sample).all():
        raise ValueError(f"{name} must be finite; it holds {int((~numpy.isfinite(sample)).sum())} NaN or infinite values")
    return sample


def histogram_counts(values: Any, edges: Sequence[float]) -> numpy.ndarray:
    """Counts of ``values`` (N,) in the B bins ``[e_b, e_{b+1})`` of ``edges`` (B + 1,), the last bin closed.

    Values below the first edge count in the first bin and values above the last edge in the
    last bin, so every value is counted. Returns (B,) int64.
    """
    bounds = numpy.asarray(edges, dtype=numpy.float64)
    if bounds.ndim != 1 or bounds.size < 2 or not (numpy.diff(bounds) > 0).all():
        raise ValueError(f"edges must be at least two strictly increasing numbers, got {list(edges)}")
    bins = numpy.searchsorted(bounds[1:-1], numpy.asarray(values, dtype=numpy.float64).ravel(), side="right")  # (N,) in 0..B-1
    return numpy.bincount(bins, minlength=bounds.size - 1).astype(numpy.int64)


def population_stability_index(expected: Any, actual: Any) -> float:
    """PSI between two histograms over the same bins: Σ (q − p) ln(q / p).

    Parameters
    ----------
    expected : (B,) counts of the reference (p are their proportions)
    actual : (B,) counts of the current sample (q)

    Returns
    -------
    float ≥ 0; 0 when the proportions are equal.
    """
    counts = {name: numpy.asarray(value, dtype=numpy.float64) for name, value in (("expected", expected), ("actual", actual))}
    for name, histogram in counts.items():
        if histogram.ndim != 1 or histogram.size == 0 or (histogram < 0).any() or histogram.sum() <= 0:
            raise ValueError(f"{name} must be a 1-D histogram of non-negative counts with a positive total, got {histogram.tolist()}")
    if counts["expected"].shape != counts["actual"].shape:
        raise ValueError(f"expected and actual must count the same bins, got {counts['expected'].size} and {counts['actual'].size} bins")
    p, q = (numpy.maximum(histogram / histogram.sum(), PSI_FLOOR) for histogram in counts.values())  # (B,) proportions
    return float(numpy.sum((q - p) * numpy.log(q / p)))


def ks_statistic(sample_a: Any, sample_b: Any) -> float:
    """The two-sample Kolmogorov–Smirnov statistic ``sup_x |F_a(x) − F_b(x)|``.

    Parameters
    ----------
    sample_a : (N,) numbers
    sample_b : (M,) numbers

    Returns
    -------
    float in [0, 1]. The supremum is reached at one of the pooled sample points, where both
    empirical distribution functions are evaluated (right-continuous, so ties count fully).
    """
    a, b = numpy.sort(_sample(sample_a, "sample_a")), numpy.sort(_sample(sample_b, "sample_b"))
    pooled = numpy.concatenate([a, b])  # (N + M,)
    cdf_a = numpy.searchsorted(a, pooled, side="right") / a.size
    cdf_b = numpy.searchsorted(b, pooled, side="right") / b.size
    return float(numpy.max(numpy.abs(cdf_a - cdf_b)))


@dataclass(frozen=True)
class DriftFigures:
    """PSI and KS of one feature, current against reference."""

    psi: float
    ks: float


@dataclass(frozen=True)
class DistributionSummary:
    """A feature's distribution kept small enough for JSON: bin counts and quantiles.

    Attributes
    ----------
    edges : (B + 1,) bin edges of ``counts``
    counts : (B,) values per bin (see :func:`histogram_counts`)
    quantiles : (Q,) the values at probabilities 0, 1/(Q−1), ..., 1
    """

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    quantiles: tuple[float, ...]

    @classmethod
    def of(cls, values: Any, edges: Sequence[float], n_quantiles: int = REFERENCE_QUANTILES) -> "DistributionSummary":
        """The summary of the sample ``values`` (N,) over ``edges``."""
        sample = _sample(values, "values")
        quantiles = numpy.quantile(sample, numpy.linspace(0.0, 1.0, n_quantiles))  # (Q,)
        return cls(tuple(float(edge) for edge in edges), tuple(int(count) for count in histogram_counts(sample, edges)),
                   tuple(float(f"{value:.6g}") for value in quantiles))

    def drift(self, values: Any) -> DriftFigures:
        """PSI and KS of the current sample ``values`` (N,) against this reference."""
        return DriftFigures(psi=population_stability_index(self.counts, histogram_counts(_sample(values, "values"), self.edges)),
                            ks=ks_statistic(self.quantiles, values))

    def to_dict(self) -> dict[str, list]:
        return {"edges": list(self.edges), "counts": list(self.counts), "quantiles": list(self.quantiles)}

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> "DistributionSummary":
        summary = cls(tuple(document["edges"]), tuple(document["counts"]), tuple(document["quantiles"]))
        if len(summary.counts) != len(summary.edges) - 1 or not summary.quantiles:
            raise ValueError(f"a distribution summary needs one count per bin and some quantiles, got {len(summary.edges)} edges, "
                             f"{len(summary.counts)} counts and {len(summary.quantiles)} quantiles")
        return summary


def out_of_vocabulary_rates(vectorizer: Any, texts: Sequence[str]) -> numpy.ndarray:
    """The share of each text's word tokens missing from the vectorizer's word vocabulary, (N,).

    Tokens are those the vectorizer counts (its ``preprocess``, then :func:`word_tokens`), taken
    before obfuscation restoration, so an obfuscated word counts as unknown. A text without
    word tokens has rate 0; a vectorizer without a word vocabulary knows no word (rate 1).
    """
    vocabulary = vectorizer.vocabularies_.get("word", {})
    rates = numpy.zeros(len(texts), dtype=numpy.float64)
    for index, text in enumerate(texts):
        tokens = word_tokens(vectorizer.preprocess(text) if vectorizer.preprocess else text, keep_emoji=vectorizer.keep_emoji)
        if tokens:
            rates[index] = sum(token not in vocabulary for token in tokens) / len(tokens)
    return rates


def text_statistics(vectorizer: Any, texts: Sequence[str]) -> dict[str, numpy.ndarray]:
    """The input features of ``TEXT_FEATURES`` for each text: ``{"text_length": (N,), "oov_rate": (N,)}``."""
    return {"text_length": numpy.array([len(text) for text in texts], dtype=numpy.float64),
            "oov_rate": out_of_vocabulary_rates(vectorizer, texts)}


class DriftReference:
    """The reference distributions of one model: every category's score and the ``TEXT_FEATURES``.

    Parameters
    ----------
    features : dict of str to DistributionSummary
        One summary per feature name (the categories, ``"text_length"``, ``"oov_rate"``).
    rows : int
        How many texts the summaries describe.
    """

    def __init__(self, features: dict[str, DistributionSummary], rows: int):
        self.features = features
        self.rows = rows

    @classmethod
    def from_predictions(cls, scores: Any, categories: Sequence[str], texts: Sequence[str], vectorizer: Any) -> "DriftReference":
        """The reference of a model from its scores (N, C) on the texts (N,) it is validated on."""
        scores = numpy.asarray(scores, dtype=numpy.float64)
        if scores.shape != (len(texts), len(categories)):
            raise ValueError(f"scores must be (texts, categories) = {(len(texts), len(categories))}, got {scores.shape}")
        features = {category: DistributionSummary.of(scores[:, column], SCORE_EDGES) for column, category in enumerate(categories)}
        for name, values in text_statistics(vectorizer, texts).items():
            features[name] = DistributionSummary.of(values, TEXT_FEATURES[name])
        return cls(features, len(texts))

    def compare(self, observed: dict[str, numpy.ndarray]) -> dict[str, DriftFigures]:
        """PSI and KS of every reference feature present in ``observed`` ({feature: (N,) values})."""
        return {name: summary.drift(observed[name]) for name, summary in self.features.items() if name in observed}

    def to_dict(self) -> dict[str, Any]:
        return {"format": REFERENCE_FORMAT, "format_version": REFERENCE_FORMAT_VERSION, "rows": self.rows,
                "features": {name: summary.to_dict() for name, summary in self.features.items()}}

    @classmethod
    def from_dict(cls, document: Any) -> "DriftReference":
        """The reference saved by :meth:`to_dict`; a foreign or damaged document raises ValueError."""
        if not isinstance(document, dict) or document.get("format") != REFERENCE_FORMAT:
            raise ValueError(f"not a smartmod drift reference (expected format {REFERENCE_FORMAT!r})")
        if document.get("format_version", 0) > REFERENCE_FORMAT_VERSION:
            raise ValueError(f"the drift reference needs a newer smartmod (format version {document['format_version']})")
        try:
            return cls({name: DistributionSummary.from_dict(summary) for name, summary in document["features"].items()}, int(document["rows"]))
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"the drift reference is damaged: {error!r}") from error
