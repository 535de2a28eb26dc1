"""The Vision Transformer's own layers: patch embedding, class token and its pooling.

Backward against central differences in float64 (hypothesis shapes: batches of one, one patch,
non-square patches); the patch embedding against PyTorch's ``unfold`` + ``Linear`` in float32 and
against our own ``Conv2d`` with kernel = stride = patch; JSON round trips, float32 throughout,
and errors that say what to change.
"""
from __future__ import annotations

import json
from typing import Callable

import numpy
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from smartmod import nn
from smartmod.nn import backend, layer_from_config
from smartmod.nn.gradcheck import gradcheck
from smartmod.nn.layers.class_token import ClassToken, ClassTokenPooling
from smartmod.nn.layers.patch_embedding import PatchEmbedding
from smartmod.nn.module import Module
from tests.nn.test_layers_gradcheck import randomize_parameters
from tests.nn.test_module import assert_float32
from tests.nn.torch_reference import check_against_torch, same, transpose


def normal(shape: tuple[int, ...], seed: int = 0, dtype: str = "float64") -> numpy.ndarray:
    return numpy.random.default_rng(seed).normal(size=shape).astype(dtype)


@st.composite
def patch_embeddings(draw) -> tuple[PatchEmbedding, numpy.ndarray]:
    """A float64 layer with random weights and images it accepts: N ≤ 2, C ≤ 2, up to 3×3 patches of up to 3×2 pixels."""
    patch = (draw(st.integers(1, 3)), draw(st.integers(1, 2)))
    channels, rows, cols = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    layer = randomize_parameters(PatchEmbedding(patch, channels, draw(st.integers(1, 3))), seed=draw(st.integers(0, 2**16)))
    x = normal((draw(st.integers(1, 2)), channels, rows * patch[0], cols * patch[1]), seed=draw(st.integers(0, 2**16)))
    return layer, x


@given(patch_embeddings())
def test_patch_embedding_gradient(case):
    layer, x = case
    assert gradcheck(layer.astype("float64"), x)


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2**16))
def test_class_token_gradient(batch, length, width, seed):
    layer = randomize_parameters(ClassToken(width).astype("float64"), seed)
    assert gradcheck(layer, normal((batch, length, width), seed))


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2**16))
def test_class_token_pooling_gradient(batch, length, width, seed):
    assert gradcheck(ClassTokenPooling(), normal((batch, length, width), seed))


def test_class_token_is_the_first_output_and_pooling_takes_it_back():
    layer, x = ClassToken(3), normal((2, 4, 3), dtype="float32")
    tokens = layer(x)
    assert tokens.shape == (2, 5, 3)
    assert numpy.array_equal(tokens[:, 0], numpy.broadcast_to(layer.weight.data, (2, 3)))
    assert numpy.array_equal(tokens[:, 1:], x)
    assert numpy.array_equal(ClassTokenPooling()(tokens), tokens[:, 0])
    assert numpy.array_equal(ClassTokenPooling()(tokens, numpy.ones((2, 5), dtype=bool)), tokens[:, 0])  # a padding mask is ignored


@pytest.mark.parametrize("patch, seed", [(2, 0), ((4, 2), 1), (1, 2)])
def test_patch_embedding_matches_torch_unfold_and_linear(patch, seed):
    layer = PatchEmbedding(patch, 3, 5)
    layer.needs_input_grad = True
    layer.projection.bias.data[...] = normal((5,), seed, "float32")
    linear = torch.nn.Linear(3 * numpy.prod(nn.layers.conv.pair(patch, "patch")), 5)

    def theirs(x: torch.Tensor) -> torch.Tensor:
        return linear(torch.nn.functional.unfold(x, patch, stride=patch).transpose(1, 2))  # (N, L, C·P·P) → (N, L, D)

    mapping = {"projection.weight": ("weight", transpose), "projection.bias": ("bias", same)}
    check_against_torch(layer, theirs, normal((2, 3, 8, 8), seed, "float32"), mapping, linear, normwise=True)


def test_patch_embedding_equals_a_convolution_with_kernel_and_stride_of_the_patch():
    backend.set_default_dtype("float64")
    layer, x = randomize_parameters(PatchEmbedding((2, 3), 2, 4)), normal((2, 2, 4, 6))
    conv = nn.Conv2d(2, 4, (2, 3), stride=(2, 3))
    conv.weight.data[...] = layer.projection.weight.data.T.reshape(4, 2, 2, 3)
    conv.bias.data[...] = layer.projection.bias.data
    expected = conv(x).reshape(2, 4, -1).transpose(0, 2, 1)  # (N, D, rows, cols) → (N, L, D), patches row by row
    numpy.testing.assert_allclose(layer(x), expected, rtol=1e-12, atol=1e-12)


def test_patch_embedding_of_a_data_input_skips_the_input_gradient():
    layer = PatchEmbedding(2, 1, 3)
    layer.needs_input_grad = False
    y = layer(normal((2, 1, 4, 4), dtype="float32"))
    assert layer.backward(numpy.ones_like(y)) is None
    assert numpy.any(layer.projection.weight.grad != 0)


@pytest.mark.parametrize("shape", [(2, 3, 8, 7), (2, 3, 7, 8), (2, 1, 8, 8), (3, 8, 8)])
def test_patch_embedding_names_the_shape_it_needs(shape):
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\) with H a multiple of 4 and W a multiple of 2"):
        PatchEmbedding((4, 2), 3, 8)(numpy.zeros(shape, dtype=numpy.float32))


@pytest.mark.parametrize("make, x", [(lambda: ClassToken(4), numpy.zeros((2, 3, 5))), (ClassTokenPooling, numpy.zeros((2, 4)))])
def test_class_token_layers_name_the_shape_they_need(make, x):
    with pytest.raises(ValueError, match="expects"):
        make()(x)


CATALOG: dict[str, tuple[Callable[[], Module], Callable[[], numpy.ndarray]]] = {
    "PatchEmbedding": (lambda: PatchEmbedding((2, 4), 3, 6, init="he_normal"), lambda: normal((2, 3, 4, 8), dtype="float32")),
    "ClassToken": (lambda: ClassToken(6), lambda: normal((2, 3, 6), dtype="float32")),
    "ClassTokenPooling": (ClassTokenPooling, lambda: normal((2, 3, 6), dtype="float32")),
}


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_config_round_trip_through_json_rebuilds_an_identical_layer(name):
    make, make_input = CATALOG[name]
    original, x = make(), make_input()
    rebuilt = layer_from_config(json.loads(json.dumps(original.to_config())))
    assert type(rebuilt) is type(original) and rebuilt.get_config() == original.get_config()
    rebuilt.load_state_dict(original.state_dict())
    assert numpy.array_equal(rebuilt(x), original(x))


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_float32_stays_float32_through_forward_and_backward(name):
    make, make_input = CATALOG[name]
    module, x = make(), make_input()
    y = module(x)
    dx = module.backward(numpy.ones_like(y))
    assert_float32(module, y, dx)
    assert dx.shape == x.shape
