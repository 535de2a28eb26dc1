"""Lookup tables of vectors indexed by integer ids."""
from __future__ import annotations

from typing import Any

from smartmod.nn import backend
from smartmod.nn.module import Module, Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """Row ``i`` of a ``(num_embeddings, embedding_dim)`` table for each id ``i``.

    Parameters
    ----------
    num_embeddings, embedding_dim : int
    padding_idx : int or None
        This row starts at zero and never receives gradient (padding changes nothing).

    Shapes: ids ``(...)`` of integers in ``[0, num_embeddings)``; output ``(..., embedding_dim)``.
    The backward pass scatters into the rows that were used and no others
    (``rows_touched`` lists them, for sparse updates).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None):
        super().__init__()
        if padding_idx is not None and not 0 <= padding_idx < num_embeddings:
            raise ValueError(f"padding_idx {padding_idx} is outside [0, {num_embeddings})")
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        table = backend.rng().normal(0.0, 1.0, size=(num_embeddings, embedding_dim))
        self.weight = Parameter(backend.xp.asarray(table, dtype=backend.default_dtype()))
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0
        self.rows_touched: Any = None

    def forward(self, ids: Any) -> Any:
        xp = backend.get_array_module(ids)
        ids = xp.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise TypeError(f"Embedding takes integer ids, got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            raise IndexError(f"Embedding ids must lie in [0, {self.num_embeddings}), got [{ids.min()}, {ids.max()}]")
        self._ids = ids
        return self.weight.data[ids]  # (..., embedding_dim)

    def backward(self, grad_output: Any) -> None:
        xp = backend.get_array_module(grad_output)
        ids = self._ids.reshape(-1)
        grad = grad_output.reshape(-1, self.embedding_dim)
        if self.padding_idx is not None:
            keep = ids != self.padding_idx
            ids, grad = ids[keep], grad[keep]
        rows, inverse = xp.unique(ids, return_inverse=True)
        summed = xp.zeros((rows.shape[0], self.embedding_dim), dtype=grad.dtype)
        xp.add.at(summed, inverse.reshape(-1), grad)  # sum the gradients of repeated ids
        self.weight.grad[rows] += summed
        self.rows_touched = rows
        return None  # ids are discrete: no gradient

    def get_config(self) -> dict[str, Any]:
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim, "padding_idx": self.padding_idx}
