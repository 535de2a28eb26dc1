"""Pooling over time: one vector per sequence from the outputs of every step, padding ignored.

- :class:`LastStepPooling`: the output at each sequence's last real step.
- :class:`MeanOverTimePooling`: the mean over real steps.
- :class:`MaxOverTimePooling`: the largest value of each feature over real steps (Collobert et
  al. 2011, "Natural language processing (almost) from scratch").
- :class:`AttentionPooling`: a weighted mean whose weights a learned scorer gives each step (Yang
  et al. 2016, "Hierarchical attention networks for document classification", eq. 5-7).

Every layer takes x (B, T, D) and ``padding_mask`` (B, T), True at padded steps, or ``lengths``
(B,), and returns (B, D). Padded steps never reach the output and get zero gradient; a sequence
with no real step at all pools to zeros.
"""
from __future__ import annotations

from typing import Any

from smartmod.nn import backend
from smartmod.nn.init import get_initializer
from smartmod.nn.layers.attention import masked_softmax, masked_softmax_backward
from smartmod.nn.layers.dense import Dense
from smartmod.nn.layers.recurrent import padding_mask_from
from smartmod.nn.module import Module, Parameter

__all__ = ["LastStepPooling", "MeanOverTimePooling", "MaxOverTimePooling", "AttentionPooling"]


class _SequencePooling(Module):
    """Checks the input and turns ``padding_mask`` or ``lengths`` into a (B, T) boolean array."""

    def forward(self, x: Any, padding_mask: Any = None, lengths: Any = None) -> Any:
        """Pool (B, T, D) sequences to (B, D)."""
        if x.ndim != 3:
            raise ValueError(f"{type(self).__name__} expects sequences (batch, steps, features), got shape {x.shape}")
        self._shape = x.shape
        return self._pool(x, padding_mask_from(padding_mask, lengths, x.shape[0], x.shape[1]))

    def _pool(self, x: Any, padded: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement _pool")


class LastStepPooling(_SequencePooling):
    """The output at each sequence's last real step: position T - 1 when padding comes first,
    length - 1 when it comes last. For a reversed or bidirectional layer, take its final state instead."""

    def _pool(self, x: Any, padded: Any) -> Any:
        xp = backend.get_array_module(x)
        steps = x.shape[1]
        self._has_real = ~padded.all(axis=1)  # (B,)
        self._last = steps - 1 - xp.argmin(padded[:, ::-1], axis=1)  # (B,), the last False of each row
        return x[xp.arange(x.shape[0]), self._last] * self._has_real[:, None]  # (B, D)

    def backward(self, grad_output: Any) -> Any:
        xp = backend.get_array_module(grad_output)
        grad = xp.zeros(self._shape, dtype=grad_output.dtype)
        grad[xp.arange(self._shape[0]), self._last] = grad_output * self._has_real[:, None]
        return grad


class MeanOverTimePooling(_SequencePooling):
    """Σ_t x_t / (number of real steps), the sum over real steps only."""

    def _pool(self, x: Any, padded: Any) -> Any:
        xp = backend.get_array_module(x)
        self._weights = (~padded / xp.maximum((~padded).sum(axis=1, keepdims=True), 1)).astype(x.dtype)  # (B, T)
        return (self._weights[:, None, :] @ x)[:, 0]  # (B, 1, T) @ (B, T, D) -> (B, D)

    def backward(self, grad_output: Any) -> Any:
        return self._weights[:, :, None] * grad_output[:, None, :]  # (B, T, D)


class MaxOverTimePooling(_SequencePooling):
    """max_t x_td over real steps for every feature d; the gradient goes to the step that won
    (the first one on a tie), as ``torch.max(x, dim=1)``'s does."""

    def _pool(self, x: Any, padded: Any) -> Any:
        xp = backend.get_array_module(x)
        if bool(padded.any()):
            x = xp.where(padded[:, :, None], -xp.inf, x)
        pooled = x.max(axis=1)  # (B, D)
        self._winner = (x == pooled[:, None, :]).argmax(axis=1)  # (B, D), the first step holding the maximum
        self._has_real = ~padded.all(axis=1)  # (B,)
        return xp.where(self._has_real[:, None], pooled, 0).astype(x.dtype)

    def backward(self, grad_output: Any) -> Any:
        xp = backend.get_array_module(grad_output)
        batch, _, features = self._shape
        grad = xp.zeros(self._shape, dtype=grad_output.dtype)
        rows, columns = xp.arange(batch)[:, None], xp.arange(features)[None, :]
        grad[rows, self._winner, columns] = grad_output * self._has_real[:, None]
        return grad


class AttentionPooling(_SequencePooling):
    """A weighted mean over real steps, the weights from a learned scorer (Yang et al. 2016)::

        u_t = tanh(x_t W + b)   (B, T, A),    e_t = u_t · v   (B, T),
        α = softmax over real steps of e,     output = Σ_t α_t x_t   (B, D).

    Parameters
    ----------
    features : int
        D, the width of each step.
    attention_size : int
        A, the width of the scorer's hidden layer.

    After ``forward``, ``attention_weights`` holds α (B, T): zero at padded steps, rows summing to
    one (zero for a sequence with no real step), ready for heatmaps over the tokens.
    """

    def __init__(self, features: int, attention_size: int = 64):
        super().__init__()
        self.features, self.attention_size = features, attention_size
        self.projection = Dense(features, attention_size)  # W (D, A) and b (A,)
        self.context = Parameter(get_initializer("xavier_uniform")((attention_size, 1))[:, 0].copy())  # v (A,)
        self.attention_weights: Any = None

    def _pool(self, x: Any, padded: Any) -> Any:
        xp = backend.get_array_module(x)
        if x.shape[2] != self.features:
            raise ValueError(f"AttentionPooling expects {self.features} features per step, got shape {x.shape}")
        self._x = x
        self._hidden = xp.tanh(self.projection.forward(x))  # u, (B, T, A)
        scores = self._hidden @ self.context.data  # e, (B, T)
        scores[padded] = -xp.inf
        self.attention_weights = masked_softmax(scores)  # α, (B, T)
        return (self.attention_weights[:, None, :] @ x)[:, 0]  # (B, 1, T) @ (B, T, D) -> (B, D)

    def backward(self, grad_output: Any) -> Any:
        weights = self.attention_weights
        grad_x = weights[:, :, None] * grad_output[:, None, :]  # through the weighted sum, (B, T, D)
        grad_weights = (self._x @ grad_output[:, :, None])[:, :, 0]  # ∂L/∂α_t = x_t · g, (B, T)
        grad_scores = masked_softmax_backward(weights, grad_weights)  # ∂L/∂e, zero at padded steps
        self.context.grad += (grad_scores[:, :, None] * self._hidden).sum(axis=(0, 1))
        grad_hidden = grad_scores[:, :, None] * self.context.data * (1 - self._hidden * self._hidden)  # through tanh, (B, T, A)
        object.__setattr__(self.projection, "needs_input_grad", True)
        grad_x += self.projection.backward(grad_hidden)
        return grad_x

    def get_config(self) -> dict[str, Any]:
        return {"features": self.features, "attention_size": self.attention_size}
