"""Transformer encoder and decoder layers and stacks against central differences, in float64.

Pre- and post-norm, ReLU and GELU, dropout active (its masks repeat under a fixed seed), padded
positions and batches and sequences of one.
"""
from __future__ import annotations

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmod.nn import backend
from smartmod.nn.gradcheck import gradcheck
from smartmod.nn.layers.transformer import TransformerEncoder, TransformerEncoderLayer
from smartmod.nn.layers.transformer_decoder import TransformerDecoder, TransformerDecoderLayer
from tests.nn.test_attention_gradcheck import WithMasks, normal, padding_mask, small_parameters


@pytest.fixture(autouse=True)
def float64(_reset_backend):
    backend.set_default_dtype("float64")


LAYER = {"d_model": 4, "num_heads": 2, "d_ff": 6}
sizes = st.integers(1, 3)


@settings(max_examples=8)
@given(st.integers(0, 2**16), sizes, sizes, st.booleans(), st.sampled_from(["relu", "gelu"]), st.sampled_from([0.0, 0.2]))
def test_encoder_layer(seed, batch, length, norm_first, activation, dropout):
    rng = numpy.random.default_rng(seed)
    layer = small_parameters(TransformerEncoderLayer(**LAYER, dropout=dropout, activation=activation, norm_first=norm_first), seed)
    masked = WithMasks(layer, key_padding_mask=padding_mask(rng, batch, length))
    assert gradcheck(masked, normal(rng, batch, length, 4), seed=4)


@settings(max_examples=8)
@given(st.integers(0, 2**16), sizes, sizes, sizes, st.booleans(), st.sampled_from(["relu", "gelu"]), st.sampled_from([0.0, 0.2]))
def test_decoder_layer(seed, batch, length, memory_length, norm_first, activation, dropout):
    rng = numpy.random.default_rng(seed)
    layer = small_parameters(TransformerDecoderLayer(**LAYER, dropout=dropout, activation=activation, norm_first=norm_first), seed)
    masked = WithMasks(layer, target_key_padding_mask=padding_mask(rng, batch, length),
                       memory_key_padding_mask=padding_mask(rng, batch, memory_length))
    assert gradcheck(masked, normal(rng, batch, length, 4), normal(rng, batch, memory_length, 4), seed=4)


@pytest.mark.parametrize("norm_first", [False, True])
def test_two_layer_encoder_stack_with_final_norm_and_a_causal_mask(norm_first):
    rng = numpy.random.default_rng(1)
    stack = small_parameters(TransformerEncoder(2, **LAYER, dropout=0.1, norm_first=norm_first, final_norm=True))
    masked = WithMasks(stack, key_padding_mask=numpy.array([[False, False, True], [False, False, False]]), causal=True)
    assert gradcheck(masked, normal(rng, 2, 3, 4), seed=5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_two_layer_decoder_stack_sums_the_memory_gradient_of_every_layer(norm_first):
    rng = numpy.random.default_rng(2)
    stack = small_parameters(TransformerDecoder(2, **LAYER, dropout=0.1, norm_first=norm_first, final_norm=norm_first))
    masked = WithMasks(stack, memory_key_padding_mask=numpy.array([[False, True, True, True], [False, False, False, True]]))
    assert gradcheck(masked, normal(rng, 2, 3, 4), normal(rng, 2, 4, 4), seed=6)
