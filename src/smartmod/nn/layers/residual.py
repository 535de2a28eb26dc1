"""Residual blocks (He, Zhang, Ren & Sun 2016, "Deep residual learning for image recognition").

A block learns a residual F(x) beside a shortcut S(x) and outputs ReLU(F(x) + S(x)). The
shortcut is the identity when F keeps the shape of x, and otherwise a projection (a 1×1
convolution with the block's stride, then BatchNorm: the paper's option B). The gradient
reaches x along both paths and the two are added, which is what lets 30+ layers train.

- :class:`BasicBlock`: F = conv3×3 → BN → ReLU → conv3×3 → BN (ResNet-18/34 and the CIFAR ResNets).
- :class:`Bottleneck`: F = conv1×1 → BN → ReLU → conv3×3 → BN → ReLU → conv1×1 (4× wider) → BN
  (ResNet-50 and deeper); the stride sits on the 3×3 convolution.
- :class:`Residual`: y = x + F(x) for any shape-keeping F, with no activation after the sum
  (the residual layers of Page's DAWNBench ResNet-9, where F ends in its own ReLU).

Either may end F with channel attention, ``"se"`` (Hu et al. 2018) or ``"cbam"`` (Woo et al.
2018), applied before the addition as in both papers.
"""
from __future__ import annotations

from typing import Any

from smartmod.nn.layers.activations import ReLU
from smartmod.nn.layers.channel_attention import CBAM, SqueezeExcitation
from smartmod.nn.layers.conv import Conv2d
from smartmod.nn.layers.normalization import BatchNorm
from smartmod.nn.module import Module, Sequential

__all__ = ["BasicBlock", "Bottleneck", "Residual"]

ATTENTION = {"se": SqueezeExcitation, "cbam": CBAM}


def _conv_bn(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> list[Module]:
    """A bias-free convolution padded to keep the size (at stride 1), then BatchNorm."""
    return [Conv2d(in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2, bias=False), BatchNorm(out_channels)]


class _ResidualBlock(Module):
    """y = ReLU(F(x) + S(x)) for a residual ``body`` F and a ``shortcut`` S (None: the identity)."""

    expansion = 1  # output channels per unit of ``channels``

    def __init__(self, in_channels: int, channels: int, stride: int, attention: str | None, reduction: int, body: list[Module]):
        super().__init__()
        out_channels = channels * self.expansion
        if attention is not None and attention not in ATTENTION:
            raise ValueError(f"attention must be None, 'se' or 'cbam', got {attention!r}")
        if attention is not None:
            body.append(ATTENTION[attention](out_channels, reduction))
        self.body = Sequential(*body)
        self.shortcut = Sequential(*_conv_bn(in_channels, out_channels, 1, stride)) if stride != 1 or in_channels != out_channels else None
        self.relu = ReLU()
        self.in_channels, self.channels, self.stride, self.attention, self.reduction = in_channels, channels, stride, attention, reduction

    def forward(self, x: Any) -> Any:
        shortcut = x if self.shortcut is None else self.shortcut(x)
        return self.relu(self.body(x) + shortcut)

    def backward(self, grad_output: Any) -> Any:
        grad = self.relu.backward(grad_output)
        for path in (self.body, self.shortcut):
            if path is not None:
                object.__setattr__(path, "needs_input_grad", self.needs_input_grad)
        grad_body = self.body.backward(grad)
        grad_shortcut = grad if self.shortcut is None else self.shortcut.backward(grad)
        if not self.needs_input_grad:
            return None  # the input is data; both paths' weights have their gradients
        return grad_body + grad_shortcut

    def get_config(self) -> dict[str, Any]:
        return {"in_channels": self.in_channels, "channels": self.channels, "stride": self.stride,
                "attention": self.attention, "reduction": self.reduction}


class BasicBlock(_ResidualBlock):
    """Two 3×3 convolutions: (N, in_channels, H, W) → (N, channels, H / stride, W / stride).

    Parameters
    ----------
    in_channels, channels : int
    stride : int
        Of the first convolution (and of the projection shortcut).
    attention : None, "se" or "cbam"
    reduction : int
        Of the attention's MLP.
    """

    def __init__(self, in_channels: int, channels: int, stride: int = 1, attention: str | None = None, reduction: int = 16):
        body = [*_conv_bn(in_channels, channels, 3, stride), ReLU(), *_conv_bn(channels, channels, 3)]
        super().__init__(in_channels, channels, stride, attention, reduction, body)


class Bottleneck(_ResidualBlock):
    """1×1 reduce, 3×3, 1×1 expand: (N, in_channels, H, W) → (N, 4 · channels, H / stride, W / stride).

    Parameters are those of :class:`BasicBlock`; ``channels`` is the width of the 3×3 convolution.
    """

    expansion = 4

    def __init__(self, in_channels: int, channels: int, stride: int = 1, attention: str | None = None, reduction: int = 16):
        body = [*_conv_bn(in_channels, channels, 1), ReLU(), *_conv_bn(channels, channels, 3, stride), ReLU(),
                *_conv_bn(channels, channels * self.expansion, 1)]
        super().__init__(in_channels, channels, stride, attention, reduction, body)


class Residual(Module):
    """y = x + F(x) for a ``body`` F that keeps the shape of x: (N, ...) → (N, ...).

    Backward: ∂L/∂x = ∂L/∂y + F'(x)ᵀ ∂L/∂y, the identity path and the body's added.

    Parameters
    ----------
    *layers : Module
        The body F, applied in order (a :class:`~smartmod.nn.Sequential` of them).
    """

    def __init__(self, *layers: Module):
        super().__init__()
        if not layers:
            raise ValueError("Residual needs at least one layer in its body")
        self.body = Sequential(*layers)

    def forward(self, x: Any) -> Any:
        y = self.body(x)
        if y.shape != x.shape:
            raise ValueError(f"a Residual body must keep the shape of its input: {x.shape} went in, {y.shape} came out")
        return x + y

    def backward(self, grad_output: Any) -> Any:
        object.__setattr__(self.body, "needs_input_grad", self.needs_input_grad)
        grad_body = self.body.backward(grad_output)
        if not self.needs_input_grad:
            return None  # the input is data; the body's weights have their gradients
        return grad_output + grad_body

    def get_config(self) -> dict[str, Any]:
        return {"layers": self.body.get_config()["layers"]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Residual":
        return cls(*Sequential.from_config(config))
