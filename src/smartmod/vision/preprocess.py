"""From decoded pixels to network input: a fixed size, then standardized channels.

Images here are channels-last, ``(H, W, C)`` one at a time and ``(N, H, W, C)`` as a batch: the
memory layout :class:`smartmod.nn.Conv2d` computes in. The convolution layers show the
``(N, C, H, W)`` shape of PyTorch, so a batch goes into a network as
``smartmod.nn.layers.conv.channels_first(batch)``, a transposed view that copies nothing.
"""
from __future__ import annotations

from typing import Sequence

import numpy
from PIL import Image

__all__ = ["RESIZE_MODES", "resize_image", "normalize_images"]

RESIZE_MODES = ("stretch", "center_crop")
_RESAMPLING = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
               "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}


def resize_image(image: numpy.ndarray, size: int | tuple[int, int], *, mode: str = "center_crop",
                 resample: str = "bilinear") -> numpy.ndarray:
    """One ``(H, W, C)`` uint8 image resized to ``(height, width, C)`` uint8.

    Parameters
    ----------
    image : (H, W, C) uint8 with C in 1, 3, 4, or (H, W)
    size : int or (height, width)
        An int gives a square.
    mode : "stretch" or "center_crop"
        ``"stretch"`` scales width and height independently to ``size`` (the aspect ratio
        changes). ``"center_crop"`` keeps the aspect ratio: the image is scaled until it just
        covers ``size`` (for a square, its shorter side becomes ``size``) and the centred
        ``size`` window is kept, the usual evaluation transform of ImageNet models.
    resample : "nearest", "bilinear", "bicubic" or "lanczos"
        Pillow's filter; when shrinking, Pillow widens it to cover every source pixel
        (antialiasing), unlike a plain bilinear lookup.
    """
    height, width = (size, size) if isinstance(size, int) else tuple(size)
    if not all(isinstance(side, int) and side > 0 for side in (height, width)):
        raise ValueError(f"size must be a positive int or a pair (height, width) of them, got {size!r}")
    if mode not in RESIZE_MODES:
        raise ValueError(f"mode must be one of {RESIZE_MODES}, got {mode!r}")
    if resample not in _RESAMPLING:
        raise ValueError(f"resample must be one of {tuple(_RESAMPLING)}, got {resample!r}")
    image = numpy.asarray(image)
    if image.dtype != numpy.uint8 or image.shape[2:] not in ((), (1,), (3,), (4,)) or image.ndim < 2 or min(image.shape[:2]) == 0:
        raise ValueError(f"resize_image expects a non-empty (H, W, C) uint8 image with 1, 3 or 4 channels, or (H, W), got {image.dtype} {image.shape}")
    source_height, source_width = image.shape[:2]
    box = (0.0, 0.0, float(source_width), float(source_height))  # the source region (left, top, right, bottom)
    if mode == "center_crop":
        scale = max(height / source_height, width / source_width)  # the scaled image just covers the target
        kept_width, kept_height = width / scale, height / scale
        left, top = (source_width - kept_width) / 2, (source_height - kept_height) / 2
        box = (left, top, left + kept_width, top + kept_height)
    resized = Image.fromarray(image[:, :, 0] if image.shape[2:] == (1,) else image).resize((width, height), _RESAMPLING[resample], box=box)
    return numpy.array(resized).reshape(height, width, *image.shape[2:])  # (height, width, C)


def normalize_images(batch: numpy.ndarray, mean: float | Sequence[float], std: float | Sequence[float]) -> numpy.ndarray:
    """``(x / 255 - mean) / std`` per channel, as float32 ``(N, H, W, C)``.

    Parameters
    ----------
    batch : (N, H, W, C) uint8, or float already scaled to [0, 1]
    mean, std : float or C floats
        Per-channel statistics on the [0, 1] scale, as they are usually published (e.g. ImageNet:
        mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)); every std must be positive.
    """
    batch = numpy.asarray(batch)
    if batch.ndim != 4:
        raise ValueError(f"normalize_images expects a batch (N, H, W, C), got shape {batch.shape}; add a leading axis for one image")
    if batch.dtype != numpy.uint8 and batch.dtype.kind != "f":
        raise ValueError(f"normalize_images expects uint8 pixels or floats in [0, 1], got {batch.dtype}")
    channels = batch.shape[3]
    mean_array, std_array = (_per_channel(values, channels, name) for values, name in ((mean, "mean"), (std, "std")))
    if not numpy.all(std_array > 0):
        raise ValueError(f"std must be positive in every channel, got {std!r}")
    pixel_scale = 1 / 255 if batch.dtype == numpy.uint8 else 1.0
    scale = (pixel_scale / std_array).astype(numpy.float32)  # (C,)
    offset = (-mean_array / std_array).astype(numpy.float32)  # (C,)
    return batch.astype(numpy.float32) * scale + offset  # (N, H, W, C)


def _per_channel(values: float | Sequence[float], channels: int, name: str) -> numpy.ndarray:
    array = numpy.asarray(values, dtype=numpy.float64).reshape(-1)
    if array.size == 1:
        return numpy.full(channels, array[0])
    if array.size != channels:
        raise ValueError(f"{name} must be one number or one per channel ({channels}), got {array.size} numbers")
    return array
