"""Optimizers against torch.optim: whole trajectories on a tiny network over hyperparameter grids,
exact resume from a state dict, in-place float32 updates, clipping, and clear errors."""
from __future__ import annotations

import io
import itertools
import json
import tracemalloc

import numpy
import pytest
import torch

from smartmod.nn import Dense, Parameter, Sequential, Tanh, backend
from smartmod.nn.clip import clip_grad_norm, clip_grad_value, global_grad_norm
from smartmod.nn.optim import SGD, AdaGrad, Adam, AdamW, RMSprop

STEPS = 10
# Tolerances on every parameter after every step. float32: both sides round differently
# (matmul order, fused multiply-adds) and the differences compound over the steps. float64:
# the same formulas agree to rounding.
TOLERANCES = {"float32": {"rtol": 1e-5, "atol": 1e-6}, "float64": {"rtol": 1e-10, "atol": 1e-12}}
TORCH_CLASS = {SGD: torch.optim.SGD, AdaGrad: torch.optim.Adagrad, RMSprop: torch.optim.RMSprop, Adam: torch.optim.Adam, AdamW: torch.optim.AdamW}


def grid(**axes: list) -> list[dict]:
    """Every combination of the values of ``axes``, as keyword dictionaries."""
    return [dict(zip(axes, values)) for values in itertools.product(*axes.values())]


CASES = (
    [(SGD, config) for config in grid(lr=[0.01, 0.1], momentum=[0.0, 0.9], dampening=[0.0, 0.5], weight_decay=[0.0, 0.01])]
    + [(SGD, config) for config in grid(lr=[0.01, 0.1], momentum=[0.5, 0.9], nesterov=[True], weight_decay=[0.0, 0.01])]
    + [(AdaGrad, config) for config in grid(lr=[0.01, 0.1], lr_decay=[0.0, 0.05], weight_decay=[0.0, 0.01], initial_accumulator_value=[0.0, 0.1])]
    + [(RMSprop, config) for config in grid(lr=[1e-3, 1e-2], alpha=[0.99, 0.9], momentum=[0.0, 0.9], weight_decay=[0.0, 0.01], centered=[False, True])]
    + [(Adam, config) for config in grid(lr=[1e-3, 1e-2], betas=[(0.9, 0.999), (0.5, 0.9)], weight_decay=[0.0, 0.01], amsgrad=[False, True])]
    + [(AdamW, config) for config in grid(lr=[1e-3, 1e-2], weight_decay=[0.0, 0.01, 0.1], amsgrad=[False, True])]
)
# One configuration per class that needs every slot, for the state tests.
RICH = [
    (SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    (AdaGrad, {"lr": 0.05, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.1}),
    (RMSprop, {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.01}),
    (Adam, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    (AdamW, {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1}),
]


def case_id(case: tuple) -> str:
    optimizer_class, config = case
    return f"{optimizer_class.__name__}-" + "-".join(f"{key}={value}" for key, value in config.items())


# -- the tiny network and its torch mirror -------------------------------------------------------


def twin_networks(dtype: str) -> tuple[Sequential, torch.nn.Sequential]:
    """Dense(3, 4)-Tanh-Dense(4, 2) in smartmod and in torch, with the same random weights."""
    backend.set_default_dtype(dtype)
    rng = numpy.random.default_rng(1)
    mine = Sequential(Dense(3, 4), Tanh(), Dense(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).to(getattr(torch, dtype))
    with torch.no_grad():
        for dense, linear in ((mine[0], theirs[0]), (mine[2], theirs[2])):
            dense.weight.data[...] = rng.normal(0.0, 0.7, dense.weight.shape)
            dense.bias.data[...] = rng.normal(0.0, 0.2, dense.bias.shape)
            linear.weight.copy_(torch.from_numpy(dense.weight.data.T.copy()))  # torch stores (out, in)
            linear.bias.copy_(torch.from_numpy(dense.bias.data.copy()))
    return mine, theirs


def regression_batch(dtype: str) -> tuple[numpy.ndarray, numpy.ndarray]:
    rng = numpy.random.default_rng(2)
    return rng.normal(size=(8, 3)).astype(dtype), rng.normal(size=(8, 2)).astype(dtype)


def mse_backward(model: Sequential, x: numpy.ndarray, target: numpy.ndarray) -> None:
    """Accumulate the gradient of mean((y − t)²) into the model: dL/dy = 2 (y − t) / N."""
    y = model.forward(x)
    model.backward(2 * (y - target) / y.size)


def twin_parameters(mine: Sequential, theirs: torch.nn.Sequential):
    """(name, smartmod array, torch array in smartmod's layout) for every parameter."""
    for index in (0, 2):
        yield f"{index}.weight", mine[index].weight.data, theirs[index].weight.detach().numpy().T
        yield f"{index}.bias", mine[index].bias.data, theirs[index].bias.detach().numpy()


def assert_parameters_match(mine: Sequential, theirs: torch.nn.Sequential, step: int, rtol: float, atol: float) -> None:
    for name, a, b in twin_parameters(mine, theirs):
        if not numpy.allclose(a, b, rtol=rtol, atol=atol):
            pytest.fail(
                f"after step {step}, {name} differs beyond rtol={rtol}, atol={atol} "
                f"(max |mine - theirs| = {numpy.abs(a - b).max():.3g})\nmine / theirs:\n{a}\n{b}"
            )


def assert_same_trajectories(mine: Sequential, theirs: torch.nn.Sequential, my_optimizer, their_optimizer, dtype: str) -> None:
    """STEPS steps of both optimizers on the regression batch, the parameters compared after each."""
    x, target = regression_batch(dtype)
    for step in range(1, STEPS + 1):
        my_optimizer.zero_grad()
        mse_backward(mine, x, target)
        my_optimizer.step()
        their_optimizer.zero_grad()
        torch.nn.functional.mse_loss(theirs(torch.from_numpy(x)), torch.from_numpy(target)).backward()
        their_optimizer.step()
        assert_parameters_match(mine, theirs, step, **TOLERANCES[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_trajectory_matches_torch(case: tuple, dtype: str) -> None:
    optimizer_class, config = case
    mine, theirs = twin_networks(dtype)
    my_optimizer = optimizer_class(mine.parameters(), **config)
    their_optimizer = TORCH_CLASS[optimizer_class](theirs.parameters(), foreach=False, **config)
    assert_same_trajectories(mine, theirs, my_optimizer, their_optimizer, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("config", [{"momentum": 0.85, "nesterov": True, "weight_decay": 0.01}, {"momentum": 0.0, "weight_decay": 0.0},
                                    {"momentum": 0.9, "weight_decay": 0.05}], ids=["nesterov-decay", "plain", "momentum-decay"])
def test_lr_scale_matches_a_torch_parameter_group(config: dict, dtype: str) -> None:
    """Biases with lr_scale s step like torch's group with learning rate s·lr and weight decay λ/s."""
    scale, lr = 8.0, 0.02
    mine, theirs = twin_networks(dtype)
    for index in (0, 2):
        mine[index].bias.lr_scale = scale
    my_optimizer = SGD(mine.parameters(), lr=lr, **config)
    weight_decay = config["weight_decay"]
    groups = [{"params": [theirs[0].weight, theirs[2].weight]},
              {"params": [theirs[0].bias, theirs[2].bias], "lr": scale * lr, "weight_decay": weight_decay / scale}]
    their_optimizer = torch.optim.SGD(groups, lr=lr, foreach=False, **config)
    assert_same_trajectories(mine, theirs, my_optimizer, their_optimizer, dtype)


@pytest.mark.parametrize("value, message", [(-1.0, r"parameters\[1\].lr_scale must be >= 0"), (float("inf"), "must be a finite real number")])
def test_an_lr_scale_must_be_finite_and_not_negative(value: float, message: str) -> None:
    parameters = [Parameter(numpy.zeros(2, numpy.float32)), Parameter(numpy.zeros(3, numpy.float32))]
    parameters[1].lr_scale = value
    with pytest.raises(ValueError, match=message):
        SGD(parameters, lr=0.01)


@pytest.mark.parametrize("optimizer_class", [AdaGrad, RMSprop, Adam, AdamW])
def test_optimizers_without_lr_scale_refuse_a_scaled_parameter(optimizer_class) -> None:
    parameters = [Parameter(numpy.zeros(2, numpy.float32)), Parameter(numpy.zeros(3, numpy.float32))]
    parameters[1].lr_scale = 64.0
    with pytest.raises(ValueError, match=r"parameters \[1\] have an lr_scale other than 1, which .* does not support; use SGD"):
        optimizer_class(parameters, lr=0.01)


# -- state ---------------------------------------------------------------------------------------


def train(model: Sequential, optimizer, steps: int) -> None:
    x, target = regression_batch("float32")
    for _ in range(steps):
        optimizer.zero_grad()
        mse_backward(model, x, target)
        optimizer.step()


def through_files(state: dict) -> dict:
    """The state after a trip through JSON and an .npz read without pickle, as a checkpoint makes."""
    meta = json.loads(json.dumps({key: value for key, value in state.items() if key != "slots"}))
    buffer = io.BytesIO()
    numpy.savez(buffer, **state["slots"])
    buffer.seek(0)
    with numpy.load(buffer, allow_pickle=False) as arrays:
        return {**meta, "slots": {name: arrays[name] for name in arrays.files}}


@pytest.mark.parametrize("case", RICH, ids=case_id)
def test_resume_from_state_dict_is_bit_exact(case: tuple) -> None:
    optimizer_class, config = case
    uninterrupted, _ = twin_networks("float32")
    reference = optimizer_class(uninterrupted.parameters(), **config)
    interrupted, _ = twin_networks("float32")
    first = optimizer_class(interrupted.parameters(), **config)
    for model, optimizer in ((uninterrupted, reference), (interrupted, first)):
        train(model, optimizer, 3)
        optimizer.lr *= 0.5  # as a schedule would: the lr must be restored too
        train(model, optimizer, 2)
    # Interrupted after 5 steps: a new model and a new optimizer, built with other
    # hyperparameters, pick up from the saved states.
    resumed_model, _ = twin_networks("float32")
    resumed_model.load_state_dict(interrupted.state_dict())
    resumed = optimizer_class(resumed_model.parameters(), lr=1.0)
    resumed.load_state_dict(through_files(first.state_dict()))
    assert resumed.get_config() == reference.get_config()
    train(uninterrupted, reference, 5)
    train(resumed_model, resumed, 5)
    for (name, a), (_, b) in zip(resumed_model.named_parameters(), uninterrupted.named_parameters()):
        assert numpy.array_equal(a.data, b.data), f"{name} after resuming differs from the uninterrupted run: mine / theirs\n{a.data}\n{b.data}"


def test_state_dict_names_slots_by_parameter_index_and_copies_them() -> None:
    model, _ = twin_networks("float32")
    optimizer = Adam(model.parameters(), lr=0.01, amsgrad=True)
    assert optimizer.state_dict() == {"hyperparameters": optimizer.get_config(), "step": 0, "slots": {}}
    train(model, optimizer, 1)
    state = optimizer.state_dict()
    assert state["step"] == 1
    assert sorted(state["slots"]) == sorted(f"{slot}.{index}" for slot in ("m", "v", "v_max") for index in range(4))
    assert state["hyperparameters"] == {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0, "amsgrad": True}
    state["slots"]["m.0"][...] = 123.0
    assert not numpy.any(optimizer.state_dict()["slots"]["m.0"] == 123.0), "state_dict must return copies"


def test_load_state_dict_rejects_states_that_do_not_fit() -> None:
    model, _ = twin_networks("float32")
    sgd, adam = SGD(model.parameters(), lr=0.1, momentum=0.9), Adam(model.parameters(), lr=0.5)
    train(model, sgd, 1)
    with pytest.raises(ValueError, match="another optimizer class"):
        adam.load_state_dict(sgd.state_dict())
    state = sgd.state_dict()
    state["slots"]["momentum_buffer.1"] = numpy.zeros((9, 9), numpy.float32)
    with pytest.raises(ValueError, match="shape"):
        SGD(model.parameters(), lr=0.1, momentum=0.9).load_state_dict(state)
    del state["slots"]["momentum_buffer.1"]
    fresh = SGD(model.parameters(), lr=0.3, momentum=0.9)
    with pytest.raises(ValueError, match="missing"):
        fresh.load_state_dict(state)
    assert fresh.lr == 0.3 and fresh.step_count == 0, "a rejected state must leave the optimizer unchanged"


@pytest.mark.parametrize("case", RICH, ids=case_id)
def test_get_config_rebuilds_the_optimizer_through_json(case: tuple) -> None:
    optimizer_class, config = case
    model, _ = twin_networks("float32")
    optimizer = optimizer_class(model.parameters(), **config)
    rebuilt = optimizer_class(model.parameters(), **json.loads(json.dumps(optimizer.get_config())))
    assert rebuilt.get_config() == optimizer.get_config()
    assert {key: optimizer.get_config()[key] for key in config} == json.loads(json.dumps(config))


# -- in-place float32 updates --------------------------------------------------------------------


@pytest.mark.parametrize("case", RICH, ids=case_id)
def test_step_keeps_float32_and_leaves_gradients_untouched(case: tuple) -> None:
    optimizer_class, config = case
    model, _ = twin_networks("float32")
    optimizer = optimizer_class(model.parameters(), **config)
    train(model, optimizer, 1)
    gradients = [parameter.grad.copy() for parameter in model.parameters()]
    optimizer.step()
    for parameter, gradient in zip(model.parameters(), gradients):
        assert parameter.data.dtype == numpy.float32 and parameter.grad.dtype == numpy.float32
        assert numpy.array_equal(parameter.grad, gradient), "step must not modify the gradients"
    assert {array.dtype for array in optimizer.state_dict()["slots"].values()} == {numpy.dtype(numpy.float32)}


@pytest.mark.parametrize("case", RICH, ids=case_id)
def test_step_allocates_no_parameter_sized_temporaries(case: tuple) -> None:
    optimizer_class, config = case
    parameter = Parameter(numpy.random.default_rng(0).normal(size=(512, 256)).astype(numpy.float32))
    parameter.grad[...] = numpy.random.default_rng(1).normal(size=parameter.shape)
    optimizer = optimizer_class([parameter], **config)
    optimizer.step()  # the first step creates the slots and the scratch buffers
    tracemalloc.start()
    try:
        optimizer.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < parameter.data.nbytes // 8, f"a step allocated {peak} bytes; the parameter holds {parameter.data.nbytes}"


def test_zero_grad_clears_gradients_in_place() -> None:
    model, _ = twin_networks("float32")
    optimizer = SGD(model.parameters(), lr=0.1)
    train(model, optimizer, 1)
    arrays = [parameter.grad for parameter in model.parameters()]
    optimizer.zero_grad()
    for parameter, array in zip(model.parameters(), arrays):
        assert parameter.grad is array and not array.any()


# -- errors --------------------------------------------------------------------------------------


def one_parameter() -> list[Parameter]:
    return [Parameter(numpy.zeros(3, numpy.float32))]


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda: SGD(one_parameter()[0], lr=0.1), TypeError, "not a single Parameter"),
        (lambda: SGD([numpy.zeros(3)], lr=0.1), TypeError, "item 0 is a ndarray"),
        (lambda: SGD(one_parameter() * 2, lr=0.1), ValueError, "more than once"),
        (lambda: SGD(one_parameter(), lr=-0.1), ValueError, "lr must be >= 0"),
        (lambda: SGD(one_parameter(), lr=float("nan")), ValueError, "lr must be a finite real number"),
        (lambda: SGD(one_parameter(), lr=0.1, nesterov=True), ValueError, "Nesterov momentum needs momentum > 0"),
        (lambda: SGD(one_parameter(), lr=0.1, momentum=-0.9), ValueError, "momentum must be >= 0"),
        (lambda: AdaGrad(one_parameter(), eps=-1e-10), ValueError, "eps must be >= 0"),
        (lambda: RMSprop(one_parameter(), alpha=1.5), ValueError, r"alpha must be in \[0.0, 1.0\]"),
        (lambda: RMSprop(one_parameter(), centered="yes"), ValueError, "centered must be True or False"),
        (lambda: Adam(one_parameter(), betas=(1.0, 0.999)), ValueError, r"beta1 must be in \[0.0, 1.0\)"),
        (lambda: Adam(one_parameter(), betas=(0.9, -0.1)), ValueError, "beta2 must be in"),
        (lambda: Adam(one_parameter(), betas=(0.9,)), ValueError, "betas must be a pair"),
        (lambda: AdamW(one_parameter(), weight_decay=-0.01), ValueError, "weight_decay must be >= 0"),
    ],
)
def test_invalid_arguments_raise_clear_errors(build, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        build()


# -- gradient clipping ---------------------------------------------------------------------------


def gradient_pairs(scale: float) -> tuple[list[Parameter], list[torch.nn.Parameter]]:
    """Parameters of several shapes with the same random gradients in smartmod and torch."""
    rng = numpy.random.default_rng(3)
    mine, theirs = [], []
    for shape in [(5, 4), (4,), (3, 2, 2)]:
        parameter = Parameter(numpy.zeros(shape, numpy.float32))
        parameter.grad[...] = scale * rng.normal(size=shape)
        twin = torch.nn.Parameter(torch.zeros(shape))
        twin.grad = torch.from_numpy(parameter.grad.copy())
        mine.append(parameter)
        theirs.append(twin)
    return mine, theirs


def assert_gradients_match(mine: list[Parameter], theirs: list[torch.nn.Parameter], rtol: float) -> None:
    for index, (a, b) in enumerate(zip(mine, theirs)):
        b = b.grad.numpy()
        assert numpy.allclose(a.grad, b, rtol=rtol, atol=0), f"gradient {index}: mine / theirs\n{a.grad}\n{b}"


# The gradients' norm is about 5 × scale: clipped, clipped, kept, and clipped where the 1e-6
# added to the norm matters.
@pytest.mark.parametrize("scale, max_norm", [(1.0, 0.5), (1.0, 3.0), (1.0, 1e3), (1e-6, 1e-6)])
def test_clip_grad_norm_matches_torch(scale: float, max_norm: float) -> None:
    mine, theirs = gradient_pairs(scale)
    norm = clip_grad_norm(mine, max_norm)
    their_norm = float(torch.nn.utils.clip_grad_norm_(theirs, max_norm))
    assert numpy.isclose(norm, their_norm, rtol=1e-6, atol=0), f"norm: mine / theirs = {norm} / {their_norm}"
    assert_gradients_match(mine, theirs, rtol=1e-6)
    assert numpy.isclose(global_grad_norm(mine), norm * min(1.0, max_norm / (norm + 1e-6)), rtol=1e-5, atol=0)


def test_global_grad_norm_is_the_norm_of_all_gradients_as_one_vector() -> None:
    mine, _ = gradient_pairs(2.0)
    everything = numpy.concatenate([parameter.grad.ravel() for parameter in mine]).astype(numpy.float64)
    assert numpy.isclose(global_grad_norm(mine), numpy.sqrt(everything @ everything), rtol=1e-6)


def test_clip_grad_value_matches_torch() -> None:
    mine, theirs = gradient_pairs(1.0)
    clip_grad_value(mine, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    assert_gradients_match(mine, theirs, rtol=0)
    assert max(numpy.abs(parameter.grad).max() for parameter in mine) == numpy.float32(0.7)


@pytest.mark.parametrize("clip, bound", [(clip_grad_norm, 0.0), (clip_grad_norm, -1.0), (clip_grad_value, 0.0), (clip_grad_value, float("inf"))])
def test_clipping_rejects_bounds_that_are_not_positive_and_finite(clip, bound: float) -> None:
    with pytest.raises(ValueError, match="must be a finite number > 0"):
        clip(gradient_pairs(1.0)[0], bound)
