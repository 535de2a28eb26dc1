"""Gradient × input: each feature's first-order contribution, shared out over the words.

For a network ``f`` and features ``x``, the attribution of feature ``j`` to the explained
output is ``x_j · ∂f/∂x_j`` (Shrikumar et al. 2016, "Not Just a Black Box", arXiv:1605.01713;
Simonyan et al. 2014 for the gradient alone). For a ReLU network it is exact along the ray
from 0 to ``x`` while no unit changes sign: ``f(x) - f(0) ≈ Σ_j x_j ∂f/∂x_j``.

The gradient comes from the network's own backward pass (:meth:`Module.backward` with
``needs_input_grad``), the same code that trains it. The first :class:`Dense` layer returns
no input gradient for a sparse input (the input is data), so the features go in as one dense
row. A word's importance is the sum of the attributions of the features it produces, each
feature split by :func:`~smartmod.explain.feature_shares.feature_shares`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy

from smartmod.explain.feature_shares import feature_shares
from smartmod.explain.target import CategoryLogit
from smartmod.explain.words import Word

__all__ = ["feature_gradient", "gradient_x_input"]


def feature_gradient(network: Any, features: Any, output: int, scale: float = 1.0) -> numpy.ndarray:
    """``∂(scale · y[:, output]) / ∂x`` for ``y = network.forward(x)``, by the network's backward pass.

    Parameters
    ----------
    network : Module
        In eval mode (dropout off). Its parameters' ``.grad`` are left at zero afterwards: the
        weight gradients a backward pass also computes are not wanted here.
    features : (N, V) array or scipy.sparse matrix
    output : int
        The output column explained.
    scale : float
        Multiplies the output (``1 / T`` for a calibrated logit).

    Returns
    -------
    numpy.ndarray, shape (N, V)
        Row ``i`` is the gradient of row ``i``'s output with respect to row ``i``'s features.
    """
    dense = features.toarray() if hasattr(features, "toarray") else numpy.asarray(features)  # (N, V)
    needed_before = network.needs_input_grad
    network.needs_input_grad = True
    try:
        outputs = network.forward(dense)  # (N, C)
        grad_outputs = numpy.zeros_like(outputs)
        grad_outputs[:, output] = scale  # rows are independent: one backward gives every row's gradient
        gradient = network.backward(grad_outputs)  # (N, V)
    finally:
        network.needs_input_grad = needed_before
        network.zero_grad()
    return numpy.asarray(gradient, dtype=numpy.float64)


def gradient_x_input(target: CategoryLogit, text: str, words: Sequence[Word]) -> numpy.ndarray:
    """Each word's share of ``Σ_j x_j ∂z/∂x_j``, ``z`` the calibrated logit of ``target``'s category.

    Parameters
    ----------
    target : CategoryLogit
    text : str
    words : sequence of W :class:`~smartmod.explain.words.Word` of ``text``

    Returns
    -------
    numpy.ndarray, shape (W,), float64
    """
    vectorizer = target.bundle.vectorizer
    features = vectorizer.transform([text])  # (1, V)
    gradient = feature_gradient(target.bundle.network, features, target.column, target.scale)  # (1, V)
    contributions = gradient[0] * features.toarray()[0]  # (V,) x_j ∂z/∂x_j
    return feature_shares(vectorizer, text, words) @ contributions  # (W, V) @ (V,) -> (W,)
