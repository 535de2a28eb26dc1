"""Pooling and Flatten: float64 central differences, PyTorch float32 comparisons, and ties.

Max pooling is not differentiable where a window holds two equal maxima, so its gradient
checks draw distinct values; ties are pinned by explicit expectations and by PyTorch, whose
convention (the first maximum in row-major window order takes the whole gradient) we follow.
"""
from __future__ import annotations

import numpy
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from smartmod.nn import AvgPool2d, Flatten, GlobalAvgPool2d, GlobalMaxPool2d, MaxPool2d, backend
from smartmod.nn.gradcheck import gradcheck
from tests.nn.torch_reference import check_against_torch

WINDOWS = [  # kernel_size, stride, padding
    pytest.param(2, None, 0, id="2x2 non-overlapping"),
    pytest.param(3, 2, 1, id="3x3 stride 2 padded: overlapping"),
    pytest.param((2, 3), 1, (1, 1), id="2x3 stride 1 padded"),
    pytest.param(3, 3, 0, id="3x3 dropping the last row and column"),
]


def distinct(shape: tuple[int, ...], seed: int, dtype=numpy.float64) -> numpy.ndarray:
    """Values at least 0.1 apart, so no central difference crosses a tie."""
    values = numpy.random.default_rng(seed).permutation(numpy.prod(shape)) * 0.1 - 1.0
    return values.reshape(shape).astype(dtype)


def ties(shape: tuple[int, ...], seed: int) -> numpy.ndarray:
    """Integers 0, 1, 2 as float32: most windows hold several equal maxima."""
    return numpy.random.default_rng(seed).integers(0, 3, size=shape).astype(numpy.float32)


@pytest.fixture
def float64_layers(_reset_backend):
    backend.set_default_dtype("float64")


@pytest.mark.usefixtures("float64_layers")
@pytest.mark.parametrize("layer", [MaxPool2d, AvgPool2d])
@pytest.mark.parametrize("kernel_size, stride, padding", WINDOWS)
@given(batch=st.integers(1, 2), channels=st.integers(1, 3), height=st.integers(3, 6), width=st.integers(3, 6), seed=st.integers(0, 2**16))
def test_window_pooling_matches_central_differences(layer, kernel_size, stride, padding, batch, channels, height, width, seed):
    assert gradcheck(layer(kernel_size, stride, padding), distinct((batch, channels, height, width), seed))


@pytest.mark.usefixtures("float64_layers")
@pytest.mark.parametrize("layer", [GlobalAvgPool2d, GlobalMaxPool2d, Flatten])
@given(batch=st.integers(1, 3), channels=st.integers(1, 3), height=st.integers(1, 4), width=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_global_pooling_and_flatten_match_central_differences(layer, batch, channels, height, width, seed):
    assert gradcheck(layer(), distinct((batch, channels, height, width), seed))


@pytest.mark.parametrize("ours, theirs", [(MaxPool2d, torch.nn.MaxPool2d), (AvgPool2d, torch.nn.AvgPool2d)], ids=["max", "average"])
@pytest.mark.parametrize("kernel_size, stride, padding", WINDOWS)
@pytest.mark.parametrize("seed", [0, 1])
def test_window_pooling_with_ties_matches_torch(ours, theirs, kernel_size, stride, padding, seed):
    x = ties((2, 3, 7, 6), seed)
    check_against_torch(ours(kernel_size, stride, padding), theirs(kernel_size, stride, padding), x)


@pytest.mark.parametrize(
    "ours, theirs",
    [(GlobalAvgPool2d, lambda x: x.mean(dim=(2, 3))), (GlobalMaxPool2d, lambda x: torch.nn.functional.adaptive_max_pool2d(x, 1)[:, :, 0, 0]),
     (Flatten, torch.nn.Flatten())],
    ids=["global average", "global max", "flatten"],
)
def test_global_pooling_with_ties_and_flatten_match_torch(ours, theirs):
    check_against_torch(ours(), theirs, ties((3, 4, 5, 2), seed=2))


def test_max_pool_gives_a_tied_windows_gradient_to_its_first_maximum():
    x = numpy.array([[[[1.0, 3.0], [3.0, 3.0]]]], dtype=numpy.float32)  # three maxima: (0, 1), (1, 0), (1, 1)
    layer = MaxPool2d(2)
    assert layer(x).tolist() == [[[[3.0]]]]
    assert layer.backward(numpy.array([[[[5.0]]]], dtype=numpy.float32)).tolist() == [[[[0.0, 5.0], [0.0, 0.0]]]]


def test_overlapping_max_windows_add_their_gradients():
    x = numpy.array([[[[0.0, 9.0, 0.0, 0.0]]]], dtype=numpy.float32)
    layer = MaxPool2d((1, 2), stride=1)  # windows [0, 9], [9, 0], [0, 0]
    assert layer(x).tolist() == [[[[9.0, 9.0, 0.0]]]]
    assert layer.backward(numpy.ones((1, 1, 1, 3), dtype=numpy.float32)).tolist() == [[[[0.0, 2.0, 1.0, 0.0]]]]


def test_max_pool_propagates_nan_like_torch():
    x = numpy.array([[[[1.0, numpy.nan], [2.0, 0.0]]]], dtype=numpy.float32)
    assert numpy.isnan(MaxPool2d(2)(x)).all()
    assert torch.isnan(torch.nn.MaxPool2d(2)(torch.from_numpy(x))).all()


def test_average_pool_counts_padding_in_the_divisor_like_torch():
    x = numpy.ones((1, 1, 2, 2), dtype=numpy.float32)
    assert AvgPool2d(2, stride=2, padding=1)(x).tolist() == [[[[0.25, 0.25], [0.25, 0.25]]]]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: MaxPool2d(2, padding=2), "padding must lie between 0 and half the kernel"),
        (lambda: AvgPool2d(0), "kernel_size and stride must be positive"),
        (lambda: MaxPool2d("2"), "kernel_size must be an int or a pair"),
        (lambda: MaxPool2d(2)(numpy.ones((2, 3, 4), dtype=numpy.float32)), r"expects images \(N, C, H, W\)"),
        (lambda: MaxPool2d(5)(numpy.ones((1, 1, 3, 3), dtype=numpy.float32)), "smaller than the window"),
        (lambda: GlobalMaxPool2d()(numpy.ones((2, 3), dtype=numpy.float32)), r"expects images \(N, C, H, W\)"),
        (lambda: Flatten()(numpy.ones(3, dtype=numpy.float32)), "at least 2 axes"),
    ],
)
def test_errors_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
