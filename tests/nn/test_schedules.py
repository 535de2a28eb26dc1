"""Learning-rate schedules against torch.optim.lr_scheduler, step by step, plus resume and errors."""
from __future__ import annotations

import json
import math

import numpy
import pytest
import torch

from smartmod.nn import Parameter
from smartmod.nn.optim import SGD
from smartmod.nn.schedules import CosineWithWarmup, ExponentialLR, PiecewiseLinear, ReduceLROnPlateau, StepLR

STEPS = 35
BASE_LR = 0.1
RTOL = 1e-12  # torch rescales the current lr (chainable form), smartmod uses closed forms: rounding only

# A validation loss with descents, plateaus, an improvement smaller than the default relative
# threshold (0.7 -> 0.69999), a rise and a long final plateau.
METRICS = [1.0, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.69999, 0.7, 0.7, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.5, 0.55, 0.6,
           0.65, 0.7, 0.7, 0.7, 0.7, 0.7, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4]


def my_optimizer(lr: float = BASE_LR) -> SGD:
    return SGD([Parameter(numpy.zeros(2, numpy.float32))], lr=lr)


def their_optimizer(lr: float = BASE_LR) -> torch.optim.SGD:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=lr)


def assert_same_lrs(schedule, their_scheduler, steps: int, metrics: list[float] | None = None) -> list[float]:
    """Step both schedules together and compare the learning rates at construction and after each
    step; returns smartmod's rates."""
    torch_optimizer = their_scheduler.optimizer
    rates = []
    for step in range(steps + 1):
        if step:
            torch_optimizer.step()  # torch warns when its scheduler steps before its optimizer
            arguments = () if metrics is None else (metrics[step - 1],)
            schedule.step(*arguments)
            their_scheduler.step(*arguments)
        mine, theirs = schedule.optimizer.lr, torch_optimizer.param_groups[0]["lr"]
        assert math.isclose(mine, theirs, rel_tol=RTOL, abs_tol=1e-15), f"after {step} steps the lr differs: mine / theirs = {mine!r} / {theirs!r}"
        rates.append(mine)
    return rates


@pytest.mark.parametrize("step_size, gamma", [(1, 0.9), (3, 0.5), (7, 0.1)])
def test_step_lr_matches_torch(step_size: int, gamma: float) -> None:
    theirs = their_optimizer()
    assert_same_lrs(StepLR(my_optimizer(), step_size, gamma), torch.optim.lr_scheduler.StepLR(theirs, step_size, gamma), STEPS)


@pytest.mark.parametrize("gamma", [0.9, 0.5, 1.0])
def test_exponential_lr_matches_torch(gamma: float) -> None:
    theirs = their_optimizer()
    assert_same_lrs(ExponentialLR(my_optimizer(), gamma), torch.optim.lr_scheduler.ExponentialLR(theirs, gamma), STEPS)


@pytest.mark.parametrize("warmup_steps, total_steps, min_lr", [(5, 40, 0.0), (10, 35, 0.01), (0, 30, 0.001), (1, 2, 0.0)])
def test_cosine_with_warmup_matches_the_same_formula_in_torch_lambda_lr(warmup_steps: int, total_steps: int, min_lr: float) -> None:
    def multiple_of_base_lr(n: int) -> float:
        """The documented formula, as LambdaLR's factor of the base lr after n steps."""
        if n < warmup_steps:
            return (n + 1) / warmup_steps
        progress = min(1.0, (n - warmup_steps) / (total_steps - warmup_steps))
        return (min_lr + (BASE_LR - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))) / BASE_LR

    theirs = their_optimizer()
    schedule = CosineWithWarmup(my_optimizer(), warmup_steps, total_steps, min_lr)
    rates = assert_same_lrs(schedule, torch.optim.lr_scheduler.LambdaLR(theirs, multiple_of_base_lr), total_steps + 5)
    assert rates[-6:] == [pytest.approx(min_lr, abs=1e-15)] * 6, "after total_steps the lr stays at min_lr"


@pytest.mark.parametrize("steps, factors", [([0, 9, 40], [0.2, 1.0, 0.07]), ([0, 30], [1.0, 0.0]), ([0], [0.5]),
                                            ([0, 1, 2, 10, 11], [0.0, 1.0, 1.0, 0.3, 0.3])])
def test_piecewise_linear_matches_numpy_interp_in_torch_lambda_lr(steps: list[int], factors: list[float]) -> None:
    theirs = their_optimizer()
    schedule = PiecewiseLinear(my_optimizer(), steps, factors)
    rates = assert_same_lrs(schedule, torch.optim.lr_scheduler.LambdaLR(theirs, lambda n: float(numpy.interp(n, steps, factors))), steps[-1] + 5)
    assert rates[steps[-1]:] == [pytest.approx(BASE_LR * factors[-1], rel=1e-12)] * 6, "after the last point the lr stays at its factor"


def test_airbench_triangle_by_hand() -> None:
    schedule = PiecewiseLinear(my_optimizer(lr=2.0), [0, 4, 10], [0.2, 1.0, 0.07])
    rates = [schedule.optimizer.lr]
    for _ in range(11):
        schedule.step()
        rates.append(schedule.optimizer.lr)
    assert rates[0] == pytest.approx(0.4) and rates[2] == pytest.approx(1.2) and rates[4] == pytest.approx(2.0)
    assert rates[7] == pytest.approx(2.0 * (1.0 - 0.93 / 2)) and rates[10] == rates[11] == pytest.approx(0.14)


@pytest.mark.parametrize("total_steps, min_lr", [(30, 0.0), (40, 0.005)])
def test_cosine_without_warmup_matches_torch_cosine_annealing(total_steps: int, min_lr: float) -> None:
    theirs = their_optimizer()
    schedule = CosineWithWarmup(my_optimizer(), warmup_steps=0, total_steps=total_steps, min_lr=min_lr)
    their_scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(theirs, T_max=total_steps, eta_min=min_lr)
    assert_same_lrs(schedule, their_scheduler, total_steps)


def test_cosine_with_warmup_values_by_hand() -> None:
    optimizer = my_optimizer(lr=1.0)
    schedule = CosineWithWarmup(optimizer, warmup_steps=4, total_steps=8)
    rates = [optimizer.lr]
    for _ in range(9):
        schedule.step()
        rates.append(optimizer.lr)
    half_way_down = (1 + math.cos(math.pi / 4)) / 2  # 0.8536: a quarter into the cosine
    expected = [0.25, 0.5, 0.75, 1.0, 1.0, half_way_down, 0.5, 1 - half_way_down, 0.0, 0.0]
    assert rates == pytest.approx(expected, abs=1e-12)


PLATEAU_CONFIGS = [
    {},
    {"patience": 2},
    {"patience": 2, "cooldown": 3, "factor": 0.5},
    {"patience": 1, "threshold": 0.05, "threshold_mode": "abs"},
    {"patience": 0, "factor": 0.5, "min_lr": 0.02},
    {"patience": 2, "threshold": 0.0},
    {"mode": "max", "patience": 2},
    {"mode": "max", "patience": 1, "threshold": 0.05, "threshold_mode": "abs", "cooldown": 2},
]


@pytest.mark.parametrize("config", PLATEAU_CONFIGS, ids=lambda config: "-".join(f"{k}={v}" for k, v in config.items()) or "defaults")
def test_reduce_lr_on_plateau_matches_torch(config: dict) -> None:
    metrics = [-value for value in METRICS] if config.get("mode") == "max" else METRICS
    theirs = their_optimizer()
    schedule = ReduceLROnPlateau(my_optimizer(), **config)
    rates = assert_same_lrs(schedule, torch.optim.lr_scheduler.ReduceLROnPlateau(theirs, **config), len(metrics), metrics)
    if config.get("patience", 10) < 10:
        assert len(set(rates)) > 1, "the scripted metrics should trigger at least one reduction"


# -- resume ----------------------------------------------------------------------------------------

SCHEDULES = [
    (lambda optimizer: StepLR(optimizer, step_size=4, gamma=0.5), None),
    (lambda optimizer: ExponentialLR(optimizer, gamma=0.9), None),
    (lambda optimizer: CosineWithWarmup(optimizer, warmup_steps=5, total_steps=20, min_lr=0.001), None),
    (lambda optimizer: PiecewiseLinear(optimizer, [0, 5, 20], [0.2, 1.0, 0.07]), None),
    (lambda optimizer: ReduceLROnPlateau(optimizer, patience=1, cooldown=1), METRICS),
    (lambda optimizer: ReduceLROnPlateau(optimizer, patience=1, cooldown=3), METRICS),  # saved during a cooldown
]


@pytest.mark.parametrize("build, metrics", SCHEDULES, ids=["StepLR", "ExponentialLR", "CosineWithWarmup", "PiecewiseLinear", "ReduceLROnPlateau", "ReduceLROnPlateau-cooldown"])
def test_resumed_schedule_continues_exactly(build, metrics: list[float] | None) -> None:
    def advance(schedule, start: int, stop: int) -> list[float]:
        rates = []
        for step in range(start, stop):
            schedule.step(*(() if metrics is None else (metrics[step],)))
            rates.append(schedule.optimizer.lr)
        return rates

    uninterrupted = build(my_optimizer())
    expected = advance(uninterrupted, 0, 24)
    interrupted = build(my_optimizer())
    advance(interrupted, 0, 12)
    saved = json.loads(json.dumps({"schedule": interrupted.state_dict(), "optimizer": interrupted.optimizer.state_dict()}))
    optimizer = my_optimizer(lr=0.7)  # resumed as the trainer does: optimizer state first, then the schedule
    optimizer.load_state_dict(saved["optimizer"])
    resumed = build(optimizer)
    resumed.load_state_dict(saved["schedule"])
    assert advance(resumed, 12, 24) == expected[12:]


@pytest.mark.parametrize("build", [build for build, metrics in SCHEDULES if metrics is None], ids=["StepLR", "ExponentialLR", "CosineWithWarmup", "PiecewiseLinear"])
def test_loading_a_schedule_state_sets_the_optimizer_lr(build) -> None:
    schedule = build(my_optimizer())
    for _ in range(9):
        schedule.step()
    optimizer = my_optimizer(lr=0.7)
    build(optimizer).load_state_dict(json.loads(json.dumps(schedule.state_dict())))
    assert optimizer.lr == schedule.optimizer.lr


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: StepLR(my_optimizer(), step_size=0), "step_size must be an integer >= 1"),
        (lambda: StepLR(my_optimizer(), step_size=2.5), "step_size must be an integer"),
        (lambda: ExponentialLR(my_optimizer(), gamma=-0.5), "gamma must be >= 0"),
        (lambda: CosineWithWarmup(my_optimizer(), warmup_steps=10, total_steps=10), r"total_steps \(10\) must exceed warmup_steps \(10\)"),
        (lambda: CosineWithWarmup(my_optimizer(), warmup_steps=-1, total_steps=10), "warmup_steps must be an integer >= 0"),
        (lambda: CosineWithWarmup(my_optimizer(lr=0.1), warmup_steps=1, total_steps=10, min_lr=0.2), r"min_lr must be in \[0.0, 0.1\]"),
        (lambda: PiecewiseLinear(my_optimizer(), [0, 5], [1.0]), "steps and factors must be equally long and not empty, got 2 and 1"),
        (lambda: PiecewiseLinear(my_optimizer(), [], []), "equally long and not empty"),
        (lambda: PiecewiseLinear(my_optimizer(), [1, 5], [1.0, 0.0]), r"steps must start at 0 and increase, got \[1, 5\]"),
        (lambda: PiecewiseLinear(my_optimizer(), [0, 5, 5], [1.0, 0.5, 0.0]), "steps must start at 0 and increase"),
        (lambda: PiecewiseLinear(my_optimizer(), [0, 2.5], [1.0, 0.0]), r"steps\[1\] must be an integer >= 0"),
        (lambda: PiecewiseLinear(my_optimizer(), [0, 5], [1.0, -0.1]), r"factors\[1\] must be >= 0"),
        (lambda: PiecewiseLinear(my_optimizer(), [0, 5], [1.0, float("nan")]), r"factors\[1\] must be a finite real number"),
        (lambda: ReduceLROnPlateau(my_optimizer(), mode="mean"), "mode must be 'min' or 'max'"),
        (lambda: ReduceLROnPlateau(my_optimizer(), threshold_mode="relative"), "threshold_mode must be 'rel' or 'abs'"),
        (lambda: ReduceLROnPlateau(my_optimizer(), factor=1.0), r"factor must be in \[0.0, 1.0\)"),
        (lambda: ReduceLROnPlateau(my_optimizer(), patience=-1), "patience must be an integer >= 0"),
    ],
)
def test_invalid_arguments_raise_clear_errors(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_a_schedule_needs_an_optimizer() -> None:
    with pytest.raises(TypeError, match="optimizer with an 'lr' attribute"):
        StepLR([Parameter(numpy.zeros(2))], step_size=2)
