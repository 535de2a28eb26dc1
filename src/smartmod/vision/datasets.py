"""Readers for the image datasets in the shared data folder."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy

from smartmod.data.paths import data_path

__all__ = ["ImageSplits", "load_mnist", "load_fashion_mnist"]


class ImageSplits(NamedTuple):
    """Images ``(N, H, W)`` uint8 and labels ``(N,)`` int64 for the train and test splits."""

    x_train: numpy.ndarray
    y_train: numpy.ndarray
    x_test: numpy.ndarray
    y_test: numpy.ndarray


def _load_npz_splits(path: Path) -> ImageSplits:
    try:
        with numpy.load(path, allow_pickle=False) as archive:
            missing = {"x_train", "y_train", "x_test", "y_test"} - set(archive.files)
            if missing:
                raise ValueError(f"{path} lacks the arrays {sorted(missing)}; it holds {sorted(archive.files)}")
            splits = ImageSplits(archive["x_train"], archive["y_train"].astype(numpy.int64), archive["x_test"], archive["y_test"].astype(numpy.int64))
    except (OSError, EOFError) as error:
        raise ValueError(f"{path} is not a readable .npz file ({error})") from error
    for images, labels, split in ((splits.x_train, splits.y_train, "train"), (splits.x_test, splits.y_test, "test")):
        if images.ndim != 3 or images.shape[0] != labels.shape[0]:
            raise ValueError(f"{path}: {split} images have shape {images.shape} for {labels.shape[0]} labels; expected (N, H, W)")
    return splits


def load_mnist() -> ImageSplits:
    """MNIST (60,000 train + 10,000 test digits, 28×28) from ``images/mnist/mnist.npz``."""
    return _load_npz_splits(data_path("images/mnist/mnist.npz"))


def load_fashion_mnist() -> ImageSplits:
    """Fashion-MNIST (same shapes as MNIST) from ``images/fashion-mnist/fashion_mnist.npz``."""
    return _load_npz_splits(data_path("images/fashion-mnist/fashion_mnist.npz"))
