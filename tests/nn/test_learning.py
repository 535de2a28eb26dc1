"""Learning happens: XOR, two interleaved spirals, and an MNIST slice."""
from __future__ import annotations

import numpy

from smartmod.nn import Dense, ReLU, Sequential, Tanh, backend
from smartmod.nn.losses import BCEWithLogitsLoss, CrossEntropyLoss
from smartmod.nn.optim import Adam
from smartmod.nn.train import Trainer, predict
from tests.conftest import require_data


def binary_accuracy(logits, targets) -> float:
    return float(((logits > 0) == (targets > 0.5)).mean())


def two_spirals(points_per_class: int, rng: numpy.random.Generator) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Two interleaved spirals of 1.5 turns each, with a little noise (Lang & Witbrock 1988)."""
    t = numpy.sqrt(rng.random(points_per_class)) * 3 * numpy.pi
    arm = numpy.stack([t * numpy.cos(t), t * numpy.sin(t)], axis=1) / (3 * numpy.pi)
    x = numpy.concatenate([arm, -arm]) + rng.normal(0, 0.02, size=(2 * points_per_class, 2))
    y = numpy.concatenate([numpy.zeros(points_per_class), numpy.ones(points_per_class)])[:, None]
    return x.astype(numpy.float32), y.astype(numpy.float32)


def test_two_layer_network_solves_xor():
    x = numpy.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=numpy.float32)
    y = numpy.array([[0], [1], [1], [0]], dtype=numpy.float32)
    model = Sequential(Dense(2, 8), Tanh(), Dense(8, 1))
    trainer = Trainer(model, BCEWithLogitsLoss(), Adam(model.parameters(), lr=0.05), batch_size=4, progress=False)
    history = trainer.fit(x, y, epochs=300)
    assert binary_accuracy(predict(model, x), y) == 1.0
    assert history["loss"][-1] < 0.05 < history["loss"][0]


def test_mlp_separates_two_spirals():
    x, y = two_spirals(300, numpy.random.default_rng(0))
    model = Sequential(Dense(2, 64), ReLU(), Dense(64, 64), ReLU(), Dense(64, 1))
    trainer = Trainer(model, BCEWithLogitsLoss(), Adam(model.parameters(), lr=0.01), batch_size=32, progress=False)
    trainer.fit(x, y, epochs=150)
    assert binary_accuracy(predict(model, x), y) >= 0.97


def test_mlp_learns_mnist_from_a_slice():
    path = require_data("images/mnist/mnist.npz")
    with numpy.load(path, allow_pickle=False) as archive:
        x_train, y_train = archive["x_train"][:6000], archive["y_train"][:6000].astype(numpy.int64)
        x_test, y_test = archive["x_test"][:2000], archive["y_test"][:2000].astype(numpy.int64)

    def flatten(images):
        return images.reshape(len(images), -1).astype(numpy.float32) / 255.0

    backend.seed(0)
    model = Sequential(Dense(784, 128), ReLU(), Dense(128, 10))
    before = float((predict(model, flatten(x_test)).argmax(1) == y_test).mean())
    trainer = Trainer(model, CrossEntropyLoss(), Adam(model.parameters(), lr=2e-3), batch_size=64, progress=False)
    trainer.fit(flatten(x_train), y_train, epochs=5)
    after = float((predict(model, flatten(x_test)).argmax(1) == y_test).mean())
    assert before < 0.3 and after >= 0.90, f"accuracy before {before:.3f}, after {after:.3f}"
