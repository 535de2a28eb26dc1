"""Pooling over time with padding: each layer against a plain NumPy reference that loops over the
rows and keeps only the real steps, and its backward against central differences in float64."""
from __future__ import annotations

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from smartmod.nn import AttentionPooling, LastStepPooling, MaxOverTimePooling, MeanOverTimePooling, backend, layer_from_config
from smartmod.nn.gradcheck import gradcheck
from tests.nn.test_layers_gradcheck import randomize_parameters


def reference_last(x, real):
    return x[numpy.flatnonzero(real)[-1]] if real.any() else numpy.zeros(x.shape[1])


def reference_mean(x, real):
    return x[real].mean(axis=0) if real.any() else numpy.zeros(x.shape[1])


def reference_max(x, real):
    return x[real].max(axis=0) if real.any() else numpy.zeros(x.shape[1])


def reference_attention(layer: AttentionPooling):
    def pool(x, real):
        if not real.any():
            return numpy.zeros(x.shape[1])
        weight, bias, context = (layer.projection.weight.data, layer.projection.bias.data, layer.context.data)
        scores = numpy.tanh(x[real] @ weight + bias) @ context  # one per real step
        weights = numpy.exp(scores - scores.max())
        return (weights / weights.sum()) @ x[real]
    return pool


def reference_pooling(pool, x: numpy.ndarray, padding_mask: numpy.ndarray) -> numpy.ndarray:
    """Row by row, over the real steps only."""
    return numpy.stack([pool(x[row].astype(numpy.float64), ~padding_mask[row]) for row in range(x.shape[0])])


def make(name: str):
    layers = {
        "last": (LastStepPooling, lambda layer: reference_last),
        "mean": (MeanOverTimePooling, lambda layer: reference_mean),
        "max": (MaxOverTimePooling, lambda layer: reference_max),
        "attention": (lambda: randomize_parameters(AttentionPooling(3, 4)), reference_attention),
    }
    build, reference = layers[name]
    layer = build()
    return layer, reference(layer)


POOLINGS = ["last", "mean", "max", "attention"]
sizes = st.tuples(st.integers(1, 4), st.integers(1, 5))  # B, T; features are 3


@pytest.mark.parametrize("name", POOLINGS)
@given(data=st.data(), size=sizes, seed=st.integers(0, 2**16))
def test_pooling_matches_the_reference_over_real_steps(name, data, size, seed):
    layer, reference = make(name)
    x = numpy.random.default_rng(seed).normal(size=(*size, 3)).astype(numpy.float32)
    padding_mask = data.draw(hnp.arrays(bool, size))  # any pattern, all-padding rows included
    pooled = layer(x, padding_mask)
    assert pooled.shape == (size[0], 3) and pooled.dtype == numpy.float32
    numpy.testing.assert_allclose(pooled, reference_pooling(reference, x, padding_mask), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", POOLINGS)
@settings(max_examples=10)
@given(data=st.data(), size=sizes, seed=st.integers(0, 2**16))
def test_pooling_gradients(name, data, size, seed):
    backend.set_default_dtype("float64")
    layer, _ = make(name)
    x = numpy.random.default_rng(seed).normal(size=(*size, 3))
    padding_mask = data.draw(hnp.arrays(bool, size))
    assert gradcheck(layer, x, padding_mask)


@pytest.mark.parametrize("name", POOLINGS)
def test_padded_steps_get_zero_gradient_and_lengths_mean_post_padding(name):
    layer, _ = make(name)
    x = numpy.random.default_rng(1).normal(size=(3, 4, 3)).astype(numpy.float32)
    lengths = numpy.array([4, 2, 0])
    padding_mask = numpy.arange(4)[None, :] >= lengths[:, None]
    pooled = layer.forward(x, lengths=lengths)
    numpy.testing.assert_array_equal(pooled, layer(x, padding_mask))
    assert not pooled[2].any(), "a row with no real step pools to zeros"
    grad = layer.backward(numpy.ones_like(pooled))
    assert not grad[padding_mask].any(), "padded steps received gradient"


def test_attention_weights_are_a_distribution_over_real_steps():
    layer = AttentionPooling(3, 5)
    padding_mask = numpy.array([[True, False, False, True], [False, False, False, False], [True, True, True, True]])
    layer(numpy.random.default_rng(2).normal(size=(3, 4, 3)).astype(numpy.float32), padding_mask)
    weights = layer.attention_weights  # (B, T)
    assert weights.shape == (3, 4)
    assert not weights[padding_mask].any()
    numpy.testing.assert_allclose(weights.sum(axis=1), [1.0, 1.0, 0.0], atol=1e-6)


def test_max_over_time_sends_the_gradient_to_the_winning_step():
    x = numpy.array([[[1.0, 5.0], [3.0, -1.0], [2.0, 9.0]]], dtype=numpy.float32)  # (1, 3, 2)
    layer = MaxOverTimePooling()
    numpy.testing.assert_array_equal(layer(x, numpy.array([[False, False, True]])), [[3.0, 5.0]])  # step 2 is padding
    numpy.testing.assert_array_equal(layer.backward(numpy.array([[10.0, 20.0]], dtype=numpy.float32)), [[[0, 20], [10, 0], [0, 0]]])


@pytest.mark.parametrize("name", POOLINGS)
def test_configuration_round_trip(name):
    layer, _ = make(name)
    rebuilt = layer_from_config(layer.to_config())
    rebuilt.load_state_dict(layer.state_dict())
    x = numpy.random.default_rng(3).normal(size=(2, 3, 3)).astype(numpy.float32)
    numpy.testing.assert_array_equal(rebuilt(x), layer(x))


def test_pooling_refuses_a_two_axis_input():
    with pytest.raises(ValueError, match=r"\(batch, steps, features\)"):
        MeanOverTimePooling()(numpy.ones((2, 3), dtype=numpy.float32))
