"""Gradient × input: each feature's first-order contribution, shared out over the words.

For a network ``f`` and features ``x``, the attribution of feature ``j`` to the explained
output is ``x_j · ∂f/∂x_j`` (Shrikumar et al. 2016, "Not Just a Black Box", arXiv:1605.01713;
Simonyan et al. 2014 for the gradient alone). For a ReLU network it is exact along the ray
from 0 to ``x`` while no unit changes sign: ``f(x) - f(0) ≈ Σ_j x_j ∂f/∂x_j``.

The gradient comes from the network's own backward pass (:meth:`Module.backward` with
``needs_input_grad``), the same code that trains it. Only the features a text has matter
(``x_j = 0`` elsewhere), so a network that starts with a :class:`Dense` layer (or whose parallel
branches all do) runs with that layer cut down to those columns, the rows of ``W`` that meet them: the same outputs and, for
those columns, the same gradients, at a cost in the text's length rather than the vocabulary's
(the first layer returns no input gradient for a sparse input, and a dense row of all 100,000
features would make its backward pass write a 100,000 × 128 weight gradient). Any other network
gets the full dense row.

A word's importance is the sum of the attributions of the features it produces, each feature
split by :func:`~smartmod.explain.feature_shares.feature_shares`.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy
import scipy.sparse

from smartmod.explain.feature_shares import feature_shares
from smartmod.explain.target import CategoryLogit
from smartmod.explain.words import Word
from smartmod.nn.layers.dense import Dense
from smartmod.nn.module import Module, Parallel, Sequential

__all__ = ["input_gradient", "feature_attributions", "gradient_x_input"]


def input_gradient(network: Module, inputs: numpy.ndarray, output: int, scale: float = 1.0) -> numpy.ndarray:
    """``∂(scale · y[:, output]) / ∂x`` for ``y = network.forward(x)``, by the network's backward pass.

    Parameters
    ----------
    network : Module
        In eval mode (dropout off). Its parameters' ``.grad`` are left at zero afterwards: the
        weight gradients a backward pass also computes are not wanted here.
    inputs : (N, D) dense array
    output : int
        The output column explained.
    scale : float
        Multiplies the output (``1 / T`` for a calibrated logit).

    Returns
    -------
    numpy.ndarray, shape (N, D), float64
        Row ``i`` is the gradient of row ``i``'s output with respect to row ``i``'s inputs.
    """
    needed_before = network.needs_input_grad
    network.needs_input_grad = True
    try:
        outputs = network.forward(inputs)  # (N, C)
        grad_outputs = numpy.zeros_like(outputs)
        grad_outputs[:, output] = scale  # rows are independent: one backward gives every row's gradient
        gradient = network.backward(grad_outputs)  # (N, D)
    finally:
        network.needs_input_grad = needed_before
        network.zero_grad()
    return numpy.asarray(gradient, dtype=numpy.float64)


def _restricted_to_columns(network: Module, columns: numpy.ndarray) -> Module | None:
    """``network`` reading only the input ``columns``, or None if it cannot: a :class:`Dense` cut
    to those rows of ``W``; a :class:`Sequential` whose first layer can be cut, cut; a
    :class:`Parallel` (a specialist or wide path beside the MLP) whose every branch can be, each cut."""
    if isinstance(network, Dense):
        restricted = Dense(columns.size, network.out_features, bias=network.use_bias, init="zeros")
        restricted.weight.data = network.weight.data[columns]  # (K, H)
        if network.use_bias:
            restricted.bias.data = network.bias.data
        return restricted.eval()
    if isinstance(network, Sequential) and len(network):
        first = _restricted_to_columns(network[0], columns)
        return None if first is None else Sequential(first, *list(network)[1:]).eval()  # the later layers are shared, not copied
    if isinstance(network, Parallel):
        branches = [_restricted_to_columns(branch, columns) for branch in network]
        return None if any(branch is None for branch in branches) else Parallel(*branches).eval()
    return None


def feature_attributions(network: Module, features: scipy.sparse.spmatrix, output: int, scale: float = 1.0) -> scipy.sparse.csr_matrix:
    """``x_j · ∂(scale · y[:, output]) / ∂x_j`` for every feature a row has.

    Parameters
    ----------
    network : Module
    features : (N, V) scipy.sparse matrix
    output : int
    scale : float

    Returns
    -------
    scipy.sparse.csr_matrix, shape (N, V), float64
        Nonzero where ``features`` is.
    """
    features = scipy.sparse.csr_matrix(features, dtype=numpy.float64)
    if features.nnz == 0:  # no known feature: nothing to attribute
        return features
    columns = numpy.unique(features.indices)  # (K,) the features any row has
    restricted = _restricted_to_columns(network, columns)
    if restricted is None:
        gradient = input_gradient(network, features.toarray(), output, scale)[:, columns]  # (N, V) -> (N, K)
    else:
        gradient = input_gradient(restricted, features[:, columns].toarray(), output, scale)  # (N, K)
    rows = numpy.repeat(numpy.arange(features.shape[0]), numpy.diff(features.indptr))  # (nnz,)
    attributions = features.copy()
    attributions.data *= gradient[rows, numpy.searchsorted(columns, features.indices)]
    return attributions


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
    attributions = feature_attributions(target.bundle.network, vectorizer.transform([text]), target.column, target.scale)  # (1, V)
    return feature_shares(vectorizer, text, words) @ attributions.toarray()[0]  # (W, V) @ (V,) -> (W,)
