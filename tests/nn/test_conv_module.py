"""The Module contract for the image layers: JSON configuration round trips, float32 throughout,
and networks that skip the input gradient of their first layer."""
from __future__ import annotations

import json
from typing import Callable

import numpy
import pytest

from smartmod import nn
from smartmod.nn import backend, layer_from_config
from smartmod.nn.module import Module
from smartmod.vision.fast_resnet import fast_resnet
from smartmod.vision.resnet import cifar_resnet
from smartmod.vision.small_cnn import small_cnn
from tests.nn.test_conv_torch import normal
from tests.nn.test_module import assert_float32

# Every image layer with non-default arguments; each takes (2, 4, 8, 8) images.
CATALOG: dict[str, Callable[[], Module]] = {
    "Conv2d": lambda: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2, bias=False, init="xavier_uniform"),
    "Conv2d same": lambda: nn.Conv2d(4, 4, 3, padding="same"),
    "MaxPool2d": lambda: nn.MaxPool2d(3, stride=2, padding=1),
    "AvgPool2d": lambda: nn.AvgPool2d((2, 3), stride=1),
    "GlobalAvgPool2d": nn.GlobalAvgPool2d,
    "GlobalMaxPool2d": nn.GlobalMaxPool2d,
    "Flatten": nn.Flatten,
    "BasicBlock": lambda: nn.BasicBlock(4, 8, stride=2, attention="se", reduction=4),
    "Bottleneck": lambda: nn.Bottleneck(4, 2, attention="cbam", reduction=2),
    "Residual": lambda: nn.Residual(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm(4), nn.ReLU()),
    "Scale": lambda: nn.Scale(0.125),
    "PatchWhitening": lambda: nn.PatchWhitening(4, (2, 3), eps=1e-3).fit(normal((3, 4, 8, 8), seed=5)),
    "SqueezeExcitation": lambda: nn.SqueezeExcitation(4, reduction=2),
    "ChannelAttention": lambda: nn.ChannelAttention(4, reduction=2),
    "SpatialAttention": lambda: nn.SpatialAttention(5),
    "CBAM": lambda: nn.CBAM(4, reduction=2, kernel_size=3),
    "small CNN": lambda: small_cnn(in_channels=4, widths=(4, 6)),
    "ResNet-8 with CBAM": lambda: cifar_resnet(8, in_channels=4, width=4, attention="cbam", reduction=2),
    "fast ResNet with SE": lambda: fast_resnet(in_channels=4, widths=(4, 6, 8), attention="se", reduction=2),
}


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_config_round_trip_through_json_rebuilds_an_identical_layer(name):
    original, x = CATALOG[name](), normal((2, 4, 8, 8))
    original(x)  # one training forward: running statistics move
    rebuilt = layer_from_config(json.loads(json.dumps(original.to_config())))
    assert type(rebuilt) is type(original)
    assert rebuilt.get_config() == original.get_config()
    rebuilt.load_state_dict(original.state_dict())
    for mode in ("train", "eval"):
        getattr(original, mode)(), getattr(rebuilt, mode)()
        assert numpy.array_equal(rebuilt(x), original(x)), f"{name} in {mode} mode: rebuilt output differs"


@pytest.mark.parametrize("name", sorted(CATALOG))
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_float32_stays_float32_through_forward_and_backward(name, mode):
    module, x = getattr(CATALOG[name](), mode)(), normal((2, 4, 8, 8))
    module.needs_input_grad = True
    y = module(x)
    dx = module.backward(numpy.ones_like(y))
    assert_float32(module, y, dx)
    assert dx.shape == x.shape


@pytest.mark.parametrize("build", [small_cnn, cifar_resnet, fast_resnet], ids=["small CNN", "ResNet-20", "fast ResNet"])
def test_networks_skip_the_input_gradient_of_their_first_convolution(build):
    model = build()
    y = model(normal((2, 3, 32, 32)))
    assert model.backward(numpy.ones_like(y)) is None
    assert numpy.any(model[0].weight.grad != 0)


def test_float64_layers_compute_in_float64():
    backend.set_default_dtype("float64")
    y = small_cnn(in_channels=1, widths=(2,))(normal((2, 1, 4, 4)))
    assert y.dtype == numpy.float64
