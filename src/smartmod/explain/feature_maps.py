"""What a network sees: the feature maps one layer computes for an image, and the filters of a
convolution (Zeiler & Fergus 2014, "Visualizing and understanding convolutional networks", show
first-layer filters as small images: edge and colour detectors in a trained network, noise in
an untrained one).

These functions return arrays; :mod:`smartmod.explain.image_grids` arranges them into one
picture and :mod:`smartmod.explain.overlay` writes it as a PNG.
"""
from __future__ import annotations

from typing import Any

import numpy

from smartmod.explain.network_probe import capture_layer, evaluation_mode, image_batch
from smartmod.nn import backend
from smartmod.nn.layers.conv import Conv2d
from smartmod.nn.module import Module

__all__ = ["feature_maps", "first_convolution"]


def feature_maps(model: Module, image: Any, layer: str) -> numpy.ndarray:
    """The output of layer ``layer`` (a name in ``model.named_modules()``) for one image, in
    evaluation mode (the model's modes restored after).

    Parameters
    ----------
    image : (C, H, W) array

    Returns
    -------
    numpy.ndarray
        The layer's output without the batch axis: (K, h, w) for a convolutional layer.
    """
    with evaluation_mode(model), capture_layer(model, layer) as captured:
        model.forward(image_batch(image))
    if captured.output is None:
        raise ValueError(f"layer {layer!r} did not take part in the forward pass of {type(model).__name__}")
    return backend.to_numpy(captured.output[0])


def first_convolution(model: Module) -> Conv2d:
    """The first :class:`Conv2d` in ``model``'s tree, the layer that reads the pixels."""
    for _, module in model.named_modules():
        if isinstance(module, Conv2d):
            return module
    raise ValueError(f"{type(model).__name__} has no Conv2d layer")
