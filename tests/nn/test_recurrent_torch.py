"""RNN, LSTM and GRU against torch.nn.RNN / LSTM / GRU, weights copied, in float32.

Outputs, final states, and the gradients of the input, the initial state and every parameter
must agree. Padded batches are compared with PyTorch's packed sequences (pack_padded_sequence),
the reference for "each sequence run alone at its true length". Failures print "mine / theirs".
"""
from __future__ import annotations

import numpy
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from smartmod.nn import GRU, LSTM, RNN, Bidirectional, RecurrentStack
from smartmod.nn.layers.recurrent import Recurrent
from smartmod.nn.module import Module
from tests.nn.torch_reference import assert_close, copy_parameters, same, transpose

PAIRS = [pytest.param(RNN, torch.nn.RNN, id="RNN"), pytest.param(LSTM, torch.nn.LSTM, id="LSTM"), pytest.param(GRU, torch.nn.GRU, id="GRU")]

# Sums over up to 6 steps and 5 rows of float32 products: entries near zero carry the rounding of
# the larger terms, hence an absolute tolerance of 1e-5 beside the relative 1e-5.
RTOL, ATOL = 1e-5, 1e-5

sizes = st.tuples(st.integers(1, 4), st.integers(1, 6), st.integers(1, 5), st.integers(1, 5))  # B, T, F, H


def normal(shape: tuple[int, ...], seed: int) -> numpy.ndarray:
    return numpy.random.default_rng(seed).normal(size=shape).astype(numpy.float32)


def directions(module: Module) -> list[Recurrent]:
    """The single-direction layers in PyTorch's order: layer by layer, forward before reverse."""
    return [layer for _, layer in module.named_modules() if isinstance(layer, Recurrent)]


def torch_mapping(module: Module) -> dict:
    """Our parameter names -> PyTorch's (``weight_ih_l{layer}{_reverse}``), with the transposes."""
    mapping, layer = {}, -1
    for name, direction in module.named_modules():
        if not isinstance(direction, Recurrent):
            continue
        layer += 0 if direction.reverse else 1
        prefix, suffix = f"{name}." if name else "", f"_l{layer}" + ("_reverse" if direction.reverse else "")
        for kind, transform in (("weight_ih", transpose), ("weight_hh", transpose), ("bias_ih", same), ("bias_hh", same)):
            mapping[prefix + kind] = (kind + suffix, transform)
    return mapping


def final_states(module: Module, lstm: bool) -> list[numpy.ndarray]:
    """Our final states stacked as PyTorch's h_n (and c_n): (layers · directions, B, H)."""
    states = [layer.final_state if lstm else (layer.final_state,) for layer in directions(module)]
    return [numpy.stack([state[k] for state in states]) for k in range(2 if lstm else 1)]


def run_torch(theirs: torch.nn.Module, x: numpy.ndarray, lengths, grad_output: numpy.ndarray):
    """Torch's outputs and final states, after backpropagating Σ outputs · grad_output."""
    x_torch = torch.from_numpy(x.copy()).requires_grad_(True)
    if lengths is None:
        outputs, state = theirs(x_torch)
    else:
        packed = pack_padded_sequence(x_torch, torch.as_tensor(lengths), batch_first=True, enforce_sorted=False)
        outputs, state = theirs(packed)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=x.shape[1])
    (outputs * torch.from_numpy(grad_output)).sum().backward()
    return outputs, (list(state) if isinstance(state, tuple) else [state]), x_torch.grad


def compare(mine: Module, theirs: torch.nn.Module, x: numpy.ndarray, lengths=None, padding_mask=None) -> None:
    """Forward, final states, input and parameter gradients of ``mine`` (given ``lengths`` or an
    equivalent post-padding ``padding_mask``) against ``theirs`` on packed sequences."""
    mapping = torch_mapping(mine)
    copy_parameters(mine, theirs, mapping)
    mine.zero_grad()
    outputs = mine.forward(x, lengths=lengths) if padding_mask is None else mine.forward(x, padding_mask)
    grad_output = normal(outputs.shape, seed=99)
    grad_x = mine.backward(grad_output)
    their_outputs, their_states, their_grad_x = run_torch(theirs, x, lengths, grad_output)

    assert_close("outputs", outputs, their_outputs, RTOL, ATOL)
    for index, (state, theirs_state) in enumerate(zip(final_states(mine, len(their_states) == 2), their_states)):
        assert_close(f"final state {index}", state, theirs_state, RTOL, ATOL)
    assert_close("input gradient", grad_x, their_grad_x, RTOL, ATOL)
    named = dict(mine.named_parameters())
    assert set(mapping) == set(named), f"mapped {sorted(mapping)} / parameters {sorted(named)}"
    for name, (torch_name, transform) in mapping.items():
        assert_close(f"gradient of {name}", named[name].grad, transform(theirs.get_parameter(torch_name).grad.numpy()), RTOL, ATOL)


@pytest.mark.parametrize("ours, theirs", PAIRS)
@settings(max_examples=10)
@given(size=sizes, seed=st.integers(0, 2**16))
def test_cell_with_initial_state_and_final_state_gradient(ours, theirs, size, seed):
    batch, steps, features, hidden = size
    mine, reference = ours(features, hidden), theirs(features, hidden, batch_first=True)
    copy_parameters(mine, reference, torch_mapping(mine))
    x = normal((batch, steps, features), seed)
    initial = [normal((batch, hidden), seed + k) for k in range(len(ours.state_names))]
    grad_output, grad_final = normal((batch, steps, hidden), seed + 3), [normal((batch, hidden), seed + 5 + k) for k in range(len(initial))]
    pack = (lambda arrays: tuple(arrays)) if len(initial) == 2 else (lambda arrays: arrays[0])

    mine.zero_grad()
    outputs = mine.forward(x, initial_state=pack(initial))
    grad_x = mine.backward(grad_output, pack(grad_final))

    x_torch = torch.from_numpy(x).requires_grad_(True)
    initial_torch = [torch.from_numpy(state[None]).requires_grad_(True) for state in initial]  # (1, B, H)
    their_outputs, their_final = reference(x_torch, pack(initial_torch))
    their_final = list(their_final) if len(initial) == 2 else [their_final]
    loss = (their_outputs * torch.from_numpy(grad_output)).sum()
    loss = loss + sum((state[0] * torch.from_numpy(grad)).sum() for state, grad in zip(their_final, grad_final))
    loss.backward()

    assert_close("outputs", outputs, their_outputs, RTOL, ATOL)
    assert_close("input gradient", grad_x, x_torch.grad, RTOL, ATOL)
    ours_final = mine.final_state if len(initial) == 2 else (mine.final_state,)
    ours_initial_grad = mine.initial_state_grad if len(initial) == 2 else (mine.initial_state_grad,)
    for name, state, theirs_state, grad, theirs_grad in zip(ours.state_names, ours_final, their_final, ours_initial_grad, initial_torch):
        assert_close(f"final {name}", state, theirs_state[0], RTOL, ATOL)
        assert_close(f"gradient of initial {name}", grad, theirs_grad.grad[0], RTOL, ATOL)
    for name, (torch_name, transform) in torch_mapping(mine).items():
        assert_close(f"gradient of {name}", dict(mine.named_parameters())[name].grad, transform(reference.get_parameter(torch_name).grad.numpy()), RTOL, ATOL)


def lengths_of(batch: int, steps: int, seed: int) -> numpy.ndarray:
    """Random true lengths in [1, T] (packed sequences refuse 0), the full length always present."""
    lengths = numpy.random.default_rng(seed).integers(1, steps + 1, size=batch)
    lengths[0] = steps
    return lengths


@pytest.mark.parametrize("ours, theirs", PAIRS)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["one-way", "bidirectional"])
@settings(max_examples=8)
@given(size=sizes, seed=st.integers(0, 2**16))
def test_padding_after_the_tokens_matches_packed_sequences(ours, theirs, bidirectional, size, seed):
    """``lengths`` one way, the equivalent ``padding_mask`` for the bidirectional layer."""
    batch, steps, features, hidden = size
    lengths = lengths_of(batch, steps, seed)
    padding_mask = numpy.arange(steps)[None, :] >= lengths[:, None] if bidirectional else None  # (B, T)
    mine = Bidirectional(ours(features, hidden)) if bidirectional else ours(features, hidden)
    reference = theirs(features, hidden, batch_first=True, bidirectional=bidirectional)
    compare(mine, reference, normal((batch, steps, features), seed), lengths, padding_mask)


@pytest.mark.parametrize("ours, theirs", PAIRS)
@settings(max_examples=6)
@given(size=sizes, seed=st.integers(0, 2**16))
def test_two_layer_bidirectional_stack_matches_num_layers_2(ours, theirs, size, seed):
    batch, steps, features, hidden = size
    stack = RecurrentStack(Bidirectional(ours(features, hidden)), Bidirectional(ours(2 * hidden, hidden)))
    reference = theirs(features, hidden, num_layers=2, batch_first=True, bidirectional=True)
    compare(stack, reference, normal((batch, steps, features), seed), lengths_of(batch, steps, seed))


@pytest.mark.parametrize("ours, theirs", PAIRS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_pre_padding_gives_what_packed_sequences_give(ours, theirs, bidirectional):
    """Padding before the tokens: the real steps' outputs, the final states and all gradients
    equal those of the same sequences padded after their tokens and packed."""
    batch, steps, features, hidden = 4, 5, 3, 4
    lengths = numpy.array([5, 2, 4, 1])
    post = normal((batch, steps, features), seed=7)
    pre = numpy.zeros_like(post)
    for row, length in enumerate(lengths):
        pre[row, steps - length:] = post[row, :length]
    padding_mask = numpy.arange(steps)[None, :] < (steps - lengths)[:, None]  # (B, T), padding first
    mine = Bidirectional(ours(features, hidden)) if bidirectional else ours(features, hidden)
    reference = theirs(features, hidden, batch_first=True, bidirectional=bidirectional)
    mapping = torch_mapping(mine)
    copy_parameters(mine, reference, mapping)

    outputs = mine.forward(pre, padding_mask)
    grad_post = normal(outputs.shape, seed=8)
    grad_pre = numpy.zeros_like(grad_post)
    for row, length in enumerate(lengths):
        grad_pre[row, steps - length:] = grad_post[row, :length]
    grad_x = mine.backward(grad_pre)
    their_outputs, their_states, their_grad_x = run_torch(reference, post, lengths, grad_post)

    for row, length in enumerate(lengths):
        assert_close(f"outputs of row {row}", outputs[row, steps - length:], their_outputs[row, :length], RTOL, ATOL)
        assert_close(f"input gradient of row {row}", grad_x[row, steps - length:], their_grad_x[row, :length], RTOL, ATOL)
        assert not outputs[row, :steps - length].any() and not grad_x[row, :steps - length].any(), f"padding of row {row} not zero"
    for index, (state, theirs_state) in enumerate(zip(final_states(mine, ours is LSTM), their_states)):
        assert_close(f"final state {index}", state, theirs_state, RTOL, ATOL)
    named = dict(mine.named_parameters())
    for name, (torch_name, transform) in mapping.items():
        assert_close(f"gradient of {name}", named[name].grad, transform(reference.get_parameter(torch_name).grad.numpy()), RTOL, ATOL)
