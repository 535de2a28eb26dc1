"""The CIFAR ResNets of He et al. 2016 ("Deep residual learning for image recognition", §4.2):
ResNet-20, -32, -44, -56, -110, with optional Squeeze-and-Excitation or CBAM in every block.

A 3×3 convolution to ``width`` channels, then three stages of n residual blocks at ``width``,
2·``width`` and 4·``width`` channels (32×32, 16×16 and 8×8 feature maps for CIFAR images, the
first block of stages 2 and 3 halving the size with stride 2), a global average pool and one
Dense layer to the logits: 6n + 2 weighted layers with basic blocks, 9n + 2 with bottlenecks.
Where a block changes shape its shortcut is a 1×1 projection (the paper's option B; its CIFAR
runs used option A, zero-padded identities).
"""
from __future__ import annotations

from smartmod.nn.layers.activations import ReLU
from smartmod.nn.layers.conv import Conv2d
from smartmod.nn.layers.dense import Dense
from smartmod.nn.layers.normalization import BatchNorm
from smartmod.nn.layers.pooling import GlobalAvgPool2d
from smartmod.nn.layers.residual import BasicBlock, Bottleneck
from smartmod.nn.module import Sequential

__all__ = ["cifar_resnet"]

BLOCKS = {"basic": (BasicBlock, 6), "bottleneck": (Bottleneck, 9)}  # block, layers per block in each of 3 stages × 2 (or 3)


def cifar_resnet(depth: int = 20, classes: int = 10, in_channels: int = 3, width: int = 16, block: str = "basic",
                 attention: str | None = None, reduction: int = 16) -> Sequential:
    """The network as a :class:`~smartmod.nn.Sequential`: (N, in_channels, H, W) → (N, classes) logits.

    Parameters
    ----------
    depth : int
        6n + 2 for ``block="basic"`` (20, 32, 44, 56, 110), 9n + 2 for ``"bottleneck"``.
    classes, in_channels : int
    width : int
        Channels of the first stage (16 in the paper); a bottleneck stage outputs 4× as many.
    block : "basic" or "bottleneck"
    attention : None, "se" or "cbam"
        Channel attention at the end of every block's residual branch.
    reduction : int
        Of the attention's MLP.
    """
    if block not in BLOCKS:
        raise ValueError(f"block must be 'basic' or 'bottleneck', got {block!r}")
    block_class, layers_per_stage_block = BLOCKS[block]
    blocks_per_stage, remainder = divmod(depth - 2, layers_per_stage_block)
    if remainder or blocks_per_stage < 1:
        raise ValueError(f"a CIFAR ResNet with {block} blocks has depth {layers_per_stage_block}n + 2 (e.g. {layers_per_stage_block + 2}, "
                         f"{2 * layers_per_stage_block + 2}, {3 * layers_per_stage_block + 2}), got {depth}")
    layers = [Conv2d(in_channels, width, 3, padding=1, bias=False), BatchNorm(width), ReLU()]
    channels = width
    for stage in range(3):
        for index in range(blocks_per_stage):
            stride = 2 if stage > 0 and index == 0 else 1
            layers.append(block_class(channels, width * 2**stage, stride, attention, reduction))
            channels = width * 2**stage * block_class.expansion
    layers += [GlobalAvgPool2d(), Dense(channels, classes)]
    model = Sequential(*layers)
    model.needs_input_grad = False  # the input is images: the first convolution skips its input gradient
    return model
