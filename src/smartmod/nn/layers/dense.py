"""The fully connected layer, for dense arrays and sparse CSR inputs alike."""
from __future__ import annotations

from typing import Any

from smartmod.nn import backend
from smartmod.nn.init import get_initializer, zeros
from smartmod.nn.module import Module, Parameter

__all__ = ["Dense", "is_sparse"]


def is_sparse(x: Any) -> bool:
    """True for ``scipy.sparse`` (or ``cupyx.scipy.sparse``) matrices."""
    return hasattr(x, "tocsr") and hasattr(x, "nnz")


class Dense(Module):
    """``y = x @ W + b``.

    Parameters
    ----------
    in_features, out_features : int
        ``W`` has shape ``(in_features, out_features)``, ``b`` has shape ``(out_features,)``.
    bias : bool
        Whether to add ``b``.
    init : str
        Initializer name for ``W`` (see :mod:`smartmod.nn.init`).

    Shapes: ``x`` is ``(N, in_features)`` (a dense array or a CSR matrix, which stays sparse:
    the forward product and the weight gradient are sparse-times-dense), or ``(..., in_features)``
    for dense inputs with extra leading axes; ``y`` is ``(..., out_features)``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, init: str = "xavier_uniform"):
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Dense needs positive sizes, got in_features={in_features}, out_features={out_features}")
        self.in_features, self.out_features, self.use_bias, self.init = in_features, out_features, bias, init
        self.weight = Parameter(get_initializer(init)((in_features, out_features)))
        if bias:
            self.bias = Parameter(zeros((out_features,)))
        self._x: Any = None

    def forward(self, x: Any) -> Any:
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Dense expects inputs with {self.in_features} features, got shape {x.shape}")
        if x.dtype != self.weight.data.dtype:
            x = x.astype(self.weight.data.dtype)  # e.g. float64 TF-IDF into a float32 layer: compute in float32
        self._x = x
        if is_sparse(x):
            y = backend.xp.asarray(x @ self.weight.data)  # (N, out), sparse @ dense -> dense
        else:
            y = x @ self.weight.data  # (..., out)
        if self.use_bias:
            y += self.bias.data
        return y

    def backward(self, grad_output: Any) -> Any:
        x = self._x
        if is_sparse(x):
            self.weight.grad += x.T @ grad_output  # (in, N) @ (N, out): sparse @ dense
        else:
            self.weight.grad += x.reshape(-1, self.in_features).T @ grad_output.reshape(-1, self.out_features)
        if self.use_bias:
            self.bias.grad += grad_output.reshape(-1, self.out_features).sum(axis=0)
        if is_sparse(x) or not self.needs_input_grad:
            return None  # the input is data: no gradient flows into it
        return grad_output @ self.weight.data.T  # (..., in)

    def get_config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features, "bias": self.use_bias, "init": self.init}
