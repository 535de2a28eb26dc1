"""Readers for the image datasets in the shared data folder."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy

from smartmod.data.cache import cache_root, file_fingerprint, read_cached_arrays, write_cached_arrays
from smartmod.data.paths import data_path
from smartmod.vision.image_folders import load_image_archive

__all__ = ["ImageSplits", "load_mnist", "load_fashion_mnist", "load_cifar10", "CIFAR10_ARCHIVE"]

CIFAR10_ARCHIVE = "images/cifar10/cifar10-jpg.tar.gz"
_CIFAR10_CACHE_VERSION = 1  # raise when the decoding changes, so old caches are rebuilt


class ImageSplits(NamedTuple):
    """Images ``(N, H, W)`` (grey) or ``(N, H, W, 3)`` (RGB) uint8 and labels ``(N,)`` int64 for
    the train and test splits; ``class_names[label]`` names a class where the reader knows them."""

    x_train: numpy.ndarray
    y_train: numpy.ndarray
    x_test: numpy.ndarray
    y_test: numpy.ndarray
    class_names: tuple[str, ...] = ()


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


def load_cifar10(*, limit_per_class: int | None = None, cache_dir: str | Path | None = None) -> ImageSplits:
    """CIFAR-10 (Krizhevsky 2009; 50,000 train + 10,000 test RGB images, 32×32) from the JPEG copy
    ``images/cifar10/cifar10-jpg.tar.gz``: images ``(N, 32, 32, 3)`` uint8, labels int64.

    The class names are the archive's sorted folder names, which is also the official label order
    (airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck). Within a split images
    are ordered by class, then file name.

    Decoding the 60,000 JPEGs takes seconds (17 s measured on a shared two-core machine), so the
    result is cached as an ``.npz`` in ``cache_dir`` (default: the ``SMARTMOD_CACHE`` setting,
    ``~/.cache/smartmod``), keyed by the archive's size and modification time: a changed archive
    is decoded again. ``limit_per_class`` reads only the first so many images of each class in
    each split (cached separately).
    """
    archive = data_path(CIFAR10_ARCHIVE)
    key = {"reader": "cifar10-jpg", "version": _CIFAR10_CACHE_VERSION, "limit_per_class": limit_per_class, **file_fingerprint(archive)}
    suffix = "" if limit_per_class is None else f"-first-{limit_per_class}-per-class"
    cache_file = Path(cache_dir if cache_dir is not None else cache_root()) / f"cifar10-jpg{suffix}.npz"
    arrays = read_cached_arrays(cache_file, key)
    if arrays is None:
        splits = load_image_archive(archive, limit_per_class=limit_per_class)
        if set(splits) != {"train", "test"}:
            raise ValueError(f"{archive} should hold the splits train/ and test/, found {sorted(splits)}")
        arrays = {"x_train": splits["train"].images, "y_train": splits["train"].labels,
                  "x_test": splits["test"].images, "y_test": splits["test"].labels,
                  "class_names": numpy.array(splits["train"].class_names)}
        write_cached_arrays(cache_file, arrays, key)
    return ImageSplits(arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"],
                       tuple(str(name) for name in arrays["class_names"]))
