"""Gradient clipping, applied between the backward pass and the optimizer step.

Clipping by global norm rescales all gradients together so that their joint L2 norm is at
most ``max_norm``, keeping the update's direction (Pascanu et al., 2013, "On the difficulty
of training recurrent neural networks", Algorithm 1). Clipping by value caps each entry.
Both work in place on ``parameter.grad`` and match ``torch.nn.utils.clip_grad_norm_`` and
``clip_grad_value_``.
"""
from __future__ import annotations

import math
from typing import Iterable

from smartmod.nn import backend
from smartmod.nn.module import Parameter

__all__ = ["global_grad_norm", "clip_grad_norm", "clip_grad_value"]

# Added to the norm before dividing, as torch.nn.utils.clip_grad_norm_ does, so that a zero
# gradient gives a finite scale.
_NORM_EPSILON = 1e-6


def global_grad_norm(parameters: Iterable[Parameter]) -> float:
    """‖g‖₂ over every gradient entry of every parameter, as one vector.

    Parameters
    ----------
    parameters : iterable of Parameter

    Returns
    -------
    float
        √(Σ_p Σ_i g_pi²); NaN or infinite when a gradient is.
    """
    total = 0.0
    for parameter in parameters:
        grad = parameter.grad.reshape(-1)  # (size,)
        total += float(backend.get_array_module(grad).vdot(grad, grad))
    return math.sqrt(total)


def clip_grad_norm(parameters: Iterable[Parameter], max_norm: float) -> float:
    """Scale all gradients in place by min(1, max_norm / (‖g‖₂ + 1e-6)).

    Parameters
    ----------
    parameters : iterable of Parameter
    max_norm : float
        The largest global L2 norm allowed, > 0.

    Returns
    -------
    float
        The global norm before clipping (log it to choose ``max_norm``). When it is NaN or
        infinite the gradients are scaled by NaN or 0, as in PyTorch, so the problem stays
        visible.
    """
    if not max_norm > 0 or not math.isfinite(max_norm):
        raise ValueError(f"max_norm must be a finite number > 0, got {max_norm!r}")
    parameters = list(parameters)
    norm = global_grad_norm(parameters)
    scale = max_norm / (norm + _NORM_EPSILON)
    if not scale >= 1.0:  # also true when the scale is NaN
        for parameter in parameters:
            parameter.grad *= scale
    return norm


def clip_grad_value(parameters: Iterable[Parameter], clip_value: float) -> None:
    """Clip every gradient entry to [-clip_value, clip_value], in place.

    Parameters
    ----------
    parameters : iterable of Parameter
    clip_value : float
        The largest absolute value allowed, > 0.
    """
    if not clip_value > 0 or not math.isfinite(clip_value):
        raise ValueError(f"clip_value must be a finite number > 0, got {clip_value!r}")
    for parameter in parameters:
        backend.get_array_module(parameter.grad).clip(parameter.grad, -clip_value, clip_value, out=parameter.grad)
