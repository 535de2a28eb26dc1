"""Spatial pooling of (N, C, H, W) images: max, average, and the global average and maximum.

Max and average pooling slide a window like a convolution with one tap per channel (see
:class:`~smartmod.nn.layers.im2col.ConvGeometry`); both loop over the kh·kw offsets of the
window, each step a vectorized operation over the batch, pixels and channels, the batch split
between threads (:mod:`smartmod.nn.parallel`).
"""
from __future__ import annotations

from typing import Any

from smartmod.nn import backend, parallel
from smartmod.nn.layers.conv import channels_first, channels_last, pair
from smartmod.nn.layers.im2col import ConvGeometry, Workspace, pad, window
from smartmod.nn.module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "GlobalAvgPool2d", "GlobalMaxPool2d"]


class _WindowPooling(Module):
    """Shared configuration and checks of :class:`MaxPool2d` and :class:`AvgPool2d`."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0):
        super().__init__()
        kernel = pair(kernel_size, "kernel_size")
        stride = kernel if stride is None else pair(stride, "stride")
        padding = pair(padding, "padding")
        if min(*kernel, *stride) < 1:
            raise ValueError(f"{type(self).__name__}: kernel_size and stride must be positive, got {kernel} and {stride}")
        if not all(0 <= p <= k // 2 for p, k in zip(padding, kernel)):
            raise ValueError(f"{type(self).__name__}: padding must lie between 0 and half the kernel {kernel}, got {padding}")
        self.geometry = ConvGeometry(kernel, stride, ((padding[0], padding[0]), (padding[1], padding[1])))
        self._workspace = Workspace()

    def _windows(self, x: Any, fill: float) -> tuple[Any, tuple[int, int]]:
        """x (N, C, H, W) padded by ``fill``, channels-last (N, Hp, Wp, C), and the output size (H', W')."""
        if x.ndim != 4:
            raise ValueError(f"{type(self).__name__} expects images (N, C, H, W), got shape {x.shape}")
        image = channels_last(x)
        self._input_shape = image.shape
        return pad(image, self.geometry, fill, self._workspace), self.geometry.output_size(*image.shape[1:3])

    def _grad_padded(self, grad_output: Any, zeros: bool = True) -> Any:
        """An array the shape of the padded input, (N, Hp, Wp, C), for backward to write into:
        zeros, or uninitialized when every entry will be written."""
        n, height, width, channels = self._input_shape
        (top, bottom), (left, right) = self.geometry.padding
        xp = backend.get_array_module(grad_output)
        return (xp.zeros if zeros else xp.empty)((n, top + height + bottom, left + width + right, channels), dtype=grad_output.dtype)

    def _unpadded(self, grad_padded: Any) -> Any:
        (top, _), (left, _) = self.geometry.padding
        _, height, width, _ = self._input_shape
        return channels_first(grad_padded[:, top:top + height, left:left + width])

    def get_config(self) -> dict[str, Any]:
        return {
            "kernel_size": list(self.geometry.kernel_size),
            "stride": list(self.geometry.stride),
            "padding": [self.geometry.padding[0][0], self.geometry.padding[1][0]],
        }


class MaxPool2d(_WindowPooling):
    """The largest value in each window, per channel, as ``torch.nn.MaxPool2d`` (padding counts as -∞).

    The gradient of each output goes to one input: the window's maximum. When several
    positions tie, the first in row-major window order (top row first, left to right) gets
    all of it, as in PyTorch's CPU kernel; windows that overlap add their gradients.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Defaults to ``kernel_size`` (non-overlapping windows).
    padding : int or (int, int)
        At most half the kernel on each axis.

    Shapes: x (N, C, H, W) → y (N, C, H', W'), H' = ⌊(H + 2 pad - kh) / s⌋ + 1.
    """

    def forward(self, x: Any) -> Any:
        xp = backend.get_array_module(x)
        padded, size = self._windows(x, -float("inf"))
        offsets = self.geometry.offsets()
        n, channels = padded.shape[0], padded.shape[3]
        best = xp.empty((n, *size, channels), dtype=padded.dtype)  # (N, H', W', C)
        # the index of the winning offset: one byte per output for windows up to 127 taps
        self._argmax = xp.zeros(best.shape, dtype=xp.int8 if len(offsets) < 128 else xp.int32)

        def pool(start: int, stop: int) -> None:  # images start to stop
            images, winner, top = padded[start:stop], self._argmax[start:stop], best[start:stop]
            top[...] = window(images, self.geometry, offsets[0], size)
            for index, offset in enumerate(offsets[1:], start=1):
                candidate = window(images, self.geometry, offset, size)
                xp.copyto(winner, index, where=candidate > top)  # strictly: an earlier tie keeps the gradient
                xp.maximum(top, candidate, out=top)  # propagates NaN, as PyTorch does

        parallel.over_batch(pool, n, padded.size)
        return channels_first(best)

    def backward(self, grad_output: Any) -> Any:
        xp = backend.get_array_module(grad_output)
        grad = channels_last(grad_output)  # (N, H', W', C)
        # Windows that tile the input without overlap (stride = kernel, no padding) each own
        # their pixels: the gradient is written once, and only pixels no window reads need zeros.
        tiled = self.geometry.stride == self.geometry.kernel_size and self.geometry.padding == ((0, 0), (0, 0))
        covered = tuple(s * k for s, k in zip(grad.shape[1:3], self.geometry.kernel_size)) == self._input_shape[1:3]
        grad_padded = self._grad_padded(grad, zeros=not (tiled and covered))

        def route(start: int, stop: int) -> None:  # images start to stop
            winner, incoming, target = self._argmax[start:stop], grad[start:stop], grad_padded[start:stop]
            for index, offset in enumerate(self.geometry.offsets()):
                view = window(target, self.geometry, offset, grad.shape[1:3])
                if tiled:
                    xp.multiply(incoming, winner == index, out=view)
                else:
                    view += xp.where(winner == index, incoming, 0)

        parallel.over_batch(route, grad.shape[0], grad_padded.size)
        return self._unpadded(grad_padded)


class AvgPool2d(_WindowPooling):
    """The mean of each window, per channel, as ``torch.nn.AvgPool2d`` with its default
    ``count_include_pad=True``: padded zeros count in the kh·kw divisor.

    Parameters are those of :class:`MaxPool2d`; the gradient of each output is shared equally
    by the kh·kw inputs of its window.
    """

    def forward(self, x: Any) -> Any:
        padded, size = self._windows(x, 0.0)
        offsets = self.geometry.offsets()
        total = window(padded, self.geometry, offsets[0], size).copy()  # (N, H', W', C)
        for offset in offsets[1:]:
            total += window(padded, self.geometry, offset, size)
        total *= 1.0 / len(offsets)
        return channels_first(total)

    def backward(self, grad_output: Any) -> Any:
        offsets = self.geometry.offsets()
        share = channels_last(grad_output) * (1.0 / len(offsets))  # (N, H', W', C)
        grad_padded = self._grad_padded(share)
        for offset in offsets:
            window(grad_padded, self.geometry, offset, share.shape[1:3])[...] += share
        return self._unpadded(grad_padded)


class GlobalAvgPool2d(Module):
    """The mean of each channel over all pixels (Lin, Chen & Yan 2014, "Network in network"):
    (N, C, H, W) → (N, C). Backward spreads each gradient equally over the H·W pixels."""

    def forward(self, x: Any) -> Any:
        if x.ndim != 4:
            raise ValueError(f"GlobalAvgPool2d expects images (N, C, H, W), got shape {x.shape}")
        self._input_shape = channels_last(x).shape
        return x.mean(axis=(2, 3))

    def backward(self, grad_output: Any) -> Any:
        n, height, width, channels = self._input_shape
        grad = backend.get_array_module(grad_output).empty(self._input_shape, dtype=grad_output.dtype)  # (N, H, W, C)
        grad[...] = (grad_output * (1.0 / (height * width)))[:, None, None, :]
        return channels_first(grad)


class GlobalMaxPool2d(Module):
    """The largest value of each channel over all pixels: (N, C, H, W) → (N, C), as
    ``torch.nn.AdaptiveMaxPool2d(1)``. Backward sends each gradient to the first pixel (in
    row-major order) holding the maximum."""

    def forward(self, x: Any) -> Any:
        if x.ndim != 4:
            raise ValueError(f"GlobalMaxPool2d expects images (N, C, H, W), got shape {x.shape}")
        xp = backend.get_array_module(x)
        image = channels_last(x)
        self._input_shape = image.shape
        pixels = image.reshape(image.shape[0], -1, image.shape[3])  # (N, H·W, C)
        self._argmax = pixels.argmax(axis=1)[:, None]  # (N, 1, C)
        return xp.take_along_axis(pixels, self._argmax, axis=1)[:, 0]

    def backward(self, grad_output: Any) -> Any:
        xp = backend.get_array_module(grad_output)
        n, height, width, channels = self._input_shape
        grad = xp.zeros((n, height * width, channels), dtype=grad_output.dtype)
        xp.put_along_axis(grad, self._argmax, grad_output[:, None], axis=1)
        return channels_first(grad.reshape(self._input_shape))
