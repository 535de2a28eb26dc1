"""Elementwise activations and softmax, each with its derivative beside it."""
from __future__ import annotations

import math
from typing import Any

from smartmod.nn import backend, parallel
from smartmod.nn.module import Module

__all__ = ["ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Softmax", "sigmoid", "erf"]


def sigmoid(x: Any) -> Any:
    """1 / (1 + exp(-x)) without overflow: exp is only taken of non-positive numbers."""
    xp = backend.get_array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def erf(x: Any) -> Any:
    """The Gauss error function on the active backend."""
    if backend.backend_name() == "cupy":
        from cupyx.scipy.special import erf as _erf
    else:
        from scipy.special import erf as _erf
    return _erf(x)


class ReLU(Module):
    """max(x, 0); the derivative at 0 is taken as 0, as in PyTorch (NaN stays NaN).

    Outputs keep the input's memory layout (channels-last images stay channels-last); large
    batches are split between threads (:mod:`smartmod.nn.parallel`).
    """

    def forward(self, x: Any) -> Any:
        if x.ndim == 0:
            return self.forward(x.reshape(1)).reshape(())
        xp = backend.get_array_module(x)
        self._positive = xp.empty_like(x, dtype=bool)
        y = xp.empty_like(x)

        def relu(start: int, stop: int) -> None:
            xp.greater(x[start:stop], 0, out=self._positive[start:stop])
            xp.multiply(x[start:stop], self._positive[start:stop], out=y[start:stop])

        parallel.over_batch(relu, x.shape[0], x.size)
        return y

    def backward(self, grad_output: Any) -> Any:
        if grad_output.ndim == 0:
            return self.backward(grad_output.reshape(1)).reshape(())
        xp = backend.get_array_module(grad_output)
        grad = xp.empty_like(grad_output)

        def masked(start: int, stop: int) -> None:
            xp.multiply(grad_output[start:stop], self._positive[start:stop], out=grad[start:stop])

        parallel.over_batch(masked, grad_output.shape[0], grad_output.size)
        return grad


class LeakyReLU(Module):
    """x for x > 0, ``negative_slope * x`` otherwise."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Any) -> Any:
        self._slope = backend.get_array_module(x).where(x > 0, 1, self.negative_slope).astype(x.dtype)
        return x * self._slope

    def backward(self, grad_output: Any) -> Any:
        return grad_output * self._slope

    def get_config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}


class ELU(Module):
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise (Clevert et al. 2016)."""

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Any) -> Any:
        xp = backend.get_array_module(x)
        self._x = x
        self._negative_part = self.alpha * xp.expm1(xp.minimum(x, 0))  # alpha (e^x - 1) for x <= 0
        return xp.where(x > 0, x, self._negative_part)

    def backward(self, grad_output: Any) -> Any:
        # d/dx alpha (e^x - 1) = alpha e^x = negative_part + alpha
        return grad_output * backend.get_array_module(grad_output).where(self._x > 0, 1, self._negative_part + self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class GELU(Module):
    """x Φ(x), Φ the standard normal CDF (Hendrycks & Gimpel 2016).

    ``approximate="tanh"`` uses 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³))), as PyTorch does.
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Any:
        xp = backend.get_array_module(x)
        self._x = x
        if self.approximate == "tanh":
            self._tanh = xp.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))
            return 0.5 * x * (1 + self._tanh)
        self._cdf = 0.5 * (1 + erf(x / math.sqrt(2)))
        return x * self._cdf

    def backward(self, grad_output: Any) -> Any:
        xp = backend.get_array_module(grad_output)
        x = self._x
        if self.approximate == "tanh":
            inner_grad = math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x**2)
            return grad_output * (0.5 * (1 + self._tanh) + 0.5 * x * (1 - self._tanh**2) * inner_grad)
        pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return grad_output * (self._cdf + x * pdf)

    def get_config(self) -> dict[str, Any]:
        return {"approximate": self.approximate}


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e^-x); σ' = σ (1 - σ)."""

    def forward(self, x: Any) -> Any:
        self._y = sigmoid(x)
        return self._y

    def backward(self, grad_output: Any) -> Any:
        return grad_output * self._y * (1 - self._y)


class Tanh(Module):
    """tanh(x); tanh' = 1 - tanh²."""

    def forward(self, x: Any) -> Any:
        self._y = backend.get_array_module(x).tanh(x)
        return self._y

    def backward(self, grad_output: Any) -> Any:
        return grad_output * (1 - self._y * self._y)


class Softmax(Module):
    """exp(x_i - max x) / Σ_j exp(x_j - max x) along ``axis``.

    Backward: dx = y * (g - Σ_j g_j y_j), the Jacobian-vector product without the Jacobian.
    """

    def __init__(self, axis: int = -1):
        super().__init__()
        self.axis = axis

    def forward(self, x: Any) -> Any:
        xp = backend.get_array_module(x)
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        self._y = e / e.sum(axis=self.axis, keepdims=True)
        return self._y

    def backward(self, grad_output: Any) -> Any:
        y = self._y
        return y * (grad_output - (grad_output * y).sum(axis=self.axis, keepdims=True))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}
