"""Lookahead: slow weights that follow the optimizer's fast weights, and that the fast weights
restart from (Zhang, Lucas, Hinton & Ba 2019, "Lookahead optimizer: k steps forward, 1 step back").

Every ``every`` steps, with θ the network's weights (parameters and floating buffers, such as
BatchNorm's running statistics) and φ the slow copy::

    φ ← φ + α (θ − φ)        α = 1 − ρ_t
    θ ← φ

Jordan's airbench (2024) lets the slow weights' inertia grow over the run,
ρ_t = ρ_max · (t / T)^p with ρ_max = 0.95⁵ and p = 3: early on α ≈ 1 and the fast weights
move freely; at the end each update keeps three quarters of the average, an exponential moving
average of the late weights that smooths out the noise of the last, largest-batch-to-step-size
steps. At the last step of every epoch θ ← φ once more, so the epoch's validation sees φ.
"""
from __future__ import annotations

from typing import Any

import numpy

from smartmod.nn import backend
from smartmod.nn.callbacks import Callback
from smartmod.nn.module import Module

__all__ = ["Lookahead"]


class Lookahead(Callback):
    """A Trainer callback applying Lookahead to ``trainer.model``.

    Parameters
    ----------
    total_steps : int
        T, the optimizer steps of the whole run.
    every : int
        k, steps between updates.
    start_step : int
        The slow weights are taken from the network at the first update at or after this step.
    max_decay : float
        ρ_max in [0, 1): the largest share of the slow weights kept at an update.
    power : float
        p ≥ 0 of the schedule ρ_t = ρ_max (t / T)^p.
    steps_per_epoch : int, optional
        The trainer's steps per epoch: θ ← φ at the last of them, before validation.
    """

    def __init__(self, total_steps: int, every: int = 5, start_step: int = 0, max_decay: float = 0.95 ** 5, power: float = 3.0,
                 steps_per_epoch: int | None = None):
        for name, value in (("total_steps", total_steps), ("every", every), ("steps_per_epoch", 1 if steps_per_epoch is None else steps_per_epoch)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive whole number of steps, got {value!r}")
        if isinstance(start_step, bool) or not isinstance(start_step, int) or start_step < 0:
            raise ValueError(f"start_step must be a whole number of steps, 0 or more, got {start_step!r}")
        if not 0 <= max_decay < 1 or power < 0:
            raise ValueError(f"max_decay must lie in [0, 1) and power be 0 or more, got {max_decay!r} and {power!r}")
        self.total_steps, self.every, self.start_step, self.max_decay, self.power = total_steps, every, start_step, max_decay, power
        self.steps_per_epoch = steps_per_epoch
        self.slow: dict[str, Any] | None = None

    def decay(self, step: int) -> float:
        """ρ_t at optimizer step ``step``."""
        return self.max_decay * min(step / self.total_steps, 1.0) ** self.power

    def on_batch_end(self, trainer: Any, step: int, logs: dict[str, float]) -> None:
        if step >= self.start_step and step % self.every == 0:
            if self.slow is None:
                self.slow = {name: backend.xp.array(value) for name, value in _weights(trainer.model)}
            else:
                self._average(trainer.model, 1.0 - self.decay(step))
        elif self.slow is not None and self.steps_per_epoch and step % self.steps_per_epoch == 0:
            self._average(trainer.model, 0.0)  # θ ← φ: the epoch's validation sees the slow weights

    def _average(self, model: Module, step_size: float) -> None:
        """φ ← φ + α (θ − φ), then θ ← φ, in place."""
        for name, value in _weights(model):
            slow = self.slow[name]
            slow += value.dtype.type(step_size) * (value - slow)
            value[...] = slow

    def state_dict(self) -> dict[str, Any]:
        return {} if self.slow is None else {f"slow/{name}": backend.to_numpy(value) for name, value in self.slow.items()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        slow = {key[len("slow/"):]: backend.xp.array(value) for key, value in state.items() if key.startswith("slow/")}
        self.slow = slow or None


def _weights(model: Module) -> list[tuple[str, Any]]:
    """The arrays Lookahead averages: every parameter's data and every floating buffer."""
    weights = [(name, parameter.data) for name, parameter in model.named_parameters()]
    return weights + [(name, value) for name, value in model.named_buffers() if numpy.dtype(value.dtype).kind == "f"]
