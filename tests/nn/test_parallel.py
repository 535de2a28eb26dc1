"""Batch slices on threads (smartmod.nn.parallel): the split covers the batch, errors surface after
every slice has finished, BLAS runs one thread per slice, and every image layer and attention
computes the same outputs and gradients split three ways as in one piece."""
from __future__ import annotations

import threading
from typing import Callable

import numpy
import pytest
from threadpoolctl import threadpool_info

from smartmod import nn
from smartmod.nn import backend, parallel
from smartmod.nn.layers.attention import ScaledDotProductAttention, causal_mask
from smartmod.nn.module import Module
from tests.nn.test_conv_module import CATALOG


@pytest.mark.parametrize("size, parts", [(0, 2), (1, 3), (5, 3), (128, 2), (7, 7), (3, 8)])
def test_slices_cover_the_batch_in_order_with_sizes_at_most_one_apart(size, parts):
    ranges = parallel.slices(size, parts)
    assert ranges[0][0] == 0 and ranges[-1][1] == size
    assert all(stop == start for (_, stop), (start, _) in zip(ranges, ranges[1:]))
    lengths = [stop - start for start, stop in ranges]
    assert len(ranges) == max(1, min(parts, size)) and max(lengths) - min(lengths) <= 1


@pytest.fixture
def three_threads(monkeypatch):
    """Every pass split into three slices, however small."""
    monkeypatch.setattr(parallel, "threads", lambda: 3)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 0)


def test_slices_run_on_several_threads_and_return_in_batch_order(three_threads):
    names = parallel.over_batch(lambda start, stop: (start, stop, threading.current_thread().name), 9, 9)
    assert [(start, stop) for start, stop, _ in names] == [(0, 3), (3, 6), (6, 9)]
    assert names[0][2] == threading.current_thread().name
    assert all(name.startswith("smartmod-batch") for _, _, name in names[1:])


def test_small_passes_stay_on_the_calling_thread(monkeypatch):
    monkeypatch.setattr(parallel, "threads", lambda: 3)
    names = parallel.over_batch(lambda start, stop: threading.current_thread().name, 9, parallel.MIN_ELEMENTS - 1)
    assert names == [threading.current_thread().name]


def test_an_error_in_one_slice_is_raised_after_every_slice_finished(three_threads):
    finished = []

    def work(start: int, stop: int) -> None:
        if start == 0:
            raise ValueError("first slice failed")
        threading.Event().wait(0.05)
        finished.append(start)

    with pytest.raises(ValueError, match="first slice failed"):
        parallel.over_batch(work, 9, 9)
    assert sorted(finished) == [3, 6]


def test_blas_runs_one_thread_inside_slices_and_gets_its_threads_back(three_threads):
    def blas_threads() -> list[int]:
        return [library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"]

    before = blas_threads()
    inside = parallel.over_batch(lambda start, stop: blas_threads(), 9, 9)
    assert all(counts == [1] * len(before) for counts in inside)
    assert blas_threads() == before


EXTRA: dict[str, Callable[[], Module]] = {
    "Conv2d 3x3 padded": lambda: nn.Conv2d(4, 5, 3, padding=1, bias=True),
    "Conv2d stride 2": lambda: nn.Conv2d(4, 3, 3, stride=2, padding=1),
    "Conv2d pointwise": lambda: nn.Conv2d(4, 6, 1),
    "Conv2d pointwise strided": lambda: nn.Conv2d(4, 6, 1, stride=2, groups=2),
    "MaxPool2d 2x2": lambda: nn.MaxPool2d(2),
    "MaxPool2d 3x3 dropping the last row": lambda: nn.MaxPool2d(3),
    "AvgPool2d 2x2": lambda: nn.AvgPool2d(2),
    "BatchNorm": lambda: nn.BatchNorm(4),
    "BatchNorm without affine": lambda: nn.BatchNorm(4, affine=False),
    "ReLU": nn.ReLU,
}
LAYERS = {**CATALOG, **EXTRA}


def run(make: Callable[[], Module], mode: str, x: numpy.ndarray, grad_seed: int) -> tuple:
    backend.seed(3)
    module = getattr(make(), mode)()
    module.needs_input_grad = True
    y = module(x)
    dx = module.backward(numpy.random.default_rng(grad_seed).normal(size=y.shape))
    return y, dx, {name: p.grad.copy() for name, p in module.named_parameters()}, module.state_dict()


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_layers_split_three_ways_match_one_piece(name, mode, monkeypatch):
    backend.set_default_dtype("float64")
    x = numpy.random.default_rng(1).normal(size=(5, 4, 9, 8))
    monkeypatch.setattr(parallel, "threads", lambda: 1)
    whole = run(LAYERS[name], mode, x, 2)
    monkeypatch.setattr(parallel, "threads", lambda: 3)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 0)
    split = run(LAYERS[name], mode, x, 2)
    for label, a, b in [("output", whole[0], split[0]), ("input gradient", whole[1], split[1])]:
        numpy.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12, err_msg=f"{name} {mode}: {label}")
    for key in whole[2]:
        numpy.testing.assert_allclose(split[2][key], whole[2][key], rtol=1e-12, atol=1e-12, err_msg=f"{name} {mode}: ∂{key}")
    for key in whole[3]:
        numpy.testing.assert_allclose(split[3][key], whole[3][key], rtol=1e-12, atol=1e-12, err_msg=f"{name} {mode}: {key}")


ATTENTION_MASKS = {
    "none": lambda rng: None,
    "causal (T, S)": lambda rng: causal_mask(6, 7),
    "padding (B, 1, 1, S)": lambda rng: rng.random((5, 1, 1, 7)) < 0.3,
    "additive (B, H, T, S)": lambda rng: rng.normal(size=(5, 2, 6, 7)),
}


@pytest.mark.parametrize("mask", sorted(ATTENTION_MASKS))
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_attention_split_three_ways_matches_one_piece(mask, dropout, monkeypatch):
    backend.set_default_dtype("float64")
    rng = numpy.random.default_rng(4)
    query, key, value = rng.normal(size=(5, 2, 6, 3)), rng.normal(size=(5, 2, 7, 3)), rng.normal(size=(1, 2, 7, 4))
    grad = rng.normal(size=(5, 2, 6, 4))
    blocked = ATTENTION_MASKS[mask](rng)

    def run_once() -> list[numpy.ndarray]:
        backend.seed(3)  # the same dropout mask both times
        layer = ScaledDotProductAttention(dropout)
        output = layer(query, key, value, blocked)
        return [output, layer.attention_weights.copy(), *layer.backward(grad)]

    monkeypatch.setattr(parallel, "threads", lambda: 1)
    whole = run_once()
    monkeypatch.setattr(parallel, "threads", lambda: 3)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 0)
    split = run_once()
    for label, a, b in zip(["output", "weights", "d query", "d key", "d value"], whole, split):
        assert b.shape == a.shape, label
        numpy.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12, err_msg=f"mask {mask}, dropout {dropout}: {label}")
