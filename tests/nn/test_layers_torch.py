"""Every layer against its PyTorch counterpart, weights copied, in float32.

Forward output, input gradient and parameter gradients must agree to rtol 1e-5 / atol 1e-6
unless a test states a looser tolerance and why. Failures print "mine / theirs".
"""
from __future__ import annotations

import numpy
import pytest
import scipy.sparse
import torch
from hypothesis import assume, given
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
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
    backend,
)
from tests.nn.torch_reference import assert_close, check_against_torch, same, transpose

AFFINE = {"weight": ("weight", same), "bias": ("bias", same)}
LINEAR = {"weight": ("weight", transpose), "bias": ("bias", same)}


def float32_arrays(shape, low: float = -5.0, high: float = 5.0) -> st.SearchStrategy:
    """float32 values with exact zeros and saturating ±50 mixed in."""
    elements = st.floats(low, high, width=32) | st.sampled_from([-50.0, 0.0, 50.0])
    return hnp.arrays(numpy.float32, shape, elements=elements)


def normal(shape, seed: int, scale: float = 1.0, shift: float = 0.0) -> numpy.ndarray:
    return (numpy.random.default_rng(seed).normal(size=shape) * scale + shift).astype(numpy.float32)


any_shapes = hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5)


# -- Dense -----------------------------------------------------------------------------------


@given(st.data(), hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=6), st.integers(1, 6), st.booleans())
def test_dense_matches_linear(data, shape, out_features, bias):
    x = data.draw(float32_arrays(shape))  # (N, in) or (N, T, in)
    mine = Dense(shape[-1], out_features, bias=bias)
    theirs = torch.nn.Linear(shape[-1], out_features, bias=bias)
    mapping = LINEAR if bias else {"weight": LINEAR["weight"]}
    # ±50 entries make dot products (over up to 36 rows for the weight gradient) of terms up to
    # ~200 that may cancel: an entry near 0 carries the float32 rounding of the large terms, so
    # each entry is measured against the largest of its array (rtol 1e-5 of it, atol 1e-6)
    check_against_torch(mine, theirs, x, mapping, theirs, normwise=True)


@pytest.mark.parametrize("matrix", [scipy.sparse.csr_matrix, scipy.sparse.csr_array])
def test_dense_sparse_input_matches_the_dense_equivalent(matrix):
    dense_x = normal((6, 5), seed=1) * (numpy.random.default_rng(2).random((6, 5)) < 0.4)
    dense_x[3] = 0  # an all-zero row
    sparse_x = matrix(dense_x)
    grad_output = normal((6, 3), seed=3)
    on_dense, on_sparse = Dense(5, 3), Dense(5, 3)
    on_sparse.load_state_dict(on_dense.state_dict())

    y_dense, y_sparse = on_dense(dense_x), on_sparse(sparse_x)
    assert isinstance(y_sparse, numpy.ndarray) and y_sparse.dtype == numpy.float32
    assert_close("forward", y_sparse, y_dense, rtol=1e-6, atol=1e-7)
    assert on_dense.backward(grad_output) is not None
    assert on_sparse.backward(grad_output) is None  # the input is data: no gradient for it
    assert_close("weight gradient", on_sparse.weight.grad, on_dense.weight.grad, rtol=1e-6, atol=1e-7)
    assert_close("bias gradient", on_sparse.bias.grad, on_dense.bias.grad, rtol=1e-6, atol=1e-7)


# -- activations -----------------------------------------------------------------------------

# GELU's left tail x (1 + tanh u) / 2 (or x (1 + erf) / 2) cancels 1 against -0.99999..: both
# float32 implementations are off the float64 truth by about ulp(1) · |x| · |g| ≈ 2e-6 for
# |x| ≤ 5 and |g| ≤ 4, hence atol 3e-6 for GELU; 1e-6 for the rest.
ACTIVATIONS = [
    pytest.param(ReLU, torch.nn.ReLU, {}, 1e-6, id="relu"),
    pytest.param(LeakyReLU, torch.nn.LeakyReLU, {"negative_slope": 0.1}, 1e-6, id="leaky_relu-0.1"),
    pytest.param(LeakyReLU, torch.nn.LeakyReLU, {"negative_slope": 1.7}, 1e-6, id="leaky_relu-1.7"),
    pytest.param(ELU, torch.nn.ELU, {"alpha": 1.0}, 1e-6, id="elu-1"),
    pytest.param(ELU, torch.nn.ELU, {"alpha": 0.3}, 1e-6, id="elu-0.3"),
    pytest.param(GELU, torch.nn.GELU, {"approximate": "none"}, 3e-6, id="gelu-erf"),
    pytest.param(GELU, torch.nn.GELU, {"approximate": "tanh"}, 3e-6, id="gelu-tanh"),
    pytest.param(Sigmoid, torch.nn.Sigmoid, {}, 1e-6, id="sigmoid"),
    pytest.param(Tanh, torch.nn.Tanh, {}, 1e-6, id="tanh"),
]


@pytest.mark.parametrize("ours, theirs, kwargs, atol", ACTIVATIONS)
@given(data=st.data(), shape=any_shapes)
def test_activation_matches_torch(ours, theirs, kwargs, atol, data, shape):
    # the same float32 inputs reach both, so an exact 0 is a tie neither side can flip:
    # the derivative there (ReLU 0, LeakyReLU slope, ELU alpha) must follow PyTorch's convention
    check_against_torch(ours(**kwargs), theirs(**kwargs), data.draw(float32_arrays(shape)), atol=atol)


@pytest.mark.parametrize("ours, theirs, kwargs, atol", ACTIVATIONS)
def test_activation_derivative_at_zero_follows_torch(ours, theirs, kwargs, atol):
    check_against_torch(ours(**kwargs), theirs(**kwargs), numpy.zeros((2, 3), dtype=numpy.float32), atol=atol)


@given(st.data(), hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=5))
def test_softmax_matches_torch_on_every_axis(data, shape):
    x = data.draw(float32_arrays(shape))
    for axis in [*range(len(shape)), -1]:
        check_against_torch(Softmax(axis), torch.nn.Softmax(dim=axis), x)


def test_softmax_of_extreme_logits_and_an_all_zero_row():
    x = numpy.array([[50.0, -50.0, 0.0], [0.0, 0.0, 0.0], [-50.0, -50.0, -50.0], [1e4, 0.0, -1e4]], dtype=numpy.float32)
    y = check_against_torch(Softmax(), torch.nn.Softmax(dim=-1), x)
    assert numpy.all(numpy.isfinite(y))


# -- Dropout ---------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_zeroes_a_fraction_p_and_preserves_the_mean(p):
    n = 200_000
    x = numpy.ones(n, dtype=numpy.float32)
    y = Dropout(p)(x)
    zeroed, mean = float(numpy.mean(y == 0)), float(numpy.mean(y))
    # five standard deviations of the binomial fraction, and of the mean of kept / (1 - p)
    fraction_sd, mean_sd = (p * (1 - p) / n) ** 0.5, (p / ((1 - p) * n)) ** 0.5
    assert abs(zeroed - p) < 5 * fraction_sd, f"fraction zeroed mine {zeroed} / expected {p}"
    assert abs(mean - 1.0) < 5 * mean_sd, f"mean mine {mean} / expected 1.0"


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_scales_kept_values_like_torch(p):
    x = normal((50, 40), seed=4)
    mine = Dropout(p)(x)
    theirs = torch.nn.Dropout(p)(torch.from_numpy(x)).numpy()
    kept_mine, kept_theirs = mine != 0, theirs != 0
    assert_close("kept values", mine[kept_mine], x[kept_mine] / numpy.float32(1 - p), rtol=1e-6, atol=0)
    assert_close("torch's kept values", theirs[kept_theirs], x[kept_theirs] / numpy.float32(1 - p), rtol=1e-6, atol=0)


def test_dropout_backward_uses_the_forward_mask():
    layer = Dropout(0.5)
    x = normal((30, 20), seed=5)
    y = layer(x)
    grad = layer.backward(numpy.ones_like(x))
    assert numpy.array_equal(grad == 0, y == 0)
    assert_close("gradient of kept values", grad[y != 0], numpy.full(int((y != 0).sum()), 2.0), rtol=0, atol=0)


def test_dropout_in_evaluation_is_the_identity():
    layer = Dropout(0.7).eval()
    x = normal((8, 9), seed=6)
    assert numpy.array_equal(layer(x), x)
    assert numpy.array_equal(layer.backward(x * 3), x * 3)
    assert numpy.array_equal(torch.nn.Dropout(0.7).eval()(torch.from_numpy(x)).numpy(), x)


def test_dropout_mask_repeats_under_the_same_seed():
    x = normal((10, 10), seed=7)
    backend.seed(123)
    first = Dropout(0.5)(x)
    backend.seed(123)
    assert numpy.array_equal(Dropout(0.5)(x), first)
    assert not numpy.array_equal(Dropout(0.5)(x), first)


@pytest.mark.parametrize("shape", [(0,), (1,), (3,), (5, 7), (2, 0, 3), (4, 1, 9)])
def test_dropout_mask_has_the_input_shape_for_any_size(shape):
    from smartmod.nn.layers.dropout import keep_mask

    keep = keep_mask(shape, 0.5, numpy.random.default_rng(0))
    assert keep.shape == shape and keep.dtype == bool


@pytest.mark.parametrize("p", [1 / 3, 0.05, 1e-3])
def test_dropout_mask_decisions_are_independent_with_probability_p(p):
    from smartmod.nn.layers.dropout import keep_mask

    n = 400_001  # not a multiple of the four decisions one 64-bit draw gives
    keep = keep_mask((n,), p, numpy.random.default_rng(1))
    dropped, both_kept = 1 - keep.mean(), (keep[:-1] & keep[1:]).mean()
    # five standard deviations, plus the 2 ** -16 resolution of the threshold
    assert abs(dropped - p) < 5 * (p * (1 - p) / n) ** 0.5 + 2.0 ** -16
    q = (1 - p) ** 2  # neighbours come from the same draw: their decisions must still be independent
    assert abs(both_kept - q) < 5 * (q * (1 - q) / n) ** 0.5 + 2.0 ** -15


# -- normalization ---------------------------------------------------------------------------

# Normalization subtracts a mean and its input gradient is a cancelling sum (m ĝ - Σ ĝ - x̂ Σ ĝ x̂)
# of terms of size |g| / σ: an entry near zero carries the rounding of the large terms. So these
# comparisons measure every entry against the largest one of its array (rtol 1e-5 of it), and
# the absolute tolerance scales with 1 / σ (see ``cancellation_atol``).


def well_conditioned(x: numpy.ndarray, axes: int | tuple[int, ...]) -> bool:
    """Every group normalized over ``axes`` spreads over a tenth of its magnitude (σ ≥ 0.1 max|x|),
    or is one value repeated whose float32 mean is exactly that value.

    Below that, x - mean loses digits in float32 (at σ = 0.001 |x|, one ulp of x is 1e-4 of σ)
    and becomes 316 ulp of output on a constant row (1/sqrt(eps)): PyTorch and we then differ by
    rounding alone. The float64 gradient checks cover those inputs.
    """
    x = numpy.moveaxis(x, numpy.atleast_1d(axes), range(-numpy.atleast_1d(axes).size, 0))
    groups = x.reshape(-1, int(numpy.prod(x.shape[x.ndim - numpy.atleast_1d(axes).size:])))
    spread = groups.std(axis=1) >= 0.1 * numpy.abs(groups).max(axis=1)
    exact_constant = (groups == groups[:, :1]).all(axis=1) & (groups.mean(axis=1, dtype=numpy.float32) == groups[:, 0])
    return bool(numpy.all(spread | exact_constant))


def cancellation_atol(x: numpy.ndarray, axes: int | tuple[int, ...], eps: float = 1e-5) -> float:
    """2e-6 · max(1, 1/sqrt(σ² + eps)) for the smallest σ over ``axes``: float32 keeps ~1e-7 of
    each term of size |g|/σ (|g| ≤ ~4 here), and a group of two values, whose exact gradient
    is only ~eps/σ³, is nothing but that rounding (mine and torch's each 1e-6 off float64)."""
    inverse_std = 1.0 / numpy.sqrt(x.astype(numpy.float64).var(axis=axes).min() + eps)
    return 2e-6 * max(1.0, float(inverse_std))


# The weight gradient Σ g x̂ sums up to 200 products of size ~1 that partly cancel: summed in
# another order, float32 results differ by ~1e-7 · √200 · a few, so 1e-5 absolute.
BATCH_NORM_SUM_ATOL = 1e-5

batch_norm_shapes = st.one_of(
    st.tuples(st.integers(2, 16), st.integers(1, 5)),  # (N, C)
    st.tuples(st.integers(1, 6), st.integers(1, 4), st.integers(2, 8)),  # (N, C, L)
    st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(2, 5), st.integers(2, 5)),  # (N, C, H, W)
)


def torch_batch_norm(shape: tuple[int, ...], **kwargs) -> torch.nn.Module:
    return (torch.nn.BatchNorm2d if len(shape) == 4 else torch.nn.BatchNorm1d)(shape[1], **kwargs)


@given(batch_norm_shapes, st.sampled_from([0.1, 0.5]), st.sampled_from([1e-5, 1e-3]), st.booleans(), st.integers(0, 2**16))
def test_batch_norm_training_steps_running_statistics_and_evaluation(shape, momentum, eps, affine, seed):
    mine = BatchNorm(shape[1], momentum=momentum, eps=eps, affine=affine)
    theirs = torch_batch_norm(shape, momentum=momentum, eps=eps, affine=affine)
    mapping = AFFINE if affine else {}
    if affine:
        mine.weight.data[...] = normal(shape[1], seed + 1, shift=1.0)
        mine.bias.data[...] = normal(shape[1], seed + 2)
    feature_axes = (0, *range(2, len(shape)))
    for step in range(3):  # each batch with its own offset and spread, so the running estimates move
        x = normal(shape, seed + 10 + step, scale=1 + step, shift=step - 1.0)
        assume(well_conditioned(x, feature_axes))
        atol = cancellation_atol(x, feature_axes, eps)
        grad_atol = max(atol, BATCH_NORM_SUM_ATOL)
        check_against_torch(mine, theirs, x, mapping, theirs, atol=atol, grad_atol=grad_atol, normwise=True)
    assert_close("running_mean", mine.running_mean, theirs.running_mean, rtol=1e-5, atol=1e-6)
    assert_close("running_var", mine.running_var, theirs.running_var, rtol=1e-5, atol=1e-6)

    mine.eval(), theirs.eval()
    x = normal(shape, seed + 20, scale=2.0)  # running statistics are constants: no cancellation in x̂
    check_against_torch(mine, theirs, x, mapping, theirs, grad_atol=BATCH_NORM_SUM_ATOL)


def test_batch_norm_with_constant_features():
    x = numpy.zeros((4, 3, 5), dtype=numpy.float32)
    x[:, 1] = 7.0  # zero variance: only eps keeps the division finite
    theirs = torch.nn.BatchNorm1d(3)
    # float32 torch's running-sum mean of twenty 7.0s is off by an ulp, which 1/sqrt(eps) = 316
    # blows up to 3e-5; the float64 reference gets exactly 0, as we do
    check_against_torch(BatchNorm(3), theirs, x, AFFINE, theirs, reference_dtype=torch.float64)


def test_batch_norm_refuses_a_training_batch_of_one_like_torch():
    with pytest.raises(ValueError, match="more than one value per feature"):
        BatchNorm(4)(numpy.ones((1, 4), dtype=numpy.float32))
    with pytest.raises(ValueError):
        torch.nn.BatchNorm1d(4)(torch.ones(1, 4))


def layer_norm_pair(features: int, affine: bool, seed: int) -> tuple[LayerNorm, torch.nn.LayerNorm]:
    mine = LayerNorm(features, affine=affine)
    if affine:
        mine.weight.data[...] = normal(features, seed, shift=1.0)
        mine.bias.data[...] = normal(features, seed + 1)
    return mine, torch.nn.LayerNorm(features, elementwise_affine=affine)


@given(hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=6), st.booleans(), st.integers(0, 2**16))
def test_layer_norm_matches_torch(shape, affine, seed):
    mine, theirs = layer_norm_pair(shape[-1], affine, seed)
    x = normal(shape, seed + 2, scale=3.0, shift=1.0)
    assume(well_conditioned(x, -1))
    check_against_torch(mine, theirs, x, AFFINE if affine else {}, theirs, atol=cancellation_atol(x, -1), normwise=True)


@given(st.data(), hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=6), st.booleans(), st.integers(0, 2**16))
def test_layer_norm_of_extreme_and_constant_rows_against_a_float64_reference(data, shape, affine, seed):
    mine, theirs = layer_norm_pair(shape[-1], affine, seed)
    x = data.draw(float32_arrays(shape, -3.0, 3.0))
    assume(well_conditioned(x, -1))
    # a constant row (all -50, say) has an exact answer, which we produce and float32 torch
    # misses by 4e-4 (its variance is not exactly 0): the reference is float64 torch
    atol = cancellation_atol(x, -1)
    check_against_torch(mine, theirs, x, AFFINE if affine else {}, theirs, atol=atol, reference_dtype=torch.float64, normwise=True)


def test_layer_norm_of_constant_rows_is_exactly_the_bias():
    mine, theirs = layer_norm_pair(4, affine=True, seed=0)
    x = numpy.array([[0.0] * 4, [-50.0] * 4, [50.0] * 4, [0.5] * 4], dtype=numpy.float32)
    y = check_against_torch(mine, theirs, x, AFFINE, theirs, reference_dtype=torch.float64)
    assert numpy.array_equal(y, numpy.broadcast_to(mine.bias.data, y.shape))


# -- Embedding -------------------------------------------------------------------------------


@given(st.data(), st.integers(1, 8), st.integers(1, 5), hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6), st.booleans())
def test_embedding_matches_torch_with_repeated_and_padding_ids(data, num_embeddings, dim, ids_shape, padded):
    padding_idx = data.draw(st.integers(0, num_embeddings - 1)) if padded else None
    ids = data.draw(hnp.arrays(numpy.int64, ids_shape, elements=st.integers(0, num_embeddings - 1)))
    mine = Embedding(num_embeddings, dim, padding_idx=padding_idx)
    theirs = torch.nn.Embedding(num_embeddings, dim, padding_idx=padding_idx)
    if padded:
        assert numpy.all(mine.weight.data[padding_idx] == 0), "the padding row must start at zero"
    check_against_torch(mine, theirs, ids, {"weight": ("weight", same)}, theirs)


def test_embedding_sums_the_gradient_of_a_repeated_id_and_skips_padding():
    ids = numpy.array([[2, 2, 0], [2, 1, 0]])
    mine = Embedding(4, 3, padding_idx=0)
    theirs = torch.nn.Embedding(4, 3, padding_idx=0)
    check_against_torch(mine, theirs, ids, {"weight": ("weight", same)}, theirs)
    assert numpy.array_equal(mine.rows_touched, [1, 2])


# -- composition -----------------------------------------------------------------------------


@given(st.integers(0, 2**16), st.integers(1, 6))
def test_sequential_matches_torch_against_a_float64_reference(seed, batch):
    mine = Sequential(Dense(5, 8), ReLU(), Dense(8, 6), LayerNorm(6), Tanh(), Dense(6, 4), Softmax())
    theirs = torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 6), torch.nn.LayerNorm(6),
        torch.nn.Tanh(), torch.nn.Linear(6, 4), torch.nn.Softmax(dim=-1),
    )
    for index in (0, 2, 5):
        mine[index].bias.data[...] = normal(mine[index].bias.shape, seed + index)
    x = normal((batch, 5), seed)
    # a pre-activation within float32 rounding of 0 could take the other side of ReLU's kink
    # than the float64 reference does: such draws say nothing about our code
    assume(numpy.all(numpy.abs(mine[0](x)) > 1e-4))
    mapping = {f"{index}.{name}": (f"{index}.{name}", transform) for index in (0, 2, 5) for name, (_, transform) in LINEAR.items()}
    mapping.update({f"3.{name}": (f"3.{name}", same) for name in AFFINE})
    # float32 against the float64 truth: each of the ~6 stages rounds at ~1e-7 relative
    check_against_torch(mine, theirs, x, mapping, theirs, rtol=1e-5, atol=1e-6, reference_dtype=torch.float64)
