"""Gradient saliency maps of image classifiers: which pixels would change the class score most.

Vanilla saliency (Simonyan, Vedaldi & Zisserman 2014, "Deep inside convolutional networks",
§3.1): the score S_c is approximated near the image x by its first-order Taylor expansion
S_c(x') ≈ S_c(x) + wᵀ(x' − x), w = ∂S_c/∂x, and the saliency of pixel (i, j) is
M_ij = max over channels of |w_{k,i,j}|.

SmoothGrad (Smilkov et al. 2017, "SmoothGrad: removing noise by adding noise", eq. 3): the
gradient averaged over n copies of the image with Gaussian noise N(0, σ²) added,
σ = noise_level · (max(x) − min(x)); the average is then shown like a vanilla gradient. The
gradient of a ReLU network jumps from pixel to pixel; the average keeps what the neighbourhood
agrees on.

Both take S_c as the model's output c before any softmax, as the papers do, and get ∂S_c/∂x
from the network's own backward pass.
"""
from __future__ import annotations

from typing import Any

import numpy

from smartmod.explain.network_probe import class_score_gradient, evaluation_mode, image_batch
from smartmod.nn.module import Module

__all__ = ["saliency_map", "smoothgrad"]


def saliency_map(model: Module, image: Any, target_class: int) -> numpy.ndarray:
    """``max_k |∂S_c/∂x_k,i,j|``: the vanilla gradient saliency of one image.

    Parameters
    ----------
    model : Module
        (1, C, H, W) images → (1, classes) scores; run in evaluation mode, its modes restored after.
    image : (C, H, W) array
    target_class : int

    Returns
    -------
    numpy.ndarray, shape (H, W), float64, non-negative and not rescaled
    """
    with evaluation_mode(model):
        gradient = class_score_gradient(model, image_batch(image), target_class)[0]  # (C, H, W)
    return numpy.abs(gradient).max(axis=0)


def smoothgrad(model: Module, image: Any, target_class: int, samples: int = 25, noise_level: float = 0.15,
               seed: int = 0) -> numpy.ndarray:
    """SmoothGrad: ``max_k |mean over noisy copies of ∂S_c/∂x_k,i,j|``.

    Parameters
    ----------
    model, image, target_class
        As :func:`saliency_map`.
    samples : int
        n, the noisy copies; they run as one batch.
    noise_level : float
        σ as a fraction of the image's value range; the paper finds 10-20% works best.
    seed : int
        Of the noise (a generator of its own: the shared training generator is left alone).

    Returns
    -------
    numpy.ndarray, shape (H, W), float64
    """
    if samples < 1 or noise_level < 0:
        raise ValueError(f"smoothgrad needs samples >= 1 and noise_level >= 0, got samples={samples}, noise_level={noise_level}")
    clean = image_batch(image)  # (1, C, H, W)
    sigma = noise_level * float(clean.max() - clean.min())
    noisy = clean + numpy.random.default_rng(seed).normal(0.0, sigma, size=(samples, *clean.shape[1:]))  # (n, C, H, W)
    with evaluation_mode(model):
        gradients = class_score_gradient(model, noisy, target_class)  # (n, C, H, W)
    return numpy.abs(gradients.mean(axis=0)).max(axis=0)
