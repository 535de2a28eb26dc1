"""Squeeze-and-Excitation and CBAM: float64 central differences and PyTorch float32 comparisons."""
from __future__ import annotations

import numpy
import pytest

from smartmod.nn import CBAM, BasicBlock, ChannelAttention, SpatialAttention, SqueezeExcitation, backend
from smartmod.nn.gradcheck import gradcheck
from tests.nn.test_conv_torch import check_network, normal
from tests.nn.test_layers_gradcheck import randomize_parameters

LAYERS = [
    pytest.param(lambda: SqueezeExcitation(4, reduction=2), id="squeeze-excitation"),
    pytest.param(lambda: ChannelAttention(4, reduction=2), id="cbam channel gate"),
    pytest.param(lambda: SpatialAttention(3), id="cbam spatial gate"),
    pytest.param(lambda: CBAM(4, reduction=2, kernel_size=3), id="cbam"),
]


@pytest.mark.parametrize("make", LAYERS)
@pytest.mark.parametrize("batch", [1, 2])
def test_attention_matches_central_differences(make, batch):
    backend.set_default_dtype("float64")
    x = numpy.random.default_rng(batch).permutation(batch * 4 * 3 * 3).reshape(batch, 4, 3, 3) * 0.1 - 1.5  # distinct: no tied maxima
    assert gradcheck(randomize_parameters(make(), seed=3), x)


@pytest.mark.parametrize("make", LAYERS)
def test_attention_matches_torch(make):
    check_network(make(), normal((3, 4, 5, 6)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("attention", ["se", "cbam"])
def test_attention_inside_a_residual_block_matches_torch(attention):
    check_network(BasicBlock(4, 8, stride=2, attention=attention, reduction=4), normal((4, 4, 6, 6)), rtol=1e-4, atol=1e-4, steps=2)


def test_gates_lie_between_zero_and_one_and_have_their_documented_shapes():
    x = normal((2, 4, 5, 6))
    channel, spatial, se = ChannelAttention(4, 2), SpatialAttention(), SqueezeExcitation(4, 2)
    for layer, shape in ((channel, (2, 4)), (spatial, (2, 1, 5, 6)), (se, (2, 4))):
        layer(x)
        assert layer.gate.shape == shape and numpy.all((layer.gate > 0) & (layer.gate < 1))


def test_a_gate_on_data_still_trains_its_weights():
    layer = CBAM(4, reduction=2)
    layer.needs_input_grad = False
    y = layer(normal((2, 4, 5, 5)))
    assert layer.backward(numpy.ones_like(y)) is None
    assert all(numpy.any(parameter.grad != 0) for parameter in layer.parameters())


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: SqueezeExcitation(4, reduction=0), "positive channels and reduction"),
        (lambda: SpatialAttention(4), "odd positive kernel_size"),
        (lambda: SqueezeExcitation(4)(normal((2, 3, 4, 4))), r"expects images \(N, 4, H, W\)"),
        (lambda: SpatialAttention()(normal((2, 3, 4))), r"expects images \(N, C, H, W\)"),
    ],
)
def test_errors_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("shape", [(3, 16, 4, 4), (2, 5, 7, 1), (2, 300, 2, 3), (4, 3, 13, 11)])
@pytest.mark.parametrize("channels_last", [True, False])
@pytest.mark.parametrize("threads", [1, 3])
def test_channel_scaling_and_dots_over_pixels_side_by_side(shape, channels_last, threads, monkeypatch):
    """scale_channels and channel_dots run on r pixels side by side: the plain broadcasts'
    numbers for any H·W (prime too), any channel count and either memory layout."""
    from smartmod.nn import parallel
    from smartmod.nn.layers.channel_attention import channel_dots, scale_channels

    monkeypatch.setattr(parallel, "threads", lambda: threads)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 0)
    rng = numpy.random.default_rng(9)
    x, g = rng.normal(size=shape), rng.normal(size=shape)
    if channels_last:
        x, g = (numpy.ascontiguousarray(a.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2) for a in (x, g))
    gate, shift = rng.normal(size=shape[:2]), rng.normal(size=shape[:2])
    numpy.testing.assert_allclose(scale_channels(x, gate), x * gate[:, :, None, None], rtol=1e-12, atol=0)
    numpy.testing.assert_allclose(scale_channels(x, gate, shift), x * gate[:, :, None, None] + shift[:, :, None, None], rtol=1e-12, atol=1e-15)
    numpy.testing.assert_allclose(channel_dots(g, x), (g * x).sum(axis=(2, 3)), rtol=1e-10, atol=1e-12)
