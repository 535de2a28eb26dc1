"""Weight storage formats for shipped models: float32, float16, or int8 with one scale per column.

int8 stores ``q = round(W / s)`` with ``s = max |W[:, j]| / 127`` for each output column ``j``
(symmetric, per-channel quantization), so every weight is off by at most ``s / 2``; loading
multiplies back. Quantization only shrinks the file: computation stays float32.
"""
from __future__ import annotations

import numpy

__all__ = ["STORAGE_FORMATS", "quantize_state", "dequantize_state"]

STORAGE_FORMATS = ("float32", "float16", "int8")
_Q, _SCALE = ".int8", ".scale"


def quantize_state(state: dict[str, numpy.ndarray], storage: str) -> dict[str, numpy.ndarray]:
    """Arrays to save for ``state`` in ``storage`` format. Matrices are quantized; vectors
    (biases, normalization parameters) stay float32 under int8, being tiny and sensitive."""
    if storage not in STORAGE_FORMATS:
        raise ValueError(f"unknown weight storage {storage!r}; choose one of {STORAGE_FORMATS}")
    stored: dict[str, numpy.ndarray] = {}
    for name, value in state.items():
        value = numpy.asarray(value)
        if value.dtype.kind != "f" or storage == "float32":
            stored[name] = value
        elif storage == "float16":
            stored[name] = value.astype(numpy.float16)
        elif value.ndim < 2:
            stored[name] = value.astype(numpy.float32)
        else:
            scale = numpy.abs(value).max(axis=tuple(range(value.ndim - 1)), keepdims=True) / 127.0
            scale[scale == 0] = 1.0
            stored[name + _Q] = numpy.clip(numpy.rint(value / scale), -127, 127).astype(numpy.int8)
            stored[name + _SCALE] = scale.astype(numpy.float32)
    return stored


def dequantize_state(stored: dict[str, numpy.ndarray]) -> dict[str, numpy.ndarray]:
    """The float32 state dict back from :func:`quantize_state`'s arrays."""
    state: dict[str, numpy.ndarray] = {}
    for name, value in stored.items():
        if name.endswith(_SCALE):
            continue
        if name.endswith(_Q):
            base = name[: -len(_Q)]
            if base + _SCALE not in stored:
                raise ValueError(f"quantized weight {base!r} has no scale entry {base + _SCALE!r}")
            weight = value.astype(numpy.float32)
            weight *= stored[base + _SCALE]  # in place: a wide layer's float32 copy is 51 MB
            state[base] = weight
        else:
            state[name] = value.astype(numpy.float32) if value.dtype == numpy.float16 else value
    return state
