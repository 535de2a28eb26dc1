"""Looking inside a trained image classifier on one image file: what it predicts, where the
evidence lies (Grad-CAM and saliency overlays), its first-layer filters and the feature maps
of its first convolution — the pictures ``smartmod inspect-image`` writes.

The model is a directory written by ``smartmod train images`` (``OUTPUT/model``), whose
metadata holds the image shape, the normalization and the class names it was trained with; the
image goes through the same decoding, resizing and normalization before the network sees it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy

from smartmod.explain.feature_maps import feature_maps, first_convolution
from smartmod.explain.image_explainer import explain_image
from smartmod.explain.image_grids import feature_map_grid, filter_grid
from smartmod.explain.overlay import save_image, save_overlay
from smartmod.nn import backend
from smartmod.nn.layers.conv import channels_first
from smartmod.nn.serialize import read_json, load_model
from smartmod.nn.train import predict
from smartmod.vision.images import decode_image
from smartmod.vision.preprocess import resize_image

__all__ = ["load_image_classifier", "image_for_model", "inspect_image"]


def load_image_classifier(directory: str | Path) -> tuple[Any, dict[str, Any]]:
    """The network of a ``smartmod train images`` model directory and its metadata."""
    metadata = read_json(Path(directory) / "config.json", "a smartmod model directory").get("metadata", {})
    missing = {"image_shape", "normalization", "class_names"} - set(metadata)
    if missing:
        raise ValueError(f"{directory} lacks {sorted(missing)} in its metadata: give a model written by 'smartmod train images'")
    return load_model(directory), metadata


def image_for_model(pixels: numpy.ndarray, metadata: dict[str, Any]) -> numpy.ndarray:
    """Decoded RGB pixels ``(H, W, 3)`` uint8 as the network reads them: ``(h, w, c)`` float32,
    resized (centre crop), grey when the network reads one channel, normalized."""
    height, width, channels = metadata["image_shape"]
    resized = resize_image(pixels, (height, width)).astype(numpy.float32) / 255
    if channels == 1:
        resized = resized @ numpy.array([0.299, 0.587, 0.114], dtype=numpy.float32)[:, None]  # ITU-R BT.601 luma
    mean, std = (numpy.asarray(metadata["normalization"][key], dtype=numpy.float32) for key in ("mean", "std"))
    return (resized - mean) / std


def inspect_image(model_directory: str | Path, image: str | Path | bytes, output: str | Path, target_class: int | None = None,
                  layer: str | None = None) -> dict[str, Any]:
    """Predict ``image`` and write ``gradcam.png``, ``saliency.png``, ``filters.png`` and
    ``feature_maps.png`` to ``output``; returns the class probabilities, the explained class and the files.

    ``target_class`` (default: the predicted class) is the class explained; ``layer`` is Grad-CAM's
    target (a name in ``model.named_modules()``; default: the last convolutional stage).
    """
    model, metadata = load_image_classifier(model_directory)
    names = metadata["class_names"]
    network_input = image_for_model(decode_image(image), metadata)  # (h, w, c)
    logits = backend.to_numpy(predict(model, channels_first(network_input[None])))[0]
    probabilities = numpy.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    explained = int(probabilities.argmax()) if target_class is None else target_class
    if not 0 <= explained < len(names):
        raise ValueError(f"class {explained} does not exist: the model has classes 0..{len(names) - 1} ({', '.join(names)})")
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    chw = network_input.transpose(2, 0, 1)  # (c, h, w), as explain_image takes it
    shown = numpy.clip(chw * numpy.asarray(metadata["normalization"]["std"])[:, None, None]
                       + numpy.asarray(metadata["normalization"]["mean"])[:, None, None], 0, 1)  # (c, h, w) pixels in [0, 1]
    files = {}
    for method in ("gradcam", "saliency"):
        heatmap = explain_image(model, chw, explained, method=method, layer=layer if method == "gradcam" else None)
        files[method] = str(save_overlay(shown, heatmap, output / f"{method}.png"))
    convolution = first_convolution(model)
    files["filters"] = str(save_image(filter_grid(convolution), output / "filters.png", scale=8))
    first = next(name for name, module in model.named_modules() if module is convolution)
    files["feature_maps"] = str(save_image(feature_map_grid(feature_maps(model, chw, first)), output / "feature_maps.png", scale=4))
    return {"prediction": names[int(probabilities.argmax())], "explained_class": names[explained],
            "probabilities": {name: float(p) for name, p in zip(names, probabilities)}, "files": files}
