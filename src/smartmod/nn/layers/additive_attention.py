"""Additive attention (Bahdanau, Cho & Bengio 2015, "Neural machine translation by jointly
learning to align and translate", section 3.1 and appendix A.1.2).

    e_ts = vᵀ tanh(W_q q_t + W_k k_s + b),   α_t = softmax_s(e_ts),   c_t = Σ_s α_ts v_s

The score is a one-hidden-layer network of query and key, so queries and keys may have
different widths; it costs a ``(B, T, S, A)`` hidden array where dot-product attention needs none.
"""
from __future__ import annotations

from typing import Any

from smartmod.nn import backend
from smartmod.nn.layers.attention import build_attention_mask, masked_softmax, masked_softmax_backward
from smartmod.nn.layers.dense import Dense
from smartmod.nn.module import Module, Parameter

__all__ = ["AdditiveAttention"]


class AdditiveAttention(Module):
    """Bahdanau attention of queries over keys, returning the weighted sum of values.

    Parameters
    ----------
    query_dim, key_dim : int
        Widths of queries and keys.
    attention_dim : int
        A, the width of the hidden layer that scores each (query, key) pair.

    Shapes: query ``(B, T, query_dim)``, keys ``(B, S, key_dim)``, values ``(B, S, d_v)``
    (the keys themselves when not given), ``key_padding_mask`` ``(B, S)``, True at padding;
    output ``(B, T, d_v)``. ``backward`` returns one gradient per input passed:
    ``(d_query, d_keys)`` or ``(d_query, d_keys, d_values)``. A query whose every key is padding
    gets zero weights and a zero output. After a forward pass, ``attention_weights`` holds α
    ``(B, T, S)``.
    """

    def __init__(self, query_dim: int, key_dim: int, attention_dim: int):
        super().__init__()
        self.query_dim, self.key_dim, self.attention_dim = query_dim, key_dim, attention_dim
        self.query_proj = Dense(query_dim, attention_dim, bias=False)  # W_q
        self.key_proj = Dense(key_dim, attention_dim)  # W_k and b
        self.score = Parameter(Dense(attention_dim, 1).weight.data[:, 0].copy())  # v, (A,), Xavier-drawn

    def forward(self, query: Any, keys: Any, values: Any = None, *, key_padding_mask: Any = None) -> Any:
        xp = backend.get_array_module(query)
        self._values_given = values is not None
        values = keys if values is None else values
        if query.ndim != 3 or keys.ndim != 3 or values.shape[:2] != keys.shape[:2] or query.shape[0] != keys.shape[0]:
            raise ValueError(
                f"AdditiveAttention expects query (B, T, {self.query_dim}), keys (B, S, {self.key_dim}) and values (B, S, d_v); "
                f"got {query.shape}, {keys.shape}, {values.shape}"
            )
        self._values = values
        projected_query = self.query_proj.forward(query)  # (B, T, A)
        projected_keys = self.key_proj.forward(keys)  # (B, S, A)
        self._hidden = xp.tanh(projected_query[:, :, None, :] + projected_keys[:, None, :, :])  # (B, T, S, A)
        scores = self._hidden @ self.score.data  # (B, T, S)
        batch, queries, length = scores.shape
        mask = build_attention_mask(batch, 1, queries, length, scores.dtype, key_padding_mask)
        if mask is not None:
            scores += mask[:, 0]  # (B, 1, S) over (B, T, S)
        self._weights = masked_softmax(scores)  # α, (B, T, S)
        return self._weights @ values  # (B, T, d_v)

    def backward(self, grad_output: Any) -> tuple[Any, ...]:
        grad_values = self._weights.swapaxes(-1, -2) @ grad_output  # (B, S, d_v)
        grad_scores = masked_softmax_backward(self._weights, grad_output @ self._values.swapaxes(-1, -2))  # (B, T, S)
        self.score.grad += (grad_scores[..., None] * self._hidden).sum(axis=(0, 1, 2))
        grad_hidden = grad_scores[..., None] * self.score.data * (1 - self._hidden * self._hidden)  # through tanh, (B, T, S, A)
        grad_query = self.query_proj.backward(grad_hidden.sum(axis=2))  # (B, T, query_dim)
        grad_keys = self.key_proj.backward(grad_hidden.sum(axis=1))  # (B, S, key_dim)
        if self._values_given:
            return grad_query, grad_keys, grad_values
        return grad_query, grad_keys + grad_values

    @property
    def attention_weights(self) -> Any:
        return self._weights

    def get_config(self) -> dict[str, Any]:
        return {"query_dim": self.query_dim, "key_dim": self.key_dim, "attention_dim": self.attention_dim}
