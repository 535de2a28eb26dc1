"""Transfer learning's cheapest form: a pretrained network as a fixed feature extractor.

Everything of the pretrained network but its last layer (the classifier) runs once, in
evaluation mode, over the new task's images; a new linear classifier (softmax regression) is
then trained on those features (Yosinski et al. 2014, "How transferable are features in deep
neural networks?"; Razavian et al. 2014). Fine-tuning, the other form, starts the whole network
from the pretrained weights: ``ImageTrainingConfig(init_from=...)`` in
:mod:`smartmod.vision.training`.
"""
from __future__ import annotations

import time
from typing import Any

import numpy

from smartmod.nn import backend
from smartmod.nn.callbacks import Callback, EarlyStopping
from smartmod.nn.layers.conv import channels_first
from smartmod.nn.layers.dense import Dense
from smartmod.nn.losses import CrossEntropyLoss
from smartmod.nn.module import Sequential
from smartmod.nn.optim import Adam
from smartmod.nn.serialize import load_model
from smartmod.nn.train import Trainer, predict
from smartmod.vision.datasets import ImageSplits
from smartmod.vision.training import DATASETS, ImageTrainingConfig, accuracy, prepare_images

__all__ = ["extract_features", "train_feature_classifier"]


def extract_features(network: Sequential, images: numpy.ndarray, batch_size: int = 500) -> numpy.ndarray:
    """The input of ``network``'s last layer for channels-last images ``(N, H, W, C)``: ``(N, F)``."""
    body = Sequential(*list(network)[:-1])
    return backend.to_numpy(predict(body, channels_first(images), batch_size))


class _TestAccuracy(Callback):
    def __init__(self, features: numpy.ndarray, labels: numpy.ndarray):
        self.features, self.labels, self.values = features, labels, []

    def on_epoch_end(self, trainer, epoch, logs):
        self.values.append(accuracy(predict(trainer.model, self.features), self.labels))


def train_feature_classifier(config: ImageTrainingConfig, pretrained: str, splits: ImageSplits | None = None) -> dict[str, Any]:
    """Softmax regression on the features of the ``pretrained`` model directory, on the data that
    ``config`` selects (dataset, classes, train_per_class, validation, ...); Adam at ``config.lr``
    for ``config.epochs`` epochs, the best validation epoch kept. Returns the same per-epoch
    figures as :func:`~smartmod.vision.training.train_image_classifier`."""
    if config.validation == 0:
        raise ValueError("the feature classifier keeps its best validation epoch: hold out some training images (validation > 0)")
    splits = splits if splits is not None else DATASETS[config.dataset]()
    x_train, y_train, x_val, y_val, x_test, y_test, _, _ = prepare_images(splits, config)
    network = load_model(pretrained)
    start = time.perf_counter()
    f_train, f_val, f_test = (extract_features(network, images) for images in (x_train, x_val, x_test))
    extraction_seconds = time.perf_counter() - start
    backend.seed(config.seed)
    classes = int(y_train.max()) + 1
    head = Sequential(Dense(f_train.shape[1], classes))
    test = _TestAccuracy(f_test, y_test)
    stopper = EarlyStopping("val_accuracy", mode="max", patience=config.epochs + 1)
    trainer = Trainer(head, CrossEntropyLoss(label_smoothing=config.label_smoothing), Adam(head.parameters(), lr=config.lr, weight_decay=config.weight_decay),
                      batch_size=config.batch_size, metrics={"accuracy": accuracy}, callbacks=[test, stopper], seed=config.seed, progress=False)
    history = trainer.fit(f_train, y_train, epochs=config.epochs, validation_data=(f_val, y_val))
    seconds = time.perf_counter() - start
    head.load_state_dict(stopper.best_weights)
    return {
        "features": int(f_train.shape[1]),
        "extraction_seconds": round(extraction_seconds, 1),
        "train_seconds": round(seconds, 1),
        "best_val_accuracy": max(history["val_accuracy"]),
        "test_accuracy": accuracy(predict(head, f_test), y_test),
        "epochs": [{"epoch": index + 1, "loss": loss, "val_accuracy": val, "test_accuracy": test_value}
                   for index, (loss, val, test_value) in enumerate(zip(history["loss"], history["val_accuracy"], test.values))],
    }
