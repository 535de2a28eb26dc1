"""Inverted dropout (Srivastava et al. 2014)."""
from __future__ import annotations

from typing import Any

import numpy

from smartmod.nn import backend
from smartmod.nn.module import Module

__all__ = ["Dropout", "keep_mask"]

_LEVELS = 1 << 16  # a keep decision compares 16 random bits with round(p * 2 ** 16)


def keep_mask(shape: tuple[int, ...], p: float, generator: Any) -> Any:
    """Booleans of ``shape``, each True (kept) with probability ``1 - p``, independently.

    On NumPy each decision takes 16 raw bits of the generator (four per 64-bit draw, about
    three times faster than drawing a float per element, which is most of a dropout layer's
    time): an element is kept when its bits are at least ``round(p * 2 ** 16)``, so the
    probability of dropping is ``p`` to within ``2 ** -16``. Other generators (CuPy) draw floats.
    """
    if not isinstance(generator, numpy.random.Generator):
        return generator.random(shape, dtype="float32") >= p
    size = int(numpy.prod(shape, dtype=numpy.int64))
    bits = generator.bit_generator.random_raw(-(-size // 4)).view(numpy.uint16)[:size]
    return (bits >= numpy.uint16(min(round(p * _LEVELS), _LEVELS - 1))).reshape(shape)


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by 1 / (1 - p),
    so evaluation is the identity. The mask comes from the shared seeded generator
    (:func:`keep_mask`)."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"Dropout probability must be in [0, 1), got {p}")
        self.p = p
        self._keep: Any = None

    def forward(self, x: Any) -> Any:
        self.draw(x.shape)
        return x if self._keep is None else self.kept(x, self._keep)

    def backward(self, grad_output: Any) -> Any:
        return grad_output if self._keep is None else self.kept(grad_output, self._keep)

    def draw(self, shape: tuple[int, ...]) -> Any:
        """The keep mask of the next forward pass over an input of ``shape`` (None when nothing is
        dropped: evaluation, or ``p`` = 0), remembered for the backward pass. For layers that apply
        the mask slice by slice themselves (:meth:`kept`)."""
        self._keep = keep_mask(shape, self.p, backend.rng()) if self.training and self.p > 0 else None
        return self._keep

    def kept(self, x: Any, keep: Any, out: Any = None) -> Any:
        """``x`` scaled by 1 / (1 - p) where ``keep`` (the mask, or its slice matching ``x``) is True, 0 elsewhere."""
        out = backend.get_array_module(x).multiply(x, x.dtype.type(1 / (1 - self.p)), out=out)
        out *= keep
        return out

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p}
