"""Behaviour of the attention and transformer layers: what masks mean, the defined output of a
query that sees no key, causality, padding that changes nothing, errors, and configuration
round trips."""
from __future__ import annotations

import json

import numpy
import pytest

from smartmod.nn import backend
from smartmod.nn.layers.additive_attention import AdditiveAttention
from smartmod.nn.layers.attention import ScaledDotProductAttention, build_attention_mask, causal_mask, masked_softmax
from smartmod.nn.layers.feedforward import PositionwiseFeedForward
from smartmod.nn.layers.multihead import MultiHeadAttention
from smartmod.nn.layers.positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from smartmod.nn.layers.residual_norm import ResidualNorm
from smartmod.nn.layers.transformer import TransformerEncoder, TransformerEncoderLayer
from smartmod.nn.layers.transformer_decoder import TransformerDecoder, TransformerDecoderLayer
from smartmod.nn.module import layer_from_config


def normal(*shape: int, seed: int = 0) -> numpy.ndarray:
    return numpy.random.default_rng(seed).normal(size=shape).astype(numpy.float32)


def test_causal_mask_blocks_every_later_key():
    assert causal_mask(3).tolist() == [[False, True, True], [False, False, True], [False, False, False]]
    assert causal_mask(2, 3).tolist() == [[False, True, True], [False, False, True]]


def test_masked_softmax_gives_a_fully_blocked_row_zero_weights_and_leaves_others_normalized():
    scores = numpy.array([[1.0, -numpy.inf, 2.0], [-numpy.inf, -numpy.inf, -numpy.inf], [1e4, 0.0, -1e4]], dtype=numpy.float32)
    weights = masked_softmax(scores)
    assert numpy.all(numpy.isfinite(weights))
    assert weights[1].tolist() == [0.0, 0.0, 0.0]
    assert weights[0, 1] == 0 and abs(weights[0].sum() - 1) < 1e-6
    assert weights[2].tolist() == [1.0, 0.0, 0.0]


def test_a_fully_padded_example_outputs_the_output_bias_and_gets_zero_input_gradient():
    layer = MultiHeadAttention(4, 2)
    layer.out_proj.bias.data[...] = [1.0, 2.0, 3.0, 4.0]
    x = normal(2, 3, 4)
    padding = numpy.array([[True, True, True], [False, False, True]])
    y = layer.forward(x, key_padding_mask=padding)
    assert numpy.array_equal(y[0], numpy.broadcast_to(layer.out_proj.bias.data, (3, 4)))
    grad = layer.backward(numpy.ones_like(y))
    assert numpy.all(numpy.isfinite(grad)) and numpy.all(grad[0] == 0)
    assert numpy.all(layer.attention_weights[0] == 0)


def test_padded_keys_change_nothing():
    layer = MultiHeadAttention(6, 3)
    x = normal(1, 5, 6)
    padded = numpy.concatenate([x, normal(1, 2, 6, seed=1)], axis=1)  # two junk positions at the end
    mask = numpy.array([[False] * 5 + [True] * 2])
    numpy.testing.assert_allclose(layer.forward(padded, key_padding_mask=mask)[:, :5], layer.forward(x), rtol=1e-5, atol=1e-6)


def test_causal_self_attention_ignores_later_positions():
    layer = TransformerDecoderLayer(4, 2, 8, dropout=0.0)
    memory = normal(2, 3, 4, seed=2)
    target = normal(2, 5, 4)
    changed = target.copy()
    changed[:, 3:] += 10.0
    before, after = layer.forward(target, memory), layer.forward(changed, memory)
    numpy.testing.assert_allclose(after[:, :3], before[:, :3], rtol=1e-5, atol=1e-6)
    assert not numpy.allclose(after[:, 3:], before[:, 3:])


def test_dropout_on_attention_weights_only_in_training():
    layer = ScaledDotProductAttention(dropout=0.5)
    q, k, v = normal(2, 4, 3), normal(2, 6, 3, seed=1), normal(2, 6, 3, seed=2)
    trained = layer.forward(q, k, v)
    layer.eval()
    evaluated = layer.forward(q, k, v)
    numpy.testing.assert_allclose(evaluated, layer.attention_weights @ v, rtol=1e-6)
    assert not numpy.allclose(trained, evaluated)


def test_sinusoidal_encoding_follows_the_formula():
    table = SinusoidalPositionalEncoding(4, max_length=10).forward(numpy.zeros((1, 10, 4), dtype=numpy.float32))[0]
    t = numpy.arange(10)
    expected = numpy.stack([numpy.sin(t), numpy.cos(t), numpy.sin(t / 100), numpy.cos(t / 100)], axis=1)
    numpy.testing.assert_allclose(table, expected, atol=1e-6)


def test_learned_positions_collect_the_gradient_of_every_example():
    layer = LearnedPositionalEmbedding(5, 2)
    layer.forward(numpy.zeros((3, 2, 2), dtype=numpy.float32))
    layer.backward(numpy.ones((3, 2, 2), dtype=numpy.float32))
    assert layer.weight.grad.tolist() == [[3.0, 3.0], [3.0, 3.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]]


@pytest.mark.parametrize("call, message", [
    (lambda: MultiHeadAttention(6, 4), "num_heads dividing embed_dim"),
    (lambda: MultiHeadAttention(4, 2).forward(normal(2, 3, 4), normal(2, 3, 5)), r"\(batch, length, 4\)"),
    (lambda: MultiHeadAttention(4, 2).forward(normal(2, 3, 4), key_padding_mask=numpy.zeros((2, 4), bool)), r"key_padding_mask must have shape"),
    (lambda: MultiHeadAttention(4, 2).forward(normal(2, 3, 4), attn_mask=numpy.zeros((3, 4), bool)), r"attn_mask must have shape"),
    (lambda: SinusoidalPositionalEncoding(4, max_length=2).forward(normal(1, 3, 4)), "raise max_length"),
    (lambda: PositionwiseFeedForward(4, 8, activation="swish"), "activation must be one of"),
    (lambda: TransformerEncoder(0, 4, 2, 8), "at least one layer"),
])
def test_errors_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_an_integer_mask_is_refused():
    with pytest.raises(TypeError, match="booleans"):
        build_attention_mask(1, 1, 2, 2, numpy.float32, attn_mask=numpy.zeros((2, 2), dtype=int))


LAYERS = [
    lambda: ScaledDotProductAttention(0.1),
    lambda: MultiHeadAttention(8, 2, dropout=0.1, bias=False),
    lambda: AdditiveAttention(8, 8, 5),
    lambda: SinusoidalPositionalEncoding(8, 50),
    lambda: LearnedPositionalEmbedding(50, 8),
    lambda: PositionwiseFeedForward(8, 16, "gelu", 0.1),
    lambda: ResidualNorm(PositionwiseFeedForward(8, 16), 8, 0.1, norm_first=True),
    lambda: TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True),
    lambda: TransformerEncoder(2, 8, 2, 16, final_norm=True),
    lambda: TransformerDecoderLayer(8, 2, 16, layer_norm_eps=1e-6),
    lambda: TransformerDecoder(2, 8, 2, 16, norm_first=True, final_norm=True),
]


def inputs_for(layer) -> tuple[numpy.ndarray, ...]:
    """(2, 3, 8) queries, and the keys, values or memory the layer also takes."""
    x = normal(2, 3, 8)
    if isinstance(layer, ScaledDotProductAttention):
        return x, normal(2, 4, 8, seed=1), normal(2, 4, 8, seed=2)
    if isinstance(layer, (AdditiveAttention, TransformerDecoderLayer, TransformerDecoder)):
        return x, normal(2, 4, 8, seed=1)
    return (x,)


@pytest.mark.parametrize("make", LAYERS, ids=lambda make: type(make()).__name__)
def test_config_round_trip_through_json_rebuilds_the_same_layer(make):
    layer = make()
    rebuilt = layer_from_config(json.loads(json.dumps(layer.to_config())))
    assert type(rebuilt) is type(layer) and rebuilt.get_config() == layer.get_config()
    rebuilt.load_state_dict(layer.state_dict())
    inputs = inputs_for(layer)
    for mode in ("train", "eval"):
        getattr(layer, mode)(), getattr(rebuilt, mode)()
        backend.seed(3)
        expected = layer.forward(*inputs)
        backend.seed(3)
        assert numpy.array_equal(rebuilt.forward(*inputs), expected), f"{mode} mode: rebuilt output differs"


@pytest.mark.parametrize("make", LAYERS, ids=lambda make: type(make()).__name__)
def test_float32_stays_float32_through_forward_and_backward(make):
    layer, inputs = make(), inputs_for(make())
    y = layer.forward(*inputs)
    grads = layer.backward(numpy.ones_like(y))
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert y.dtype == numpy.float32
    assert [(g.shape, g.dtype) for g in grads] == [(x.shape, numpy.float32) for x in inputs]
    for name, parameter in layer.named_parameters():
        assert parameter.data.dtype == parameter.grad.dtype == numpy.float32, name
