"""Transformer encoder and decoder layers against ``torch.nn.TransformerEncoderLayer`` and
``torch.nn.TransformerDecoderLayer`` (``batch_first=True``), weights copied, float32, evaluation
mode: pre- and post-norm, ReLU and GELU, padding masks, forward and every gradient.
"""
from __future__ import annotations

from typing import Callable

import numpy
import pytest
import torch

from smartmod.nn.layers.attention import causal_mask
from smartmod.nn.layers.transformer import TransformerEncoder, TransformerEncoderLayer
from smartmod.nn.layers.transformer_decoder import TransformerDecoderLayer
from tests.nn.test_attention_torch import MULTI_HEAD, check_inputs_against_torch, float32_normal, padding_leaving_one_key
from tests.nn.torch_reference import same, transpose

D_MODEL, HEADS, D_FF = 8, 2, 12


def block(ours: str, theirs: str, norm: str) -> dict[str, tuple[str, Callable]]:
    """The names of one attention sub-layer: ours wrap it in ResidualNorm, PyTorch numbers its norms."""
    mapping = {f"{ours}.sublayer.{name}": (f"{theirs}.{torch_name}", transform) for name, (torch_name, transform) in MULTI_HEAD.items()}
    mapping.update({f"{ours}.norm.{name}": (f"{norm}.{name}", same) for name in ("weight", "bias")})
    return mapping


def feed_forward(norm: str, prefix: str = "") -> dict[str, tuple[str, Callable]]:
    mapping = {f"{prefix}feed_forward.sublayer.{linear}.{name}": (f"{linear}.{name}", transpose if name == "weight" else same)
               for linear in ("linear1", "linear2") for name in ("weight", "bias")}
    mapping.update({f"{prefix}feed_forward.norm.{name}": (f"{norm}.{name}", same) for name in ("weight", "bias")})
    return mapping


ENCODER = {**block("self_attention", "self_attn", "norm1"), **feed_forward("norm2")}
DECODER = {**block("self_attention", "self_attn", "norm1"), **block("cross_attention", "multihead_attn", "norm2"), **feed_forward("norm3")}
VARIANTS = [pytest.param(norm_first, activation, id=f"{'pre' if norm_first else 'post'}-norm-{activation}")
            for norm_first in (False, True) for activation in ("relu", "gelu")]


def randomize_norms(layer) -> None:
    """LayerNorm starts at γ = 1, β = 0, under which a swapped γ and β would go unnoticed."""
    rng = numpy.random.default_rng(11)
    for name, parameter in layer.named_parameters():
        if ".norm." in name or name.startswith("norm."):
            parameter.data[...] = rng.normal(1.0 if name.endswith("weight") else 0.0, 0.3, size=parameter.shape)


@pytest.mark.parametrize("norm_first, activation", VARIANTS)
@pytest.mark.parametrize("seed", [0, 1])
def test_encoder_layer_matches_torch(norm_first, activation, seed):
    rng = numpy.random.default_rng(seed)
    batch, length = 3, 5
    mine = TransformerEncoderLayer(D_MODEL, HEADS, D_FF, dropout=0.1, activation=activation, norm_first=norm_first)
    theirs = torch.nn.TransformerEncoderLayer(D_MODEL, HEADS, D_FF, dropout=0.1, activation=activation,
                                              norm_first=norm_first, batch_first=True)
    randomize_norms(mine)
    padding = padding_leaving_one_key(rng, batch, length)

    def call_theirs(x):
        return theirs(x, src_key_padding_mask=torch.from_numpy(padding))

    check_inputs_against_torch(mine, theirs, call_theirs, [float32_normal(rng, batch, length, D_MODEL)], ENCODER,
                               {"key_padding_mask": padding})


@pytest.mark.parametrize("norm_first, activation", VARIANTS)
@pytest.mark.parametrize("seed", [0, 1])
def test_decoder_layer_matches_torch(norm_first, activation, seed):
    rng = numpy.random.default_rng(seed)
    batch, length, memory_length = 3, 4, 6
    mine = TransformerDecoderLayer(D_MODEL, HEADS, D_FF, dropout=0.1, activation=activation, norm_first=norm_first)
    theirs = torch.nn.TransformerDecoderLayer(D_MODEL, HEADS, D_FF, dropout=0.1, activation=activation,
                                              norm_first=norm_first, batch_first=True)
    randomize_norms(mine)
    target_padding = padding_leaving_one_key(rng, batch, length)
    memory_padding = padding_leaving_one_key(rng, batch, memory_length)

    def call_theirs(target, memory):
        return theirs(target, memory, tgt_mask=torch.from_numpy(causal_mask(length)),
                      tgt_key_padding_mask=torch.from_numpy(target_padding),
                      memory_key_padding_mask=torch.from_numpy(memory_padding))

    inputs = [float32_normal(rng, batch, length, D_MODEL), float32_normal(rng, batch, memory_length, D_MODEL)]
    masks = {"target_key_padding_mask": target_padding, "memory_key_padding_mask": memory_padding}
    check_inputs_against_torch(mine, theirs, call_theirs, inputs, DECODER, masks)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_stack_with_final_norm_matches_torch(norm_first):
    rng = numpy.random.default_rng(5)
    mine = TransformerEncoder(2, D_MODEL, HEADS, D_FF, norm_first=norm_first, final_norm=True)
    layer = torch.nn.TransformerEncoderLayer(D_MODEL, HEADS, D_FF, norm_first=norm_first, batch_first=True)
    theirs = torch.nn.TransformerEncoder(layer, 2, norm=torch.nn.LayerNorm(D_MODEL), enable_nested_tensor=False)
    randomize_norms(mine)
    mapping = {f"layer{index}.{name}": (f"layers.{index}.{torch_name}", transform)
               for index in range(2) for name, (torch_name, transform) in ENCODER.items()}
    mapping.update({f"norm.{name}": (f"norm.{name}", same) for name in ("weight", "bias")})
    check_inputs_against_torch(mine, theirs, lambda x: theirs(x, is_causal=False), [float32_normal(rng, 2, 6, D_MODEL)], mapping)
