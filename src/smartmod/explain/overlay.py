"""Heat maps over images, and pictures written as PNG files (matplotlib's colormaps and PNG writer).

An explanation map (Grad-CAM, saliency) is coloured by a colormap and blended with the image,
as the figures of Selvaraju et al. 2017. Network inputs are usually standardized (mean 0,
variance 1 per channel), so images are rescaled to [0, 1] for display; small images are
enlarged by repeating pixels, which keeps each pixel's value visible.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.image
import numpy

from smartmod.explain.image_grids import rescale_to_unit

__all__ = ["display_rgb", "heatmap_overlay", "save_overlay", "save_image"]

MIN_SAVED_SIDE = 256  # pixels: smaller pictures are enlarged by a whole factor up to at least this


def display_rgb(image: Any) -> numpy.ndarray:
    """An image as (H, W, 3) RGB in [0, 1]: from (C, H, W) with C = 1 or 3, or (H, W) grey,
    rescaled from its own minimum and maximum."""
    image = numpy.asarray(image, dtype=numpy.float64)
    if image.ndim == 3 and image.shape[0] in (1, 3):
        image = image.transpose(1, 2, 0)  # (H, W, C)
    elif image.ndim == 2:
        image = image[:, :, None]
    else:
        raise ValueError(f"expected an image (C, H, W) with 1 or 3 channels, or (H, W), got shape {image.shape}")
    return numpy.broadcast_to(rescale_to_unit(image), (*image.shape[:2], 3)).copy()


def heatmap_overlay(image: Any, heatmap: Any, alpha: float = 0.5, colormap: str = "jet") -> numpy.ndarray:
    """``(1 − alpha) · image + alpha · colormap(heatmap)``.

    Parameters
    ----------
    image : (C, H, W) or (H, W) array
    heatmap : (H, W) array, values in [0, 1] (the output of ``explain_image``; clipped to it)
    alpha : float
        Weight of the heat map, in [0, 1].
    colormap : str
        A matplotlib colormap name.

    Returns
    -------
    numpy.ndarray, shape (H, W, 3), float64 in [0, 1]
    """
    rgb = display_rgb(image)
    heatmap = numpy.asarray(heatmap, dtype=numpy.float64)
    if heatmap.shape != rgb.shape[:2]:
        raise ValueError(f"the heat map must have the image's size {rgb.shape[:2]}, got shape {heatmap.shape}")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    colours = matplotlib.colormaps[colormap](numpy.clip(heatmap, 0, 1))[..., :3]  # (H, W, 3)
    return (1 - alpha) * rgb + alpha * colours


def save_image(picture: Any, path: str | Path, scale: int | None = None) -> Path:
    """Write a (H, W) grey or (H, W, 3) RGB picture with values in [0, 1] as a PNG file.

    ``scale`` repeats every pixel scale × scale times; by default, the smallest whole factor
    that makes the longer side at least 256 pixels. Returns the path.
    """
    picture = numpy.clip(numpy.asarray(picture, dtype=numpy.float64), 0, 1)
    if picture.ndim not in (2, 3) or (picture.ndim == 3 and picture.shape[2] != 3):
        raise ValueError(f"save_image takes a (H, W) or (H, W, 3) picture, got shape {picture.shape}")
    scale = max(1, -(-MIN_SAVED_SIDE // max(picture.shape[:2]))) if scale is None else scale
    if scale < 1:
        raise ValueError(f"scale must be a positive whole factor, got {scale}")
    picture = picture.repeat(scale, axis=0).repeat(scale, axis=1)
    path = Path(path)
    matplotlib.image.imsave(path, picture, cmap="gray", vmin=0.0, vmax=1.0, format="png")
    return path


def save_overlay(image: Any, heatmap: Any, path: str | Path, alpha: float = 0.5, colormap: str = "jet",
                 scale: int | None = None) -> Path:
    """Write :func:`heatmap_overlay` of ``image`` and ``heatmap`` as a PNG (enlarged as :func:`save_image`).

    Parameters
    ----------
    image : (C, H, W) or (H, W) array
    heatmap : (H, W) array in [0, 1]
    path : str or Path

    Returns the path written.
    """
    return save_image(heatmap_overlay(image, heatmap, alpha, colormap), path, scale)
