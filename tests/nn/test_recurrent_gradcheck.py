"""Recurrent layers' backpropagation through time against central differences, in float64.

Shapes, padding and directions come from hypothesis: batches of one, sequences of one step,
all-padding rows, padding before, after and inside the real steps. ``gradcheck`` perturbs every
input and parameter element by ±1e-6 and compares with ``backward`` at rtol 1e-5, atol 1e-7.
"""
from __future__ import annotations

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from smartmod.nn import backend
from smartmod.nn.gradcheck import gradcheck, numerical_gradient
from smartmod.nn.layers.bidirectional import Bidirectional
from smartmod.nn.layers.gru import GRU
from smartmod.nn.layers.lstm import LSTM
from smartmod.nn.layers.recurrent_stack import RecurrentStack
from smartmod.nn.layers.rnn import RNN
from tests.nn.test_layers_gradcheck import randomize_parameters

CELLS = [RNN, LSTM, GRU]


@pytest.fixture(autouse=True)
def float64(_reset_backend):
    """Layers built in these tests are float64 (after conftest has reset the backend)."""
    backend.set_default_dtype("float64")


def normal(shape: tuple[int, ...], seed: int) -> numpy.ndarray:
    return numpy.random.default_rng(seed).normal(size=shape)


sizes = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3))  # B, T, F, H


def padding_masks(batch: int, steps: int) -> st.SearchStrategy:
    """Any pattern: pre- and post-padding, holes, all-padding rows and none at all."""
    return hnp.arrays(bool, (batch, steps))


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.__name__)
@settings(max_examples=12)
@given(data=st.data(), size=sizes, reverse=st.booleans(), return_sequences=st.booleans(), seed=st.integers(0, 2**16))
def test_cell_with_any_padding(cell, data, size, reverse, return_sequences, seed):
    batch, steps, features, hidden = size
    layer = randomize_parameters(cell(features, hidden, return_sequences=return_sequences, reverse=reverse), seed)
    padding_mask = data.draw(padding_masks(batch, steps))
    assert gradcheck(layer, normal((batch, steps, features), seed), padding_mask)


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.__name__)
@pytest.mark.parametrize("padding", ["pre", "post"])
def test_cell_with_padding_at_one_end_and_an_all_padding_row(cell, padding):
    real = numpy.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]], dtype=bool)  # (B, T), rows of 4, 2, 1, 0 steps
    padding_mask = ~real if padding == "post" else ~real[:, ::-1]
    layer = randomize_parameters(cell(2, 3), seed=1)
    assert gradcheck(layer, normal((4, 4, 2), seed=2), padding_mask)


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.__name__)
def test_saturating_inputs(cell):
    x = numpy.array([[[50.0, -50.0], [0.0, 0.0], [-50.0, 50.0]]])  # (1, 3, 2)
    assert gradcheck(randomize_parameters(cell(2, 2), seed=3), x, atol=1e-6)


def states_of(cell: type, batch: int, hidden: int, seed: int) -> list[numpy.ndarray]:
    return [normal((batch, hidden), seed + k) for k in range(len(cell.state_names))]


def packed(cell: type, arrays: list[numpy.ndarray]):
    return arrays[0] if len(arrays) == 1 else tuple(arrays)


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.__name__)
@settings(max_examples=6)
@given(data=st.data(), size=sizes, reverse=st.booleans(), seed=st.integers(0, 2**16))
def test_initial_state_and_final_state_gradients(cell, data, size, reverse, seed):
    """∂L/∂(initial state) and the parameters, for L = Σ outputs·G + Σ final state·G'."""
    batch, steps, features, hidden = size
    layer = randomize_parameters(cell(features, hidden, reverse=reverse), seed)
    x, padding_mask = normal((batch, steps, features), seed), data.draw(padding_masks(batch, steps))
    initial = states_of(cell, batch, hidden, seed + 1)
    grad_output = normal((batch, steps, hidden), seed + 5)
    grad_final = states_of(cell, batch, hidden, seed + 7)

    def loss() -> float:
        outputs = layer.forward(x, padding_mask, packed(cell, initial))
        final = layer.final_state if len(initial) > 1 else (layer.final_state,)
        return float(numpy.sum(outputs * grad_output) + sum(numpy.sum(f * g) for f, g in zip(final, grad_final)))

    layer.zero_grad()
    layer.forward(x, padding_mask, packed(cell, initial))
    layer.backward(grad_output, packed(cell, grad_final))
    analytic = layer.initial_state_grad if len(initial) > 1 else (layer.initial_state_grad,)
    for name, state, grad in zip(cell.state_names, initial, analytic):
        numpy.testing.assert_allclose(grad, numerical_gradient(loss, state), rtol=1e-5, atol=1e-7, err_msg=f"initial {name}")
    for name, parameter in layer.named_parameters():
        analytic_grad = parameter.grad.copy()
        numpy.testing.assert_allclose(analytic_grad, numerical_gradient(loss, parameter.data), rtol=1e-5, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.__name__)
@pytest.mark.parametrize("reverse", [False, True])
def test_truncated_bptt_equals_chunks_run_one_after_another(cell, reverse):
    """bptt_steps=2 over 5 steps: the gradients of chunks [0, 2), [2, 4), [4, 5) (in the loop's
    direction), each started from the previous chunk's final state taken as a constant."""
    batch, steps, features, hidden, chunk = 2, 5, 3, 4, 2
    truncated = randomize_parameters(cell(features, hidden, reverse=reverse, bptt_steps=chunk), seed=4)
    chunked = cell(features, hidden, reverse=reverse)
    chunked.load_state_dict(truncated.state_dict())
    x, grad_output = normal((batch, steps, features), 5), normal((batch, steps, hidden), 6)

    truncated.forward(x)
    grad_x = truncated.backward(grad_output)

    starts = list(range(0, steps, chunk))
    spans = [slice(start, start + chunk) for start in starts]
    if reverse:  # the loop starts at the end: chunks [3, 5), [1, 3), [0, 1)
        spans = [slice(max(steps - start - chunk, 0), steps - start) for start in starts]
    state, expected_grad_x = None, numpy.zeros_like(x)
    for span in spans:
        chunked.forward(x[:, span], initial_state=state)
        state = chunked.final_state
        expected_grad_x[:, span] = chunked.backward(grad_output[:, span])
    numpy.testing.assert_allclose(grad_x, expected_grad_x, rtol=1e-10, atol=1e-12)
    for (name, mine), (_, expected) in zip(truncated.named_parameters(), chunked.named_parameters()):
        numpy.testing.assert_allclose(mine.grad, expected.grad, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.__name__)
@settings(max_examples=5)
@given(data=st.data(), size=sizes, return_sequences=st.booleans(), seed=st.integers(0, 2**16))
def test_bidirectional(cell, data, size, return_sequences, seed):
    batch, steps, features, hidden = size
    layer = randomize_parameters(Bidirectional(cell(features, hidden, return_sequences=return_sequences)), seed)
    padding_mask = data.draw(padding_masks(batch, steps))
    assert gradcheck(layer, normal((batch, steps, features), seed), padding_mask)


@settings(max_examples=5)
@given(data=st.data(), size=sizes, seed=st.integers(0, 2**16))
def test_stack_of_a_bidirectional_lstm_and_a_gru_with_dropout_between(data, size, seed):
    batch, steps, features, hidden = size
    stack = randomize_parameters(RecurrentStack(Bidirectional(LSTM(features, hidden)), GRU(2 * hidden, 2, return_sequences=False), dropout=0.4), seed)
    padding_mask = data.draw(padding_masks(batch, steps))
    assert gradcheck(stack, normal((batch, steps, features), seed), padding_mask, seed=8)  # the same dropout mask every pass
