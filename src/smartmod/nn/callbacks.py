"""Keras-style training callbacks.

A callback overrides any of the hooks below; each receives the :class:`~smartmod.nn.train.Trainer`
first. Epoch logs hold ``loss``, ``lr`` and, with validation data, ``val_loss`` and
``val_<metric>``. A callback whose behaviour depends on the past returns that past from
``state_dict`` (JSON values, or NumPy arrays) so a resumed run behaves exactly like an
uninterrupted one.
"""
from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any

import numpy

from smartmod.nn import backend

__all__ = ["Callback", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler", "NaNGuard", "GradientNormLogger"]

logger = logging.getLogger("smartmod.train")


class Callback:
    """Base class: every hook does nothing."""

    def on_train_begin(self, trainer: Any) -> None: ...
    def on_epoch_begin(self, trainer: Any, epoch: int) -> None: ...
    def on_after_backward(self, trainer: Any, step: int, loss: float) -> None: ...
    def on_batch_end(self, trainer: Any, step: int, logs: dict[str, float]) -> None: ...
    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None: ...
    def on_train_end(self, trainer: Any) -> None: ...

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


class _Monitor:
    """Tracks the best value of one logged quantity (``mode`` "min" or "max")."""

    def __init__(self, monitor: str, mode: str, min_delta: float):
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def value(self, logs: dict[str, float]) -> float:
        if self.monitor not in logs:
            raise KeyError(f"cannot monitor {self.monitor!r}: the epoch logs hold {sorted(logs)} (pass validation_data for val_ keys)")
        return logs[self.monitor]

    def improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs;
    optionally put back the weights of the best epoch."""

    def __init__(self, monitor: str = "val_loss", mode: str = "min", patience: int = 5, min_delta: float = 0.0, restore_best_weights: bool = True):
        self._monitor = _Monitor(monitor, mode, min_delta)
        self.patience, self.restore_best_weights = patience, restore_best_weights
        self.wait, self.best_epoch = 0, -1
        self.best_weights: dict[str, numpy.ndarray] = {}

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        value = self._monitor.value(logs)
        if self._monitor.improved(value):
            self._monitor.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = trainer.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.stop(f"early stopping: {self._monitor.monitor} did not improve for {self.patience} epochs (best {self._monitor.best:.6g} at epoch {self.best_epoch + 1})")

    def on_train_end(self, trainer: Any) -> None:
        if self.restore_best_weights and self.best_weights and trainer.stop_training and trainer.stop_reason.startswith("early stopping"):
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {"best": self._monitor.best, "wait": self.wait, "best_epoch": self.best_epoch}
        state.update({f"best_weights/{name}": value for name, value in self.best_weights.items()})
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._monitor.best, self.wait, self.best_epoch = state["best"], state["wait"], state["best_epoch"]
        self.best_weights = {key[len("best_weights/"):]: value for key, value in state.items() if key.startswith("best_weights/")}


class ModelCheckpoint(Callback):
    """Save the model (``smartmod.nn.serialize.save_model``) to ``directory`` after each epoch,
    or only when ``monitor`` improves when ``save_best_only``."""

    def __init__(self, directory: str | os.PathLike, monitor: str = "val_loss", mode: str = "min", save_best_only: bool = True):
        self.directory = Path(directory)
        self._monitor = _Monitor(monitor, mode, 0.0)
        self.save_best_only = save_best_only

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        from smartmod.nn.serialize import save_model

        if self.save_best_only:
            value = self._monitor.value(logs)
            if not self._monitor.improved(value):
                return
            self._monitor.best = value
        save_model(trainer.model, self.directory, metadata={"epoch": epoch + 1, **logs})

    def state_dict(self) -> dict[str, Any]:
        return {"best": self._monitor.best}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._monitor.best = state["best"]


class LearningRateScheduler(Callback):
    """Advance a schedule from :mod:`smartmod.nn.schedules` every epoch (``interval="epoch"``)
    or every optimizer step (``"step"``). With ``monitor`` set, the logged value is passed to
    ``schedule.step`` (for ReduceLROnPlateau)."""

    def __init__(self, schedule: Any, interval: str = "epoch", monitor: str | None = None):
        if interval not in ("epoch", "step"):
            raise ValueError(f"interval must be 'epoch' or 'step', got {interval!r}")
        if monitor is not None and interval == "step":
            raise ValueError("a monitored schedule steps once per epoch: use interval='epoch'")
        self.schedule, self.interval, self.monitor = schedule, interval, monitor

    def on_batch_end(self, trainer: Any, step: int, logs: dict[str, float]) -> None:
        if self.interval == "step":
            self.schedule.step()

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        if self.interval != "epoch":
            return
        if self.monitor is None:
            self.schedule.step()
        else:
            self.schedule.step(_Monitor(self.monitor, "min", 0.0).value(logs))

    def state_dict(self) -> dict[str, Any]:
        return {"schedule": self.schedule.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.schedule.load_state_dict(state["schedule"])


class NaNGuard(Callback):
    """Stop before the optimizer step when the loss or any gradient is NaN or infinite,
    naming the step and the first parameter whose gradient went bad."""

    def on_after_backward(self, trainer: Any, step: int, loss: float) -> None:
        bad = [name for name, parameter in trainer.model.named_parameters() if not bool(backend.xp.isfinite(parameter.grad).all())]
        if math.isfinite(loss) and not bad:
            return
        where = f"in the gradient of {bad[0]!r}" + (f" (and {len(bad) - 1} more parameters)" if len(bad) > 1 else "") if bad else "in the loss"
        message = (
            f"non-finite value at step {step} {where}; loss = {loss}. Training stopped before this update, "
            "weights are those of the previous step. Lower the learning rate, clip gradients (clip_norm) or check the inputs."
        )
        logger.error(message)
        trainer.stop(message)


class GradientNormLogger(Callback):
    """Record the global gradient norm of every step in ``trainer.history["grad_norm"]`` and the
    last norm per parameter in ``self.parameter_norms``, to spot vanishing or exploding gradients."""

    def __init__(self) -> None:
        self.parameter_norms: dict[str, float] = {}

    def on_after_backward(self, trainer: Any, step: int, loss: float) -> None:
        squares = {name: float((parameter.grad.astype(numpy.float64) ** 2).sum()) for name, parameter in trainer.model.named_parameters()}
        self.parameter_norms = {name: math.sqrt(value) for name, value in squares.items()}
        trainer.history.setdefault("grad_norm", []).append(math.sqrt(sum(squares.values())))
