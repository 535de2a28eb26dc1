"""Batch normalization (Ioffe & Szegedy 2015) and layer normalization (Ba et al. 2016).

Both normalize ``x̂ = (x - μ) / sqrt(σ² + ε)`` and scale ``y = γ x̂ + β``; they differ in the
axes μ and σ² are taken over. With ``m`` values per statistic and ``ĝ = g γ`` the input gradient is

    dx = (1 / m) / sqrt(σ² + ε) * (m ĝ - Σ ĝ - x̂ Σ (ĝ x̂))
"""
from __future__ import annotations

from typing import Any

from smartmod.nn import backend
from smartmod.nn.init import ones, zeros
from smartmod.nn.module import Module, Parameter

__all__ = ["BatchNorm", "LayerNorm"]


def _normalize_backward(grad_xhat: Any, x_hat: Any, inv_std: Any, axes: tuple[int, ...]) -> Any:
    m = x_hat.size // inv_std.size
    sum_g = grad_xhat.sum(axis=axes, keepdims=True)
    sum_gx = (grad_xhat * x_hat).sum(axis=axes, keepdims=True)
    return (inv_std / m) * (m * grad_xhat - sum_g - x_hat * sum_gx)


class BatchNorm(Module):
    """Normalize each feature (axis 1) over the batch and any further axes.

    Works for ``(N, C)`` features, ``(N, C, L)`` sequences and ``(N, C, H, W)`` images.
    Training uses the batch statistics and updates running estimates
    ``running = (1 - momentum) running + momentum batch`` (the variance unbiased, as in PyTorch);
    evaluation uses the running estimates.
    """

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5, affine: bool = True):
        super().__init__()
        self.num_features, self.momentum, self.eps, self.affine = num_features, momentum, eps, affine
        if affine:
            self.weight = Parameter(ones((num_features,)))
            self.bias = Parameter(zeros((num_features,)))
        self.register_buffer("running_mean", zeros((num_features,)))
        self.register_buffer("running_var", ones((num_features,)))

    def _broadcast(self, vector: Any, ndim: int) -> Any:
        return vector.reshape((1, -1) + (1,) * (ndim - 2))

    def forward(self, x: Any) -> Any:
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm expects (N, {self.num_features}, ...) inputs, got shape {x.shape}")
        xp = backend.get_array_module(x)
        axes = (0,) + tuple(range(2, x.ndim))
        self._axes = axes
        self._batch_statistics = self.training  # backward must follow the mode forward used
        if self.training:
            m = x.size // self.num_features
            if m < 2:
                raise ValueError("BatchNorm in training needs more than one value per feature; use a batch of 2 or more, or eval()")
            mean = x.mean(axis=axes, keepdims=True)
            var = x.var(axis=axes, keepdims=True)
            unbiased = var.reshape(-1) * (m / (m - 1))
            self.set_buffer("running_mean", (1 - self.momentum) * self.running_mean + self.momentum * mean.reshape(-1))
            self.set_buffer("running_var", (1 - self.momentum) * self.running_var + self.momentum * unbiased)
        else:
            mean = self._broadcast(self.running_mean, x.ndim)
            var = self._broadcast(self.running_var, x.ndim)
        self._inv_std = 1 / xp.sqrt(var + self.eps)
        self._x_hat = (x - mean) * self._inv_std
        if not self.affine:
            return self._x_hat
        return self._x_hat * self._broadcast(self.weight.data, x.ndim) + self._broadcast(self.bias.data, x.ndim)

    def backward(self, grad_output: Any) -> Any:
        ndim, axes = grad_output.ndim, self._axes
        grad_xhat = grad_output
        if self.affine:
            self.weight.grad += (grad_output * self._x_hat).sum(axis=axes)
            self.bias.grad += grad_output.sum(axis=axes)
            grad_xhat = grad_output * self._broadcast(self.weight.data, ndim)
        if not self._batch_statistics:  # running statistics are constants
            return grad_xhat * self._inv_std
        return _normalize_backward(grad_xhat, self._x_hat, self._inv_std, axes)

    def get_config(self) -> dict[str, Any]:
        return {"num_features": self.num_features, "momentum": self.momentum, "eps": self.eps, "affine": self.affine}


class LayerNorm(Module):
    """Normalize each example over its last axis (size ``normalized_shape``); same in train and eval."""

    def __init__(self, normalized_shape: int, eps: float = 1e-5, affine: bool = True):
        super().__init__()
        self.normalized_shape, self.eps, self.affine = normalized_shape, eps, affine
        if affine:
            self.weight = Parameter(ones((normalized_shape,)))
            self.bias = Parameter(zeros((normalized_shape,)))

    def forward(self, x: Any) -> Any:
        if x.shape[-1] != self.normalized_shape:
            raise ValueError(f"LayerNorm expects a last axis of {self.normalized_shape}, got shape {x.shape}")
        xp = backend.get_array_module(x)
        mean = x.mean(axis=-1, keepdims=True)
        var = x.var(axis=-1, keepdims=True)
        self._inv_std = 1 / xp.sqrt(var + self.eps)
        self._x_hat = (x - mean) * self._inv_std
        return self._x_hat * self.weight.data + self.bias.data if self.affine else self._x_hat

    def backward(self, grad_output: Any) -> Any:
        grad_xhat = grad_output
        if self.affine:
            flat = grad_output.reshape(-1, self.normalized_shape)
            self.weight.grad += (flat * self._x_hat.reshape(flat.shape)).sum(axis=0)
            self.bias.grad += flat.sum(axis=0)
            grad_xhat = grad_output * self.weight.data
        return _normalize_backward(grad_xhat, self._x_hat, self._inv_std, (-1,))

    def get_config(self) -> dict[str, Any]:
        return {"normalized_shape": self.normalized_shape, "eps": self.eps, "affine": self.affine}
