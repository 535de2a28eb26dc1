"""The class token: a learned token put in front of a sequence, whose output summarizes it
(BERT's [CLS], Devlin et al. 2019; the Vision Transformer's x_class, Dosovitskiy et al. 2021, eq. 1 and 4).

Self-attention lets every position read every other, so the class token's output after the
encoder depends on the whole sequence, and a classifier reads that one vector:
:class:`ClassToken` prepends the token, :class:`ClassTokenPooling` takes its output back out.
"""
from __future__ import annotations

from typing import Any

from smartmod.nn import backend
from smartmod.nn.module import Module, Parameter

__all__ = ["ClassToken", "ClassTokenPooling"]


class ClassToken(Module):
    """(B, L, d_model) → (B, 1 + L, d_model): the learned ``(d_model,)`` token at position 0.

    Initialized from N(0, 0.02²), as the position table of
    :class:`~smartmod.nn.layers.positional.LearnedPositionalEmbedding`. The token's gradient is
    the output gradient at position 0 summed over the batch; the input gradient is the rest.
    """

    def __init__(self, d_model: int):
        super().__init__()
        if d_model < 1:
            raise ValueError(f"ClassToken needs a positive d_model, got {d_model}")
        self.d_model = d_model
        self.weight = Parameter(backend.xp.asarray(backend.rng().normal(0.0, 0.02, size=d_model), dtype=backend.default_dtype()))

    def forward(self, x: Any) -> Any:
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"ClassToken expects (batch, length, {self.d_model}) tokens, got shape {x.shape}")
        xp = backend.get_array_module(x)
        batch, length, _ = x.shape
        tokens = xp.empty((batch, 1 + length, self.d_model), dtype=x.dtype)  # (B, 1 + L, d)
        tokens[:, 0] = self.weight.data
        tokens[:, 1:] = x
        return tokens

    def backward(self, grad_output: Any) -> Any:
        self.weight.grad += grad_output[:, 0].sum(axis=0)  # (d,)
        return grad_output[:, 1:]  # (B, L, d)

    def get_config(self) -> dict[str, Any]:
        return {"d_model": self.d_model}


class ClassTokenPooling(Module):
    """(B, T, d) → (B, d): the output at position 0, where :class:`ClassToken` put the class token.

    Backward puts the gradient at position 0 and zeros everywhere else. A ``padding_mask``
    (B, T) may be passed, as to the poolings over time of
    :mod:`~smartmod.nn.layers.sequence_pooling`, and is ignored: the class token is never padding.
    """

    def forward(self, x: Any, padding_mask: Any = None) -> Any:
        if x.ndim != 3:
            raise ValueError(f"ClassTokenPooling expects (batch, length, d_model) tokens, got shape {x.shape}")
        self._input_shape = x.shape
        return x[:, 0]

    def backward(self, grad_output: Any) -> Any:
        grad = backend.get_array_module(grad_output).zeros(self._input_shape, dtype=grad_output.dtype)  # (B, T, d)
        grad[:, 0] = grad_output
        return grad
