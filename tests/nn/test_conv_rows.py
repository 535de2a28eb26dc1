"""Stride-1 convolutions by rows (:mod:`smartmod.nn.layers.conv_rows`) against im2col, in float64.

The row path is what every stride-1, one-group Conv2d with a window wider than a pixel runs on
the CPU; im2col is the path it replaced there and still runs strided and grouped layers. Both
must give the same output and gradients whatever the chunking of the batch (down to one image a
chunk, where U's rows straddle no image boundary, and images split over three threads) and the
memory layout of the input and of ∂y.
"""
from __future__ import annotations

import numpy
import pytest

from smartmod.nn import Conv2d, backend, parallel
from smartmod.nn.gradcheck import gradcheck
from smartmod.nn.layers import conv_rows
from tests.nn.test_layers_gradcheck import float64, randomize_parameters  # noqa: F401 (float64: an autouse fixture)

CASES = {
    "3x3 same": (dict(kernel_size=3, padding=1), (5, 3, 7, 6)),
    "5x5 valid": (dict(kernel_size=5), (4, 2, 8, 9)),
    "1x3": (dict(kernel_size=(1, 3), padding=(0, 1)), (3, 2, 4, 6)),
    "2x3 padded on the rows only": (dict(kernel_size=(2, 3), padding=(1, 0)), (3, 2, 4, 6)),
    "3x1": (dict(kernel_size=(3, 1), padding=(1, 0)), (3, 2, 5, 4)),
    "dilated 3x3": (dict(kernel_size=3, padding=2, dilation=2), (3, 2, 7, 7)),
    "dilated rows only": (dict(kernel_size=3, padding=(2, 1), dilation=(2, 1)), (3, 2, 6, 5)),
    "even kernel, same": (dict(kernel_size=(2, 4), padding="same"), (4, 3, 5, 6)),
    "window as large as the input": (dict(kernel_size=(4, 3)), (2, 2, 4, 3)),
}


def run(layer: Conv2d, x: numpy.ndarray, grad: numpy.ndarray) -> tuple:
    layer.zero_grad()
    layer.needs_input_grad = True
    y = layer(x)
    dx = layer.backward(grad)
    return y.copy(), dx.copy(), layer.weight.grad.copy(), layer.bias.grad.copy()


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("chunk_bytes", [1, 16384, conv_rows.CHUNK_BYTES])
@pytest.mark.parametrize("threads", [1, 3])
def test_rows_match_im2col(name, chunk_bytes, threads, monkeypatch):
    arguments, shape = CASES[name]
    rng = numpy.random.default_rng(0)
    layer = randomize_parameters(Conv2d(shape[1], 3, bias=True, **arguments))
    x = rng.normal(size=shape)
    grad = rng.normal(size=layer(x).shape)
    monkeypatch.setattr(conv_rows, "applies", lambda *args: False)
    expected = run(layer, x, grad)
    assert not layer._by_rows
    monkeypatch.undo()
    monkeypatch.setattr(conv_rows, "CHUNK_BYTES", chunk_bytes)
    monkeypatch.setattr(parallel, "threads", lambda: threads)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 0)
    got = run(layer, x, grad)
    assert layer._by_rows
    for label, a, b in zip(["output", "input gradient", "kernel gradient", "bias gradient"], got, expected):
        numpy.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"{name}: {label}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_rows_pass_gradcheck_one_image_a_chunk_on_three_threads(name, monkeypatch):
    arguments, shape = CASES[name]
    monkeypatch.setattr(conv_rows, "CHUNK_BYTES", 1)
    monkeypatch.setattr(parallel, "threads", lambda: 3)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 0)
    layer = randomize_parameters(Conv2d(shape[1], 2, **arguments))
    assert gradcheck(layer, numpy.random.default_rng(1).normal(size=shape))
    assert layer._by_rows


def test_rows_read_inputs_and_gradients_in_either_memory_layout():
    rng = numpy.random.default_rng(2)
    layer = randomize_parameters(Conv2d(3, 4, 3, padding=1))
    x = rng.normal(size=(2, 3, 5, 6))  # contiguous (N, C, H, W)
    channels_last = numpy.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)  # the same numbers, channels-last
    grad = rng.normal(size=(2, 4, 5, 6))
    first, second = run(layer, x, grad), run(layer, channels_last, numpy.ascontiguousarray(grad.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2))
    for a, b in zip(first, second):
        numpy.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "arguments, by_rows",
    [
        (dict(kernel_size=3, padding=1), True),
        (dict(kernel_size=3, stride=2, padding=1), False),  # strided: im2col and col2im
        (dict(kernel_size=3, stride=(1, 2), padding=1), False),
        (dict(kernel_size=1), False),  # pointwise: the input is its own column matrix
        (dict(kernel_size=3, padding=1, groups=2), False),
        (dict(kernel_size=1, padding=1), False),  # padded beyond the window: no transposed convolution
    ],
)
def test_which_layers_run_by_rows(arguments, by_rows):
    layer = Conv2d(2, 2, **arguments)
    layer(numpy.zeros((1, 2, 4, 4)))
    assert layer._by_rows is by_rows


def test_the_workspace_of_each_thread_keeps_zero_borders_between_calls():
    """The padded scratch is reused: a call on different images must not see the last one's pixels."""
    layer = randomize_parameters(Conv2d(1, 1, 3, padding=1, bias=False))
    x = numpy.random.default_rng(3).normal(size=(2, 1, 4, 4))
    first = layer(x).copy()
    layer(numpy.full_like(x, 1e6))
    numpy.testing.assert_allclose(layer(x), first, rtol=1e-12, atol=0)
    assert backend.backend_name() == "numpy"


def test_layers_whose_padded_inputs_have_one_shape_but_different_borders_do_not_share_them():
    """A (7, 3) window padded by (3, 1) around a 3x4 map and a 3x3 one padded by 1 around a 7x4
    map both pad to 9x6: each must see zeros in its own border."""
    wide, narrow = randomize_parameters(Conv2d(1, 1, (7, 3), padding=(3, 1))), randomize_parameters(Conv2d(1, 1, 3, padding=1))
    small, large = (numpy.random.default_rng(4).normal(size=(2, 1, rows, 4)) for rows in (3, 7))
    alone = run(wide, small, small[:, :, ::-1])
    run(narrow, large * 1e6, large * 1e6)
    again = run(wide, small, small[:, :, ::-1])
    for a, b in zip(again, alone):
        numpy.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
