"""Flatten: every axis after the batch axis into one, as ``torch.nn.Flatten``."""
from __future__ import annotations

from typing import Any

from smartmod.nn.module import Module

__all__ = ["Flatten"]


class Flatten(Module):
    """(N, d_1, ..., d_k) → (N, d_1 ··· d_k) in row-major order, so (N, C, H, W) images flatten
    channel by channel as in PyTorch, whatever their memory layout. Backward restores the shape."""

    def forward(self, x: Any) -> Any:
        if x.ndim < 2:
            raise ValueError(f"Flatten expects a batch (N, ...) of at least 2 axes, got shape {x.shape}")
        self._input_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_output: Any) -> Any:
        return grad_output.reshape(self._input_shape)
