"""Conv2d's backward against central differences, in float64.

Hypothesis draws every combination of stride, padding ("valid", "same", ints) and dilation,
with groups, a batch of one, 1×1 kernels and kernels as large as the padded input; named tests
pin the paths the draws might miss. ``gradcheck`` perturbs each input and weight by ±1e-6 and
compares with backward at rtol 1e-5, atol 1e-7.
"""
from __future__ import annotations

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartmod.nn import Conv2d
from smartmod.nn.gradcheck import gradcheck
from tests.nn.test_layers_gradcheck import float64, randomize_parameters  # noqa: F401 (float64: an autouse fixture)


def images(shape: tuple[int, ...], seed: int = 0) -> numpy.ndarray:
    return numpy.random.default_rng(seed).normal(size=shape)


@st.composite
def convolutions(draw) -> tuple[Conv2d, numpy.ndarray]:
    """A randomly configured layer and an input it accepts (N ≤ 2, at most 6 pixels a side)."""
    groups = draw(st.integers(1, 2))
    in_channels, out_channels = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["valid", "same"]) if stride == (1, 1) else st.just("valid"))
    padding = draw(st.sampled_from([padding, (draw(st.integers(0, 2)), draw(st.integers(0, 2)))]))
    pads = (0, 0) if isinstance(padding, str) else padding
    # sides from the smallest the window fits (output 1 pixel: a kernel as large as the input) up
    sides = [draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), max(1, d * (k - 1) + 1 - 2 * p) + 3)) for k, d, p in zip(kernel, dilation, pads)]
    layer = Conv2d(in_channels, out_channels, kernel, stride, padding, dilation, groups, bias=draw(st.booleans()))
    x = images((draw(st.integers(1, 2)), in_channels, *sides), seed=draw(st.integers(0, 2**16)))
    return randomize_parameters(layer, seed=draw(st.integers(0, 2**16))), x


@given(convolutions())
def test_conv2d_over_strides_paddings_dilations_and_groups(case):
    layer, x = case
    assert gradcheck(layer, x)


@pytest.mark.parametrize(
    "arguments, shape",
    [
        pytest.param(dict(kernel_size=3, padding=1), (1, 2, 4, 5), id="batch of one, same size"),
        pytest.param(dict(kernel_size=1), (2, 3, 3, 2), id="pointwise 1x1: the input is its own column matrix"),
        pytest.param(dict(kernel_size=1, padding=1), (1, 2, 2, 2), id="1x1 padded beyond the window: col2im"),
        pytest.param(dict(kernel_size=(3, 4)), (2, 2, 3, 4), id="kernel as large as the input"),
        pytest.param(dict(kernel_size=3, stride=2, padding=1), (2, 2, 5, 6), id="stride 2: col2im"),
        pytest.param(dict(kernel_size=2, padding="same", dilation=2), (1, 2, 4, 4), id="same padding of an even dilated kernel"),
        pytest.param(dict(kernel_size=3, padding=1, groups=2), (1, 2, 3, 3), id="depthwise: one channel per group"),
    ],
)
def test_conv2d_named_cases(arguments, shape):
    layer = randomize_parameters(Conv2d(shape[1], 2, **arguments))
    assert gradcheck(layer, images(shape))


def test_conv2d_weight_gradient_without_an_input_gradient():
    layer = randomize_parameters(Conv2d(2, 3, 3, padding=1))
    layer.needs_input_grad = False
    x = images((2, 2, 4, 4))
    layer(x)
    assert layer.backward(numpy.ones((2, 3, 4, 4))) is None
    assert gradcheck(layer, x, check_inputs=False)


def test_conv2d_backward_accepts_a_gradient_in_either_memory_layout():
    layer = randomize_parameters(Conv2d(2, 3, 3, padding=1))
    x = images((2, 2, 4, 4))
    grad_output = images((2, 3, 4, 4), seed=1)  # contiguous (N, C, H, W), not the layer's channels-last output
    assert gradcheck(layer, x, grad_output=grad_output)
