"""Conv2d, BatchNorm on convolution outputs, and whole convolutional networks against PyTorch, in
float32 with copied weights: forward, input gradient and every parameter gradient.

:func:`torch_mirror` builds the same network in PyTorch, module for module under the same
names, so the weights copy across by name (Dense's transposed).
"""
from __future__ import annotations

import numpy
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from smartmod.nn import (
    CBAM,
    AvgPool2d,
    BasicBlock,
    BatchNorm,
    Bottleneck,
    ChannelAttention,
    Conv2d,
    Dense,
    Flatten,
    GlobalAvgPool2d,
    GlobalMaxPool2d,
    MaxPool2d,
    PatchWhitening,
    ReLU,
    Residual,
    Scale,
    Sequential,
    Sigmoid,
    SpatialAttention,
    SqueezeExcitation,
)
from smartmod.nn.module import Module
from smartmod.vision.small_cnn import small_cnn
from tests.nn.test_conv_gradcheck import convolutions
from tests.nn.torch_reference import assert_close, check_against_torch, same, transpose


class _Residual(torch.nn.Module):
    """ReLU(body(x) + shortcut(x)) for the ResNet blocks; body(x) + x for a plain ``Residual``."""

    def __init__(self, body, shortcut, activation=True):
        super().__init__()
        self.body, self.shortcut, self.activation = body, shortcut, activation

    def forward(self, x):
        y = self.body(x) + (x if self.shortcut is None else self.shortcut(x))
        return torch.relu(y) if self.activation else y


class _Scale(torch.nn.Module):
    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor


class _FixedConv(torch.nn.Module):
    """A convolution by fixed filters, kept as a buffer named like PatchWhitening's."""

    def __init__(self, weight):
        super().__init__()
        self.register_buffer("weight", weight)

    def forward(self, x):
        return torch.nn.functional.conv2d(x, self.weight)


class _Gate(torch.nn.Module):
    """x times a gate computed from x: SE, CBAM's channel gate or its spatial gate."""

    def __init__(self, kind, **children):
        super().__init__()
        self.kind = kind
        for name, child in children.items():
            setattr(self, name, child)

    def forward(self, x):
        if self.kind == "se":
            return x * self.excitation(x.mean(dim=(2, 3)))[:, :, None, None]
        if self.kind == "channel":
            scores = self.mlp(x.mean(dim=(2, 3))) + self.mlp(x.amax(dim=(2, 3)))
            return x * torch.sigmoid(scores)[:, :, None, None]
        described = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(described))


def torch_mirror(module: Module) -> torch.nn.Module:
    """The PyTorch network computing what ``module`` computes, its parameters under the same names."""
    if isinstance(module, Conv2d):
        config = module.get_config()
        padding = config["padding"] if isinstance(config["padding"], str) else tuple(config["padding"])
        return torch.nn.Conv2d(config["in_channels"], config["out_channels"], tuple(config["kernel_size"]), tuple(config["stride"]),
                               padding, tuple(config["dilation"]), config["groups"], config["bias"])
    if isinstance(module, BatchNorm):
        return torch.nn.BatchNorm2d(module.num_features, module.eps, module.momentum, module.affine)
    if isinstance(module, Dense):
        return torch.nn.Linear(module.in_features, module.out_features, module.use_bias)
    if isinstance(module, (MaxPool2d, AvgPool2d)):
        config = module.get_config()
        return getattr(torch.nn, type(module).__name__)(tuple(config["kernel_size"]), tuple(config["stride"]), tuple(config["padding"]))
    simple = {ReLU: torch.nn.ReLU, Sigmoid: torch.nn.Sigmoid, Flatten: torch.nn.Flatten}
    if type(module) in simple:
        return simple[type(module)]()
    if isinstance(module, GlobalAvgPool2d):
        return torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    if isinstance(module, GlobalMaxPool2d):
        return torch.nn.Sequential(torch.nn.AdaptiveMaxPool2d(1), torch.nn.Flatten())
    if isinstance(module, Sequential):
        return torch.nn.Sequential(*(torch_mirror(child) for child in module))
    if isinstance(module, (BasicBlock, Bottleneck)):
        return _Residual(torch_mirror(module.body), None if module.shortcut is None else torch_mirror(module.shortcut))
    if isinstance(module, Residual):
        return _Residual(torch_mirror(module.body), None, activation=False)
    if isinstance(module, Scale):
        return _Scale(module.factor)
    if isinstance(module, PatchWhitening):
        return _FixedConv(torch.from_numpy(numpy.array(module.weight)))
    if isinstance(module, SqueezeExcitation):
        return _Gate("se", excitation=torch_mirror(module.excitation))
    if isinstance(module, ChannelAttention):
        return _Gate("channel", mlp=torch_mirror(module.mlp))
    if isinstance(module, SpatialAttention):
        return _Gate("spatial", conv=torch_mirror(module.conv))
    if isinstance(module, CBAM):
        mirror = torch.nn.Sequential()
        mirror.add_module("channel", torch_mirror(module.channel))
        mirror.add_module("spatial", torch_mirror(module.spatial))
        return mirror
    raise TypeError(f"no PyTorch mirror for {type(module).__name__}")


def same_names(module: Module) -> dict:
    """``{our name: (torch name, transform)}`` for a model and its :func:`torch_mirror`."""
    dense = {name for name, child in module.named_modules() if isinstance(child, Dense)}
    return {name: (name, transpose if name.rsplit(".", 1)[0] in dense and name.endswith("weight") else same)
            for name, _ in module.named_parameters()}


def check_network(model: Module, x: numpy.ndarray, rtol: float, atol: float, steps: int = 1, reference_dtype: torch.dtype | None = None) -> None:
    """``model`` and its mirror agree for ``steps`` training batches (running statistics move), then in eval mode."""
    model.needs_input_grad = True
    mirror = torch_mirror(model)
    for step in range(steps):
        check_against_torch(model, mirror, x + step, same_names(model), mirror, rtol=rtol, atol=atol, normwise=True, reference_dtype=reference_dtype)
    theirs = dict(mirror.named_buffers())
    for name, mine in model.named_buffers():
        assert_close(name, mine, theirs[name], rtol=rtol, atol=atol)
    model.eval(), mirror.eval()
    check_against_torch(model, mirror, x, same_names(model), mirror, rtol=rtol, atol=atol, normwise=True, reference_dtype=reference_dtype)


def normal(shape: tuple[int, ...], seed: int = 0) -> numpy.ndarray:
    return numpy.random.default_rng(seed).normal(size=shape).astype(numpy.float32)


@given(convolutions())
def test_conv2d_matches_torch(case):
    layer, x = case
    layer.astype(numpy.float32)
    mirror = torch_mirror(layer)
    # sums of up to ~100 products of normal values: float32 rounding relative to the largest entry
    check_against_torch(layer, mirror, x.astype(numpy.float32), same_names(layer), mirror, rtol=1e-5, atol=1e-5, normwise=True)


def test_conv2d_of_float64_images_computes_in_the_layers_float32():
    layer = Conv2d(2, 3, 3)
    assert layer(normal((1, 2, 4, 4)).astype(numpy.float64)).dtype == numpy.float32


def test_conv2d_output_is_a_channels_last_view_the_next_layer_reads_in_place():
    y = Conv2d(3, 4, 3, padding=1)(normal((2, 3, 5, 5)))
    assert y.shape == (2, 4, 5, 5)
    assert y.transpose(0, 2, 3, 1).flags.c_contiguous


@pytest.mark.parametrize("seed", range(3))
def test_batch_norm_on_channels_last_convolution_outputs_matches_batch_norm_2d(seed):
    model = Sequential(Conv2d(3, 4, 3, padding=1, bias=False), BatchNorm(4, momentum=0.3))  # a bias before BN gets 0 gradient
    model[1].weight.data[...] = normal((4,), seed + 1) + 1
    model[1].bias.data[...] = normal((4,), seed + 2)
    check_network(model, normal((4, 3, 6, 5), seed), rtol=1e-4, atol=1e-5, steps=3)


def test_small_cnn_matches_torch():
    check_network(small_cnn(in_channels=2, widths=(4, 6), classes=3), normal((3, 2, 8, 8)), rtol=1e-4, atol=1e-5, steps=2)


@pytest.mark.parametrize("padding", ["valid", 1])
def test_conv2d_errors_say_what_was_expected(padding):
    with pytest.raises(ValueError, match=r"expects images \(N, 3, H, W\)"):
        Conv2d(3, 2, 3, padding=padding)(normal((2, 4, 5, 5)))


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(in_channels=3, out_channels=4, kernel_size=3, groups=2), "divisible by groups"),
        (dict(in_channels=3, out_channels=4, kernel_size=0), "must be positive"),
        (dict(in_channels=3, out_channels=4, kernel_size=3, stride=2, padding="same"), "padding='same' needs stride 1"),
        (dict(in_channels=3, out_channels=4, kernel_size=3, padding="full"), "padding must be 'same', 'valid'"),
        (dict(in_channels=3, out_channels=4, kernel_size=3, padding=-1), "non-negative"),
        (dict(in_channels=3, out_channels=4, kernel_size=(3, 3, 3)), "pair of ints"),
    ],
)
def test_conv2d_refuses_bad_configurations(arguments, message):
    with pytest.raises(ValueError, match=message):
        Conv2d(**arguments)
