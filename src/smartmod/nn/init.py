"""Weight initializers.

Each takes a shape and returns a new array of the default dtype drawn from the shared generator.
For a weight of shape ``(fan_in, fan_out)`` (our Dense convention, ``y = x @ W``) the fans are
read from the first two axes; for convolution kernels ``(out, in, *kernel)`` the receptive field
multiplies both, as in PyTorch.

References: Glorot & Bengio 2010 (Xavier); He et al. 2015 (Kaiming); Saxe et al. 2014 (orthogonal).
"""
from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Any, Callable

from smartmod.nn import backend

__all__ = [
    "fans",
    "zeros",
    "ones",
    "xavier_uniform",
    "xavier_normal",
    "he_uniform",
    "he_normal",
    "uniform_fan_in",
    "orthogonal",
    "get_initializer",
    "skipped",
]

_state = threading.local()  # .skip: initializers hand out uninitialized arrays (see skipped)


def fans(shape: tuple[int, ...], layout: str = "in_out") -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight: ``layout="in_out"`` for Dense ``(in, out)``,
    ``"out_in"`` for convolution kernels ``(out, in, *kernel)``."""
    if layout not in ("in_out", "out_in"):
        raise ValueError(f"layout must be 'in_out' (Dense) or 'out_in' (convolution), got {layout!r}")
    if len(shape) < 2:
        raise ValueError(f"fans need a weight with at least 2 axes, got shape {shape}")
    receptive = math.prod(shape[2:])
    first, second = shape[0] * receptive, shape[1] * receptive
    return (first, second) if layout == "in_out" else (second, first)


def _cast(array: Any) -> Any:
    return backend.xp.asarray(array, dtype=backend.default_dtype())


def zeros(shape: tuple[int, ...], **_: Any) -> Any:
    return backend.xp.zeros(shape, dtype=backend.default_dtype())


def ones(shape: tuple[int, ...], **_: Any) -> Any:
    return backend.xp.ones(shape, dtype=backend.default_dtype())


def xavier_uniform(shape: tuple[int, ...], gain: float = 1.0, layout: str = "in_out") -> Any:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape, layout)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _cast(backend.rng().uniform(-bound, bound, size=shape))


def xavier_normal(shape: tuple[int, ...], gain: float = 1.0, layout: str = "in_out") -> Any:
    """N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape, layout)
    return _cast(backend.rng().normal(0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), size=shape))


def he_uniform(shape: tuple[int, ...], gain: float = math.sqrt(2.0), layout: str = "in_out") -> Any:
    """U(-a, a) with a = gain * sqrt(3 / fan_in); gain sqrt(2) suits ReLU."""
    fan_in, _ = fans(shape, layout)
    bound = gain * math.sqrt(3.0 / fan_in)
    return _cast(backend.rng().uniform(-bound, bound, size=shape))


def he_normal(shape: tuple[int, ...], gain: float = math.sqrt(2.0), layout: str = "in_out") -> Any:
    """N(0, std²) with std = gain / sqrt(fan_in)."""
    fan_in, _ = fans(shape, layout)
    return _cast(backend.rng().normal(0.0, gain / math.sqrt(fan_in), size=shape))


def uniform_fan_in(shape: tuple[int, ...], layout: str = "in_out", **_: Any) -> Any:
    """U(-a, a) with a = 1 / sqrt(fan_in): PyTorch's default for Linear and Conv layers
    (``kaiming_uniform_`` with a = √5), a standard deviation of 1 / sqrt(3 · fan_in), √6 times
    below He's. Behind BatchNorm the scale of a layer's weights sets how far a step moves its
    output (the step over the weights' norm), so this start trains faster at the same rate."""
    fan_in, _ = fans(shape, layout)
    bound = 1.0 / math.sqrt(fan_in)
    return _cast(backend.rng().uniform(-bound, bound, size=shape))


def orthogonal(shape: tuple[int, ...], gain: float = 1.0, **_: Any) -> Any:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, signs fixed so
    the distribution is uniform (Saxe et al. 2014); extra axes are flattened into the columns."""
    rows, cols = shape[0], math.prod(shape[1:])
    gaussian = backend.rng().normal(0.0, 1.0, size=(max(rows, cols), min(rows, cols)))
    q, r = backend.xp.linalg.qr(backend.xp.asarray(gaussian))
    q = q * backend.xp.sign(backend.xp.diagonal(r))
    matrix = q if rows >= cols else q.T
    return _cast(gain * matrix.reshape(shape))


_INITIALIZERS: dict[str, Callable[..., Any]] = {
    "zeros": zeros,
    "ones": ones,
    "xavier_uniform": xavier_uniform,
    "glorot_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "glorot_normal": xavier_normal,
    "he_uniform": he_uniform,
    "kaiming_uniform": he_uniform,
    "he_normal": he_normal,
    "kaiming_normal": he_normal,
    "uniform_fan_in": uniform_fan_in,
    "orthogonal": orthogonal,
}


def get_initializer(name: str) -> Callable[..., Any]:
    """Look an initializer up by name (configs store names, not functions)."""
    if name not in _INITIALIZERS:
        raise ValueError(f"unknown initializer {name!r}; choose one of {sorted(_INITIALIZERS)}")
    return _uninitialized if getattr(_state, "skip", False) else _INITIALIZERS[name]


@contextlib.contextmanager
def skipped() -> Iterator[None]:
    """Within this block (in this thread), initializers looked up by name give uninitialized arrays.

    For building a network whose every weight is loaded right after
    (:meth:`~smartmod.nn.module.Module.load_state_dict` insists on every one): drawing the
    random weights of a 100,000 x 128 layer only to overwrite them costs about half a second.
    """
    previous = getattr(_state, "skip", False)
    _state.skip = True
    try:
        yield
    finally:
        _state.skip = previous


def _uninitialized(shape: tuple[int, ...], **_: Any) -> Any:
    return backend.xp.empty(shape, dtype=backend.default_dtype())
