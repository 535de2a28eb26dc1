"""Convolution with a stride of 1 down the rows, by unfolding the rows only, chunk by chunk.

:func:`~smartmod.nn.layers.im2col.im2col` copies every receptive field, kh·kw·C numbers per
output pixel, into a column matrix that for a 16-channel 32×32 batch of 128 is 75 MB: it does
not stay in any cache, so the product reads it back from memory, and with 16 output columns
BLAS spends as long packing it as multiplying (about 35 GFLOP/s on one core here, against 90 at
64 channels). When windows step one row at a time, the receptive field of output pixel (p, q)
is kh pieces, one per kernel row i, each the same piece of the width-unfolded input U taken at
row p + i·d_h:

    U[n, r, q]   = x_padded[n, r, q·s_w + j·d_w, c]   for j < kw, c < C      (kw·C numbers)
    y[n, p, q]   = Σ_i U[n, p + i·d_h, q] W_i                                 (W_i: kernel row i, (kw·C, K))
    ∂W_i         = Σ_{n, p, q} U[n, p + i·d_h, q]ᵀ ∂y[n, p, q]

so only the width is unfolded (kw times the input, not kh·kw times), and for kernel row i the
rows p + i·d_h of U are a plain matrix view: each product is one GEMM on U in place. Images go
through in chunks small enough that their U stays in cache between the copy and the kh
products, so U is never written to memory at all; backward makes it again, chunk by chunk,
instead of keeping it. The input gradient at stride 1 is itself such a convolution (of ∂y,
padded, with the kernel flipped in space and its channels swapped; see
:meth:`~smartmod.nn.Conv2d._input_gradient`).

It took ResNet-20's training step (``bench/cnn_speed.py``, two cores) from 521 to 338-374 ms,
PyTorch's 260-285. For strided layers, channel groups, 1×1
kernels (no copy to save) and the GPU (where one big product is what the device wants), the
layer keeps im2col.
"""
from __future__ import annotations

import threading
from typing import Any

from smartmod.nn import backend, parallel
from smartmod.nn.layers.im2col import ConvGeometry, Workspace

__all__ = ["applies", "kernel_rows", "convolve", "kernel_gradient"]

# A chunk's width-unfolded input stays under this many bytes, so that it is still in cache when
# the products read it (ResNet-20's step, bench/cnn_speed.py: 1-2 MB fastest, 4 and 8 MB slower).
CHUNK_BYTES = 2 << 20

_local = threading.local()  # each thread's scratch arrays: slices run at once


def _scratch() -> Workspace:
    if not hasattr(_local, "workspace"):
        _local.workspace = Workspace()
    return _local.workspace


def applies(geometry: ConvGeometry, groups: int, x: Any) -> bool:
    """Whether a convolution of ``x`` runs by rows: one group, stride 1, a window wider than one
    pixel, on the CPU. (Rows alone would do for the forward product, but the input gradient is
    a convolution of the same kind only at stride 1.)"""
    return groups == 1 and geometry.stride == (1, 1) and not geometry.is_pointwise and backend.get_array_module(x).__name__ == "numpy"


def kernel_rows(weight: Any) -> Any:
    """A kernel (K, C, kh, kw) as its kh row matrices (kh, kw·C, K), rows ordered (j, c) like U's columns."""
    k, c, kh, kw = weight.shape
    return weight.transpose(2, 3, 1, 0).reshape(kh, kw * c, k)


def _unfolded(x: Any, geometry: ConvGeometry, start: int, stop: int, name: str) -> Any:
    """U of images ``start`` to ``stop`` of x (N, H, W, C): (n, Hp, W', kw·C), in this thread's scratch."""
    xp = backend.get_array_module(x)
    n, height, width, channels = stop - start, *x.shape[1:]
    (top, bottom), (left, right) = geometry.padding
    kw, d_w = geometry.kernel_size[1], geometry.dilation[1]
    padded_shape = (n, top + height + bottom, left + width + right, channels)
    cols = geometry.output_size(height, width)[1]
    scratch = _scratch()
    # borders stay 0: the key names where the interior lies, which is all that is ever written
    padded = scratch.get(f"{name} padded {padded_shape} {geometry.padding}", padded_shape, x.dtype, fill=0.0)
    padded[:, top:top + height, left:left + width] = x[start:stop]
    s_n, s_h, s_w, s_c = padded.strides
    shape = (n, padded_shape[1], cols, kw, channels)
    unfolded = scratch.get(f"{name} unfolded {shape}", shape, x.dtype)
    unfolded[...] = xp.lib.stride_tricks.as_strided(padded, shape, (s_n, s_h, s_w, s_w * d_w, s_c), writeable=False)
    return unfolded.reshape(n, padded_shape[1], cols, kw * channels)


def _chunks(geometry: ConvGeometry, x: Any, start: int, stop: int) -> list[tuple[int, int]]:
    """Consecutive ranges of images ``start`` to ``stop`` whose U holds at most :data:`CHUNK_BYTES` (one image at least)."""
    _, height, width, channels = x.shape
    (top, bottom), _ = geometry.padding
    per_image = (top + height + bottom) * geometry.output_size(height, width)[1] * geometry.kernel_size[1] * channels * x.itemsize
    size = max(1, CHUNK_BYTES // per_image)
    return [(first, min(first + size, stop)) for first in range(start, stop, size)]


def convolve(x: Any, kernel: Any, geometry: ConvGeometry, out: Any, name: str = "x") -> Any:
    """``out`` (N, H', W', K) = the convolution of x (N, H, W, C) with ``kernel`` as
    :func:`kernel_rows` (kh, kw·C, K), row stride 1; the batch split between threads, each
    going through its slice chunk by chunk. Returns ``out``."""
    xp = backend.get_array_module(x)
    rows, cols = out.shape[1], out.shape[2]
    d_h = geometry.dilation[0]

    def run(start: int, stop: int) -> None:
        for first, last in _chunks(geometry, x, start, stop):
            unfolded = _unfolded(x, geometry, first, last, name)  # (n, Hp, W', kw·C)
            n = last - first
            y = out[first:last].reshape(n, rows * cols, -1)
            partial = _scratch().get(f"product {y.shape}", y.shape, out.dtype)
            for i in range(kernel.shape[0]):
                taps = unfolded[:, i * d_h:i * d_h + rows].reshape(n, rows * cols, -1)
                if i == 0:
                    xp.matmul(taps, kernel[0], out=y)
                else:
                    xp.matmul(taps, kernel[i], out=partial)
                    y += partial

    parallel.over_batch(run, x.shape[0], x.size * geometry.kernel_size[1] + out.size)
    return out


def kernel_gradient(x: Any, grad: Any, geometry: ConvGeometry) -> Any:
    """∂W as :func:`kernel_rows` (kh, kw·C, K) from the layer's input x (N, H, W, C) and
    ∂y (N, H', W', K): U made again chunk by chunk, each thread summing its slice's part.

    Each image's part is its own product (kw·C, H'·W') @ (H'·W', K), summed over the chunk:
    faster here than one product over the whole chunk, whose long inner dimension BLAS splits.
    """
    xp = backend.get_array_module(x)
    n_images, rows, cols, k = grad.shape
    kh, d_h = geometry.kernel_size[0], geometry.dilation[0]
    channels = x.shape[3] * geometry.kernel_size[1]

    def run(start: int, stop: int) -> Any:
        total = xp.zeros((kh, channels, k), dtype=grad.dtype)
        for first, last in _chunks(geometry, x, start, stop):
            unfolded = _unfolded(x, geometry, first, last, "x")  # (n, Hp, W', kw·C)
            n = last - first
            g = grad[first:last].reshape(n, rows * cols, k)  # a copy only when ∂y is not channels-last
            parts = _scratch().get(f"kernel parts {(n, channels, k)}", (n, channels, k), grad.dtype)
            for i in range(kh):
                taps = unfolded[:, i * d_h:i * d_h + rows].reshape(n, rows * cols, channels)
                xp.matmul(taps.transpose(0, 2, 1), g, out=parts)
                total[i] += parts.sum(axis=0)
        return total

    partials = parallel.over_batch(run, n_images, x.size * geometry.kernel_size[1] + grad.size)
    total = partials[0]
    for partial in partials[1:]:
        total += partial
    return total
