"""Every layer's backward against central differences, in float64.

Shapes and values come from hypothesis: batches of one, sequences of one, all-zero rows and
saturating values (±50) included. ``gradcheck`` perturbs each input and parameter element by
±1e-6 and compares with ``backward`` at rtol 1e-5, atol 1e-7 unless a test says otherwise.
"""
from __future__ import annotations

import numpy
import pytest
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from smartmod.nn import (
    ELU,
    GELU,
    BatchNorm,
    Dense,
    Dropout,
    Embedding,
    LayerNorm,
    LeakyReLU,
    Parallel,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
    backend,
)
from smartmod.nn.gradcheck import GradcheckError, gradcheck, numerical_gradient
from smartmod.nn.module import Module
from smartmod.nn.layers import normalization

# Values of magnitude 50 make the checked sum Σ y·g carry a rounding error of about
# n · 50 · 1e-16 / 2e-6 ≈ 1e-7 for the n ≤ 60 elements here, the default atol: allow 1e-6.
EXTREME_ATOL = 1e-6


@pytest.fixture(autouse=True)
def float64(_reset_backend):
    """Layers built in these tests are float64 (after conftest has reset the backend)."""
    backend.set_default_dtype("float64")


def values(low: float = -5.0, high: float = 5.0, extremes: tuple[float, ...] = (-50.0, 0.0, 50.0)) -> st.SearchStrategy:
    return st.floats(low, high, allow_nan=False, allow_infinity=False) | st.sampled_from(extremes)


def away_from_zero() -> st.SearchStrategy:
    """Values at least 0.01 from the kink of ReLU and LeakyReLU (the check steps by 1e-6)."""
    return st.floats(0.01, 5.0) | st.floats(-5.0, -0.01) | st.sampled_from([-50.0, 50.0])


def arrays(shape: tuple[int, ...], elements: st.SearchStrategy | None = None) -> st.SearchStrategy:
    return hnp.arrays(numpy.float64, shape, elements=values() if elements is None else elements)


batch_shapes = hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=5)  # (N, D), N may be 1
any_shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4)


def randomize_parameters(module: Module, seed: int = 5) -> Module:
    """Replace ones/zeros initial values, under which some gradient bugs cancel out."""
    rng = numpy.random.default_rng(seed)
    for parameter in module.parameters():
        parameter.data[...] = rng.normal(size=parameter.shape)
    return module


# -- the checker itself ----------------------------------------------------------------------


class _ForgetsTheFactorTwo(Module):
    """x² with a wrong derivative, to prove the checker notices."""

    def forward(self, x):
        self._x = x
        return x * x

    def backward(self, grad_output):
        return grad_output * self._x


def test_gradcheck_rejects_a_wrong_input_derivative():
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(_ForgetsTheFactorTwo(), numpy.linspace(0.5, 2.0, 6).reshape(2, 3))


def test_gradcheck_rejects_a_wrong_parameter_derivative():
    layer = randomize_parameters(Dense(3, 2))
    layer.backward = lambda grad_output: grad_output @ layer.weight.data.T  # right input gradient, no weight gradient
    with pytest.raises(GradcheckError, match="parameter 'weight'"):
        gradcheck(layer, numpy.ones((2, 3)))


def test_gradcheck_rejects_a_missing_input_gradient():
    layer = randomize_parameters(Dense(3, 2))
    layer.needs_input_grad = False
    with pytest.raises(GradcheckError, match="input 0: backward returned None"):
        gradcheck(layer, numpy.ones((2, 3)))
    assert gradcheck(layer, numpy.ones((2, 3)), check_inputs=False)  # the weights are still checked


def test_gradcheck_refuses_a_float32_input():
    with pytest.raises(TypeError, match="input 0 is float32"):
        gradcheck(Tanh(), numpy.ones((2, 3), dtype=numpy.float32))


def test_gradcheck_refuses_a_float32_module():
    backend.set_default_dtype("float32")
    with pytest.raises(TypeError, match="float64"):
        gradcheck(Dense(2, 2), numpy.ones((1, 2)))


# -- Dense -----------------------------------------------------------------------------------


@given(st.data(), batch_shapes, st.integers(1, 4), st.booleans())
def test_dense_two_axis_input(data, shape, out_features, bias):
    layer = randomize_parameters(Dense(shape[1], out_features, bias=bias))
    x = data.draw(arrays(shape))
    assert gradcheck(layer, x, atol=EXTREME_ATOL)


@given(st.data(), hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=4), st.integers(1, 3))
def test_dense_three_axis_input(data, shape, out_features):
    layer = randomize_parameters(Dense(shape[-1], out_features))
    x = data.draw(arrays(shape))  # (N, T, in)
    assert gradcheck(layer, x, atol=EXTREME_ATOL)


@given(st.integers(1, 6), st.integers(1, 5), st.integers(1, 3), st.floats(0.0, 1.0), st.integers(0, 2**16))
def test_dense_sparse_csr_input_weight_and_bias_gradients(rows, in_features, out_features, density, seed):
    x = scipy.sparse.random(rows, in_features, density=density, format="csr", random_state=seed, dtype=numpy.float64)
    layer = randomize_parameters(Dense(in_features, out_features))
    assert gradcheck(layer, x)  # a sparse input gets no numerical check; weight and bias do


def test_dense_sparse_input_with_an_all_zero_row():
    x = scipy.sparse.csr_matrix(numpy.array([[0.0, 0.0, 0.0], [1.5, 0.0, -2.0], [0.0, 0.0, 0.0]]))
    assert gradcheck(randomize_parameters(Dense(3, 2)), x)


# -- activations -----------------------------------------------------------------------------


@given(st.data(), any_shapes)
def test_relu(data, shape):
    assert gradcheck(ReLU(), data.draw(arrays(shape, away_from_zero())), atol=EXTREME_ATOL)


@given(st.data(), any_shapes, st.sampled_from([0.01, 0.2, 1.5]))
def test_leaky_relu(data, shape, slope):
    assert gradcheck(LeakyReLU(slope), data.draw(arrays(shape, away_from_zero())), atol=EXTREME_ATOL)


@given(st.data(), any_shapes, st.sampled_from([1.0, 0.5, 2.0]))
def test_elu(data, shape, alpha):
    # alpha ≠ 1 makes ELU's derivative jump at 0: keep away from it as for ReLU
    elements = values() if alpha == 1.0 else away_from_zero()
    assert gradcheck(ELU(alpha), data.draw(arrays(shape, elements)), atol=EXTREME_ATOL)


@given(st.data(), any_shapes, st.sampled_from(["none", "tanh"]))
def test_gelu(data, shape, approximate):
    assert gradcheck(GELU(approximate), data.draw(arrays(shape)), atol=EXTREME_ATOL)


@given(st.data(), any_shapes)
def test_sigmoid(data, shape):
    assert gradcheck(Sigmoid(), data.draw(arrays(shape)), atol=EXTREME_ATOL)


@given(st.data(), any_shapes)
def test_tanh(data, shape):
    assert gradcheck(Tanh(), data.draw(arrays(shape)), atol=EXTREME_ATOL)


@given(st.data(), hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
def test_softmax_on_every_axis(data, shape):
    x = data.draw(arrays(shape))
    for axis in [*range(len(shape)), -1]:
        assert gradcheck(Softmax(axis), x, atol=EXTREME_ATOL)


@pytest.mark.parametrize("layer", [Sigmoid(), Tanh(), Softmax(), GELU(), GELU("tanh"), ELU()], ids=repr)
def test_saturating_values_and_an_all_zero_row(layer):
    x = numpy.array([[50.0, -50.0, 0.0, 3.0], [0.0, 0.0, 0.0, 0.0], [-50.0, -50.0, -50.0, 50.0]])
    assert gradcheck(layer, x, atol=EXTREME_ATOL)


# -- dropout ---------------------------------------------------------------------------------


@given(st.data(), any_shapes, st.sampled_from([0.1, 0.5, 0.9]), st.booleans())
def test_dropout_with_a_repeating_mask(data, shape, p, training):
    layer = Dropout(p).train(training)
    assert gradcheck(layer, data.draw(arrays(shape)), seed=11, atol=EXTREME_ATOL)


# -- normalization ---------------------------------------------------------------------------

normalization_shapes = st.one_of(
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=5),  # (N, C)
    hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=4),  # (N, C, L)
    hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=3),  # (N, C, H, W)
)


@given(st.data(), normalization_shapes, st.booleans())
def test_batch_norm_training(data, shape, affine):
    layer = randomize_parameters(BatchNorm(shape[1], affine=affine))
    x = data.draw(arrays(shape, values(-3.0, 3.0, (-50.0, 0.0, 50.0))))
    values_per_feature = x.size // shape[1]
    if values_per_feature == 1:
        with pytest.raises(ValueError, match="more than one value per feature"):
            layer(x)
    else:
        assert gradcheck(layer, x, atol=EXTREME_ATOL)


@given(st.data(), normalization_shapes)
def test_batch_norm_evaluation_uses_running_statistics(data, shape):
    layer = randomize_parameters(BatchNorm(shape[1])).eval()
    rng = numpy.random.default_rng(3)
    layer.set_buffer("running_mean", rng.normal(size=shape[1]))
    layer.set_buffer("running_var", rng.uniform(0.5, 2.0, size=shape[1]))
    assert gradcheck(layer, data.draw(arrays(shape)), atol=EXTREME_ATOL)  # batch of one allowed


def test_batch_norm_training_refuses_a_batch_of_one():
    with pytest.raises(ValueError, match="batch of 2 or more, or eval"):
        BatchNorm(3)(numpy.ones((1, 3)))


@given(st.data(), hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=5), st.booleans())
def test_layer_norm(data, shape, affine):
    layer = randomize_parameters(LayerNorm(shape[-1], affine=affine))
    x = data.draw(arrays(shape, values(-3.0, 3.0, (-50.0, 0.0, 50.0))))
    assert gradcheck(layer, x, atol=EXTREME_ATOL)


def test_layer_norm_with_an_all_zero_row():
    layer = randomize_parameters(LayerNorm(4))
    assert gradcheck(layer, numpy.array([[0.0, 0.0, 0.0, 0.0], [1.0, -2.0, 0.5, 3.0]]))


# -- embedding -------------------------------------------------------------------------------


@given(st.data(), st.integers(1, 6), st.integers(1, 4), hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=5))
def test_embedding(data, num_embeddings, dim, ids_shape):
    ids = data.draw(hnp.arrays(numpy.int64, ids_shape, elements=st.integers(0, num_embeddings - 1)))
    assert gradcheck(Embedding(num_embeddings, dim), ids)


@given(st.data(), st.integers(2, 6), st.integers(1, 4), hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=5))
def test_embedding_padding_row_gets_no_gradient(data, num_embeddings, dim, ids_shape):
    padding_idx = data.draw(st.integers(0, num_embeddings - 1))
    ids = data.draw(hnp.arrays(numpy.int64, ids_shape, elements=st.integers(0, num_embeddings - 1)))
    ids.reshape(-1)[0] = padding_idx  # the padding id is always used, often repeated
    layer = Embedding(num_embeddings, dim, padding_idx=padding_idx)
    grad_output = numpy.random.default_rng(0).normal(size=ids_shape + (dim,))

    layer.zero_grad()
    layer(ids)
    assert layer.backward(grad_output) is None
    numerical = numerical_gradient(lambda: float(numpy.sum(layer(ids) * grad_output)), layer.weight.data)

    analytic = layer.weight.grad
    assert numpy.all(analytic[padding_idx] == 0), f"padding row gradient mine {analytic[padding_idx]} / expected 0"
    others = numpy.arange(num_embeddings) != padding_idx
    numpy.testing.assert_allclose(analytic[others], numerical[others], rtol=1e-5, atol=1e-7)


# -- composition -----------------------------------------------------------------------------


@given(st.integers(0, 2**16), st.integers(2, 4), st.integers(1, 3))
def test_sequential_chains_every_backward(seed, batch, out_features):
    model = randomize_parameters(
        Sequential(
            Dense(4, 5), BatchNorm(5), Tanh(), Dropout(0.3),
            Dense(5, 6), LayerNorm(6), GELU(), Dense(6, 4), ELU(), Sigmoid(),
            Dense(4, out_features), Softmax(),
        )
    )
    # Rows that differ: with equal rows BatchNorm sees zero variance, where its curvature
    # (~1/eps^1.5) swamps the central difference; test_batch_norm_training covers that case alone.
    x = numpy.random.default_rng(seed).normal(size=(batch, 4))
    assert gradcheck(model, x, seed=2)


@given(st.integers(0, 2**16), st.integers(1, 4))
def test_parallel_adds_every_branchs_gradient(seed, batch):
    model = randomize_parameters(Parallel(Dense(4, 3), Sequential(Dense(4, 5), Tanh(), Dense(5, 3)), Sequential(Dense(4, 3), Sigmoid())))
    x = numpy.random.default_rng(seed).normal(size=(batch, 4))
    assert gradcheck(model, x, seed=2)


def test_sequential_of_embedding_and_dense_checks_every_parameter():
    model = randomize_parameters(Sequential(Embedding(7, 3, padding_idx=None), Dense(3, 2), Tanh()))
    assert gradcheck(model, numpy.array([[0, 6, 6], [2, 2, 1]]))


@pytest.mark.parametrize("shape", [(7, 16, 1, 1), (4, 16, 3, 5), (2, 3, 7, 11), (6, 300), (5, 2, 13)])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_batch_norm_on_rows_side_by_side_equals_row_by_row(shape, mode, monkeypatch):
    """BatchNorm runs on r rows of its feature matrix side by side (r·C numbers a row, r dividing M):
    the same numbers as one row at a time, for M prime, C over 256 and every layout of x."""
    rng = numpy.random.default_rng(5)
    x, grad = rng.normal(size=shape), rng.normal(size=shape)

    def run() -> list:
        layer = getattr(randomize_parameters(BatchNorm(shape[1]), seed=6), mode)()
        y = layer(x)
        return [y, layer.backward(grad), layer.weight.grad, layer.bias.grad, layer.running_mean, layer.running_var]

    side_by_side = run()
    monkeypatch.setattr(normalization, "_WIDE_ROW", 1)
    for a, b in zip(side_by_side, run()):
        numpy.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
