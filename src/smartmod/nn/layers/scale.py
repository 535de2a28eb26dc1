"""Scale: multiply by a fixed number, y = s · x.

Page's DAWNBench ResNet-9 ("How to train your ResNet", 2018) multiplies its logits by 0.125:
a smaller output scale at the same learning rate makes the last layer's effective step s²
times smaller, which steadied his short, high-learning-rate runs. Nothing is learned.
"""
from __future__ import annotations

import math
from typing import Any

from smartmod.nn.module import Module

__all__ = ["Scale"]


class Scale(Module):
    """(N, ...) → (N, ...), every value times ``factor``; backward: ∂L/∂x = factor · ∂L/∂y.

    Parameters
    ----------
    factor : float
        Finite and non-zero.
    """

    def __init__(self, factor: float):
        super().__init__()
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not math.isfinite(factor) or factor == 0:
            raise ValueError(f"Scale needs a finite, non-zero number, got {factor!r}")
        self.factor = float(factor)

    def forward(self, x: Any) -> Any:
        return x * x.dtype.type(self.factor)

    def backward(self, grad_output: Any) -> Any:
        return grad_output * grad_output.dtype.type(self.factor)

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor}
