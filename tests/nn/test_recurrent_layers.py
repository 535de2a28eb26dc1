"""The recurrent layers' contract: padding changes nothing, configurations round-trip, errors say
what to do, outputs never alias the layer's work arrays, and gradient flow is measured."""
from __future__ import annotations

import json

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from smartmod.nn import GRU, LSTM, RNN, Bidirectional, RecurrentStack, backend, layer_from_config
from smartmod.nn.layers.gradient_flow import gradient_norms_through_time

CELLS = [RNN, LSTM, GRU]
cell_ids = pytest.mark.parametrize("cell", CELLS, ids=lambda cell: cell.__name__)


def normal(shape: tuple[int, ...], seed: int) -> numpy.ndarray:
    return numpy.random.default_rng(seed).normal(size=shape)


def as_tuple(state):
    return state if isinstance(state, tuple) else (state,)


@cell_ids
@settings(max_examples=10)
@given(data=st.data(), batch=st.integers(1, 4), steps=st.integers(1, 6), reverse=st.booleans(), seed=st.integers(0, 2**16))
def test_padded_steps_change_nothing(cell, data, batch, steps, reverse, seed):
    """Each row of a padded batch (padding anywhere) gives the outputs, final state and gradients
    of its real steps run alone; padded steps output zeros and receive no gradient."""
    backend.set_default_dtype("float64")
    padding_mask = data.draw(hnp.arrays(bool, (batch, steps)))
    layer = cell(3, 4, reverse=reverse)
    alone = cell(3, 4, reverse=reverse)
    alone.load_state_dict(layer.state_dict())
    x, grad_output = normal((batch, steps, 3), seed), normal((batch, steps, 4), seed + 1)

    outputs = layer.forward(x, padding_mask)
    grad_x = layer.backward(grad_output)
    final = as_tuple(layer.final_state)
    assert not outputs[padding_mask].any() and not grad_x[padding_mask].any()
    for row in range(batch):
        real = ~padding_mask[row]
        if not real.any():
            assert all(not state[row].any() for state in final), "a row with no real step keeps the initial (zero) state"
            continue
        row_outputs = alone.forward(x[row:row + 1, real])
        row_grad_x = alone.backward(grad_output[row:row + 1, real])
        numpy.testing.assert_allclose(outputs[row, real], row_outputs[0], rtol=1e-12, atol=1e-12)
        numpy.testing.assert_allclose(grad_x[row, real], row_grad_x[0], rtol=1e-12, atol=1e-12)
        for state, row_state in zip(final, as_tuple(alone.final_state)):
            numpy.testing.assert_allclose(state[row], row_state[0], rtol=1e-12, atol=1e-12)
    for (name, parameter), (_, summed) in zip(layer.named_parameters(), alone.named_parameters()):
        numpy.testing.assert_allclose(parameter.grad, summed.grad, rtol=1e-10, atol=1e-12, err_msg=name)  # Σ over rows alone


@cell_ids
def test_outputs_and_states_are_fresh_arrays(cell):
    layer = cell(2, 3)
    first = layer(numpy.ones((1, 2, 2), dtype=numpy.float32))  # batch 1: the time-major buffer is already batch-first
    first_state = [state.copy() for state in as_tuple(layer.final_state)]
    kept, kept_state = first.copy(), as_tuple(layer.final_state)
    layer(numpy.full((1, 2, 2), -3.0, dtype=numpy.float32), numpy.array([[False, True]]))
    numpy.testing.assert_array_equal(first, kept)
    for state, copy in zip(kept_state, first_state):
        numpy.testing.assert_array_equal(state, copy)


@cell_ids
def test_float32_throughout(cell):
    layer = cell(2, 3)
    outputs = layer(numpy.ones((2, 4, 2)))  # float64 data into a float32 layer
    grad_x = layer.backward(numpy.ones((2, 4, 3), dtype=numpy.float32))
    assert outputs.dtype == grad_x.dtype == numpy.float32
    assert all(parameter.grad.dtype == numpy.float32 for parameter in layer.parameters())


@cell_ids
def test_return_sequences_false_gives_the_last_real_output(cell):
    x, lengths = normal((3, 5, 2), 0).astype(numpy.float32), numpy.array([5, 3, 1])
    sequences, last = cell(2, 4), cell(2, 4, return_sequences=False)
    last.load_state_dict(sequences.state_dict())
    outputs = sequences.forward(x, lengths=lengths)
    numpy.testing.assert_array_equal(last.forward(x, lengths=lengths), outputs[numpy.arange(3), lengths - 1])


@cell_ids
def test_without_input_gradient_the_weights_still_learn(cell):
    layer = cell(2, 3)
    layer.needs_input_grad = False
    layer(numpy.ones((2, 3, 2), dtype=numpy.float32))
    assert layer.backward(numpy.ones((2, 3, 3), dtype=numpy.float32)) is None
    assert all(parameter.grad.any() for parameter in layer.parameters())


LAYERS = {
    "RNN": lambda: RNN(3, 4, return_sequences=False, bptt_steps=2),
    "LSTM": lambda: LSTM(3, 4, reverse=True, forget_bias=1.0),
    "GRU": lambda: GRU(3, 5, bptt_steps=3),
    "Bidirectional": lambda: Bidirectional(LSTM(3, 4, return_sequences=False)),
    "RecurrentStack": lambda: RecurrentStack(Bidirectional(GRU(3, 2)), RNN(4, 3), LSTM(3, 2, return_sequences=False), dropout=0.25),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_configuration_and_weights_round_trip_through_json(name):
    layer = LAYERS[name]()
    config = json.loads(json.dumps(layer.to_config()))
    rebuilt = layer_from_config(config)
    assert rebuilt.get_config() == layer.get_config()
    rebuilt.load_state_dict(layer.state_dict())
    layer.eval(), rebuilt.eval()
    x, padding_mask = normal((2, 4, 3), 1).astype(numpy.float32), numpy.array([[False] * 4, [True, False, False, True]])
    numpy.testing.assert_array_equal(rebuilt(x, padding_mask), layer(x, padding_mask))


def test_forget_bias_shifts_only_the_forget_gate_at_initialization():
    backend.seed(3)
    plain = LSTM(2, 3)
    backend.seed(3)
    remembering = LSTM(2, 3, forget_bias=2.0)
    numpy.testing.assert_allclose(remembering.bias_ih.data - plain.bias_ih.data, [0, 0, 0, 2, 2, 2, 0, 0, 0, 0, 0, 0])
    numpy.testing.assert_array_equal(remembering.bias_hh.data, plain.bias_hh.data)


def test_parameter_names_follow_the_tree():
    stack = RecurrentStack(Bidirectional(LSTM(3, 2)), GRU(4, 2))
    names = [name for name, _ in stack.named_parameters()]
    assert names[:4] == ["0.forward_layer.weight_ih", "0.forward_layer.weight_hh", "0.forward_layer.bias_ih", "0.forward_layer.bias_hh"]
    assert names[4] == "0.backward_layer.weight_ih" and names[8] == "1.weight_ih" and len(names) == 12
    assert stack[0].backward_layer.reverse and not stack[0].forward_layer.reverse


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: LSTM(3, 2)(numpy.ones((2, 3))), r"expects inputs \(batch, steps, 3\)"),
        (lambda: LSTM(3, 2)(numpy.ones((2, 0, 3))), "at least one step"),
        (lambda: LSTM(3, 2)(numpy.ones((2, 4, 3)), numpy.zeros((2, 3), dtype=bool)), r"padding_mask must have shape \(batch, steps\) = \(2, 4\)"),
        (lambda: LSTM(3, 2)(numpy.ones((1, 4, 3)), numpy.full((1, 4), 0.5)), "booleans or 0/1"),
        (lambda: LSTM(3, 2).forward(numpy.ones((2, 4, 3)), lengths=numpy.array([5, 1])), r"lengths must lie in \[0, 4\]"),
        (lambda: LSTM(3, 2).forward(numpy.ones((2, 4, 3)), numpy.zeros((2, 4), dtype=bool), lengths=numpy.array([4, 1])), "not both"),
        (lambda: LSTM(3, 2)(numpy.ones((2, 4, 3)), None, numpy.zeros((2, 2))), r"initial_state must be a tuple \(h, c\)"),
        (lambda: GRU(3, 2)(numpy.ones((2, 4, 3)), None, numpy.zeros((3, 2))), r"initial_state must be an array \(2, 2\)"),
        (lambda: RNN(3, 2, bptt_steps=0), "bptt_steps must be None"),
        (lambda: RNN(0, 2), "positive integer input_size"),
        (lambda: Bidirectional(GRU(3, 2, reverse=True)), "reverse=False"),
        (lambda: RecurrentStack(LSTM(3, 2, return_sequences=False), LSTM(2, 2)), "return_sequences=True"),
        (lambda: RecurrentStack(Bidirectional(LSTM(3, 2)), LSTM(2, 2)), "takes 2 features but layer 0 outputs 4"),
    ],
)
def test_mistakes_are_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_gradient_norms_through_time_measure_the_input_gradient_and_keep_parameter_gradients():
    layer = LSTM(3, 4)
    x, padding_mask = normal((2, 5, 3), 2).astype(numpy.float32), numpy.array([[False] * 5, [False, False, False, True, True]])
    grad_output = numpy.zeros((2, 5, 4), dtype=numpy.float32)
    grad_output[:, -1] = 1  # a loss on the last output only
    layer.bias_hh.grad[...] = 7.0
    norms = gradient_norms_through_time(layer, x, grad_output, padding_mask)
    assert numpy.all(layer.bias_hh.grad == 7.0), "the measurement changed the parameters' gradients"

    layer.forward(x, padding_mask)
    grad_x = layer.backward(grad_output).astype(numpy.float64)
    numpy.testing.assert_allclose(norms, numpy.sqrt((grad_x**2).sum(axis=(0, 2))), rtol=1e-6)
    assert norms.shape == (5,) and numpy.all(norms > 0)


def test_bidirectional_gives_the_same_result_with_its_directions_side_by_side_or_in_turn(monkeypatch):
    import threading

    threadpoolctl = pytest.importorskip("threadpoolctl")
    from smartmod.nn import parallel

    layer = Bidirectional(LSTM(3, 4))
    x, grad_output = normal((2, 5, 3), 4).astype(numpy.float32), normal((2, 5, 8), 5).astype(numpy.float32)
    threads = set()
    step = LSTM.forward
    monkeypatch.setattr(LSTM, "forward", lambda self, *args, **kwargs: threads.add(threading.current_thread().name) or step(self, *args, **kwargs))
    with threadpoolctl.threadpool_limits(2, user_api="blas"):  # two threads allowed: the directions go side by side
        side_by_side = layer(x), layer.backward(grad_output)
    assert len(threads) == 2, f"the two directions ran on {threads}, not on two threads"
    monkeypatch.setattr(parallel, "ThreadpoolController", None)  # no threadpoolctl: one after the other
    threads.clear()
    in_turn = layer(x), layer.backward(grad_output)
    assert len(threads) == 1
    for mine, expected in zip(side_by_side, in_turn):
        numpy.testing.assert_array_equal(mine, expected)


def test_bidirectional_gives_blas_its_threads_back_even_after_an_error():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [library["num_threads"] for library in threadpoolctl.threadpool_info() if library["user_api"] == "blas"]
    layer = Bidirectional(GRU(3, 2))
    layer(numpy.ones((1, 2, 3), dtype=numpy.float32))
    with pytest.raises(ValueError, match="lengths must lie"):
        layer.forward(numpy.ones((1, 2, 3), dtype=numpy.float32), lengths=numpy.array([3]))
    after = [library["num_threads"] for library in threadpoolctl.threadpool_info() if library["user_api"] == "blas"]
    assert after == before


def _bidirectional_sum(layer, x):
    return float(layer.forward(x).sum())


def test_bidirectional_runs_in_a_process_forked_after_its_thread_started():
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    backend.seed(0)
    layer = Bidirectional(LSTM(3, 4))
    x = numpy.random.default_rng(0).normal(size=(2, 5, 3)).astype(numpy.float32)
    expected = _bidirectional_sum(layer, x)  # starts the side-by-side thread in this process
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply_async(_bidirectional_sum, (layer, x)).get(timeout=60) == pytest.approx(expected, rel=1e-6)
