"""The training loop: shuffled mini-batches, validation, callbacks, checkpoints and exact resume.

One call to :meth:`Trainer.fit` runs epochs of shuffled mini-batches (dense arrays or CSR
matrices), evaluates on validation data after each epoch, records a history and calls
Keras-style callbacks. With ``checkpoint_path`` set, the complete training state (weights,
optimizer slots, random generator, the epoch's shuffle order, position, history and callback
state) is saved atomically every ``checkpoint_every`` steps and at the end of every epoch; a run
killed at any moment, even by SIGKILL, resumes from its last checkpoint and ends with exactly
the weights an uninterrupted run would have.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy

from smartmod.nn import backend
from smartmod.nn.callbacks import Callback
from smartmod.nn.clip import clip_grad_norm
from smartmod.nn.module import Module
from smartmod.nn.serialize import load_checkpoint, save_checkpoint

__all__ = ["Trainer", "predict", "num_rows", "take_rows"]

Metric = Callable[[Any, Any], float]


def num_rows(x: Any) -> int:
    return int(x.shape[0])


def take_rows(x: Any, index: numpy.ndarray) -> Any:
    """Rows ``index`` of a dense array or a sparse matrix (which stays sparse)."""
    return x[index]


def predict(model: Module, x: Any, batch_size: int = 1024) -> Any:
    """Model outputs for every row of ``x``, in evaluation mode, batch by batch. Shape ``(N, ...)``."""
    was_training = model.training
    model.eval()
    try:
        outputs = [model.forward(take_rows(x, numpy.arange(start, min(start + batch_size, num_rows(x)))))
                   for start in range(0, num_rows(x), batch_size)]
    finally:
        model.train(was_training)
    return backend.xp.concatenate(outputs) if outputs else backend.xp.zeros((0,))


class Trainer:
    """Fits a model with a loss and an optimizer.

    Parameters
    ----------
    model : Module
    loss : object with ``forward(prediction, target) -> float`` and ``backward() -> array``
    optimizer : object with ``step()``, ``zero_grad()``, ``lr``, ``state_dict()``, ``load_state_dict()``
    batch_size : int
        Examples per optimizer step.
    accumulate_steps : int
        Split each batch into this many micro-batches whose gradients are summed (weighted by
        their share of the batch) before one optimizer step: the memory of a small batch with
        the gradient of a large one.
    clip_norm : float or None
        Clip the global gradient norm to this value before each step.
    metrics : dict of name -> f(prediction, target) -> float
        Computed on validation data each epoch, logged as ``val_<name>``.
    callbacks : list of Callback
    checkpoint_path : path or None
        Where the resumable training state is kept; ``fit(resume=True)`` continues from it.
    checkpoint_every : int or None
        Also checkpoint every this many optimizer steps (epoch ends are always checkpointed).
    batch_transform : callable or None
        ``f(x_batch) -> x_batch`` applied to every training batch before its step (data
        augmentation); never to validation data. It should draw its randomness from
        :func:`smartmod.nn.backend.rng`, whose state the checkpoints keep, so a resumed run
        augments exactly as an uninterrupted one.
    seed : int
        Seeds the shared generator at the start of a fresh run (shuffling, dropout, augmentation).
    progress : bool
        Show a tqdm progress bar.
    """

    def __init__(
        self,
        model: Module,
        loss: Any,
        optimizer: Any,
        *,
        batch_size: int = 32,
        accumulate_steps: int = 1,
        clip_norm: float | None = None,
        metrics: dict[str, Metric] | None = None,
        callbacks: Sequence[Callback] = (),
        checkpoint_path: str | os.PathLike | None = None,
        checkpoint_every: int | None = None,
        batch_transform: Callable[[Any], Any] | None = None,
        seed: int = 0,
        progress: bool = True,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if not 1 <= accumulate_steps <= batch_size:
            raise ValueError(f"accumulate_steps must be in [1, batch_size={batch_size}], got {accumulate_steps}")
        if checkpoint_every is not None and checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be a positive number of steps, got {checkpoint_every}")
        self.model, self.loss, self.optimizer = model, loss, optimizer
        self.model.needs_input_grad = False  # the model's input is training data: no gradient flows into it
        self.batch_size, self.accumulate_steps, self.clip_norm = batch_size, accumulate_steps, clip_norm
        self.metrics = dict(metrics or {})
        self.callbacks = list(callbacks)
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path is not None else None
        self.checkpoint_every = checkpoint_every
        self.batch_transform = batch_transform
        self.seed, self.progress = seed, progress
        self.history: dict[str, list[float]] = {}
        self.stop_training = False
        self.stop_reason: str | None = None
        self.global_step = 0
        # Position inside the running epoch, kept so a checkpoint can resume mid-epoch.
        self._epoch, self._batch_index, self._order = 0, 0, numpy.zeros(0, dtype=numpy.int64)
        self._epoch_losses: list[float] = []

    # -- the loop -----------------------------------------------------------------------------

    def fit(self, x: Any, y: Any, *, epochs: int, validation_data: tuple[Any, Any] | None = None, resume: bool = False) -> dict[str, list[float]]:
        """Train for ``epochs`` epochs (counting those already done when resuming); returns the history.

        ``x``: ``(N, ...)`` dense array or ``(N, D)`` sparse matrix; ``y``: ``(N, ...)`` targets
        (NaN marks a missing label for losses that mask).
        """
        if num_rows(x) != num_rows(y):
            raise ValueError(f"x has {num_rows(x)} rows but y has {num_rows(y)}; they must match")
        if num_rows(x) == 0:
            raise ValueError("cannot train on an empty dataset (x has 0 rows)")
        resumed = resume and self.checkpoint_path is not None and self.checkpoint_path.exists()
        if resumed:
            self._restore(num_rows(x))
        else:
            backend.seed(self.seed)
            self.history, self.global_step, self._epoch, self._batch_index = {}, 0, 0, 0
            self._order = numpy.zeros(0, dtype=numpy.int64)
        self.stop_training, self.stop_reason = False, None
        self._call("on_train_begin")
        steps_per_epoch = math.ceil(num_rows(x) / self.batch_size)
        while self._epoch < epochs and not self.stop_training:
            if self._batch_index == 0:
                self._order = backend.to_numpy(backend.rng().permutation(num_rows(x)))
                self._call("on_epoch_begin", self._epoch)
            losses = self._run_epoch(x, y, steps_per_epoch)
            if self.stop_training and self._batch_index < steps_per_epoch:
                break  # stopped mid-epoch (e.g. a NaN guard): no epoch-end bookkeeping
            logs = {"loss": float(numpy.mean(losses)) if losses else float("nan"), "lr": float(self.optimizer.lr)}
            if validation_data is not None:
                logs.update(self.evaluate(*validation_data))
            for key, value in logs.items():
                self.history.setdefault(key, []).append(value)
            epoch = self._epoch
            self._epoch, self._batch_index = self._epoch + 1, 0
            self._call("on_epoch_end", epoch, logs)
            self._save_checkpoint()
        self._call("on_train_end")
        return self.history

    def _run_epoch(self, x: Any, y: Any, steps_per_epoch: int) -> list[float]:
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=steps_per_epoch, initial=self._batch_index, desc=f"epoch {self._epoch + 1}", leave=False)
        losses = self._epoch_losses
        if self._batch_index == 0:
            losses.clear()  # a fresh epoch; a resumed one keeps the losses of its first half
        while self._batch_index < steps_per_epoch and not self.stop_training:
            index = self._order[self._batch_index * self.batch_size:(self._batch_index + 1) * self.batch_size]
            batch = take_rows(x, index)
            if self.batch_transform is not None:
                batch = self.batch_transform(batch)
            value = self.train_step(batch, take_rows(y, index))
            if self.stop_training:
                break
            losses.append(value)
            self._batch_index += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{value:.4f}")
            if self.checkpoint_every and self.global_step % self.checkpoint_every == 0 and self._batch_index < steps_per_epoch:
                self._save_checkpoint()
        if bar is not None:
            bar.close()
        return list(losses)

    def train_step(self, x: Any, y: Any) -> float:
        """One optimizer step on one batch (split into micro-batches when accumulating)."""
        self.model.train()
        self.optimizer.zero_grad()
        n, total = num_rows(x), 0.0
        for part in numpy.array_split(numpy.arange(n), min(self.accumulate_steps, n)):
            share = len(part) / n
            prediction = self.model.forward(take_rows(x, part))
            total += share * float(self.loss.forward(prediction, take_rows(y, part)))
            grad = self.loss.backward()
            self.model.backward(grad * grad.dtype.type(share) if share != 1 else grad)
        self.global_step += 1
        self._call("on_after_backward", self.global_step, total)
        if self.stop_training:
            return total
        if self.clip_norm is not None:
            clip_grad_norm(self.model.parameters(), self.clip_norm)
        self.optimizer.step()
        self._call("on_batch_end", self.global_step, {"loss": total})
        return total

    def evaluate(self, x: Any, y: Any, batch_size: int | None = None) -> dict[str, float]:
        """Validation loss and metrics, as ``{"val_loss": ..., "val_<metric>": ...}``."""
        prediction = predict(self.model, x, batch_size or max(self.batch_size, 256))
        logs = {"val_loss": float(self.loss.forward(prediction, y))}
        for name, metric in self.metrics.items():
            logs[f"val_{name}"] = float(metric(prediction, y))
        return logs

    def stop(self, reason: str) -> None:
        """Ask the loop to stop after the current step, recording why."""
        self.stop_training, self.stop_reason = True, reason

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    # -- checkpoints --------------------------------------------------------------------------

    def _save_checkpoint(self) -> None:
        if self.checkpoint_path is None:
            return
        arrays = {f"model/{name}": value for name, value in self.model.state_dict().items()}
        optimizer_state = self.optimizer.state_dict()
        arrays.update({f"optimizer/{name}": backend.to_numpy(value) for name, value in optimizer_state["slots"].items()})
        arrays["trainer/order"] = self._order
        meta = {
            "optimizer": {key: value for key, value in optimizer_state.items() if key != "slots"},
            "rng": backend.get_rng_state(),
            "epoch": self._epoch,
            "batch_index": self._batch_index,
            "global_step": self.global_step,
            "epoch_losses": self._epoch_losses,
            "history": self.history,
            "callbacks": [],
        }
        for index, callback in enumerate(self.callbacks):
            state = callback.state_dict()
            arrays.update({f"callback{index}/{key}": value for key, value in state.items() if isinstance(value, numpy.ndarray)})
            meta["callbacks"].append({key: value for key, value in state.items() if not isinstance(value, numpy.ndarray)})
        save_checkpoint(self.checkpoint_path, arrays, meta)

    def _restore(self, rows: int) -> None:
        arrays, meta = load_checkpoint(self.checkpoint_path)
        self.model.load_state_dict({name[len("model/"):]: value for name, value in arrays.items() if name.startswith("model/")})
        slots = {name[len("optimizer/"):]: value for name, value in arrays.items() if name.startswith("optimizer/")}
        self.optimizer.load_state_dict({**meta["optimizer"], "slots": slots})
        self._order = arrays["trainer/order"]
        if self._order.size not in (0, rows):
            raise ValueError(f"checkpoint {self.checkpoint_path} was made on {self._order.size} training rows, this data has {rows}")
        backend.set_rng_state(meta["rng"])
        self._epoch, self._batch_index, self.global_step = meta["epoch"], meta["batch_index"], meta["global_step"]
        self._epoch_losses[:] = meta["epoch_losses"]
        self.history = meta["history"]
        if len(meta["callbacks"]) != len(self.callbacks):
            raise ValueError(f"checkpoint {self.checkpoint_path} holds {len(meta['callbacks'])} callback states, this trainer has {len(self.callbacks)}")
        for index, (callback, state) in enumerate(zip(self.callbacks, meta["callbacks"])):
            prefix = f"callback{index}/"
            state.update({name[len(prefix):]: value for name, value in arrays.items() if name.startswith(prefix)})
            callback.load_state_dict(state)
