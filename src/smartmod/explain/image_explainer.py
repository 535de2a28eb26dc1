"""One call to explain an image classifier's decision: a heat map over the image.

    heatmap = explain_image(model, image, target_class, method="gradcam")   # (H, W) in [0, 1]
    save_overlay(image, heatmap, "explanation.png")

``"gradcam"`` (:func:`~smartmod.explain.gradcam.grad_cam`) shows the regions the last
convolutional stage found evidence in, coarse but class-specific; ``"saliency"``
(:func:`~smartmod.explain.saliency.saliency_map`) the pixels the score is most sensitive to,
sharp but noisy; ``"smoothgrad"`` (:func:`~smartmod.explain.saliency.smoothgrad`) the same with
the noise averaged out. Each map is divided by its maximum, so every method gives [0, 1].
"""
from __future__ import annotations

from typing import Any

import numpy

from smartmod.explain.gradcam import grad_cam
from smartmod.explain.saliency import saliency_map, smoothgrad
from smartmod.nn.module import Module

__all__ = ["IMAGE_METHODS", "explain_image"]

IMAGE_METHODS = ("gradcam", "saliency", "smoothgrad")


def explain_image(model: Module, image: Any, target_class: int, method: str = "gradcam", layer: str | None = None) -> numpy.ndarray:
    """Where in ``image`` the evidence for ``target_class`` lies, by ``method``.

    Parameters
    ----------
    model : Module
        (1, C, H, W) images → (1, classes) scores; run in evaluation mode, its modes restored after.
    image : (C, H, W) array
        As the model takes it (standardized the same way).
    target_class : int
    method : {"gradcam", "saliency", "smoothgrad"}
    layer : str, optional
        Grad-CAM's target layer (a name in ``model.named_modules()``); by default the last
        convolutional stage. Only for ``"gradcam"``.

    Returns
    -------
    numpy.ndarray, shape (H, W), float64 in [0, 1]
    """
    if method not in IMAGE_METHODS:
        raise ValueError(f"unknown explanation method {method!r}; choose one of {', '.join(IMAGE_METHODS)}")
    if layer is not None and method != "gradcam":
        raise ValueError(f"layer= chooses Grad-CAM's target layer; method {method!r} explains with the input gradient and takes none")
    if method == "gradcam":
        return grad_cam(model, image, target_class, layer)
    heatmap = saliency_map(model, image, target_class) if method == "saliency" else smoothgrad(model, image, target_class)
    peak = heatmap.max()
    return heatmap / peak if peak > 0 else heatmap
