"""Learning-rate schedules: each wraps an optimizer and sets its ``lr`` attribute.

``StepLR``, ``ExponentialLR`` and ``ReduceLROnPlateau`` are stepped once per epoch;
``CosineWithWarmup`` and ``PiecewiseLinear`` count optimizer steps and are stepped after every
optimizer step (with :class:`smartmod.nn.callbacks.LearningRateScheduler`, ``interval="step"``).
The tests compare each with ``torch.optim.lr_scheduler`` step by step (CosineWithWarmup and
PiecewiseLinear with LambdaLR running the same formula, and CosineWithWarmup without warm-up
with CosineAnnealingLR).

StepLR, ExponentialLR, CosineWithWarmup and PiecewiseLinear are closed forms: the learning rate after ``n``
calls to ``step()`` is computed from the optimizer's learning rate at construction
(``base_lr``) and ``n``, never by rescaling the current value, so a resumed schedule
reproduces the uninterrupted one exactly. ReduceLROnPlateau depends on the metrics seen and
rescales the current rate. States are JSON-ready dictionaries.
"""
from __future__ import annotations

import math
import numbers
from typing import Any

from smartmod.nn.validation import check_range

__all__ = ["LearningRateSchedule", "StepLR", "ExponentialLR", "CosineWithWarmup", "PiecewiseLinear", "ReduceLROnPlateau"]

# ReduceLROnPlateau ignores reductions smaller than this, as torch's ``eps`` argument does.
_SMALLEST_REDUCTION = 1e-8


class LearningRateSchedule:
    """Base of the closed-form schedules: ``optimizer.lr = get_lr()`` at construction and after
    every ``step()``.

    A subclass sets its own attributes, then calls ``super().__init__(optimizer)``, and
    implements ``get_lr`` from ``base_lr`` and ``last_step``.

    Attributes
    ----------
    base_lr : float
        The optimizer's learning rate when the schedule was made.
    last_step : int
        How many times ``step()`` has been called.
    """

    def __init__(self, optimizer: Any):
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"a schedule wraps an optimizer with an 'lr' attribute, got a {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.last_step = 0
        self.optimizer.lr = self.get_lr()

    def get_lr(self) -> float:
        """The learning rate after ``last_step`` calls to ``step()``."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr")

    def step(self) -> None:
        """Advance one epoch (one optimizer step for CosineWithWarmup) and set the optimizer's lr."""
        self.last_step += 1
        self.optimizer.lr = self.get_lr()

    def state_dict(self) -> dict[str, Any]:
        return {"base_lr": self.base_lr, "last_step": self.last_step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``base_lr`` and ``last_step`` and set the optimizer's lr to match."""
        self.base_lr, self.last_step = float(state["base_lr"]), _check_count("last_step", state["last_step"], 0)
        self.optimizer.lr = self.get_lr()


class StepLR(LearningRateSchedule):
    """lr = base_lr · γ^⌊n / step_size⌋ after n epochs: decay by γ every ``step_size`` epochs.

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int
        Epochs between decays, >= 1.
    gamma : float
        Multiplicative factor, >= 0.
    """

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1):
        self.step_size = _check_count("step_size", step_size, 1)
        check_range(gamma=gamma)
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> float:
        return self.base_lr * float(self.gamma) ** (self.last_step // self.step_size)


class ExponentialLR(LearningRateSchedule):
    """lr = base_lr · γⁿ after n epochs.

    Parameters
    ----------
    optimizer : Optimizer
    gamma : float
        Multiplicative factor per epoch, >= 0.
    """

    def __init__(self, optimizer: Any, gamma: float):
        check_range(gamma=gamma)
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self) -> float:
        return self.base_lr * float(self.gamma) ** self.last_step


class CosineWithWarmup(LearningRateSchedule):
    """Linear warm-up, then cosine decay to ``min_lr``; stepped once per optimizer step.

    With n optimizer steps done (W = warmup_steps, T = total_steps), the next step uses::

        lr = base_lr · (n + 1) / W                                   n < W
        lr = min_lr + (base_lr − min_lr) · (1 + cos(π p)) / 2        p = min(1, (n − W) / (T − W))

    so the first step uses base_lr / W, step W uses base_lr, and from step T on the rate
    stays at min_lr. Warm-up as in Goyal et al. (2017), "Accurate, large minibatch SGD";
    cosine annealing as in Loshchilov & Hutter (2017), "SGDR", without restarts.

    Parameters
    ----------
    optimizer : Optimizer
    warmup_steps : int
        W >= 0; 0 starts directly on the cosine.
    total_steps : int
        T > W, the step at which the rate reaches min_lr.
    min_lr : float
        The final rate, between 0 and the optimizer's lr.
    """

    def __init__(self, optimizer: Any, warmup_steps: int, total_steps: int, min_lr: float = 0.0):
        self.warmup_steps = _check_count("warmup_steps", warmup_steps, 0)
        self.total_steps = _check_count("total_steps", total_steps, 1)
        if total_steps <= warmup_steps:
            raise ValueError(f"total_steps ({total_steps}) must exceed warmup_steps ({warmup_steps}): the cosine part needs at least one step")
        check_range(high=float(getattr(optimizer, "lr", math.inf)), min_lr=min_lr)
        self.min_lr = min_lr
        super().__init__(optimizer)

    def get_lr(self) -> float:
        if self.last_step < self.warmup_steps:
            return self.base_lr * (self.last_step + 1) / self.warmup_steps
        progress = min(1.0, (self.last_step - self.warmup_steps) / (self.total_steps - self.warmup_steps))
        return self.min_lr + (self.base_lr - self.min_lr) * (1.0 + math.cos(math.pi * progress)) / 2.0


class PiecewiseLinear(LearningRateSchedule):
    """lr = base_lr · f(n) after n optimizer steps, f linear between the points (steps[i], factors[i])
    and constant beyond the last one; stepped once per optimizer step.

    Airbench's triangle is ``PiecewiseLinear(optimizer, [0, 0.23·T, T], [0.2, 1, 0.07])``: a
    warm-up from a fifth of the rate to all of it over the first 23% of T steps, then a linear
    decay to 7% of it (Jordan 2024, "94% on CIFAR-10 in 3.29 seconds on a single GPU").

    Parameters
    ----------
    optimizer : Optimizer
    steps : list of int
        Increasing step counts, the first 0.
    factors : list of float
        The rate at each of them, as a multiple of the optimizer's lr; each >= 0.
    """

    def __init__(self, optimizer: Any, steps: list[int], factors: list[float]):
        steps, factors = list(steps), list(factors)
        if not steps or len(steps) != len(factors):
            raise ValueError(f"steps and factors must be equally long and not empty, got {len(steps)} and {len(factors)}")
        for index, step in enumerate(steps):
            _check_count(f"steps[{index}]", step, 0)
        if steps[0] != 0 or any(later <= earlier for earlier, later in zip(steps, steps[1:])):
            raise ValueError(f"steps must start at 0 and increase, got {steps}")
        for index, factor in enumerate(factors):
            check_range(**{f"factors[{index}]": factor})
        self.steps, self.factors = [int(step) for step in steps], [float(factor) for factor in factors]
        super().__init__(optimizer)

    def get_lr(self) -> float:
        n, steps, factors = self.last_step, self.steps, self.factors
        if n >= steps[-1]:
            return self.base_lr * factors[-1]
        right = next(index for index, step in enumerate(steps) if step > n)
        fraction = (n - steps[right - 1]) / (steps[right] - steps[right - 1])
        return self.base_lr * (factors[right - 1] + fraction * (factors[right] - factors[right - 1]))


class ReduceLROnPlateau:
    """Multiply the lr by ``factor`` when a monitored metric stops improving, as
    ``torch.optim.lr_scheduler.ReduceLROnPlateau``.

    ``step(metric)`` is called once per epoch with the metric. In ``mode="min"`` a metric
    improves on the best so far when it is below best · (1 − threshold) (``threshold_mode="rel"``)
    or best − threshold (``"abs"``); in ``mode="max"`` when it is above best · (1 + threshold)
    or best + threshold. After more than ``patience`` epochs in a row without improvement the lr
    becomes max(lr · factor, min_lr), then ``cooldown`` epochs pass before bad epochs count.

    Parameters
    ----------
    optimizer : Optimizer
    mode : {"min", "max"}
        Whether a lower (a loss) or a higher (an accuracy) metric is better.
    factor : float
        In [0, 1).
    patience : int
        Epochs without improvement tolerated, >= 0.
    threshold : float
        The smallest change that counts as an improvement, >= 0.
    threshold_mode : {"rel", "abs"}
        Whether ``threshold`` is relative to the best value or absolute.
    cooldown : int
        Epochs after a reduction during which bad epochs are not counted, >= 0.
    min_lr : float
        The rate is never reduced below this, >= 0.
    """

    def __init__(self, optimizer: Any, mode: str = "min", factor: float = 0.1, patience: int = 10, threshold: float = 1e-4,
                 threshold_mode: str = "rel", cooldown: int = 0, min_lr: float = 0.0):
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"a schedule wraps an optimizer with an 'lr' attribute, got a {type(optimizer).__name__}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        check_range(high=1.0, include_high=False, factor=factor)
        check_range(threshold=threshold, min_lr=min_lr)
        self.optimizer, self.mode, self.factor, self.threshold, self.threshold_mode = optimizer, mode, factor, threshold, threshold_mode
        self.patience = _check_count("patience", patience, 0)
        self.cooldown = _check_count("cooldown", cooldown, 0)
        self.min_lr = min_lr
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_step = 0

    def get_lr(self) -> float:
        return float(self.optimizer.lr)

    def step(self, metric: float) -> None:
        """Record one epoch's ``metric`` and reduce the lr if it has stopped improving."""
        current = float(metric)
        self.last_step += 1
        if self._improves(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # epochs in cooldown never count as bad
        if self.num_bad_epochs > self.patience:
            reduced = max(float(self.optimizer.lr) * float(self.factor), float(self.min_lr))
            if float(self.optimizer.lr) - reduced > _SMALLEST_REDUCTION:
                self.optimizer.lr = reduced
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def _improves(self, value: float) -> bool:
        threshold = float(self.threshold)
        if self.mode == "min":
            return value < (self.best * (1.0 - threshold) if self.threshold_mode == "rel" else self.best - threshold)
        return value > (self.best * (1.0 + threshold) if self.threshold_mode == "rel" else self.best + threshold)

    def state_dict(self) -> dict[str, Any]:
        """The counters and the best metric (±inf before the first epoch; Python's json keeps it)."""
        return {"best": self.best, "num_bad_epochs": self.num_bad_epochs, "cooldown_counter": self.cooldown_counter, "last_step": self.last_step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = float(state["best"])
        self.num_bad_epochs = _check_count("num_bad_epochs", state["num_bad_epochs"], 0)
        self.cooldown_counter = _check_count("cooldown_counter", state["cooldown_counter"], 0)
        self.last_step = _check_count("last_step", state["last_step"], 0)


def _check_count(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int, or a ValueError unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
