"""Weight penalties added to a loss: L1 (lasso) and L2 (ridge, "weight decay").

A penalty is called on a list of parameters and returns its value; ``backward`` adds its
gradient into each parameter's ``.grad`` (``+=``), after the loss's backward pass::

    total = loss.forward(prediction, target) + penalty(model.parameters())
    model.backward(loss.backward())
    penalty.backward(model.parameters())
"""
from __future__ import annotations

import math
from typing import Any, Iterable

from smartmod.nn import backend
from smartmod.nn.module import Parameter

__all__ = ["Penalty", "L1Penalty", "L2Penalty"]


class Penalty:
    """Base class: a penalty ``strength * Σ_w φ(w)`` over every entry of the given parameters.

    Parameters
    ----------
    strength : float
        λ ≥ 0, the factor in front of the sum.
    """

    def __init__(self, strength: float):
        if not (math.isfinite(strength) and strength >= 0):
            raise ValueError(f"{type(self).__name__}: strength must be a finite number >= 0, got {strength!r}")
        self.strength = float(strength)

    def __call__(self, parameters: Iterable[Parameter]) -> float:
        """The penalty of ``parameters`` as a Python float."""
        return float(sum(self._value(parameter.data) for parameter in parameters))

    def backward(self, parameters: Iterable[Parameter]) -> None:
        """Add the penalty's gradient into each parameter's ``.grad``."""
        for parameter in parameters:
            parameter.grad += self._gradient(parameter.data)

    def _value(self, weights: Any) -> float:
        raise NotImplementedError(f"{type(self).__name__} does not implement _value")

    def _gradient(self, weights: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement _gradient")

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as JSON-ready data."""
        return {"strength": self.strength}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Penalty":
        """Rebuild a penalty from ``get_config()`` output."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(strength={self.strength!r})"


class L1Penalty(Penalty):
    """λ Σ |w| (Tibshirani 1996); gradient λ sign(w), taken as 0 at w = 0."""

    def _value(self, weights: Any) -> float:
        return self.strength * float(backend.get_array_module(weights).abs(weights).sum())

    def _gradient(self, weights: Any) -> Any:
        return self.strength * backend.get_array_module(weights).sign(weights)


class L2Penalty(Penalty):
    """(λ/2) Σ w², so that the gradient is λ w: SGD with this penalty is weight decay with factor λ.

    Note the 1/2: PyTorch's ``weight_decay=λ`` corresponds to ``L2Penalty(λ)``, while Keras's
    ``l2(λ)`` (λ Σ w², no half) corresponds to ``L2Penalty(2 λ)``.
    """

    def _value(self, weights: Any) -> float:
        return 0.5 * self.strength * float((weights * weights).sum())

    def _gradient(self, weights: Any) -> Any:
        return self.strength * weights
