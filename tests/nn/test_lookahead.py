"""Lookahead: the update rule on hand-set weights, its schedule, the epoch-end hand-over to
validation, BatchNorm's statistics, and training with no inertia left unchanged."""
from __future__ import annotations

from types import SimpleNamespace

import numpy
import pytest

from smartmod.nn import BatchNorm, Dense, Sequential
from smartmod.nn.lookahead import Lookahead
from tests.nn.test_train import fitted_weights


def weights(model) -> dict[str, numpy.ndarray]:
    return {name: numpy.array(value) for name, value in model.state_dict().items()}


def shift_every_weight(model, amount: float) -> None:
    for parameter in model.parameters():
        parameter.data += amount


def test_an_update_moves_the_slow_weights_a_fraction_towards_the_fast_ones_and_restarts_the_fast_from_them():
    model, lookahead = Sequential(Dense(3, 2)), Lookahead(total_steps=20, every=5, start_step=5, max_decay=0.5, power=2.0)
    trainer = SimpleNamespace(model=model)
    lookahead.on_batch_end(trainer, 4, {})  # before start_step: nothing
    assert lookahead.slow is None
    lookahead.on_batch_end(trainer, 5, {})  # the slow weights start as a copy
    start = weights(model)
    shift_every_weight(model, 1.0)
    lookahead.on_batch_end(trainer, 7, {})  # not a multiple of every: nothing
    assert all(numpy.allclose(weights(model)[name], start[name] + 1.0) for name in start)
    lookahead.on_batch_end(trainer, 10, {})
    step_size = 1 - 0.5 * (10 / 20) ** 2  # α = 1 − ρ_max (t / T)^p
    assert lookahead.decay(10) == pytest.approx(0.125)
    for name, value in weights(model).items():
        numpy.testing.assert_allclose(value, start[name] + step_size, rtol=1e-6)
        numpy.testing.assert_array_equal(lookahead.slow[name], value)


def test_batch_norm_running_statistics_are_averaged_with_the_parameters():
    model, lookahead = Sequential(BatchNorm(2)), Lookahead(total_steps=10, every=1, max_decay=0.5, power=0.0)
    trainer = SimpleNamespace(model=model)
    lookahead.on_batch_end(trainer, 1, {})
    model(numpy.random.default_rng(0).normal(3.0, 1.0, size=(64, 2)).astype(numpy.float32))  # the running mean moves by m
    moved = numpy.array(model[0].running_mean)
    lookahead.on_batch_end(trainer, 2, {})
    numpy.testing.assert_allclose(model[0].running_mean, moved / 2, rtol=1e-6)  # half way back, as ρ = 0.5


def test_the_last_step_of_an_epoch_hands_the_slow_weights_to_validation():
    model, lookahead = Sequential(Dense(2, 2)), Lookahead(total_steps=100, every=4, steps_per_epoch=6)
    trainer = SimpleNamespace(model=model)
    lookahead.on_batch_end(trainer, 4, {})
    slow = weights(model)
    shift_every_weight(model, 0.5)
    lookahead.on_batch_end(trainer, 5, {})
    assert not numpy.allclose(weights(model)["0.weight"], slow["0.weight"])
    lookahead.on_batch_end(trainer, 6, {})  # the epoch's last step: θ ← φ, φ unchanged
    for name, value in weights(model).items():
        numpy.testing.assert_array_equal(value, slow[name])


def test_with_no_inertia_training_is_unchanged():
    plain = fitted_weights(seed=3)
    averaged = fitted_weights(seed=3, callbacks=[Lookahead(total_steps=18, every=2, max_decay=0.0, steps_per_epoch=6)])
    for name in plain:
        numpy.testing.assert_allclose(averaged[name], plain[name], rtol=1e-6, atol=1e-7)


def test_inertia_changes_training():
    plain = fitted_weights(seed=3)
    averaged = fitted_weights(seed=3, callbacks=[Lookahead(total_steps=18, every=2, max_decay=0.9, power=0.0)])
    assert any(not numpy.allclose(averaged[name], plain[name]) for name in plain)


def test_the_slow_weights_travel_in_the_state_dict():
    model, lookahead = Sequential(Dense(2, 2)), Lookahead(total_steps=10)
    assert lookahead.state_dict() == {}
    lookahead.on_batch_end(SimpleNamespace(model=model), 5, {})
    restored = Lookahead(total_steps=10)
    restored.load_state_dict(lookahead.state_dict())
    assert sorted(restored.slow) == ["0.bias", "0.weight"]
    numpy.testing.assert_array_equal(restored.slow["0.weight"], model[0].weight.data)


@pytest.mark.parametrize("arguments, message", [
    (dict(total_steps=0), "total_steps must be a positive whole number"),
    (dict(total_steps=10, every=1.5), "every must be a positive whole number"),
    (dict(total_steps=10, start_step=-1), "start_step must be a whole number"),
    (dict(total_steps=10, max_decay=1.0), r"max_decay must lie in \[0, 1\)"),
    (dict(total_steps=10, power=-1.0), "power be 0 or more"),
    (dict(total_steps=10, steps_per_epoch=0), "steps_per_epoch must be a positive whole number"),
])
def test_bad_settings_are_refused(arguments, message):
    with pytest.raises(ValueError, match=message):
        Lookahead(**arguments)
