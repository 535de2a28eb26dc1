"""Random data augmentation of image batches, vectorized over the batch.

Each augmentation comes in two parts:

- a function that applies given per-image parameters to a whole ``(N, H, W, C)`` batch at once
  with array arithmetic (:func:`crop`, :func:`flip_horizontal`, :func:`rotate`,
  :func:`adjust_colors`, :func:`erase_squares`): no Python loop over images or pixels, and image
  i of the result depends only on image i and its parameters;
- a small class that holds the hyperparameters verbatim, draws those per-image parameters from
  a ``numpy.random.Generator`` and calls the function (:class:`RandomCrop`,
  :class:`HorizontalFlip`, :class:`RandomRotation`, :class:`ColorJitter`, :class:`Cutout`).
  ``get_config()`` returns the hyperparameters as plain data, so a training config names its
  augmentations in JSON (see :mod:`smartmod.vision.augment_pipeline`).

Without an explicit generator the classes draw from ``smartmod.nn.backend.rng()``, the seeded
generator behind initialization and shuffling, so a seeded run is reproducible.

Images are floats, channels-last; colour operations expect values in [0, 1] (before
:func:`~smartmod.vision.preprocess.normalize_images`), while :class:`Cutout` is meant to follow
normalization, where the zeros it writes are the dataset mean (DeVries & Taylor 2017).
"""
from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy

from smartmod.nn import backend

__all__ = [
    "crop", "pad_images", "flip_horizontal", "rotate", "adjust_colors", "erase_squares",
    "Augmentation", "RandomCrop", "HorizontalFlip", "RandomRotation", "ColorJitter", "Cutout", "AUGMENTATIONS",
    "generator_or_default",
]

PADDING_MODES = {"reflect": "reflect", "zero": "constant"}  # our name: numpy.pad's
GREY_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma, as Pillow and torchvision compute grey


def _check_batch(images: numpy.ndarray) -> numpy.ndarray:
    images = numpy.asarray(images)
    if images.ndim != 4 or images.dtype.kind != "f":
        raise ValueError(f"augmentations take a float batch (N, H, W, C), got {images.dtype} {images.shape}; "
                         "convert uint8 pixels with images / 255 (or normalize_images) first")
    return images


def _per_image(values: Any, count: int, name: str, dtype: Any = None) -> numpy.ndarray:
    values = numpy.asarray(values, dtype=dtype)
    if values.shape != (count,):
        raise ValueError(f"{name} must hold one value per image, shape ({count},), got {values.shape}")
    return values


def pad_images(images: numpy.ndarray, padding: int, mode: str = "reflect") -> numpy.ndarray:
    """``(N, H, W, C)`` → ``(N, H + 2p, W + 2p, C)``: ``"reflect"`` mirrors the border without
    repeating the edge pixel (numpy's ``reflect``), ``"zero"`` pads with zeros."""
    if mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {tuple(PADDING_MODES)}, got {mode!r}")
    if padding == 0:
        return images
    return numpy.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)), mode=PADDING_MODES[mode])


def crop(images: numpy.ndarray, top: numpy.ndarray, left: numpy.ndarray, size: tuple[int, int]) -> numpy.ndarray:
    """A ``size = (h, w)`` window per image, at row ``top[i]`` and column ``left[i]``: ``(N, h, w, C)``.

    One gather for the whole batch: output pixel (i, r, c) is input pixel (i, top[i] + r, left[i] + c).
    """
    images = _check_batch(images)
    n, height, width, _ = images.shape
    top, left = (_per_image(values, n, name, numpy.int64) for values, name in ((top, "top"), (left, "left")))
    rows_kept, columns_kept = size
    if (top < 0).any() or (left < 0).any() or (top + rows_kept > height).any() or (left + columns_kept > width).any():
        raise ValueError(f"every {size} window must lie inside the {height}×{width} images")
    rows = top[:, None] + numpy.arange(rows_kept)  # (N, h)
    columns = left[:, None] + numpy.arange(columns_kept)  # (N, w)
    return images[numpy.arange(n)[:, None, None], rows[:, :, None], columns[:, None, :]]  # (N, h, w, C)


def flip_horizontal(images: numpy.ndarray, flip: numpy.ndarray) -> numpy.ndarray:
    """Images ``i`` with ``flip[i]`` True mirrored left to right; ``(N, H, W, C)`` → same."""
    images = _check_batch(images)
    flip = _per_image(flip, images.shape[0], "flip", bool)
    return numpy.where(flip[:, None, None, None], images[:, :, ::-1], images)


def rotate(images: numpy.ndarray, degrees: numpy.ndarray, fill: float = 0.0) -> numpy.ndarray:
    """Image ``i`` turned ``degrees[i]`` counter-clockwise about its centre; ``(N, H, W, C)`` → same.

    Inverse mapping: output pixel (y, x), at offset (dy, dx) from the centre ((H-1)/2, (W-1)/2),
    takes the input at the point that the rotation carries onto it,

        x_in = cx + cos θ · dx − sin θ · dy,    y_in = cy + sin θ · dx + cos θ · dy,

    interpolated bilinearly between its four neighbouring pixels; neighbours outside the image
    count as ``fill`` (PyTorch's ``grid_sample`` with ``align_corners=True`` and zero padding
    when ``fill`` is 0). 90 degrees on a square image is ``numpy.rot90``.
    """
    images = _check_batch(images)
    n, height, width, _ = images.shape
    theta = numpy.radians(_per_image(degrees, n, "degrees", numpy.float64))[:, None, None]  # (N, 1, 1)
    dy = (numpy.arange(height) - (height - 1) / 2)[None, :, None]  # (1, H, 1)
    dx = (numpy.arange(width) - (width - 1) / 2)[None, None, :]  # (1, 1, W)
    source_x = (width - 1) / 2 + numpy.cos(theta) * dx - numpy.sin(theta) * dy  # (N, H, W)
    source_y = (height - 1) / 2 + numpy.sin(theta) * dx + numpy.cos(theta) * dy
    x0, y0 = numpy.floor(source_x).astype(numpy.int64), numpy.floor(source_y).astype(numpy.int64)
    fx, fy = (source_x - x0).astype(images.dtype), (source_y - y0).astype(images.dtype)
    batch_index = numpy.arange(n)[:, None, None]
    result = numpy.zeros_like(images)
    for row_step, column_step, weight in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx), (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        rows, columns = y0 + row_step, x0 + column_step  # (N, H, W)
        inside = (rows >= 0) & (rows < height) & (columns >= 0) & (columns < width)
        neighbour = images[batch_index, numpy.clip(rows, 0, height - 1), numpy.clip(columns, 0, width - 1)]  # (N, H, W, C)
        result += weight[..., None] * numpy.where(inside[..., None], neighbour, images.dtype.type(fill))
    return result


def _grey(images: numpy.ndarray) -> numpy.ndarray:
    """Luma ``(N, H, W, 1)`` of RGB (or the channel itself of grey) images ``(N, H, W, C)``."""
    channels = images.shape[3]
    if channels == 1:
        return images
    if channels != 3:
        raise ValueError(f"contrast and saturation need grey or RGB images (1 or 3 channels), got {channels}")
    return images @ numpy.asarray(GREY_WEIGHTS, dtype=images.dtype)[:, None]


def _blend(images: numpy.ndarray, other: numpy.ndarray, factor: numpy.ndarray) -> numpy.ndarray:
    """``factor · images + (1 − factor) · other`` clipped to [0, 1]; factor 1 returns ``images`` exactly."""
    factor = factor.astype(images.dtype)[:, None, None, None]  # (N, 1, 1, 1)
    return numpy.clip(factor * images + (1 - factor) * other, 0, 1)


def adjust_colors(images: numpy.ndarray, brightness: numpy.ndarray, contrast: numpy.ndarray, saturation: numpy.ndarray) -> numpy.ndarray:
    """Brightness, then contrast, then saturation of image ``i`` scaled by its factors; ``(N, H, W, C)``
    in [0, 1] → same, clipped to [0, 1] after each step.

    The definitions of Pillow's ``ImageEnhance`` and torchvision's ``ColorJitter``: each step blends
    the image with a degenerate version, ``f · image + (1 − f) · degenerate``, where the degenerate
    image is black (brightness), the mean grey level of the image (contrast), or its own grey
    (saturation). A factor of 1 leaves the image unchanged, 0 gives the degenerate image.
    """
    images = _check_batch(images)
    n = images.shape[0]
    brightness, contrast, saturation = (_per_image(values, n, name, numpy.float64) for values, name in
                                        ((brightness, "brightness"), (contrast, "contrast"), (saturation, "saturation")))
    result = _blend(images, numpy.zeros((), images.dtype), brightness)
    result = _blend(result, _grey(result).mean(axis=(1, 2, 3), keepdims=True), contrast)
    return _blend(result, _grey(result), saturation)


def erase_squares(images: numpy.ndarray, top: numpy.ndarray, left: numpy.ndarray, size: int, fill: float = 0.0) -> numpy.ndarray:
    """Image ``i`` with the ``size × size`` square at ``(top[i], left[i])`` set to ``fill``; the part
    of a square outside the image is ignored, so ``top``/``left`` may be negative. ``(N, H, W, C)`` → same."""
    images = _check_batch(images)
    n, height, width, _ = images.shape
    top, left = (_per_image(values, n, name, numpy.int64) for values, name in ((top, "top"), (left, "left")))
    rows, columns = numpy.arange(height), numpy.arange(width)
    in_rows = (rows >= top[:, None]) & (rows < top[:, None] + size)  # (N, H)
    in_columns = (columns >= left[:, None]) & (columns < left[:, None] + size)  # (N, W)
    erased = in_rows[:, :, None, None] & in_columns[:, None, :, None]  # (N, H, W, 1)
    return numpy.where(erased, images.dtype.type(fill), images)


AUGMENTATIONS: dict[str, type["Augmentation"]] = {}


class Augmentation:
    """A random augmentation: ``augmentation(images, rng=None)`` maps a float batch ``(N, H, W, C)``
    to an augmented one. Subclasses store their constructor arguments verbatim under the same
    names, which ``get_config()`` reads back, and register under ``name``."""

    name: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        AUGMENTATIONS[cls.name] = cls

    def __call__(self, images: numpy.ndarray, rng: numpy.random.Generator | None = None) -> numpy.ndarray:
        images = _check_batch(images)
        return self.apply(images, generator_or_default(rng))

    def apply(self, images: numpy.ndarray, rng: numpy.random.Generator) -> numpy.ndarray:
        raise NotImplementedError

    @classmethod
    def hyperparameters(cls) -> list[str]:
        """The names of the constructor's arguments, which are also the attributes storing them."""
        return [parameter for parameter in inspect.signature(cls.__init__).parameters if parameter != "self"]

    def get_config(self) -> dict[str, Any]:
        """The hyperparameters as JSON-ready data; ``type(self)(**config)`` rebuilds the augmentation."""
        return {parameter: getattr(self, parameter) for parameter in self.hyperparameters()}

    def __repr__(self) -> str:
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


def generator_or_default(rng: numpy.random.Generator | None) -> numpy.random.Generator:
    """``rng``, or the seeded ``smartmod.nn.backend.rng()`` when it is None."""
    rng = backend.rng() if rng is None else rng
    if not isinstance(rng, numpy.random.Generator):
        raise TypeError(f"augmentations draw from a numpy.random.Generator, got {type(rng).__name__} "
                        "(on the cupy backend, pass rng=numpy.random.default_rng(seed))")
    return rng


def _check_number(value: Any, name: str, low: float, high: float = float("inf"), kind: type = float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int) or not low <= value <= high:
        raise ValueError(f"{name} must be {'a number' if kind is float else 'an int'} in [{low}, {high}], got {value!r}")


class RandomCrop(Augmentation):
    """Pad each side by ``padding`` pixels and crop a random window of the original size (or
    ``size``), the standard CIFAR augmentation of He et al. 2016 (padding 4)."""

    name = "random_crop"

    def __init__(self, padding: int = 4, size: int | None = None, padding_mode: str = "reflect"):
        _check_number(padding, "padding", 0, kind=int)
        if size is not None:
            _check_number(size, "size", 1, kind=int)
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {tuple(PADDING_MODES)}, got {padding_mode!r}")
        self.padding, self.size, self.padding_mode = padding, size, padding_mode

    def apply(self, images: numpy.ndarray, rng: numpy.random.Generator) -> numpy.ndarray:
        n, height, width, _ = images.shape
        window = (height, width) if self.size is None else (self.size, self.size)
        padded = pad_images(images, self.padding, self.padding_mode)  # (N, H + 2p, W + 2p, C)
        if window[0] > padded.shape[1] or window[1] > padded.shape[2]:
            raise ValueError(f"crop size {window} exceeds the padded images {padded.shape[1:3]}")
        top = rng.integers(0, padded.shape[1] - window[0] + 1, size=n)
        left = rng.integers(0, padded.shape[2] - window[1] + 1, size=n)
        return crop(padded, top, left, window)


class HorizontalFlip(Augmentation):
    """Mirror each image left to right with probability ``p``."""

    name = "horizontal_flip"

    def __init__(self, p: float = 0.5):
        _check_number(p, "p", 0, 1)
        self.p = p

    def apply(self, images: numpy.ndarray, rng: numpy.random.Generator) -> numpy.ndarray:
        return flip_horizontal(images, rng.random(images.shape[0]) < self.p)


class RandomRotation(Augmentation):
    """Rotate each image by an angle drawn uniformly from [−degrees, degrees], filling the corners with ``fill``."""

    name = "random_rotation"

    def __init__(self, degrees: float = 15.0, fill: float = 0.0):
        _check_number(degrees, "degrees", 0, 180)
        _check_number(fill, "fill", float("-inf"))
        self.degrees, self.fill = degrees, fill

    def apply(self, images: numpy.ndarray, rng: numpy.random.Generator) -> numpy.ndarray:
        return rotate(images, rng.uniform(-self.degrees, self.degrees, size=images.shape[0]), self.fill)


class ColorJitter(Augmentation):
    """Brightness, contrast and saturation factors drawn per image uniformly from
    [max(0, 1 − s), 1 + s] for each strength s (torchvision's ``ColorJitter``, in a fixed order)."""

    name = "color_jitter"

    def __init__(self, brightness: float = 0.4, contrast: float = 0.4, saturation: float = 0.4):
        for value, name in ((brightness, "brightness"), (contrast, "contrast"), (saturation, "saturation")):
            _check_number(value, name, 0)
        self.brightness, self.contrast, self.saturation = brightness, contrast, saturation

    def apply(self, images: numpy.ndarray, rng: numpy.random.Generator) -> numpy.ndarray:
        n = images.shape[0]
        factors = [rng.uniform(max(0.0, 1 - strength), 1 + strength, size=n) for strength in (self.brightness, self.contrast, self.saturation)]
        return adjust_colors(images, *factors)


class Cutout(Augmentation):
    """Set a ``size × size`` square to zero in each image (DeVries & Taylor 2017, "Improved
    regularization of convolutional neural networks with cutout"). As in the paper the square's
    centre is uniform over the image, so near a border only part of it falls inside."""

    name = "cutout"

    def __init__(self, size: int = 16):
        _check_number(size, "size", 1, kind=int)
        self.size = size

    def apply(self, images: numpy.ndarray, rng: numpy.random.Generator) -> numpy.ndarray:
        n, height, width, _ = images.shape
        top = rng.integers(0, height, size=n) - self.size // 2
        left = rng.integers(0, width, size=n) - self.size // 2
        return erase_squares(images, top, left, self.size)
