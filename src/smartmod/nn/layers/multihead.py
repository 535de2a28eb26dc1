"""Multi-head attention (Vaswani et al. 2017, section 3.2.2), laid out as ``torch.nn.MultiheadAttention``
with ``batch_first=True`` so its weights copy over.

    MultiHead(Q, K, V) = Concat(head_1, ..., head_H) W_O,   head_h = Attention(Q W_Q^h, K W_K^h, V W_V^h)

All heads run at once: the projections are GEMMs over ``(B·L, d)`` rows, a reshape splits their
``d`` columns into ``H`` heads of ``d / H`` and a transpose gives ``(B, H, L, d / H)`` views, so the
attention products are batched matmuls over B·H, with no loop over heads or examples.
"""
from __future__ import annotations

from typing import Any

from smartmod.nn import backend
from smartmod.nn.init import xavier_uniform, zeros
from smartmod.nn.layers.attention import ScaledDotProductAttention, build_attention_mask
from smartmod.nn.layers.dense import Dense
from smartmod.nn.module import Module, Parameter

__all__ = ["MultiHeadAttention"]


class MultiHeadAttention(Module):
    """Attention of ``num_heads`` heads of width ``embed_dim / num_heads``, then an output projection.

    Parameters
    ----------
    embed_dim : int
        d, the width of queries, keys, values and the output.
    num_heads : int
        H; must divide d.
    dropout : float
        Dropout on the attention weights in training.
    bias : bool
        Biases on the input and output projections.

    The query, key and value projections are one ``(d, 3d)`` weight ``in_proj_weight`` (PyTorch's
    ``in_proj_weight`` transposed), columns ``[0, d)`` for queries, ``[d, 2d)`` keys, ``[2d, 3d)``
    values; ``out_proj`` is a ``Dense(d, d)``.

    How many inputs ``forward`` gets decides how many GEMMs project them, and how many
    gradients ``backward`` returns, one per input:

    - ``forward(x)``: self-attention, one ``(d, 3d)`` GEMM; backward returns ``d_x``.
    - ``forward(x, memory)``: cross-attention to ``memory`` as keys and values, one GEMM for the
      queries and one ``(d, 2d)`` for keys and values; backward returns ``(d_x, d_memory)``.
    - ``forward(query, key, value)``: three GEMMs; backward returns ``(d_query, d_key, d_value)``.

    Shapes: query ``(B, T, d)``, key and value ``(B, S, d)``, output ``(B, T, d)``. Masks as in
    :func:`~smartmod.nn.layers.attention.build_attention_mask`. After a forward pass,
    ``attention_weights`` holds the weights ``(B, H, T, S)`` of every head.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        if embed_dim < 1 or num_heads < 1 or embed_dim % num_heads:
            raise ValueError(f"MultiHeadAttention needs num_heads dividing embed_dim, got embed_dim={embed_dim}, num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.dropout_p, self.use_bias = embed_dim, num_heads, dropout, bias
        self.head_dim = embed_dim // num_heads
        # PyTorch draws its (3d, d) in_proj_weight with Xavier; the fans of (d, 3d) are the same.
        self.in_proj_weight = Parameter(xavier_uniform((embed_dim, 3 * embed_dim)))
        if bias:
            self.in_proj_bias = Parameter(zeros((3 * embed_dim,)))
        self.attention = ScaledDotProductAttention(dropout)
        self.out_proj = Dense(embed_dim, embed_dim, bias=bias)

    # -- projections ----------------------------------------------------------------------------

    def _column_groups(self, count: int) -> list[tuple[int, int]]:
        """The in_proj columns each input feeds: all three to one input, or q | kv, or q | k | v."""
        d = self.embed_dim
        return {1: [(0, 3 * d)], 2: [(0, d), (d, 3 * d)], 3: [(0, d), (d, 2 * d), (2 * d, 3 * d)]}[count]

    def _split_heads(self, x: Any) -> Any:
        """(B, L, d) -> (B, H, L, d / H), a view."""
        batch, length, _ = x.shape
        return x.reshape(batch, length, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    def _query_key_value(self, projected: list[Any]) -> tuple[Any, Any, Any]:
        """Views of the query, key and value columns of the projected inputs, each (B, L, d)."""
        d = self.embed_dim
        if len(projected) == 1:
            (qkv,) = projected
            return qkv[..., :d], qkv[..., d:2 * d], qkv[..., 2 * d:]
        if len(projected) == 2:
            q, kv = projected
            return q, kv[..., :d], kv[..., d:]
        return tuple(projected)

    # -- forward and backward -------------------------------------------------------------------

    def forward(self, query: Any, key: Any = None, value: Any = None, *, key_padding_mask: Any = None,
                attn_mask: Any = None, causal: bool = False) -> Any:
        if key is None and value is not None:
            raise ValueError("MultiHeadAttention: pass a key together with the value (forward(query, key, value))")
        inputs = [x for x in (query, key, value) if x is not None]
        for x in inputs:
            if x.ndim != 3 or x.shape[-1] != self.embed_dim or x.shape[0] != query.shape[0]:
                raise ValueError(f"MultiHeadAttention expects (batch, length, {self.embed_dim}) inputs of one batch size, got shapes {[x.shape for x in inputs]}")
        if value is not None and key.shape[1] != value.shape[1]:
            raise ValueError(f"key and value must have the same length, got shapes {key.shape} and {value.shape}")
        self._inputs = inputs
        projected = []
        for x, (start, stop) in zip(inputs, self._column_groups(len(inputs))):
            y = x.reshape(-1, self.embed_dim) @ self.in_proj_weight.data[:, start:stop]  # (B·L, stop - start)
            if self.use_bias:
                y += self.in_proj_bias.data[start:stop]
            projected.append(y.reshape(x.shape[:2] + (stop - start,)))  # (B, L, stop - start)
        q, k, v = (self._split_heads(x) for x in self._query_key_value(projected))  # each (B, H, L, d / H)
        batch, heads, queries, keys = q.shape[0], self.num_heads, q.shape[2], k.shape[2]
        mask = build_attention_mask(batch, heads, queries, keys, q.dtype, key_padding_mask, attn_mask, causal)
        heads_output = self.attention.forward(q, k, v, mask)  # (B, H, T, d / H)
        merged = heads_output.transpose(0, 2, 1, 3).reshape(batch * queries, self.embed_dim)  # (B·T, d)
        return self.out_proj.forward(merged).reshape(batch, queries, self.embed_dim)  # (B, T, d)

    def backward(self, grad_output: Any) -> Any:
        xp = backend.get_array_module(grad_output)
        grad_merged = self.out_proj.backward(grad_output.reshape(-1, self.embed_dim)).reshape(grad_output.shape)  # (B, T, d)
        grad_q, grad_k, grad_v = self.attention.backward(self._split_heads(grad_merged))  # each (B, H, L, d / H)
        groups = self._column_groups(len(self._inputs))
        grad_projected = [xp.empty(x.shape[:2] + (stop - start,), dtype=x.dtype) for x, (start, stop) in zip(self._inputs, groups)]
        for view, grad in zip(self._query_key_value(grad_projected), (grad_q, grad_k, grad_v)):
            self._split_heads(view)[...] = grad  # write each head back into its columns
        grad_inputs = []
        for x, grad, (start, stop) in zip(self._inputs, grad_projected, groups):
            rows = grad.reshape(-1, stop - start)  # (B·L, stop - start)
            self.in_proj_weight.grad[:, start:stop] += x.reshape(-1, self.embed_dim).T @ rows
            if self.use_bias:
                self.in_proj_bias.grad[start:stop] += rows.sum(axis=0)
            grad_inputs.append((rows @ self.in_proj_weight.data[:, start:stop].T).reshape(x.shape))  # (B, L, d)
        return grad_inputs[0] if len(grad_inputs) == 1 else tuple(grad_inputs)

    @property
    def attention_weights(self) -> Any:
        return self.attention.attention_weights

    def get_config(self) -> dict[str, Any]:
        return {"embed_dim": self.embed_dim, "num_heads": self.num_heads, "dropout": self.dropout_p, "bias": self.use_bias}
