"""A multilayer perceptron on MNIST: the framework's first end-to-end training recipe.

784 pixels → (Dense → ReLU → Dropout) × ``layers`` → Dense(10), softmax cross-entropy, Adam with
a cosine schedule, early stopping on a validation split carved from the training set. The test
set is touched once, at the end, for the reported accuracy.
"""
from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy

from smartmod.nn import Dense, Dropout, ReLU, Sequential, backend
from smartmod.nn.callbacks import EarlyStopping, LearningRateScheduler
from smartmod.nn.losses import CrossEntropyLoss
from smartmod.nn.optim import Adam
from smartmod.nn.schedules import CosineWithWarmup
from smartmod.nn.serialize import save_model
from smartmod.nn.train import Trainer, predict
from smartmod.vision.datasets import load_fashion_mnist, load_mnist
from smartmod.vision.configs import MnistMLPConfig

__all__ = ["MnistMLPConfig", "build_mlp", "accuracy", "train_mnist_mlp"]


def build_mlp(config: MnistMLPConfig, inputs: int = 784, classes: int = 10) -> Sequential:
    layers: list[Any] = []
    width = inputs
    for _ in range(config.layers):
        layers += [Dense(width, config.hidden, init="he_uniform"), ReLU(), Dropout(config.dropout)]
        width = config.hidden
    layers.append(Dense(width, classes))
    return Sequential(*layers)


def accuracy(logits: Any, labels: Any) -> float:
    """Share of rows whose arg-max logit is the label. logits ``(N, C)``, labels ``(N,)``."""
    return float((backend.to_numpy(logits).argmax(axis=1) == backend.to_numpy(labels)).mean())


def _flatten(images: numpy.ndarray) -> numpy.ndarray:
    return (images.reshape(len(images), -1).astype(numpy.float32) / 255.0 - 0.1307) / 0.3081


def train_mnist_mlp(config: MnistMLPConfig, output: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Train, evaluate once on the test set, optionally save the model; returns the results."""
    if config.dataset not in ("mnist", "fashion-mnist"):
        raise ValueError(f"dataset must be 'mnist' or 'fashion-mnist', got {config.dataset!r}")
    splits = load_mnist() if config.dataset == "mnist" else load_fashion_mnist()
    x, y = _flatten(splits.x_train), splits.y_train
    if not 0 < config.validation < len(x):
        raise ValueError(f"validation must be between 1 and {len(x) - 1} images, got {config.validation}")
    x_train, y_train, x_val, y_val = x[:-config.validation], y[:-config.validation], x[-config.validation:], y[-config.validation:]

    backend.seed(config.seed)
    model = build_mlp(config)
    optimizer = Adam(model.parameters(), lr=config.lr)
    steps_per_epoch = -(-len(x_train) // config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    schedule = CosineWithWarmup(optimizer, warmup_steps=min(steps_per_epoch, total_steps // 10), total_steps=total_steps)
    trainer = Trainer(
        model, CrossEntropyLoss(), optimizer,
        batch_size=config.batch_size, seed=config.seed, progress=progress, metrics={"accuracy": accuracy},
        callbacks=[LearningRateScheduler(schedule, interval="step"), EarlyStopping("val_accuracy", mode="max", patience=config.patience)],
    )
    start = time.perf_counter()
    history = trainer.fit(x_train, y_train, epochs=config.epochs, validation_data=(x_val, y_val))
    seconds = time.perf_counter() - start
    test_accuracy = accuracy(predict(model, _flatten(splits.x_test)), splits.y_test)
    results = {
        "config": asdict(config),
        "epochs_run": len(history["loss"]),
        "train_seconds": round(seconds, 1),
        "best_val_accuracy": max(history["val_accuracy"]),
        "test_accuracy": test_accuracy,
        "parameters": model.num_parameters(),
    }
    if output is not None:
        save_model(model, output, metadata=results)
    return results
