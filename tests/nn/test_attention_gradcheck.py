"""Attention layers' backward against central differences, in float64.

Random small shapes from hypothesis (batch 1, sequences of length 1 included) and random
padding masks, fully padded rows included: their defined output (zero weights) is smooth, so
it is checked like any other. ``gradcheck`` perturbs every input and parameter element.
"""
from __future__ import annotations

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmod.nn import backend
from smartmod.nn.gradcheck import gradcheck
from smartmod.nn.layers.additive_attention import AdditiveAttention
from smartmod.nn.layers.attention import ScaledDotProductAttention, causal_mask
from smartmod.nn.layers.feedforward import PositionwiseFeedForward
from smartmod.nn.layers.multihead import MultiHeadAttention
from smartmod.nn.layers.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from smartmod.nn.layers.residual_norm import ResidualNorm
from smartmod.nn.module import Module
from tests.nn.test_layers_gradcheck import randomize_parameters


@pytest.fixture(autouse=True)
def float64(_reset_backend):
    backend.set_default_dtype("float64")


class WithMasks(Module):
    """``layer.forward(*inputs, **masks)``: gradcheck passes positional inputs only."""

    def __init__(self, layer: Module, **masks):
        super().__init__()
        self.layer, self.masks = layer, masks

    def forward(self, *inputs):
        return self.layer.forward(*inputs, **self.masks)

    def backward(self, grad_output):
        return self.layer.backward(grad_output)


def normal(rng: numpy.random.Generator, *shape: int) -> numpy.ndarray:
    return rng.normal(size=shape)


def padding_mask(rng: numpy.random.Generator, batch: int, length: int) -> numpy.ndarray:
    """(batch, length) booleans, True at padding, a fully padded row now and then."""
    return rng.random((batch, length)) < 0.4


def small_parameters(module: Module, seed: int = 5) -> Module:
    """Random parameters of scale 0.5, so that the softmax is neither flat nor saturated."""
    randomize_parameters(module, seed)
    for parameter in module.parameters():
        parameter.data *= 0.5
    return module


sizes = st.integers(1, 4)


@given(st.integers(0, 2**16), sizes, sizes, sizes, st.integers(1, 3), st.booleans())
def test_scaled_dot_product_attention_with_a_mask(seed, batch, queries, keys, width, causal):
    rng = numpy.random.default_rng(seed)
    mask = rng.random((batch, 1, queries, keys)) < 0.3  # True = blocked; some rows fully blocked
    if causal:
        mask = mask | causal_mask(queries, keys)
    query, key, value = normal(rng, batch, 2, queries, width), normal(rng, batch, 2, keys, width), normal(rng, batch, 2, keys, 3)
    assert gradcheck(WithMasks(ScaledDotProductAttention(), mask=mask), query, key, value)


@given(st.integers(0, 2**16), sizes, sizes)
def test_scaled_dot_product_attention_with_dropout_on_the_weights(seed, queries, keys):
    rng = numpy.random.default_rng(seed)
    layer = ScaledDotProductAttention(dropout=0.4)
    assert gradcheck(layer, normal(rng, 2, queries, 3), normal(rng, 2, keys, 3), normal(rng, 2, keys, 2), seed=7)


@given(st.integers(0, 2**16), sizes, sizes, sizes)
def test_scaled_dot_product_attention_with_keys_shared_across_the_batch(seed, batch, queries, keys):
    """Key and value broadcast over the batch (and a 2-D query over heads): their gradients sum over what they were broadcast along."""
    rng = numpy.random.default_rng(seed)
    query, key, value = normal(rng, batch, 2, queries, 3), normal(rng, 1, 2, keys, 3), normal(rng, keys, 2)
    assert gradcheck(ScaledDotProductAttention(), query, key, value)


@settings(max_examples=15)
@given(st.integers(0, 2**16), sizes, sizes, sizes, st.sampled_from([(1, 3), (2, 2), (2, 1)]), st.sampled_from([1, 2, 3]))
def test_multi_head_attention_with_padding(seed, batch, queries, keys, heads_and_width, inputs):
    heads, head_dim = heads_and_width
    d = heads * head_dim
    rng = numpy.random.default_rng(seed)
    layer = small_parameters(MultiHeadAttention(d, heads), seed)
    query = normal(rng, batch, queries, d)
    if inputs == 1:  # self-attention: keys are the queries
        arguments, keys = (query,), queries
    elif inputs == 2:  # cross-attention to a memory
        arguments = (query, normal(rng, batch, keys, d))
    else:
        arguments = (query, normal(rng, batch, keys, d), normal(rng, batch, keys, d))
    masked = WithMasks(layer, key_padding_mask=padding_mask(rng, batch, keys))
    assert gradcheck(masked, *arguments)


@settings(max_examples=10)
@given(st.integers(0, 2**16), sizes, sizes)
def test_multi_head_self_attention_causal_with_an_explicit_mask_and_dropout(seed, batch, length):
    rng = numpy.random.default_rng(seed)
    layer = small_parameters(MultiHeadAttention(4, 2, dropout=0.3), seed)
    per_head_mask = rng.random((batch * 2, length, length)) < 0.2  # (B·H, T, T), as PyTorch takes it
    masked = WithMasks(layer, attn_mask=per_head_mask, causal=True)
    assert gradcheck(masked, normal(rng, batch, length, 4), seed=3)


def test_multi_head_attention_with_an_additive_float_mask():
    rng = numpy.random.default_rng(0)
    additive = rng.normal(size=(3, 5))
    additive[1] = -numpy.inf  # the second query sees nothing
    layer = small_parameters(MultiHeadAttention(4, 2))
    assert gradcheck(WithMasks(layer, attn_mask=additive), normal(rng, 2, 3, 4), normal(rng, 2, 5, 4))


@given(st.integers(0, 2**16), sizes, sizes, sizes, st.booleans())
def test_additive_attention(seed, batch, queries, keys, separate_values):
    rng = numpy.random.default_rng(seed)
    layer = small_parameters(AdditiveAttention(query_dim=3, key_dim=2, attention_dim=4), seed)
    arguments = (normal(rng, batch, queries, 3), normal(rng, batch, keys, 2))
    if separate_values:
        arguments += (normal(rng, batch, keys, 3),)
    assert gradcheck(WithMasks(layer, key_padding_mask=padding_mask(rng, batch, keys)), *arguments)


@given(st.integers(0, 2**16), sizes, sizes, st.sampled_from([1, 2, 5]))
def test_positional_encodings(seed, batch, length, d_model):
    rng = numpy.random.default_rng(seed)
    x = normal(rng, batch, length, d_model)
    assert gradcheck(SinusoidalPositionalEncoding(d_model, max_length=6), x)
    assert gradcheck(LearnedPositionalEmbedding(6, d_model), x)


@given(st.integers(0, 2**16), sizes, sizes, st.sampled_from(["relu", "gelu"]))
def test_position_wise_feed_forward_with_dropout(seed, batch, length, activation):
    rng = numpy.random.default_rng(seed)
    layer = randomize_parameters(PositionwiseFeedForward(3, 5, activation, dropout=0.2), seed)
    # normal draws land within the 1e-6 step of ReLU's kink with probability ~1e-6
    assert gradcheck(layer, normal(rng, batch, length, 3), seed=1)


@settings(max_examples=15)
@given(st.integers(0, 2**16), sizes, sizes, st.booleans(), st.sampled_from([0.0, 0.3]))
def test_residual_norm_around_cross_attention(seed, batch, length, norm_first, dropout):
    rng = numpy.random.default_rng(seed)
    layer = small_parameters(ResidualNorm(MultiHeadAttention(4, 2), 4, dropout=dropout, norm_first=norm_first), seed)
    assert gradcheck(layer, normal(rng, batch, length, 4), normal(rng, batch, 3, 4), seed=2)
