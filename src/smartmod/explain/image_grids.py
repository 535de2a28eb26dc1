"""Many small images as one picture: convolution filters and feature maps laid out in a grid.

Each tile is rescaled to [0, 1] on its own (its minimum black, its maximum white), since
filters and feature maps differ in scale and a shared scale would leave most of them grey.
"""
from __future__ import annotations

import math

import numpy

from smartmod.nn import backend
from smartmod.nn.layers.conv import Conv2d

__all__ = ["rescale_to_unit", "tile_grid", "filter_grid", "feature_map_grid"]


def rescale_to_unit(values: numpy.ndarray) -> numpy.ndarray:
    """``(v - min) / (max - min)`` over the whole array, float64; a constant array becomes zeros."""
    values = numpy.asarray(values, dtype=numpy.float64)
    low, high = values.min(), values.max()
    return (values - low) / (high - low) if high > low else numpy.zeros_like(values)


def tile_grid(tiles: numpy.ndarray, columns: int | None = None, gap: int = 1) -> numpy.ndarray:
    """Tiles side by side, row by row, with ``gap`` white pixels between them.

    Parameters
    ----------
    tiles : (N, h, w) grey or (N, h, w, 3) colour array, values in [0, 1]
    columns : int, optional
        Tiles per row; ⌈√N⌉ when not given.

    Returns
    -------
    numpy.ndarray, shape (R·(h + gap) − gap, columns·(w + gap) − gap) or with a trailing 3, R = ⌈N / columns⌉
    """
    tiles = numpy.asarray(tiles, dtype=numpy.float64)
    if tiles.ndim not in (3, 4) or (tiles.ndim == 4 and tiles.shape[3] != 3) or len(tiles) == 0:
        raise ValueError(f"tile_grid takes (N, h, w) or (N, h, w, 3) tiles, N >= 1, got shape {tiles.shape}")
    count, height, width = tiles.shape[:3]
    columns = math.ceil(math.sqrt(count)) if columns is None else columns
    if columns < 1 or gap < 0:
        raise ValueError(f"tile_grid needs columns >= 1 and gap >= 0, got columns={columns}, gap={gap}")
    rows = math.ceil(count / columns)
    grid = numpy.ones((rows * (height + gap) - gap, columns * (width + gap) - gap, *tiles.shape[3:]))
    for index, tile in enumerate(tiles):
        top, left = (index // columns) * (height + gap), (index % columns) * (width + gap)
        grid[top:top + height, left:left + width] = tile
    return grid


def filter_grid(convolution: Conv2d, columns: int | None = None) -> numpy.ndarray:
    """The kernels of a convolution as one picture, each rescaled to [0, 1] on its own.

    A layer reading 3 channels (RGB pixels) shows each of its K filters as one colour tile;
    otherwise each (filter, input channel) pair is a grey tile, one row of C_in tiles per
    filter (``columns`` is then C_in unless given).

    Returns
    -------
    numpy.ndarray: (rows, cols, 3) for colour tiles, (rows, cols) for grey ones; see :func:`tile_grid`
    """
    weight = backend.to_numpy(convolution.weight.data).astype(numpy.float64)  # (K, C_in / G, kh, kw)
    if weight.shape[1] == 3:
        tiles = numpy.stack([rescale_to_unit(kernel) for kernel in weight]).transpose(0, 2, 3, 1)  # (K, kh, kw, 3)
        return tile_grid(tiles, columns)
    tiles = numpy.stack([rescale_to_unit(kernel) for kernel in weight.reshape(-1, *weight.shape[2:])])  # (K·C_in, kh, kw)
    return tile_grid(tiles, weight.shape[1] if columns is None and weight.shape[1] > 1 else columns)


def feature_map_grid(maps: numpy.ndarray, columns: int | None = None) -> numpy.ndarray:
    """(K, h, w) feature maps (from :func:`~smartmod.explain.feature_maps.feature_maps`) as one
    grey picture, each map rescaled to [0, 1] on its own; see :func:`tile_grid` for the shape."""
    maps = numpy.asarray(maps)
    if maps.ndim != 3:
        raise ValueError(f"feature_map_grid takes (K, h, w) feature maps, got shape {maps.shape}")
    return tile_grid(numpy.stack([rescale_to_unit(one) for one in maps]), columns)
