"""A residual connection with layer normalization around a transformer sub-layer
(Vaswani et al. 2017, section 5.4; He et al. 2016 for the residual, Ba et al. 2016 for the norm).

    post-norm (the original):  y = LayerNorm(x + Dropout(Sublayer(x)))
    pre-norm (Xiong et al. 2020, "On layer normalization in the transformer architecture"):
                               y = x + Dropout(Sublayer(LayerNorm(x)))

Pre-norm keeps an identity path from input to output, which trains deep stacks without warm-up;
post-norm is PyTorch's default (``norm_first=False``).
"""
from __future__ import annotations

from typing import Any

from smartmod.nn.layers.dropout import Dropout
from smartmod.nn.layers.normalization import LayerNorm
from smartmod.nn.module import Module, layer_from_config

__all__ = ["ResidualNorm"]


class ResidualNorm(Module):
    """``sublayer`` wrapped in a residual connection, dropout and LayerNorm, before or after.

    Parameters
    ----------
    sublayer : Module
        Maps ``(B, T, d_model)`` to ``(B, T, d_model)``. It may take extra inputs after ``x``
        (the encoder memory of cross-attention) and keyword masks; its backward then returns
        one gradient per input, and so does this module's.
    d_model : int
    dropout : float
        Dropout on the sub-layer's output in training (PyTorch's ``dropout1`` / ``dropout2``).
    norm_first : bool
        Pre-norm when True, post-norm when False.
    layer_norm_eps : float
    """

    def __init__(self, sublayer: Module, d_model: int, dropout: float = 0.0, norm_first: bool = False, layer_norm_eps: float = 1e-5):
        super().__init__()
        self.d_model, self.dropout_p, self.norm_first, self.layer_norm_eps = d_model, dropout, norm_first, layer_norm_eps
        self.sublayer = sublayer
        self.norm = LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout = Dropout(dropout)

    def forward(self, x: Any, *context: Any, **masks: Any) -> Any:
        if self.norm_first:
            return x + self.dropout.forward(self.sublayer.forward(self.norm.forward(x), *context, **masks))
        return self.norm.forward(x + self.dropout.forward(self.sublayer.forward(x, *context, **masks)))

    def backward(self, grad_output: Any) -> Any:
        if self.norm_first:
            grad_sublayer, *grad_context = _as_tuple(self.sublayer.backward(self.dropout.backward(grad_output)))
            grad_x = grad_output + self.norm.backward(grad_sublayer)  # identity path + normalized path
        else:
            grad_sum = self.norm.backward(grad_output)  # d(x + sublayer(x))
            grad_sublayer, *grad_context = _as_tuple(self.sublayer.backward(self.dropout.backward(grad_sum)))
            grad_x = grad_sum + grad_sublayer
        return (grad_x, *grad_context) if grad_context else grad_x

    def get_config(self) -> dict[str, Any]:
        return {"sublayer": self.sublayer.to_config(), "d_model": self.d_model, "dropout": self.dropout_p,
                "norm_first": self.norm_first, "layer_norm_eps": self.layer_norm_eps}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "ResidualNorm":
        return cls(**{**config, "sublayer": layer_from_config(config["sublayer"])})


def _as_tuple(grads: Any) -> tuple[Any, ...]:
    return grads if isinstance(grads, tuple) else (grads,)
