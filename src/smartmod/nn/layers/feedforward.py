"""The position-wise feed-forward network of a transformer block (Vaswani et al. 2017, eq. 2).

    FFN(x) = activation(x W₁ + b₁) W₂ + b₂

applied to every position alike, as ``torch.nn.TransformerEncoderLayer``'s
``linear2(dropout(activation(linear1(x))))``.
"""
from __future__ import annotations

from typing import Any

from smartmod.nn.layers.activations import GELU, ReLU
from smartmod.nn.layers.dense import Dense
from smartmod.nn.layers.dropout import Dropout
from smartmod.nn.module import Module

__all__ = ["PositionwiseFeedForward"]

_ACTIVATIONS = {"relu": ReLU, "gelu": GELU}


class PositionwiseFeedForward(Module):
    """Dense(d_model → d_ff), activation, dropout, Dense(d_ff → d_model).

    Parameters
    ----------
    d_model, d_ff : int
        Width of the input and output, and of the hidden layer.
    activation : {"relu", "gelu"}
        ``"gelu"`` is the exact (erf) GELU, as PyTorch's ``activation="gelu"``.
    dropout : float
        Dropout on the hidden activations in training.

    Shapes: ``(..., d_model)`` in and out; the hidden layer is ``(..., d_ff)``.
    """

    def __init__(self, d_model: int, d_ff: int, activation: str = "relu", dropout: float = 0.0):
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        self.d_model, self.d_ff, self.activation_name, self.dropout_p = d_model, d_ff, activation, dropout
        self.linear1 = Dense(d_model, d_ff)
        self.activation = _ACTIVATIONS[activation]()
        self.dropout = Dropout(dropout)
        self.linear2 = Dense(d_ff, d_model)

    def forward(self, x: Any) -> Any:
        self._shape = x.shape
        rows = x.reshape(-1, self.d_model)  # (N, d_model): every position is a row of one 2-D GEMM
        hidden = self.dropout.forward(self.activation.forward(self.linear1.forward(rows)))  # (N, d_ff)
        return self.linear2.forward(hidden).reshape(self._shape)  # (..., d_model)

    def backward(self, grad_output: Any) -> Any:
        grad_rows = grad_output.reshape(-1, self.d_model)  # (N, d_model)
        grad_hidden = self.activation.backward(self.dropout.backward(self.linear2.backward(grad_rows)))  # (N, d_ff)
        return self.linear1.backward(grad_hidden).reshape(self._shape)  # (..., d_model)

    def get_config(self) -> dict[str, Any]:
        return {"d_model": self.d_model, "d_ff": self.d_ff, "activation": self.activation_name, "dropout": self.dropout_p}
