"""The real ``smartmod`` command, run as a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import data_root, require_data


def smartmod(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smartmod.cli", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_version():
    result = smartmod("--version")
    assert result.returncode == 0 and result.stdout.startswith("smartmod ")


def test_train_mnist_small_run_reports_and_saves_a_model(tmp_path):
    require_data("images/mnist/mnist.npz")
    result = smartmod("train", "mnist", "--epochs", "1", "--hidden", "32", "--layers", "1", "--no-progress", "--output", str(tmp_path / "model"),
                      env={"SMARTMOD_DATA": str(data_root())})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["epochs_run"] == 1 and report["test_accuracy"] > 0.85
    assert (tmp_path / "model" / "config.json").exists() and (tmp_path / "model" / "weights.npz").exists()


def test_missing_data_is_a_clear_error_not_a_traceback(tmp_path):
    result = smartmod("train", "mnist", "--epochs", "1", "--no-progress", env={"SMARTMOD_DATA": str(tmp_path)})
    assert result.returncode == 2
    assert "SMARTMOD_DATA" in result.stderr and "Traceback" not in result.stderr


def test_unknown_dataset_is_a_clear_error():
    result = smartmod("train", "mnist", "--dataset", "cifar", "--no-progress")
    assert result.returncode == 2 and "'mnist' or 'fashion-mnist'" in result.stderr
