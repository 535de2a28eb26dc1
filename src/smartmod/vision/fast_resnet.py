"""A shallow, wide residual network that reaches high CIFAR-10 accuracy in few epochs.

In the line of Page's DAWNBench ResNet-9 ("How to train your ResNet", 2018) and Jordan's
airbench ("94% on CIFAR-10 in 3.29 seconds on a single GPU", 2024): few layers, most of the
width at low resolution, max-pooling instead of strided convolutions, and a residual layer
in every stage. Where the CIFAR ResNet-20 spends 41M multiply-adds per 32×32 image over 19
convolutions, this spends about 150M over 7, mostly as wide GEMMs.

    stem     conv3×3 → BN → ReLU                                 (N, w0, 32, 32)
             or fixed 2×2 patch whitening → ReLU                 (N, 8·C, 31, 31)
    stage i  conv3×3 → max-pool 2 → BN → ReLU                    (N, w_i, 32/2^i, 32/2^i)
             + Residual(conv3×3 → BN → ReLU [→ SE or CBAM])
             or, with block="plain" (airbench's), → conv3×3 → BN → ReLU [→ SE or CBAM],
             every convolution's first filters starting as the identity (Dirac) instead
    head     global max-pool → Dense → × logit_scale             (N, classes)
"""
from __future__ import annotations

from collections.abc import Sequence

from smartmod.nn.init import get_initializer
from smartmod.nn.layers.activations import ReLU
from smartmod.nn.layers.conv import Conv2d
from smartmod.nn.layers.dense import Dense
from smartmod.nn.layers.normalization import BatchNorm
from smartmod.nn.layers.pooling import GlobalMaxPool2d, MaxPool2d
from smartmod.nn.layers.residual import ATTENTION, Residual
from smartmod.nn.layers.scale import Scale
from smartmod.nn.layers.whitening import PatchWhitening
from smartmod.nn.module import Module, Sequential

__all__ = ["fast_resnet", "STEMS", "BLOCKS", "dirac_"]

STEMS = ("conv", "whitening")
BLOCKS = ("residual", "plain")


def fast_resnet(classes: int = 10, in_channels: int = 3, widths: Sequence[int] = (32, 64, 256, 256), attention: str | None = None,
                reduction: int = 16, logit_scale: float = 0.125, stem: str = "conv", block: str = "residual",
                init: str | None = None) -> Sequential:
    """The network as a :class:`~smartmod.nn.Sequential`: (N, in_channels, H, W) → (N, classes) logits.

    Parameters
    ----------
    classes, in_channels : int
    widths : sequence of int
        Channels of the stem, then of each stage (each halves the height and width; H and W
        must be at least 2^stages).
    attention : None, "se" or "cbam"
        Channel attention at the end of every residual layer's body.
    reduction : int
        Of the attention's MLP.
    logit_scale : float
        The logits' fixed scale (Page's 0.125).
    stem : "conv" or "whitening"
        A learned conv3×3 → BN → ReLU, or a :class:`~smartmod.nn.PatchWhitening` of 2×2 patches
        (fixed, 8·C channels, so ``widths[0]`` must be 8·in_channels) → ReLU, as in Jordan's
        airbench; its filters come from :meth:`~smartmod.nn.PatchWhitening.fit` on training
        images before training starts.
    block : "residual" or "plain"
        The second convolution of a stage in a residual layer, or plain after the first
        (Jordan's airbench), each convolution's first ``in_channels`` filters then initialized
        to pass their input channel through (:func:`dirac_`): an identity path that training may
        leave, where a residual layer keeps it.
    init : str, optional
        An initializer of :mod:`smartmod.nn.init` for every convolution and the classifier;
        None keeps the layers' own (He normal, Xavier uniform). Airbench starts from PyTorch's
        ``"uniform_fan_in"``: √6 times smaller, which behind BatchNorm means larger effective
        steps, and the identity filters of a plain block then outweigh the random ones.
    """
    if init is not None:
        get_initializer(init)  # an unknown name fails here, naming the choices
    if len(widths) < 2 or any(isinstance(width, bool) or not isinstance(width, int) or width < 1 for width in widths):
        raise ValueError(f"widths must be positive integers, the stem's then at least one stage's, got {list(widths)}")
    if attention is not None and attention not in ATTENTION:
        raise ValueError(f"attention must be None, 'se' or 'cbam', got {attention!r}")
    if block not in BLOCKS:
        raise ValueError(f"block must be one of {', '.join(BLOCKS)}, got {block!r}")
    if stem not in STEMS:
        raise ValueError(f"stem must be one of {', '.join(STEMS)}, got {stem!r}")
    if stem == "whitening" and widths[0] != 8 * in_channels:
        raise ValueError(f"the whitening stem has 8·C = {8 * in_channels} channels (2×2 patches of {in_channels} channels, both signs), "
                         f"so widths[0] must be {8 * in_channels}, got {widths[0]}")
    kernel_init = {} if init is None else {"init": init}
    layers: list[Module] = _conv_bn_relu(in_channels, widths[0], kernel_init) if stem == "conv" else [PatchWhitening(in_channels, 2), ReLU()]
    for previous, width in zip(widths, widths[1:]):
        body = _conv_bn_relu(width, width, kernel_init) + ([ATTENTION[attention](width, reduction)] if attention is not None else [])
        first = Conv2d(previous, width, 3, padding=1, bias=False, **kernel_init)
        layers += [first, MaxPool2d(2), BatchNorm(width), ReLU()]
        if block == "residual":
            layers.append(Residual(*body))
        else:
            dirac_(first)
            dirac_(body[0])
            layers += body
    layers += [GlobalMaxPool2d(), Dense(widths[-1], classes, **kernel_init), Scale(logit_scale)]
    model = Sequential(*layers)
    model.needs_input_grad = False  # the input is images: the first convolution skips its input gradient
    return model


def _conv_bn_relu(in_channels: int, out_channels: int, kernel_init: dict[str, str]) -> list[Module]:
    return [Conv2d(in_channels, out_channels, 3, padding=1, bias=False, **kernel_init), BatchNorm(out_channels), ReLU()]


def dirac_(conv: Conv2d) -> Conv2d:
    """Make the first min(in, out) filters of an odd-sized, ungrouped convolution copy
    their own input channel (a centred 1, zeros elsewhere), as ``torch.nn.init.dirac_`` on
    ``weight[:in_channels]``; the other filters keep their initialization. Returns ``conv``."""
    out_channels, in_channels, height, width = conv.weight.data.shape
    if conv.groups != 1 or height % 2 == 0 or width % 2 == 0:
        raise ValueError(f"dirac_ needs an ungrouped convolution with an odd kernel, got groups={conv.groups}, kernel {height}×{width}")
    kept = min(in_channels, out_channels)
    conv.weight.data[:kept] = 0
    conv.weight.data[range(kept), range(kept), height // 2, width // 2] = 1
    return conv
