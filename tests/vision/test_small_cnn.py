"""The small convolutional network learns: a slice of MNIST, a few seconds of training."""
from __future__ import annotations

import numpy

from smartmod.nn.losses import CrossEntropyLoss
from smartmod.nn.optim import Adam
from smartmod.nn.train import Trainer, predict
from smartmod.vision.mnist_mlp import accuracy
from smartmod.vision.small_cnn import small_cnn
from tests.conftest import require_data


def test_small_cnn_learns_digits_from_2000_mnist_images():
    with numpy.load(require_data("images/mnist/mnist.npz")) as archive:
        images, labels = archive["x_train"][:3000], archive["y_train"][:3000].astype(numpy.int64)
    x = ((images.astype(numpy.float32) / 255 - 0.1307) / 0.3081)[:, None]  # (N, 1, 28, 28)
    model = small_cnn(in_channels=1, widths=(8, 16, 32))
    before = accuracy(predict(model, x[2000:]), labels[2000:])
    trainer = Trainer(model, CrossEntropyLoss(), Adam(model.parameters(), lr=5e-3), batch_size=32, progress=False, seed=0)
    history = trainer.fit(x[:2000], labels[:2000], epochs=3)
    after = accuracy(predict(model, x[2000:]), labels[2000:])
    assert history["loss"][-1] < 0.25 * history["loss"][0]
    assert before < 0.3 and after >= 0.9, f"held-out accuracy {before:.3f} before training, {after:.3f} after"
