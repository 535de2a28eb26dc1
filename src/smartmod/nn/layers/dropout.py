"""Inverted dropout (Srivastava et al. 2014)."""
from __future__ import annotations

from typing import Any

from smartmod.nn import backend
from smartmod.nn.module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by 1 / (1 - p),
    so evaluation is the identity. The mask comes from the shared seeded generator."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout probability must be in [0, 1), got {p}")
        self.p = p
        self._mask: Any = None

    def forward(self, x: Any) -> Any:
        if not self.training or self.p == 0:
            self._mask = None
            return x
        keep = backend.rng().random(x.shape, dtype=x.dtype) >= self.p
        self._mask = keep * x.dtype.type(1 / (1 - self.p))
        return x * self._mask

    def backward(self, grad_output: Any) -> Any:
        return grad_output if self._mask is None else grad_output * self._mask

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p}
