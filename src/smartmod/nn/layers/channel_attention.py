"""Attention that rescales feature maps: Squeeze-and-Excitation and CBAM.

- :class:`SqueezeExcitation` (Hu, Shen & Sun 2018, "Squeeze-and-excitation networks", eq. 2-4):
  s = σ(W₂ ReLU(W₁ z)) with z the global average of each channel; y = s ⊙ x channel by channel.
- :class:`ChannelAttention` and :class:`SpatialAttention`, chained by :class:`CBAM` (Woo, Park,
  Lee & Kweon 2018, "CBAM: Convolutional block attention module", eq. 1-3):
  M_c = σ(MLP(AvgPool(x)) + MLP(MaxPool(x))) rescales channels, then
  M_s = σ(f⁷ˣ⁷([mean over channels; max over channels])) rescales pixels.

Each takes and returns (N, C, H, W). A product y = x ⊙ m with m = m(x) has the input gradient
g ⊙ m + (the gradient that flows through m), which every backward below adds up.
"""
from __future__ import annotations

from typing import Any

from smartmod.nn import backend, parallel
from smartmod.nn.layers.activations import ReLU, Sigmoid
from smartmod.nn.layers.conv import Conv2d, channels_first, channels_last
from smartmod.nn.layers.dense import Dense
from smartmod.nn.layers.normalization import rows_side_by_side
from smartmod.nn.layers.pooling import GlobalAvgPool2d, GlobalMaxPool2d
from smartmod.nn.module import Module, Sequential

__all__ = ["SqueezeExcitation", "ChannelAttention", "SpatialAttention", "CBAM", "scale_channels", "channel_dots"]


def _bottleneck_mlp(channels: int, reduction: int, name: str) -> list[Module]:
    """Dense(C, C/r) → ReLU → Dense(C/r, C): the excitation of SE and the shared MLP of CBAM."""
    if channels < 1 or reduction < 1:
        raise ValueError(f"{name} needs positive channels and reduction, got channels={channels}, reduction={reduction}")
    hidden = max(1, channels // reduction)
    return [Dense(channels, hidden, init="he_uniform"), ReLU(), Dense(hidden, channels)]


def _pixel_rows(x: Any) -> tuple[Any, int]:
    """x (N, C, H, W) as (N, H·W / r, r·C): each image's pixels, r of them side by side (a view of
    channels-last memory; r from :func:`~smartmod.nn.layers.normalization.rows_side_by_side`), and r.
    A per-channel vector repeated r times then broadcasts along rows of about 256 numbers instead of C."""
    n, channels = x.shape[:2]
    pixels = channels_last(x).reshape(n, -1, channels)
    r = rows_side_by_side(pixels.shape[1], channels)
    return pixels.reshape(n, -1, r * channels), r


def scale_channels(x: Any, gate: Any, shift: Any = None) -> Any:
    """``x ⊙ gate (+ shift)`` with gate and shift (N, C) broadcast over the pixels of x (N, C, H, W),
    as a channels-last (N, C, H, W); the batch split between threads."""
    xp = backend.get_array_module(x)
    pixels, r = _pixel_rows(x)
    gate = xp.tile(gate, (1, r))[:, None, :]
    shift = None if shift is None else xp.tile(shift, (1, r))[:, None, :]
    y = xp.empty(pixels.shape, dtype=xp.result_type(x, gate))

    def run(start: int, stop: int) -> None:
        xp.multiply(pixels[start:stop], gate[start:stop], out=y[start:stop])
        if shift is not None:
            y[start:stop] += shift[start:stop]

    parallel.over_batch(run, x.shape[0], x.size)
    n, channels, height, width = x.shape
    return channels_first(y.reshape(n, height, width, channels))


def channel_dots(a: Any, b: Any) -> Any:
    """``Σ_pixels a ⊙ b`` per image and channel, (N, C), for a and b (N, C, H, W)."""
    xp = backend.get_array_module(a)
    (left, r), (right, _) = _pixel_rows(a), _pixel_rows(b)
    parts = parallel.over_batch(lambda start, stop: xp.einsum("npc,npc->nc", left[start:stop], right[start:stop]), a.shape[0], 2 * a.size)
    return xp.concatenate(parts).reshape(a.shape[0], r, a.shape[1]).sum(axis=1)


def _check_images(x: Any, channels: int, name: str) -> None:
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"{name} expects images (N, {channels}, H, W), got shape {x.shape}")


class SqueezeExcitation(Module):
    """Rescale each channel by a gate computed from all channels' global averages.

    Parameters
    ----------
    channels : int
        C.
    reduction : int
        r: the hidden layer has max(1, C // r) units (16 in the paper).

    Shapes: x (N, C, H, W) → y (N, C, H, W); the gate s (N, C) is kept as ``self.gate``.
    """

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.channels, self.reduction = channels, reduction
        self.squeeze = GlobalAvgPool2d()
        self.excitation = Sequential(*_bottleneck_mlp(channels, reduction, "SqueezeExcitation"), Sigmoid())

    def forward(self, x: Any) -> Any:
        _check_images(x, self.channels, "SqueezeExcitation")
        self._x = x
        self.gate = self.excitation(self.squeeze(x))  # (N, C)
        return scale_channels(x, self.gate)

    def backward(self, grad_output: Any) -> Any:
        grad_gate = channel_dots(grad_output, self._x)  # (N, C)
        grad_squeezed = self.excitation.backward(grad_gate)  # (N, C); the MLP's weights get their gradients
        if not self.needs_input_grad:
            return None
        # the squeeze (a global average) spreads its gradient evenly over the H·W pixels
        return scale_channels(grad_output, self.gate, grad_squeezed / (grad_output.shape[2] * grad_output.shape[3]))

    def get_config(self) -> dict[str, Any]:
        return {"channels": self.channels, "reduction": self.reduction}


class ChannelAttention(Module):
    """CBAM's channel gate: M_c = σ(MLP(avg) + MLP(max)) from each channel's global average and
    maximum through one shared MLP; y = M_c ⊙ x. Parameters as :class:`SqueezeExcitation`."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.channels, self.reduction = channels, reduction
        self.average, self.maximum = GlobalAvgPool2d(), GlobalMaxPool2d()
        self.mlp = Sequential(*_bottleneck_mlp(channels, reduction, "ChannelAttention"))
        self.sigmoid = Sigmoid()

    def forward(self, x: Any) -> Any:
        _check_images(x, self.channels, "ChannelAttention")
        xp = backend.get_array_module(x)
        self._x = x
        n = x.shape[0]
        pooled = xp.concatenate([self.average(x), self.maximum(x)])  # (2N, C): one pass through the shared MLP
        scores = self.mlp(pooled)
        self.gate = self.sigmoid(scores[:n] + scores[n:])  # (N, C)
        return scale_channels(x, self.gate)

    def backward(self, grad_output: Any) -> Any:
        xp = backend.get_array_module(grad_output)
        n = grad_output.shape[0]
        grad_sum = self.sigmoid.backward(channel_dots(grad_output, self._x))  # (N, C)
        grad_pooled = self.mlp.backward(xp.concatenate([grad_sum, grad_sum]))  # (2N, C)
        if not self.needs_input_grad:
            return None
        # the average pool spreads its gradient evenly over the H·W pixels; the maximum sends it to one
        grad_input = scale_channels(grad_output, self.gate, grad_pooled[:n] / (grad_output.shape[2] * grad_output.shape[3]))
        return grad_input + self.maximum.backward(grad_pooled[n:])

    def get_config(self) -> dict[str, Any]:
        return {"channels": self.channels, "reduction": self.reduction}


class SpatialAttention(Module):
    """CBAM's spatial gate: M_s = σ(conv_k×k([mean_c x; max_c x])) (N, 1, H, W); y = M_s ⊙ x.

    The maximum over channels sends its gradient to the first channel holding it.

    Parameters
    ----------
    kernel_size : int
        k, odd (7 in the paper); the convolution pads by k // 2 so H and W are kept.
    """

    def __init__(self, kernel_size: int = 7):
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"SpatialAttention needs an odd positive kernel_size, got {kernel_size}")
        self.kernel_size = kernel_size
        self.conv = Conv2d(2, 1, kernel_size, padding=kernel_size // 2, init="xavier_uniform")
        self.sigmoid = Sigmoid()

    def forward(self, x: Any) -> Any:
        if x.ndim != 4:
            raise ValueError(f"SpatialAttention expects images (N, C, H, W), got shape {x.shape}")
        xp = backend.get_array_module(x)
        self._x = x
        self._argmax = x.argmax(axis=1)  # (N, H, W): the first channel holding each maximum
        maximum = xp.take_along_axis(x, self._argmax[:, None], axis=1)  # (N, 1, H, W)
        described = xp.concatenate([x.mean(axis=1, keepdims=True), maximum], axis=1)  # (N, 2, H, W)
        self.gate = self.sigmoid(self.conv(described))  # (N, 1, H, W)
        return x * self.gate

    def backward(self, grad_output: Any) -> Any:
        xp = backend.get_array_module(grad_output)
        grad_gate = (grad_output * self._x).sum(axis=1, keepdims=True)  # (N, 1, H, W)
        grad_described = self.conv.backward(self.sigmoid.backward(grad_gate))  # (N, 2, H, W)
        if not self.needs_input_grad:
            return None
        channels = self._x.shape[1]
        grad_input = grad_output * self.gate + grad_described[:, :1] * (1.0 / channels)
        channel = xp.arange(channels)[None, :, None, None]
        return grad_input + (channel == self._argmax[:, None]) * grad_described[:, 1:]

    def get_config(self) -> dict[str, Any]:
        return {"kernel_size": self.kernel_size}


class CBAM(Module):
    """Channel attention, then spatial attention, on (N, C, H, W) feature maps.

    Parameters
    ----------
    channels : int
    reduction : int
        Of the channel gate's MLP (16 in the paper).
    kernel_size : int
        Of the spatial gate's convolution (7 in the paper).
    """

    def __init__(self, channels: int, reduction: int = 16, kernel_size: int = 7):
        super().__init__()
        self.channel, self.spatial = ChannelAttention(channels, reduction), SpatialAttention(kernel_size)

    def forward(self, x: Any) -> Any:
        return self.spatial(self.channel(x))

    def backward(self, grad_output: Any) -> Any:
        object.__setattr__(self.channel, "needs_input_grad", self.needs_input_grad)
        return self.channel.backward(self.spatial.backward(grad_output))

    def get_config(self) -> dict[str, Any]:
        return {"channels": self.channel.channels, "reduction": self.channel.reduction, "kernel_size": self.spatial.kernel_size}
