"""recalibrate_batchnorm: running statistics recomputed for the current weights, nothing else touched."""
from __future__ import annotations

import numpy
import pytest

from smartmod.nn import BatchNorm, Conv2d, Dense, Dropout, Flatten, ReLU, Sequential, backend
from smartmod.nn.layers.normalization import recalibrate_batchnorm


def stale_network() -> Sequential:
    """Conv → BN → ReLU → Dropout → Flatten → Dense in float64, with running statistics far from any batch's."""
    backend.set_default_dtype("float64")
    backend.seed(3)
    model = Sequential(Conv2d(3, 4, 3, padding=1), BatchNorm(4), ReLU(), Dropout(0.5), Flatten(), Dense(4 * 5 * 5, 3))
    model[1].set_buffer("running_mean", numpy.full(4, 5.0))
    model[1].set_buffer("running_var", numpy.full(4, 9.0))
    return model


def images(rows: int, seed: int = 0) -> numpy.ndarray:
    return numpy.random.default_rng(seed).normal(1.0, 2.0, size=(rows, 3, 5, 5))


def test_the_statistics_are_the_mean_of_the_batches_means_and_unbiased_variances():
    norm = BatchNorm(2, momentum=0.3)
    x = numpy.random.default_rng(1).normal(size=(10, 2)) * [1.0, 3.0] + [0.5, -2.0]
    assert recalibrate_batchnorm(Sequential(norm), x, batch_size=4) == 1
    batches = [x[0:4], x[4:8], x[8:10]]
    numpy.testing.assert_allclose(norm.running_mean, numpy.mean([batch.mean(axis=0) for batch in batches], axis=0), rtol=1e-6)
    numpy.testing.assert_allclose(norm.running_var, numpy.mean([batch.var(axis=0, ddof=1) for batch in batches], axis=0), rtol=1e-6)
    assert norm.momentum == 0.3


def test_with_one_batch_evaluation_then_matches_the_batch_statistics_and_modes_are_restored():
    model, x = stale_network(), images(16)
    model.eval()
    before = model.forward(x)
    model[3].p = 0.0  # dropout off in training mode too, so both modes compute the same function of the statistics
    assert recalibrate_batchnorm(model, x, batch_size=16) == 1
    assert not any(module.training for _, module in model.named_modules())
    after = model.forward(x)
    model.train()
    # eval now equals batch statistics, up to the running variance's unbiasing: √(400 / 399) over 16·5·5 values a channel
    numpy.testing.assert_allclose(after, model.forward(x), rtol=2e-3, atol=1e-3)
    assert numpy.abs(after - before).max() > 0.1
    assert model.training and all(module.training for _, module in model.named_modules())


def test_dropout_stays_off_while_recalibrating():
    with_dropout, x = stale_network(), images(12)
    recalibrate_batchnorm(with_dropout, x, batch_size=12)
    plain = stale_network()
    plain[3].p = 0.0
    recalibrate_batchnorm(plain, x, batch_size=12)
    numpy.testing.assert_array_equal(with_dropout[1].running_mean, plain[1].running_mean)
    numpy.testing.assert_array_equal(with_dropout[1].running_var, plain[1].running_var)


def test_a_last_batch_of_one_row_is_left_out():
    norm = BatchNorm(1)
    x = numpy.array([[1.0], [3.0], [100.0]])
    recalibrate_batchnorm(Sequential(norm), x, batch_size=2)
    assert norm.running_mean[0] == pytest.approx(2.0) and norm.running_var[0] == pytest.approx(2.0)


def test_a_network_without_batchnorm_is_left_alone():
    model = Sequential(Dense(3, 2))
    state = {name: value.copy() for name, value in model.state_dict().items()}
    assert recalibrate_batchnorm(model, numpy.ones((4, 3)), batch_size=2) == 0
    for name, value in model.state_dict().items():
        numpy.testing.assert_array_equal(value, state[name])


@pytest.mark.parametrize("rows, batch_size, message", [
    (10, 1, "batch_size must be a whole number of rows, 2 or more, got 1"),
    (10, 2.5, "batch_size must be a whole number"),
    (1, 4, "needs at least 2 input rows, got 1"),
])
def test_bad_arguments_are_clear_errors(rows, batch_size, message):
    with pytest.raises(ValueError, match=message):
        recalibrate_batchnorm(Sequential(BatchNorm(2)), numpy.ones((rows, 2)), batch_size=batch_size)
