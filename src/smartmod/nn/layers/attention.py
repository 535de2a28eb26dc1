"""Scaled dot-product attention (Vaswani et al. 2017, "Attention is all you need", eq. 1) and
the masks that decide which keys each query may see.

    Attention(Q, K, V) = softmax(Q Kᵀ / √d + M) V

``M`` is an additive mask: 0 where a query may attend to a key, -inf where it may not. Boolean
masks follow PyTorch's convention (True = blocked) and become -inf entries.

A query whose every key is blocked (a padded query row under a causal mask, say) has no
distribution to attend with: softmax over nothing is 0/0. We define its attention weights as all
zero, so its output is the zero vector and no gradient flows through it, instead of PyTorch's
NaN.
"""
from __future__ import annotations

import math
from typing import Any

import numpy

from smartmod.nn import backend, parallel
from smartmod.nn.layers.dropout import Dropout
from smartmod.nn.module import Module

__all__ = [
    "ScaledDotProductAttention",
    "causal_mask",
    "additive_mask",
    "build_attention_mask",
    "masked_softmax",
    "masked_softmax_backward",
]


def causal_mask(queries: int, keys: int | None = None) -> Any:
    """Boolean ``(queries, keys)`` mask, True above the diagonal: position t sees keys 0..t only.

    This is the "masked self-attention" of the decoder (Vaswani et al. 2017, section 3.2.3),
    the same as ``torch.nn.Transformer.generate_square_subsequent_mask`` written as booleans.
    """
    keys = queries if keys is None else keys
    return backend.xp.triu(backend.xp.ones((queries, keys), dtype=bool), k=1)


def additive_mask(mask: Any, dtype: Any) -> Any:
    """A boolean mask (True = blocked) as 0 / -inf entries of ``dtype``; a float mask is cast."""
    xp = backend.get_array_module(mask)
    mask = xp.asarray(mask)
    if mask.dtype == bool:
        return xp.where(mask, -xp.inf, 0).astype(dtype)
    if mask.dtype.kind != "f":
        raise TypeError(f"an attention mask holds booleans (True = blocked) or additive floats, got dtype {mask.dtype}")
    return mask.astype(dtype, copy=False)


def build_attention_mask(
    batch: int,
    heads: int,
    queries: int,
    keys: int,
    dtype: Any,
    key_padding_mask: Any = None,
    attn_mask: Any = None,
    causal: bool = False,
) -> Any:
    """Combine padding, explicit and causal masks into one additive mask, as PyTorch's
    ``nn.MultiheadAttention`` reads them.

    Parameters
    ----------
    batch, heads, queries, keys : int
        B, H, T and S of the attention scores ``(B, H, T, S)``.
    dtype : dtype
        The scores' floating point type.
    key_padding_mask : bool array (B, S), optional
        True at padded keys, which no query may attend to.
    attn_mask : bool or float array (T, S) or (B * H, T, S), optional
        True (or -inf) where query t may not see key s; floats are added to the scores.
    causal : bool
        Also block every key after the query's own position.

    Returns
    -------
    None when nothing is masked, else a float array broadcastable to ``(B, H, T, S)``:
    ``(B, 1, 1, S)``, ``(1, 1, T, S)``, ``(B, 1, T, S)`` or ``(B, H, T, S)``.
    """
    mask = None
    if key_padding_mask is not None:
        key_padding_mask = backend.xp.asarray(key_padding_mask)
        if key_padding_mask.shape != (batch, keys):
            raise ValueError(f"key_padding_mask must have shape (batch, keys) = {(batch, keys)}, got {key_padding_mask.shape}")
        mask = additive_mask(key_padding_mask, dtype)[:, None, None, :]  # (B, 1, 1, S)
    if causal:
        mask = _added(mask, additive_mask(causal_mask(queries, keys), dtype))  # (T, S) broadcasts
    if attn_mask is not None:
        attn_mask = backend.xp.asarray(attn_mask)
        if attn_mask.shape == (queries, keys):
            mask = _added(mask, additive_mask(attn_mask, dtype))
        elif attn_mask.shape == (batch * heads, queries, keys):
            mask = _added(mask, additive_mask(attn_mask, dtype).reshape(batch, heads, queries, keys))
        else:
            raise ValueError(
                f"attn_mask must have shape (queries, keys) = {(queries, keys)} or "
                f"(batch * heads, queries, keys) = {(batch * heads, queries, keys)}, got {attn_mask.shape}"
            )
    return mask


def _added(mask: Any, more: Any) -> Any:
    return more if mask is None else mask + more


def masked_softmax(scores: Any) -> Any:
    """Softmax over the last axis, computed in place; -inf scores get weight 0.

    A row whose scores are all -inf gets all-zero weights (see the module docstring).
    Returns ``scores``, now holding the weights.
    """
    xp = backend.get_array_module(scores)
    row_max = scores.max(axis=-1, keepdims=True)
    row_max[row_max == -xp.inf] = 0  # an all-blocked row: exp(-inf - 0) = 0 everywhere
    scores -= row_max
    xp.exp(scores, out=scores)
    total = scores.sum(axis=-1, keepdims=True)
    total[total == 0] = 1  # 0 / 1 = 0 instead of 0 / 0
    xp.reciprocal(total, out=total)
    scores *= total
    return scores


def _summed_to(grad: Any, shape: tuple[int, ...]) -> Any:
    """``grad`` summed over the leading axes that an input of ``shape`` was broadcast along."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(extra + axis for axis, size in enumerate(shape) if size == 1 and grad.shape[extra + axis] != 1)
    return grad.sum(axis=axes, keepdims=False).reshape(shape)


def masked_softmax_backward(weights: Any, grad_weights: Any) -> Any:
    """dL/dscores = P ⊙ (G − Σ_s G P), overwriting ``grad_weights`` G; P are the weights.

    Blocked entries have P = 0, so they (and all-blocked rows) get zero gradient.
    """
    row_dot = (grad_weights * weights).sum(axis=-1, keepdims=True)  # Σ_s G P, (..., T, 1)
    grad_weights -= row_dot
    grad_weights *= weights
    return grad_weights


class ScaledDotProductAttention(Module):
    """softmax(Q Kᵀ / √d + M) V over the last two axes, any leading (batch, head) axes.

    Parameters
    ----------
    dropout : float
        Dropout on the attention weights in training, as PyTorch's ``dropout_p``.

    Shapes: query ``(..., T, d)``, key ``(..., S, d)``, value ``(..., S, d_v)``, ``mask``
    broadcastable to ``(..., T, S)`` (boolean, True = blocked, or additive float); output
    ``(..., T, d_v)``. ``backward`` returns ``(d_query, d_key, d_value)``.

    After a forward pass, ``attention_weights`` holds the weights ``(..., T, S)`` before dropout.
    """

    def __init__(self, dropout: float = 0.0):
        super().__init__()
        self.dropout_p = dropout
        self.dropout = Dropout(dropout)

    def forward(self, query: Any, key: Any, value: Any, mask: Any = None) -> Any:
        xp = backend.get_array_module(query)
        if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
            raise ValueError(
                f"attention needs query (..., T, d), key (..., S, d), value (..., S, d_v); "
                f"got {query.shape}, {key.shape}, {value.shape}"
            )
        self._scale = query.dtype.type(1 / math.sqrt(query.shape[-1]))
        self._query = query * self._scale  # (..., T, d), scaling d values per row instead of S scores
        self._key, self._value = key, value
        lead = numpy.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
        weights = xp.empty(lead + (query.shape[-2], key.shape[-2]), dtype=xp.result_type(query, key))  # (..., T, S)
        if mask is not None:
            mask = xp.broadcast_to(additive_mask(mask, weights.dtype), weights.shape)
        keep = self.dropout.draw(weights.shape)
        dropped = weights if keep is None else xp.empty_like(weights)
        output = xp.empty(lead + (query.shape[-2], value.shape[-1]), dtype=xp.result_type(weights, value))  # (..., T, d_v)
        query_of, key_of, value_of = (self._rows(x, lead) for x in (self._query, key, value))

        def attend(start: int, stop: int) -> None:  # rows start:stop of the leading axis
            scores = xp.matmul(query_of(start, stop), key_of(start, stop).swapaxes(-1, -2), out=weights[start:stop])
            if mask is not None:
                scores += mask[start:stop]
            masked_softmax(scores)
            if keep is not None:
                self.dropout.kept(scores, keep[start:stop], out=dropped[start:stop])
            xp.matmul(dropped[start:stop], value_of(start, stop), out=output[start:stop])

        self._split(attend, lead, weights.size)
        self._weights, self._dropped, self._keep, self._lead = weights, dropped, keep, lead
        return output

    def backward(self, grad_output: Any) -> tuple[Any, Any, Any]:
        xp = backend.get_array_module(grad_output)
        lead, weights, dropped, keep = self._lead, self._weights, self._dropped, self._keep
        grad_query, grad_key, grad_value = (xp.empty(lead + x.shape[-2:], dtype=grad_output.dtype) for x in (self._query, self._key, self._value))
        query_of, key_of, value_of, grad_of = (self._rows(x, lead) for x in (self._query, self._key, self._value, grad_output))

        def back(start: int, stop: int) -> None:
            grad = grad_of(start, stop)
            xp.matmul(dropped[start:stop].swapaxes(-1, -2), grad, out=grad_value[start:stop])  # (..., S, d_v)
            grad_scores = xp.matmul(grad, value_of(start, stop).swapaxes(-1, -2))  # (..., T, S)
            if keep is not None:
                self.dropout.kept(grad_scores, keep[start:stop], out=grad_scores)
            masked_softmax_backward(weights[start:stop], grad_scores)
            xp.matmul(grad_scores, key_of(start, stop), out=grad_query[start:stop])  # (..., T, d)
            grad_query[start:stop] *= self._scale
            xp.matmul(grad_scores.swapaxes(-1, -2), query_of(start, stop), out=grad_key[start:stop])  # (..., S, d)

        self._split(back, lead, weights.size)
        # an input broadcast over leading axes gets its gradient summed over them
        return tuple(_summed_to(grad, x.shape) for grad, x in ((grad_query, self._query), (grad_key, self._key), (grad_value, self._value)))

    @staticmethod
    def _rows(x: Any, lead: tuple[int, ...]) -> Any:
        """``x`` broadcast to the leading axes ``lead``, as a function of a row range of the first one."""
        full = backend.get_array_module(x).broadcast_to(x, lead + x.shape[-2:])
        return lambda start, stop: full[start:stop]

    @staticmethod
    def _split(work: Any, lead: tuple[int, ...], elements: int) -> None:
        """``work(start, stop)`` over the first leading axis, in slices on every core (:func:`parallel.over_batch`)."""
        if lead:
            parallel.over_batch(work, lead[0], elements)
        else:  # a single (T, S) attention: no axis to split
            work(None, None)

    @property
    def attention_weights(self) -> Any:
        return self._weights

    def get_config(self) -> dict[str, Any]:
        return {"dropout": self.dropout_p}
