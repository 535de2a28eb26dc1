"""A small VGG-style convolutional network (Simonyan & Zisserman 2015) for 28×28 and 32×32 images.

Stages of (conv 3×3 → BatchNorm → ReLU) × ``convs_per_stage`` followed by a 2×2 max-pool, the
width growing stage by stage (32, 64, 128 by default); then a global average pool and one
Dense layer to the class logits. The convolutions have no bias: the BatchNorm after each one
subtracts it out and adds its own.
"""
from __future__ import annotations

from typing import Sequence

from smartmod.nn.layers.activations import ReLU
from smartmod.nn.layers.conv import Conv2d
from smartmod.nn.layers.dense import Dense
from smartmod.nn.layers.normalization import BatchNorm
from smartmod.nn.layers.pooling import GlobalAvgPool2d, MaxPool2d
from smartmod.nn.module import Sequential

__all__ = ["small_cnn"]


def small_cnn(in_channels: int = 3, classes: int = 10, widths: Sequence[int] = (32, 64, 128), convs_per_stage: int = 2) -> Sequential:
    """The network as a :class:`~smartmod.nn.Sequential`: (N, in_channels, H, W) images → (N, classes) logits.

    Each stage halves H and W (rounding down), so the input needs at least 2^len(widths) pixels a side.
    """
    if not widths or convs_per_stage < 1:
        raise ValueError(f"small_cnn needs at least one stage and one convolution per stage, got widths={widths!r}, convs_per_stage={convs_per_stage}")
    layers = []
    channels = in_channels
    for width in widths:
        for _ in range(convs_per_stage):
            layers += [Conv2d(channels, width, 3, padding=1, bias=False), BatchNorm(width), ReLU()]
            channels = width
        layers.append(MaxPool2d(2))
    layers += [GlobalAvgPool2d(), Dense(channels, classes)]
    model = Sequential(*layers)
    model.needs_input_grad = False  # the input is images: the first convolution skips its input gradient
    return model
