"""Gradient flow through time: how much of the loss's gradient reaches each step's input.

For a loss on a recurrent layer's last output, ∂L/∂x_t is the gradient that backpropagation
through time carries from step T back to step t. Its norm per step is the picture of the
vanishing gradient problem (Hochreiter 1991; Bengio, Simard & Frasconi 1994, "Learning long-term
dependencies with gradient descent is difficult"): for a plain RNN it decays geometrically with
T - t, so early inputs cannot be learned from; the LSTM's additive cell keeps it alive.
"""
from __future__ import annotations

from typing import Any

import numpy

from smartmod.nn import backend
from smartmod.nn.module import Module

__all__ = ["gradient_norms_through_time"]


def gradient_norms_through_time(layer: Module, x: Any, grad_output: Any, padding_mask: Any = None) -> numpy.ndarray:
    """‖∂L/∂x_t‖ for every step t: one forward and backward pass of ``layer``.

    Parameters
    ----------
    layer : Module
        A recurrent layer (or any module) taking (B, T, F) sequences and a ``padding_mask``.
    x : float array (B, T, F)
    grad_output : array of the layer's output shape
        ∂L/∂(output): e.g. zeros but at the last step for a loss on the last output only, or the
        gradient from a real loss.
    padding_mask : bool array (B, T), optional
        True at padded steps.

    Returns
    -------
    numpy float64 array (T,): the norm of ∂L/∂x_t over the batch and features, Σ_b,f (∂L/∂x_btf)²
    square-rooted. The parameters' ``.grad`` are left as they were.
    """
    saved = [parameter.grad.copy() for parameter in layer.parameters()]
    needed = layer.needs_input_grad
    try:
        object.__setattr__(layer, "needs_input_grad", True)
        layer.forward(x, padding_mask)
        grad_x = layer.backward(grad_output)  # (B, T, F)
    finally:
        object.__setattr__(layer, "needs_input_grad", needed)
        for parameter, grad in zip(layer.parameters(), saved):
            parameter.grad[...] = grad
    grad_x = backend.to_numpy(grad_x).astype(numpy.float64)
    return numpy.sqrt((grad_x * grad_x).sum(axis=(0, 2)))
