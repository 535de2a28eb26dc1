"""The training loop: reproducibility, exact resume after SIGKILL, accumulation, callbacks."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy
import pytest

from smartmod.nn import Dense, Dropout, ReLU, Sequential, Tanh, backend
from smartmod.nn.callbacks import EarlyStopping, GradientNormLogger, ModelCheckpoint, NaNGuard
from smartmod.nn.losses import BCEWithLogitsLoss, MSELoss
from smartmod.nn.optim import SGD, Adam
from smartmod.nn.serialize import load_arrays, load_checkpoint, load_model
from smartmod.nn.train import Trainer

WORKER = Path(__file__).with_name("resume_worker.py")
REPO = Path(__file__).resolve().parents[2]


def regression_data(rows: int = 96, seed: int = 0):
    rng = numpy.random.default_rng(seed)
    x = rng.normal(size=(rows, 4)).astype(numpy.float32)
    y = (x @ rng.normal(size=(4, 1)) + 0.1 * rng.normal(size=(rows, 1))).astype(numpy.float32)
    return x, y


def fitted_weights(seed: int, **trainer_options) -> dict[str, numpy.ndarray]:
    x, y = regression_data()
    backend.seed(123)
    model = Sequential(Dense(4, 16), ReLU(), Dropout(0.2), Dense(16, 1))
    Trainer(model, MSELoss(), Adam(model.parameters(), lr=0.01), batch_size=16, seed=seed, progress=False, **trainer_options).fit(x, y, epochs=3)
    return model.state_dict()


def test_same_seed_gives_identical_weights():
    first, second = fitted_weights(seed=5), fitted_weights(seed=5)
    for name in first:
        numpy.testing.assert_array_equal(first[name], second[name])


def test_different_seed_shuffles_differently():
    first, second = fitted_weights(seed=5), fitted_weights(seed=6)
    assert any(not numpy.array_equal(first[name], second[name]) for name in first)


def test_gradient_accumulation_matches_one_large_batch():
    x, y = regression_data(rows=64)

    def train(accumulate_steps: int):
        backend.seed(1)
        model = Sequential(Dense(4, 8), Tanh(), Dense(8, 1))
        Trainer(model, MSELoss(), SGD(model.parameters(), lr=0.05), batch_size=32, accumulate_steps=accumulate_steps,
                seed=0, progress=False).fit(x, y, epochs=4)
        return model.state_dict()

    whole, accumulated = train(1), train(4)
    for name in whole:
        numpy.testing.assert_allclose(accumulated[name], whole[name], rtol=1e-5, atol=1e-6)


def run_worker(checkpoint: Path, output: Path, *flags: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    return subprocess.Popen([sys.executable, str(WORKER), str(checkpoint), str(output), *flags], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_run_killed_with_sigkill_resumes_to_identical_weights(tmp_path):
    uninterrupted = run_worker(tmp_path / "reference.npz", tmp_path / "reference-weights.npz")
    killed = run_worker(tmp_path / "ckpt.npz", tmp_path / "resumed-weights.npz")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (tmp_path / "ckpt.npz").exists():
            _, meta = load_checkpoint(tmp_path / "ckpt.npz")
            if meta["epoch"] >= 2:  # mid-run: a few epochs done, several to go
                break
        time.sleep(0.01)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert killed.returncode == -signal.SIGKILL, killed.stdout.read().decode()
    assert not (tmp_path / "resumed-weights.npz").exists(), "the run finished before it could be killed"
    _, meta = load_checkpoint(tmp_path / "ckpt.npz")
    assert 0 < meta["global_step"] < 6 * 25

    resumed = run_worker(tmp_path / "ckpt.npz", tmp_path / "resumed-weights.npz", "--resume")
    assert resumed.wait(timeout=120) == 0, resumed.stdout.read().decode()
    assert uninterrupted.wait(timeout=120) == 0, uninterrupted.stdout.read().decode()
    expected, actual = load_arrays(tmp_path / "reference-weights.npz"), load_arrays(tmp_path / "resumed-weights.npz")
    assert expected.keys() == actual.keys()
    for name in expected:
        numpy.testing.assert_array_equal(actual[name], expected[name], err_msg=name)


def test_batch_transform_sees_every_training_batch_and_no_validation_data():
    x, y = regression_data(rows=40)
    seen = []

    def zero_out(batch):
        seen.append(batch.copy())
        return batch * 0  # the network then learns from zeros only: its weights keep no gradient

    backend.seed(0)
    model = Sequential(Dense(4, 1))
    initial = {name: value.copy() for name, value in model.state_dict().items()}
    trainer = Trainer(model, MSELoss(), SGD(model.parameters(), lr=0.1), batch_size=16, progress=False, batch_transform=zero_out)
    trainer.fit(x, y, epochs=2, validation_data=(x, y))
    assert [len(batch) for batch in seen] == [16, 16, 8] * 2  # training batches only, validation untouched
    numpy.testing.assert_array_equal(numpy.sort(numpy.concatenate(seen[:3]), axis=0), numpy.sort(x, axis=0))
    numpy.testing.assert_array_equal(model.state_dict()["0.weight"], initial["0.weight"])
    assert not numpy.array_equal(model.state_dict()["0.bias"], initial["0.bias"])


def test_nan_guard_names_the_step_and_the_layer_and_keeps_the_last_good_weights(caplog):
    x, y = regression_data(rows=32)
    x[20] = numpy.inf  # one poisoned example: the first batch holding it must stop training
    backend.seed(0)
    model = Sequential(Dense(4, 8), ReLU(), Dense(8, 1))
    trainer = Trainer(model, MSELoss(), SGD(model.parameters(), lr=0.01), batch_size=16, progress=False, callbacks=[NaNGuard()])
    trainer.fit(x, y, epochs=5)
    assert trainer.stop_training
    assert "non-finite value at step" in trainer.stop_reason
    assert "'0.weight'" in trainer.stop_reason or "'2.weight'" in trainer.stop_reason or "in the loss" in trainer.stop_reason
    assert all(numpy.isfinite(p.data).all() for p in model.parameters())
    assert any("non-finite" in record.message for record in caplog.records if record.levelno == logging.ERROR)


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = regression_data()
    backend.seed(0)
    model = Sequential(Dense(4, 8), ReLU(), Dense(8, 1))
    stopper = EarlyStopping(patience=2)
    trainer = Trainer(model, MSELoss(), SGD(model.parameters(), lr=0.5), batch_size=96, progress=False, callbacks=[stopper])
    history = trainer.fit(x, y, epochs=50, validation_data=(x, y))  # lr 0.5 diverges, so val_loss soon worsens
    assert len(history["val_loss"]) < 50 and trainer.stop_reason.startswith("early stopping")
    best = min(history["val_loss"])
    assert trainer.evaluate(x, y)["val_loss"] == pytest.approx(best, rel=1e-5)


def test_model_checkpoint_saves_the_best_epoch(tmp_path):
    x, y = regression_data()
    backend.seed(0)
    model = Sequential(Dense(4, 1))
    trainer = Trainer(model, MSELoss(), Adam(model.parameters(), lr=0.05), batch_size=32, progress=False,
                      callbacks=[ModelCheckpoint(tmp_path / "best")])
    history = trainer.fit(x, y, epochs=5, validation_data=(x, y))
    saved = load_model(tmp_path / "best")
    assert float(MSELoss().forward(saved.forward(x), y)) == pytest.approx(min(history["val_loss"]), rel=1e-5)


def test_gradient_norm_logger_records_every_step():
    x, y = regression_data(rows=64)
    model = Sequential(Dense(4, 1))
    logger = GradientNormLogger()
    trainer = Trainer(model, MSELoss(), SGD(model.parameters(), lr=0.01), batch_size=16, progress=False, callbacks=[logger])
    history = trainer.fit(x, y, epochs=2)
    assert len(history["grad_norm"]) == 8 and all(n > 0 for n in history["grad_norm"])
    assert set(logger.parameter_norms) == {"0.weight", "0.bias"}


def test_masked_labels_train_without_nan():
    x, y = regression_data()
    y = (y > 0).astype(numpy.float32)
    y[::3] = numpy.nan
    model = Sequential(Dense(4, 1))
    history = Trainer(model, BCEWithLogitsLoss(), Adam(model.parameters(), lr=0.05), batch_size=16, progress=False).fit(x, y, epochs=5)
    assert numpy.isfinite(history["loss"]).all() and history["loss"][-1] < history["loss"][0]


@pytest.mark.parametrize("options, message", [({"batch_size": 0}, "batch_size"), ({"accumulate_steps": 64}, "accumulate_steps"), ({"checkpoint_every": 0}, "checkpoint_every")])
def test_invalid_trainer_options_are_clear_errors(options, message):
    model = Sequential(Dense(4, 1))
    with pytest.raises(ValueError, match=message):
        Trainer(model, MSELoss(), SGD(model.parameters(), lr=0.1), **{"batch_size": 32, **options})


def test_mismatched_rows_are_a_clear_error():
    x, y = regression_data()
    model = Sequential(Dense(4, 1))
    with pytest.raises(ValueError, match="96 rows but y has 95"):
        Trainer(model, MSELoss(), SGD(model.parameters(), lr=0.1), progress=False).fit(x, y[:95], epochs=1)
