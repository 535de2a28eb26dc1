"""A training run for the resume test, run as a subprocess: ``python resume_worker.py CKPT OUT [--resume]``.

It trains a small dropout network on a fixed dataset, each batch augmented with random noise
from the shared generator, with a checkpoint every 3 steps. The test
kills it with SIGKILL mid-run, starts it again with ``--resume`` and compares the final weights
with those of an uninterrupted run.
"""
from __future__ import annotations

import sys
import time

import numpy

from smartmod.nn import Dense, Dropout, ReLU, Sequential, backend
from smartmod.nn.callbacks import Callback, EarlyStopping, LearningRateScheduler
from smartmod.nn.losses import BCEWithLogitsLoss
from smartmod.nn.optim import Adam
from smartmod.nn.schedules import CosineWithWarmup
from smartmod.nn.serialize import save_arrays
from smartmod.nn.train import Trainer

EPOCHS, BATCH = 6, 16


class Slow(Callback):
    """Makes each step take a few milliseconds so the parent can kill the run mid-way."""

    def on_batch_end(self, trainer, step, logs):
        time.sleep(0.004)


def add_noise(batch):
    """A random augmentation: its draws must be replayed exactly after a resume."""
    return batch + backend.rng().normal(scale=0.05, size=batch.shape).astype(batch.dtype)


def dataset():
    rng = numpy.random.default_rng(42)
    x = rng.normal(size=(400, 10)).astype(numpy.float32)
    y = (x[:, :3] @ rng.normal(size=(3, 2)) > 0).astype(numpy.float32)
    y[rng.random(y.shape) < 0.1] = numpy.nan  # some labels missing
    return x, y


def run(checkpoint: str, output: str, resume: bool) -> None:
    x, y = dataset()
    backend.seed(7)
    model = Sequential(Dense(10, 32), ReLU(), Dropout(0.3), Dense(32, 2))
    optimizer = Adam(model.parameters(), lr=0.01)
    schedule = CosineWithWarmup(optimizer, warmup_steps=10, total_steps=EPOCHS * 25)
    callbacks = [LearningRateScheduler(schedule, interval="step"), EarlyStopping(patience=100), Slow()]
    trainer = Trainer(model, BCEWithLogitsLoss(), optimizer, batch_size=BATCH, seed=3, progress=False,
                      callbacks=callbacks, checkpoint_path=checkpoint, checkpoint_every=3, batch_transform=add_noise)
    history = trainer.fit(x, y, epochs=EPOCHS, validation_data=(x[:50], y[:50]), resume=resume)
    save_arrays(output, {**model.state_dict(), "history/loss": numpy.array(history["loss"])})


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], "--resume" in sys.argv[3:])
