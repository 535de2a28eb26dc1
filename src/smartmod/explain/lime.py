"""LIME for text: a linear model of the score over which words are present, fitted near the text.

Ribeiro, Singh and Guestrin (2016), "Why Should I Trust You?", arXiv:1602.04938, with the
choices of their text explainer:

1. draw ``S - 1`` masks ``z ∈ {0, 1}^W`` over the ``W`` words: for each, a number of words to
   remove uniformly from 1 to ``W``, then that many words at random; the first sample is the
   text itself (all ones);
2. score every masked text (its removed words cut out) in one call: ``y_s``;
3. weight each sample by its closeness to the text, an exponential kernel on the cosine
   distance between ``z`` and the all-ones mask, in percent: ``d = 100 (1 - sqrt(k / W))``
   for ``k`` words kept, ``π = sqrt(exp(-d² / σ²))``, ``σ = 25``;
4. fit ``y ≈ b + w · z`` by ridge regression weighted by ``π`` (penalty ``λ = 1`` on ``w``,
   none on ``b``). With ``Π = diag(π)`` and ``Z_c``, ``y_c`` centred on their π-weighted means,
   the closed form is

       w = (Z_cᵀ Π Z_c + λ I)⁻¹ Z_cᵀ Π y_c.

``w_i`` is word ``i``'s importance: what its presence adds to the score, near this text.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy

from smartmod.explain.words import Word, without_words

__all__ = ["lime", "weighted_ridge"]


def weighted_ridge(features: numpy.ndarray, targets: numpy.ndarray, weights: numpy.ndarray, penalty: float) -> numpy.ndarray:
    """The coefficients ``w`` of ``targets ≈ b + features @ w`` minimizing
    ``Σ_s π_s (y_s - b - z_s · w)² + λ |w|²`` (the intercept ``b`` is not penalized).

    Parameters
    ----------
    features : (S, W) float array, ``Z``
    targets : (S,) float array, ``y``
    weights : (S,) non-negative float array, ``π``, not all zero
    penalty : float, ``λ >= 0``

    Returns
    -------
    numpy.ndarray, shape (W,)
    """
    total = weights.sum()
    centred_features = features - weights @ features / total  # (S, W), Z_c
    centred_targets = targets - weights @ targets / total  # (S,), y_c
    weighted = centred_features.T * weights  # (W, S), Z_cᵀ Π
    gram = weighted @ centred_features + penalty * numpy.eye(features.shape[1])  # (W, W)
    return numpy.linalg.lstsq(gram, weighted @ centred_targets, rcond=None)[0]  # lstsq: λ = 0 with a word never removed is singular


def lime(score: Callable[[list[str]], numpy.ndarray], text: str, words: Sequence[Word], samples: int = 1000, seed: int = 0,
         kernel_width: float = 25.0, penalty: float = 1.0) -> numpy.ndarray:
    """Each word's coefficient in LIME's local linear model of ``score``.

    Parameters
    ----------
    score : callable
        Texts to one score each, shape ``(len(texts),)``.
    text : str
    words : sequence of W :class:`~smartmod.explain.words.Word` of ``text``
    samples : int
        Masked texts scored, the text itself included (at least 2).
    seed : int
        Of the masks: the same seed gives the same explanation.
    kernel_width : float
        ``σ`` of the kernel, in percent of cosine distance.
    penalty : float
        The ridge penalty ``λ``.

    Returns
    -------
    numpy.ndarray, shape (W,), float64
    """
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise ValueError(f"samples must be an integer of at least 2 (the text and one masked copy), got {samples!r}")
    n_words = len(words)
    if n_words == 0:
        return numpy.zeros(0)
    generator = numpy.random.default_rng(seed)
    removed = generator.integers(1, n_words + 1, size=samples - 1)  # (S - 1,) words to remove from each copy
    ranks = generator.random((samples - 1, n_words)).argsort(axis=1).argsort(axis=1)  # a random order of the words per copy
    masks = numpy.vstack([numpy.ones((1, n_words), dtype=bool), ranks >= removed[:, None]])  # (S, W), True: kept
    targets = numpy.asarray(score([without_words(text, words, mask) for mask in masks]), dtype=numpy.float64)  # (S,)
    distances = 100.0 * (1.0 - numpy.sqrt(masks.sum(axis=1) / n_words))  # (S,) cosine distance to the all-ones mask
    weights = numpy.sqrt(numpy.exp(-(distances**2) / kernel_width**2))  # (S,)
    return weighted_ridge(masks.astype(numpy.float64), targets, weights, penalty)
