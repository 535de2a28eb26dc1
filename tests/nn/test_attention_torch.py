"""Multi-head attention against ``torch.nn.MultiheadAttention(batch_first=True)``, weights copied, float32.

Forward output, the gradient of every input and of every parameter, with key padding masks,
explicit attention masks (per query and per head) and causal masks. PyTorch returns NaN for a
query that sees no key at all, where we define zero weights; so these draws always leave each
query at least one key (tests/nn/test_attention.py checks the fully blocked case).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmod.nn.layers.attention import causal_mask
from smartmod.nn.layers.multihead import MultiHeadAttention
from smartmod.nn.module import Module
from tests.nn.torch_reference import assert_close, copy_parameters, same, transpose

MULTI_HEAD = {
    "in_proj_weight": ("in_proj_weight", transpose),
    "in_proj_bias": ("in_proj_bias", same),
    "out_proj.weight": ("out_proj.weight", transpose),
    "out_proj.bias": ("out_proj.bias", same),
}


def check_inputs_against_torch(
    mine: Module,
    theirs: torch.nn.Module,
    call_theirs: Callable[..., torch.Tensor],
    inputs: list[numpy.ndarray],
    mapping: dict[str, tuple[str, Callable]],
    masks: dict[str, Any] | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-5,
) -> numpy.ndarray:
    """Forward, every input's gradient and every parameter's gradient of ``mine.forward(*inputs, **masks)``
    against ``call_theirs(*torch_inputs)``, both in evaluation mode, parameters copied by ``mapping``.

    Entries are measured against the largest of their array (``normwise``): attention outputs
    are sums of products that cancel, whose small entries carry the rounding of the large terms.
    """
    mine.eval(), theirs.eval()
    copy_parameters(mine, theirs, mapping)
    mine.zero_grad(), theirs.zero_grad()
    y = mine.forward(*inputs, **(masks or {}))
    grad_output = numpy.random.default_rng(99).normal(size=y.shape).astype(numpy.float32)
    grads = mine.backward(grad_output)
    grads = grads if isinstance(grads, tuple) else (grads,)

    torch_inputs = [torch.from_numpy(x.copy()).requires_grad_() for x in inputs]
    y_torch = call_theirs(*torch_inputs)
    y_torch.backward(torch.from_numpy(grad_output))

    assert y.dtype == numpy.float32, f"output dtype mine {y.dtype} / expected float32"
    assert_close("forward", y, y_torch, rtol, atol, normwise=True)
    assert len(grads) == len(inputs), f"backward returned {len(grads)} gradients for {len(inputs)} inputs"
    for index, (grad, x_torch) in enumerate(zip(grads, torch_inputs)):
        assert_close(f"gradient of input {index}", grad, x_torch.grad, rtol, atol, normwise=True)
    named = dict(mine.named_parameters())
    assert set(mapping) == set(named), f"parameters mapped {sorted(mapping)} / layer has {sorted(named)}"
    for name, (torch_name, transform) in mapping.items():
        torch_grad = transform(theirs.get_parameter(torch_name).grad.numpy())
        assert_close(f"gradient of {name!r}", named[name].grad, torch_grad, rtol, atol, normwise=True)
    return y


def float32_normal(rng: numpy.random.Generator, *shape: int) -> numpy.ndarray:
    return rng.normal(size=shape).astype(numpy.float32)


def padding_leaving_one_key(rng: numpy.random.Generator, batch: int, keys: int) -> numpy.ndarray:
    """(batch, keys) booleans, True at padding, with key 0 never padded."""
    mask = rng.random((batch, keys)) < 0.4
    mask[:, 0] = False
    return mask


def pair(d: int, heads: int, bias: bool = True) -> tuple[MultiHeadAttention, torch.nn.MultiheadAttention]:
    return MultiHeadAttention(d, heads, bias=bias), torch.nn.MultiheadAttention(d, heads, bias=bias, batch_first=True)


def mapping_for(bias: bool) -> dict[str, tuple[str, Callable]]:
    return MULTI_HEAD if bias else {name: entry for name, entry in MULTI_HEAD.items() if "bias" not in name}


@settings(max_examples=15)
@given(st.integers(0, 2**16), st.integers(1, 4), st.integers(1, 6), st.integers(1, 6),
       st.sampled_from([(1, 4), (2, 3), (4, 2)]), st.booleans())
def test_cross_attention_with_key_padding_and_attention_masks(seed, batch, queries, keys, heads_and_width, bias):
    heads, head_dim = heads_and_width
    d = heads * head_dim
    rng = numpy.random.default_rng(seed)
    mine, theirs = pair(d, heads, bias)
    query, key, value = float32_normal(rng, batch, queries, d), float32_normal(rng, batch, keys, d), float32_normal(rng, batch, keys, d)
    key_padding_mask = padding_leaving_one_key(rng, batch, keys)
    attn_mask = rng.random((queries, keys)) < 0.3
    attn_mask[:, 0] = False

    def call_theirs(q, k, v):
        return theirs(q, k, v, key_padding_mask=torch.from_numpy(key_padding_mask),
                      attn_mask=torch.from_numpy(attn_mask), need_weights=False)[0]

    masks = {"key_padding_mask": key_padding_mask, "attn_mask": attn_mask}
    check_inputs_against_torch(mine, theirs, call_theirs, [query, key, value], mapping_for(bias), masks)


@settings(max_examples=15)
@given(st.integers(0, 2**16), st.integers(1, 4), st.integers(1, 7))
def test_causal_self_attention_with_padding_and_per_head_masks(seed, batch, length):
    heads, d = 2, 6
    rng = numpy.random.default_rng(seed)
    mine, theirs = pair(d, heads)
    x = float32_normal(rng, batch, length, d)
    key_padding_mask = padding_leaving_one_key(rng, batch, length)
    per_head = rng.random((batch * heads, length, length)) < 0.3
    per_head[..., 0] = False
    combined = torch.from_numpy(per_head | causal_mask(length))  # PyTorch takes the causal part as a mask

    def call_theirs(x_torch):
        return theirs(x_torch, x_torch, x_torch, key_padding_mask=torch.from_numpy(key_padding_mask),
                      attn_mask=combined, need_weights=False)[0]

    masks = {"key_padding_mask": key_padding_mask, "attn_mask": per_head, "causal": True}
    check_inputs_against_torch(mine, theirs, call_theirs, [x], MULTI_HEAD, masks)


def test_memory_attention_with_a_float_additive_mask_and_batch_of_one():
    rng = numpy.random.default_rng(3)
    mine, theirs = pair(8, 4)
    query, memory = float32_normal(rng, 1, 1, 8), float32_normal(rng, 1, 5, 8)
    additive = float32_normal(rng, 1, 5)
    check_inputs_against_torch(
        mine, theirs, lambda q, m: theirs(q, m, m, attn_mask=torch.from_numpy(additive), need_weights=False)[0],
        [query, memory], MULTI_HEAD, {"attn_mask": additive},
    )


def test_attention_weights_match_torchs_per_head_weights():
    rng = numpy.random.default_rng(4)
    mine, theirs = pair(6, 3)
    x = float32_normal(rng, 2, 4, 6)
    key_padding_mask = numpy.array([[False, False, True, True], [False, False, False, False]])
    copy_parameters(mine, theirs, MULTI_HEAD)
    mine.forward(x, key_padding_mask=key_padding_mask)
    x_torch = torch.from_numpy(x)
    _, weights = theirs(x_torch, x_torch, x_torch, key_padding_mask=torch.from_numpy(key_padding_mask), average_attn_weights=False)
    assert_close("attention weights", mine.attention_weights, weights, rtol=1e-5, atol=1e-6)
