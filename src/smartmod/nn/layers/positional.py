"""Position information for attention, which by itself ignores order: fixed sinusoids
(Vaswani et al. 2017, section 3.5) or a learned table (Gehring et al. 2017; BERT, Devlin et al. 2019),
added to the token embeddings.
"""
from __future__ import annotations

import math
from typing import Any

from smartmod.nn import backend
from smartmod.nn.module import Module, Parameter

__all__ = ["SinusoidalPositionalEncoding", "LearnedPositionalEmbedding"]


def _check_length(owner: str, x: Any, max_length: int, d_model: int) -> None:
    if x.ndim < 2 or x.shape[-1] != d_model:
        raise ValueError(f"{owner} expects (..., length, {d_model}) inputs, got shape {x.shape}")
    if x.shape[-2] > max_length:
        raise ValueError(f"{owner} was built for sequences up to {max_length} positions, got {x.shape[-2]}: raise max_length")


class SinusoidalPositionalEncoding(Module):
    """x + PE[:T], with PE(t, 2i) = sin(t / 10000^(2i/d)) and PE(t, 2i+1) = cos(t / 10000^(2i/d)).

    No parameters: the table is a fixed function of position, so it is rebuilt from the
    configuration rather than saved. The gradient passes through unchanged.

    Parameters
    ----------
    d_model : int
        d, the embedding width (odd widths drop the last cosine).
    max_length : int
        The longest sequence accepted.

    Shapes: ``(..., T, d_model)`` in and out, T <= max_length.
    """

    def __init__(self, d_model: int, max_length: int = 5000):
        super().__init__()
        self.d_model, self.max_length = d_model, max_length
        position = backend.xp.arange(max_length, dtype="float64")[:, None]  # (max_length, 1)
        frequency = backend.xp.exp(-math.log(10000.0) * backend.xp.arange(0, d_model, 2) / d_model)  # (ceil(d / 2),)
        table = backend.xp.zeros((max_length, d_model + d_model % 2))
        table[:, 0::2] = backend.xp.sin(position * frequency)
        table[:, 1::2] = backend.xp.cos(position * frequency)
        self.table = table[:, :d_model].astype(backend.default_dtype())  # (max_length, d)

    def forward(self, x: Any) -> Any:
        _check_length(type(self).__name__, x, self.max_length, self.d_model)
        return x + self.table[: x.shape[-2]].astype(x.dtype, copy=False)

    def backward(self, grad_output: Any) -> Any:
        return grad_output

    def get_config(self) -> dict[str, Any]:
        return {"d_model": self.d_model, "max_length": self.max_length}


class LearnedPositionalEmbedding(Module):
    """x + P[:T], where row t of the ``(max_length, d_model)`` parameter P is learned for position t.

    Initialized from N(0, 0.02²), as BERT. The gradient of P is the output gradient summed over
    the batch; the input gradient passes through unchanged.

    Shapes: ``(..., T, d_model)`` in and out, T <= max_length.
    """

    def __init__(self, max_length: int, d_model: int):
        super().__init__()
        self.max_length, self.d_model = max_length, d_model
        table = backend.rng().normal(0.0, 0.02, size=(max_length, d_model))
        self.weight = Parameter(backend.xp.asarray(table, dtype=backend.default_dtype()))

    def forward(self, x: Any) -> Any:
        _check_length(type(self).__name__, x, self.max_length, self.d_model)
        return x + self.weight.data[: x.shape[-2]]

    def backward(self, grad_output: Any) -> Any:
        length = grad_output.shape[-2]
        self.weight.grad[:length] += grad_output.reshape(-1, length, self.d_model).sum(axis=0)
        return grad_output

    def get_config(self) -> dict[str, Any]:
        return {"max_length": self.max_length, "d_model": self.d_model}
