"""Residual blocks and the CIFAR ResNet: float64 central differences, and PyTorch float32
comparisons of the blocks and of a whole ResNet-20 (forward, input and every parameter gradient)."""
from __future__ import annotations

import numpy
import pytest
import torch

from smartmod.nn import BasicBlock, BatchNorm, Bottleneck, Conv2d, Dense, ReLU, Residual, Scale, backend
from smartmod.nn.gradcheck import gradcheck
from smartmod.vision.resnet import cifar_resnet
from tests.nn.test_conv_torch import check_network, normal, same_names, torch_mirror
from tests.nn.test_layers_gradcheck import randomize_parameters
from tests.nn.torch_reference import assert_close, copy_parameters

BLOCKS = [
    pytest.param(BasicBlock, 3, 3, 1, id="basic, identity shortcut"),
    pytest.param(BasicBlock, 2, 3, 2, id="basic, projection shortcut with stride 2"),
    pytest.param(Bottleneck, 4, 1, 1, id="bottleneck, identity shortcut"),
    pytest.param(Bottleneck, 2, 1, 2, id="bottleneck, projection shortcut with stride 2"),
]


@pytest.mark.parametrize("block, in_channels, channels, stride", BLOCKS)
def test_residual_block_matches_central_differences(block, in_channels, channels, stride):
    backend.set_default_dtype("float64")
    layer = block(in_channels, channels, stride)
    assert (layer.shortcut is None) == (stride == 1 and in_channels == channels * block.expansion)
    # batches of distinct images, so no BatchNorm sees a near-constant channel
    x = numpy.random.default_rng(1).normal(size=(3, in_channels, 4, 4))
    assert gradcheck(randomize_parameters(layer, seed=2), x)


@pytest.mark.parametrize("block, in_channels, channels, stride", BLOCKS)
def test_residual_block_matches_torch(block, in_channels, channels, stride):
    check_network(block(in_channels, channels, stride), normal((4, in_channels, 6, 6)), rtol=1e-4, atol=1e-4, steps=2)


def test_first_block_on_data_still_trains_both_paths():
    layer = BasicBlock(2, 4, stride=2)
    layer.needs_input_grad = False
    y = layer(normal((2, 2, 4, 4)))
    assert layer.backward(numpy.ones_like(y)) is None
    assert all(numpy.any(parameter.grad != 0) for name, parameter in layer.named_parameters() if name.endswith("0.weight"))


def test_resnet20_matches_the_same_network_in_torch_exactly_in_float64():
    backend.set_default_dtype("float64")
    model = cifar_resnet(20)
    assert model.num_parameters() == 272_474  # the paper's 0.27M, with projection shortcuts
    check_network(model, normal((4, 3, 32, 32)).astype(numpy.float64), rtol=1e-9, atol=1e-10, reference_dtype=torch.float64)


def test_resnet20_forward_matches_torch_in_float32():
    # Gradients are compared in float64 above: in float32 some of the ~10⁶ pre-activations lie
    # within rounding of ReLU's kink and take the other side in one framework or the other
    model = cifar_resnet(20).eval()
    mirror = torch_mirror(model).eval()
    copy_parameters(model, mirror, same_names(model))
    x = normal((4, 3, 32, 32))
    assert_close("forward", model(x), mirror(torch.from_numpy(x)), rtol=1e-4, atol=1e-5, normwise=True)


@pytest.mark.parametrize("depth, block, layers", [(32, "basic", 31), (56, "basic", 55), (29, "bottleneck", 28)])
def test_resnet_depths_count_their_weighted_layers(depth, block, layers):
    model = cifar_resnet(depth, block=block)
    kernels = [name for name, parameter in model.named_parameters() if parameter.data.ndim == 4 and "shortcut" not in name]
    assert len(kernels) + 1 == depth == layers + 1  # convolutions on the main path, plus the Dense layer


@pytest.mark.parametrize("depth, block", [(21, "basic"), (21, "bottleneck"), (2, "basic")])
def test_resnet_refuses_a_depth_the_family_lacks(depth, block):
    with pytest.raises(ValueError, match=r"n \+ 2"):
        cifar_resnet(depth, block=block)


@pytest.mark.parametrize("arguments, message", [(dict(attention="eca"), "attention must be None, 'se' or 'cbam'"), (dict(stride=0), "stride and dilation must be positive")])
def test_block_errors_say_what_was_expected(arguments, message):
    with pytest.raises(ValueError, match=message):
        BasicBlock(4, 4, **arguments)


def test_plain_residual_matches_central_differences():
    backend.set_default_dtype("float64")
    layer = Residual(Conv2d(3, 3, 3, padding=1), BatchNorm(3), ReLU())
    x = numpy.random.default_rng(1).normal(size=(3, 3, 4, 4))
    assert gradcheck(randomize_parameters(layer, seed=2), x)


def test_plain_residual_matches_torch():
    check_network(Residual(Conv2d(4, 4, 3, padding=1, bias=False), BatchNorm(4), ReLU()), normal((4, 4, 6, 6)), rtol=1e-4, atol=1e-4, steps=2)


def test_plain_residual_adds_its_input_and_its_body_with_no_activation_after():
    layer = Residual(Scale(-3.0))
    x = normal((2, 5))
    assert numpy.allclose(layer(x), -2 * x)  # x + (-3x): negative values survive, no ReLU
    assert numpy.allclose(layer.backward(numpy.ones_like(x)), -2.0)


def test_plain_residual_refuses_a_body_that_changes_the_shape():
    with pytest.raises(ValueError, match="keep the shape"):
        Residual(Dense(5, 3))(normal((2, 5)))
    with pytest.raises(ValueError, match="at least one layer"):
        Residual()


@pytest.mark.parametrize("factor", [0.125, -2.0])
def test_scale_matches_central_differences_and_torch(factor):
    check_network(Scale(factor), normal((3, 4)), rtol=1e-6, atol=1e-7)
    backend.set_default_dtype("float64")
    assert gradcheck(Scale(factor), numpy.random.default_rng(0).normal(size=(3, 4)))


@pytest.mark.parametrize("factor", [0, float("nan"), float("inf"), True, "0.5"])
def test_scale_refuses_a_factor_that_is_not_a_finite_nonzero_number(factor):
    with pytest.raises(ValueError, match="finite, non-zero number"):
        Scale(factor)
