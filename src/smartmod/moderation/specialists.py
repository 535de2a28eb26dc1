"""Specialist heads: a category that one small dataset labels gets its own logistic regression.

Spam is labeled by the SMS set alone, 3% of the training rows. Trained with the rest, its head
sees a few percent of the gradient, and early stopping ends the run when the well-labeled
categories stop improving, not when spam does (the shared MLP reaches 0.91 holdout F1 on SMS
spam, a logistic regression on the same features about 0.97). A specialist is fitted on the
training rows that label its category, on every TF-IDF feature, to convergence:

    minimize over w, b   Σ_i [log(1 + exp(z_i)) − y_i z_i] + ||w||² / (2C),   z = X w + b

(the bias is not penalized), by L-BFGS with our own loss and gradient

    ∂/∂w = Xᵀ (σ(z) − y) + w / C,    ∂/∂b = Σ_i (σ(z_i) − y_i).

``C`` is chosen among :data:`STRENGTHS` by the log-loss of the validation rows that label the
category. The network then becomes ``Parallel(Dense(F, C_out), mlp)``: the first branch holds
each specialist's weights in its category's column (zeros elsewhere), and the MLP's output
column of that category is zeroed, so the category's logit is the specialist's alone and every
other logit is the MLP's, unchanged. Temperatures and thresholds are fitted afterwards, on the
combined network's validation logits, as for any model.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy
import scipy.sparse

from smartmod.nn import Dense, Module, Parallel, Sequential
from smartmod.nn.layers.activations import sigmoid

__all__ = ["STRENGTHS", "Specialist", "logistic_loss", "fit_logistic_regression", "fit_specialist", "with_specialists"]

STRENGTHS = (1.0, 3.0, 10.0, 30.0, 100.0)  # C, the inverse L2 penalty, tried for each specialist


@dataclass
class Specialist:
    """A fitted specialist: its category, weights ``(F,)``, bias and how it was chosen."""

    category: str
    weights: numpy.ndarray
    bias: float
    strength: float  # the chosen C
    validation_log_loss: dict[float, float]  # per C tried: mean log-loss on the validation rows that label the category
    rows: dict[str, int]  # training and validation rows that label the category


def logistic_loss(parameters: numpy.ndarray, features: Any, targets: numpy.ndarray, strength: float) -> tuple[float, numpy.ndarray]:
    """The penalized log-loss above and its gradient; ``parameters`` is ``(w_1, ..., w_F, b)``."""
    weights, bias = parameters[:-1], parameters[-1]
    logits = features @ weights + bias  # (N,)
    loss = float(numpy.sum(numpy.logaddexp(0.0, logits) - targets * logits) + weights @ weights / (2 * strength))
    residual = sigmoid(logits) - targets  # (N,)
    gradient = numpy.empty_like(parameters)
    gradient[:-1] = features.T @ residual + weights / strength
    gradient[-1] = residual.sum()
    return loss, gradient


def fit_logistic_regression(features: Any, targets: numpy.ndarray, strength: float, max_iterations: int = 1000) -> tuple[numpy.ndarray, float]:
    """``(weights (F,), bias)`` minimizing :func:`logistic_loss` for rows ``features`` ``(N, F)``
    (dense or scipy.sparse) and 0/1 ``targets`` ``(N,)``, in float64."""
    from scipy.optimize import minimize  # training only: scoring never imports it

    targets = numpy.asarray(targets, dtype=numpy.float64)
    if targets.ndim != 1 or features.shape[0] != targets.shape[0]:
        raise ValueError(f"need features (N, F) and targets (N,), got {features.shape} and {targets.shape}")
    if not numpy.isin(targets, (0.0, 1.0)).all():
        raise ValueError("logistic regression targets must be 0 or 1")
    if strength <= 0:
        raise ValueError(f"the strength C must be positive, got {strength}")
    features = features.astype(numpy.float64) if scipy.sparse.issparse(features) else numpy.asarray(features, dtype=numpy.float64)
    start = numpy.zeros(features.shape[1] + 1)
    result = minimize(logistic_loss, start, args=(features, targets, strength), jac=True, method="L-BFGS-B",
                      options={"maxiter": max_iterations, "gtol": 1e-6})
    return result.x[:-1], float(result.x[-1])


def fit_specialist(category: str, train_features: Any, train_targets: numpy.ndarray, validation_features: Any,
                   validation_targets: numpy.ndarray, strengths: Sequence[float] = STRENGTHS) -> Specialist:
    """The logistic regression on the rows labeling ``category`` (targets 0/1, NaN = not labeled,
    those rows skipped) whose C gives the lowest validation log-loss."""
    train_rows, validation_rows = ~numpy.isnan(train_targets), ~numpy.isnan(validation_targets)
    for side, targets, rows in (("training", train_targets, train_rows), ("validation", validation_targets, validation_rows)):
        labeled = targets[rows]
        if labeled.size == 0 or labeled.min() == labeled.max():
            raise ValueError(f"a specialist for {category!r} needs {side} rows of both classes; the {side} rows labeling it "
                             f"hold {int((labeled == 1).sum())} positive and {int((labeled == 0).sum())} negative")
    x_train, y_train = train_features[numpy.flatnonzero(train_rows)], train_targets[train_rows]
    x_validation, y_validation = validation_features[numpy.flatnonzero(validation_rows)], validation_targets[validation_rows]
    fits, losses = {}, {}
    for strength in strengths:
        weights, bias = fits[strength] = fit_logistic_regression(x_train, y_train, strength)
        logits = numpy.asarray(x_validation @ weights).ravel() + bias
        losses[strength] = float(numpy.mean(numpy.logaddexp(0.0, logits) - y_validation * logits))
    best = min(losses, key=losses.get)
    weights, bias = fits[best]
    return Specialist(category, weights, bias, best, losses, {"train": int(train_rows.sum()), "validation": int(validation_rows.sum())})


def with_specialists(network: Module, specialists: Sequence[Specialist], categories: Sequence[str]) -> Module:
    """``Parallel(Dense(F, C) of the specialists, network)`` with ``network``'s output columns of
    the specialists' categories zeroed (see the module docstring). ``network`` must be the plain
    TF-IDF MLP: a ``Sequential`` ending in a ``Dense``."""
    if not specialists:
        return network
    if not isinstance(network, Sequential) or not isinstance(network[len(network) - 1], Dense):
        raise ValueError(f"specialists go beside a Sequential ending in a Dense (the TF-IDF MLP), not a {type(network).__name__}; "
                         "set 'wide' to false to use them")
    head = network[len(network) - 1]
    n_features = network[0].in_features
    linear = Dense(n_features, len(categories), init="zeros")
    for specialist in specialists:
        if specialist.weights.shape != (n_features,):
            raise ValueError(f"the {specialist.category!r} specialist has {specialist.weights.shape[0]} weights; the network reads {n_features} features")
        column = list(categories).index(specialist.category)
        linear.weight.data[:, column] = specialist.weights
        linear.bias.data[column] = specialist.bias
        head.weight.data[:, column] = 0
        if head.use_bias:
            head.bias.data[column] = 0
    return Parallel(linear, network)

