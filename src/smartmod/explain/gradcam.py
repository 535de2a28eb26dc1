"""Grad-CAM (Selvaraju et al. 2017, "Grad-CAM: visual explanations from deep networks via
gradient-based localization", §3, eq. 1-2): where in the image a convolutional network found
the evidence for a class.

For the feature maps A^k (k = 1..K, each h × w) of a target convolutional layer and the class
score y^c (before softmax),

    α_k^c = (1 / hw) Σ_ij ∂y^c / ∂A^k_ij          (eq. 1: how much map k matters for class c)
    L^c   = ReLU(Σ_k α_k^c A^k)                   (eq. 2: the evidence for c, positive part only)

and L^c, an h × w map, is upsampled bilinearly to the image's size and divided by its maximum
for display. With a global average pool and one Dense layer after the target layer this is
exactly the class activation map (CAM) of Zhou et al. 2016, α_k^c = W_kc / hw.

The last convolutional stage is the usual target: the most semantic features that still have
a spatial layout. :func:`default_target_layer` finds it in the CNN builders of
:mod:`smartmod.vision` (the last residual block of a ResNet, the last ReLU of the small CNN).
"""
from __future__ import annotations

from typing import Any

import numpy

from smartmod.explain.network_probe import capture_layer, class_score_gradient, evaluation_mode, image_batch
from smartmod.nn import backend
from smartmod.nn.layers.flatten import Flatten
from smartmod.nn.layers.pooling import AvgPool2d, GlobalAvgPool2d, GlobalMaxPool2d, MaxPool2d
from smartmod.nn.module import Module, Sequential

__all__ = ["grad_cam", "default_target_layer", "upsample_bilinear"]


def default_target_layer(model: Module) -> str:
    """The name of the last layer with spatial output in a Sequential CNN: the child before its
    global pooling (or Flatten), stepping back over any max or average pooling just before it.

    ``"11"`` for a ResNet-20 from :func:`~smartmod.vision.resnet.cifar_resnet` (its last
    residual block); the last ReLU for :func:`~smartmod.vision.small_cnn.small_cnn`.
    """
    children = list(model._modules.items()) if isinstance(model, Sequential) else []
    ends = [index for index, (_, child) in enumerate(children) if isinstance(child, (GlobalAvgPool2d, GlobalMaxPool2d, Flatten))]
    index = ends[0] - 1 if ends else -1
    while index >= 0 and isinstance(children[index][1], (MaxPool2d, AvgPool2d)):
        index -= 1
    if index < 0:
        raise ValueError(f"no convolutional target layer found in {type(model).__name__}: it is not a Sequential with "
                         "convolutions before a global pooling or Flatten; pass the layer's name (see model.named_modules())")
    return children[index][0]


def _source_positions(output_size: int, input_size: int) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """For each output pixel: the input pixels below and above its centre and the weight of the
    upper one, with pixel centres aligned (``align_corners=False``) and clamped at the edges."""
    centres = (numpy.arange(output_size) + 0.5) * (input_size / output_size) - 0.5
    centres = numpy.clip(centres, 0, input_size - 1)
    lower = numpy.floor(centres).astype(numpy.int64)
    upper = numpy.minimum(lower + 1, input_size - 1)
    return lower, upper, centres - lower


def upsample_bilinear(values: numpy.ndarray, size: tuple[int, int]) -> numpy.ndarray:
    """(h, w) → (H, W) by bilinear interpolation, as ``torch.nn.functional.interpolate(mode="bilinear",
    align_corners=False)``: output pixel centres mapped onto the input grid, (i + ½) h / H − ½.

    Parameters
    ----------
    values : (h, w) array
    size : (H, W)

    Returns
    -------
    numpy.ndarray, shape (H, W), float64
    """
    values = numpy.asarray(values, dtype=numpy.float64)
    if values.ndim != 2 or len(size) != 2 or min(*values.shape, *size) < 1:
        raise ValueError(f"upsample_bilinear takes an (h, w) map and a size (H, W), got shapes {values.shape} and {tuple(size)}")
    top, bottom, row_weight = _source_positions(size[0], values.shape[0])
    left, right, col_weight = _source_positions(size[1], values.shape[1])
    rows = values[top] * (1 - row_weight)[:, None] + values[bottom] * row_weight[:, None]  # (H, w)
    return rows[:, left] * (1 - col_weight) + rows[:, right] * col_weight  # (H, W)


def grad_cam(model: Module, image: Any, target_class: int, layer: str | None = None) -> numpy.ndarray:
    """The Grad-CAM map of ``target_class`` for one image, at the image's size, scaled to [0, 1].

    Parameters
    ----------
    model, image, target_class
        As :func:`~smartmod.explain.saliency.saliency_map`: the (1, C, H, W) → (1, classes) network,
        run in evaluation mode; one (C, H, W) image; the class explained.
    layer : str, optional
        The name of the target layer in ``model.named_modules()``, whose output must be
        (1, K, h, w) feature maps; :func:`default_target_layer` when not given.

    Returns
    -------
    numpy.ndarray, shape (H, W), float64
        L^c upsampled, divided by its maximum (all zeros where no map has positive evidence).
    """
    batch = image_batch(image)  # (1, C, H, W)
    name = default_target_layer(model) if layer is None else layer
    with evaluation_mode(model), capture_layer(model, name) as captured:
        class_score_gradient(model, batch, target_class)
    if captured.output is None or captured.grad_output is None:
        raise ValueError(f"layer {name!r} did not take part in the forward and backward passes of {type(model).__name__}")
    if captured.output.ndim != 4:
        raise ValueError(f"Grad-CAM needs a layer whose output is (N, K, h, w) feature maps; {name!r} outputs shape "
                         f"{captured.output.shape}: pick a convolutional layer (see model.named_modules())")
    activations = backend.to_numpy(captured.output[0]).astype(numpy.float64)  # (K, h, w)
    gradients = backend.to_numpy(captured.grad_output[0]).astype(numpy.float64)  # (K, h, w)
    weights = gradients.mean(axis=(1, 2))  # α_k^c, (K,)
    evidence = numpy.maximum(numpy.tensordot(weights, activations, axes=1), 0.0)  # L^c, (h, w)
    heatmap = upsample_bilinear(evidence, batch.shape[2:])  # (H, W)
    peak = heatmap.max()
    return heatmap / peak if peak > 0 else heatmap
