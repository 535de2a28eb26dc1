"""Weight initializers: the variances of Glorot & Bengio 2010 and He et al. 2015, orthogonality
(Saxe et al. 2014), lookup by name and reproducibility under a seed."""
from __future__ import annotations

import math

import numpy
import pytest

from smartmod.nn import backend, init

FAN_IN, FAN_OUT = 400, 600  # 240,000 draws: the sample variance is within ~0.6% (2 sd) of the truth

# name: (initializer, expected variance for a (FAN_IN, FAN_OUT) weight with the default gain)
VARIANCES = {
    "xavier_uniform": (init.xavier_uniform, 2 / (FAN_IN + FAN_OUT)),
    "xavier_normal": (init.xavier_normal, 2 / (FAN_IN + FAN_OUT)),
    "he_uniform": (init.he_uniform, 2 / FAN_IN),
    "he_normal": (init.he_normal, 2 / FAN_IN),
    "uniform_fan_in": (init.uniform_fan_in, 1 / (3 * FAN_IN)),
}


@pytest.mark.parametrize("name", sorted(VARIANCES))
def test_variance_matches_the_formula(name):
    initializer, expected = VARIANCES[name]
    weight = initializer((FAN_IN, FAN_OUT))
    assert weight.shape == (FAN_IN, FAN_OUT) and weight.dtype == numpy.float32
    assert abs(weight.var() / expected - 1) < 0.02, f"variance mine {weight.var():.6g} / formula {expected:.6g}"
    assert abs(weight.mean()) < 4 * math.sqrt(expected / weight.size), f"mean {weight.mean():.3g} is not 0"


@pytest.mark.parametrize("name, bound", [("xavier_uniform", math.sqrt(6 / (FAN_IN + FAN_OUT))), ("he_uniform", math.sqrt(6 / FAN_IN)),
                                         ("uniform_fan_in", 1 / math.sqrt(FAN_IN))])
def test_uniform_initializers_fill_their_interval(name, bound):
    weight = init.get_initializer(name)((FAN_IN, FAN_OUT))
    assert numpy.abs(weight).max() <= bound
    assert numpy.abs(weight).max() > 0.999 * bound


def test_uniform_fan_in_is_torch_s_default_for_convolutions_and_linear_layers():
    torch = pytest.importorskip("torch")
    kernel_shape, dense_shape = (32, 16, 3, 3), (FAN_IN, FAN_OUT)
    ours = init.uniform_fan_in(kernel_shape, layout="out_in")
    theirs = torch.nn.Conv2d(16, 32, 3).weight.detach().numpy()  # torch draws kaiming_uniform_(a=√5)
    assert numpy.abs(ours).max() <= 1 / math.sqrt(16 * 9) and abs(ours.std() / theirs.std() - 1) < 0.1
    dense = init.uniform_fan_in(dense_shape)  # our Dense is (in, out): the fan-in is the first axis
    linear = torch.nn.Linear(FAN_IN, FAN_OUT).weight.detach().numpy()  # torch's is (out, in)
    assert numpy.abs(dense).max() <= 1 / math.sqrt(FAN_IN) and abs(dense.std() / linear.std() - 1) < 0.02


def test_gain_scales_the_standard_deviation():
    plain = init.xavier_normal((FAN_IN, FAN_OUT))
    scaled = init.xavier_normal((FAN_IN, FAN_OUT), gain=3.0)
    assert abs(scaled.std() / plain.std() - 3.0) < 0.05


def test_fans_of_a_dense_weight_and_of_a_convolution_kernel():
    assert init.fans((3, 5)) == (3, 5)  # Dense (in, out)
    assert init.fans((8, 4, 3, 3), layout="out_in") == (4 * 9, 8 * 9)  # conv (out, in, kh, kw), as PyTorch
    with pytest.raises(ValueError, match="at least 2 axes"):
        init.fans((7,))


def test_he_normal_of_a_convolution_kernel_uses_the_receptive_field():
    weight = init.he_normal((64, 32, 5, 5), layout="out_in")
    expected = 2 / (32 * 25)
    assert abs(weight.var() / expected - 1) < 0.02, f"variance mine {weight.var():.6g} / formula {expected:.6g}"


@pytest.mark.parametrize("shape", [(50, 20), (20, 50), (30, 30)], ids=["tall", "wide", "square"])
def test_orthogonal_has_orthonormal_columns_when_tall_and_rows_when_wide(shape):
    weight = init.orthogonal(shape).astype(numpy.float64)
    rows, cols = shape
    gram = weight.T @ weight if rows >= cols else weight @ weight.T  # the wide W.T @ W has rank rows < cols
    numpy.testing.assert_allclose(gram, numpy.eye(min(rows, cols)), atol=1e-5)


def test_orthogonal_gain_and_extra_axes():
    weight = init.orthogonal((6, 2, 3), gain=2.0).astype(numpy.float64)
    flat = weight.reshape(6, 6)
    numpy.testing.assert_allclose(flat.T @ flat, 4.0 * numpy.eye(6), atol=1e-5)


def test_orthogonal_is_not_always_the_same_matrix():
    assert not numpy.allclose(init.orthogonal((5, 5)), init.orthogonal((5, 5)))


def test_zeros_and_ones():
    assert numpy.array_equal(init.zeros((2, 3)), numpy.zeros((2, 3)))
    assert numpy.array_equal(init.get_initializer("ones")((4,)), numpy.ones(4))


def test_initializers_follow_the_default_dtype():
    backend.set_default_dtype("float64")
    for name in ("zeros", "ones", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "orthogonal"):
        assert init.get_initializer(name)((3, 4)).dtype == numpy.float64, name


def test_aliases_name_the_same_initializer():
    assert init.get_initializer("glorot_uniform") is init.xavier_uniform
    assert init.get_initializer("kaiming_normal") is init.he_normal


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown initializer 'xavier'; choose one of \[.*'xavier_uniform'"):
        init.get_initializer("xavier")


@pytest.mark.parametrize("name", ["xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "orthogonal"])
def test_the_same_seed_gives_the_same_weights(name):
    initializer = init.get_initializer(name)
    backend.seed(42)
    first = initializer((7, 5))
    backend.seed(42)
    assert numpy.array_equal(initializer((7, 5)), first)
    backend.seed(43)
    assert not numpy.array_equal(initializer((7, 5)), first)


def test_skipped_initialization_draws_nothing_and_ends_with_its_block():
    from smartmod.nn.layers.dense import Dense

    backend.seed(3)
    with init.skipped():
        Dense(50, 40, init="he_uniform")
    after_skip = init.get_initializer("he_uniform")((5, 4))
    backend.seed(3)
    drawn_first = init.get_initializer("he_uniform")((5, 4))
    # the skipped layer took nothing from the generator, and lookups outside the block draw again
    numpy.testing.assert_array_equal(after_skip, drawn_first)
    with pytest.raises(RuntimeError):
        with init.skipped():
            raise RuntimeError("a failed load")
    assert init.get_initializer("xavier_uniform") is init.xavier_uniform
