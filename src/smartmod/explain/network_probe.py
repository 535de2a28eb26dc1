"""Looking inside a network on one image: evaluation mode, a named layer's activation and the
gradient that reaches it, and the gradient of a class score.

Everything runs through the network's own forward and backward passes (the Module contract:
forward keeps what backward needs; backward returns the gradient with respect to the input).
:func:`capture_layer` records what one layer outputs in forward and the gradient it receives
in backward, for any module at any depth of the tree (a child of a residual block as well as a
child of a Sequential), without changing the tree: for the duration of a ``with`` block the
layer's ``forward`` and ``backward`` are wrapped on that one object, and the class's own
methods are back in place when the block ends.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy

from smartmod.explain.gradient import input_gradient
from smartmod.nn import backend
from smartmod.nn.module import Module

__all__ = ["LayerCapture", "capture_layer", "class_score_gradient", "evaluation_mode", "find_layer", "image_batch"]


def find_layer(model: Module, name: str) -> Module:
    """The module called ``name`` in ``model``'s tree (dotted, as ``named_modules()``: ``"11"``, ``"4.layer0"``)."""
    modules = dict(model.named_modules())
    if name not in modules or not name:
        hint = difflib.get_close_matches(str(name), [n for n in modules if n], n=3)
        suggestion = f"did you mean {', '.join(map(repr, hint))}? " if hint else ""
        raise ValueError(f"{type(model).__name__} has no layer named {name!r}: {suggestion}"
                         f"its layers are named as in model.named_modules(), e.g. {[n for n in modules if n][:8]}")
    return modules[name]


@dataclass
class LayerCapture:
    """What :func:`capture_layer` recorded (copies, so later layers cannot change them).

    Attributes
    ----------
    name : str
    output : array or None
        The layer's output in the last forward pass, e.g. (N, K, h, w) feature maps.
    grad_output : array or None
        The gradient of the backpropagated quantity with respect to that output, same shape.
    """

    name: str
    output: Any = None
    grad_output: Any = None


@contextmanager
def capture_layer(model: Module, name: str) -> Iterator[LayerCapture]:
    """Record the output and the output gradient of layer ``name`` while the block runs.

    Usage::

        with capture_layer(model, "11") as captured:
            logits = model.forward(images)
            model.backward(grad_logits)
        captured.output, captured.grad_output   # (N, K, h, w) each

    Works for every module whose parent calls it through its ``forward``/``backward``
    attributes, which every module here does.
    """
    layer = find_layer(model, name)
    captured = LayerCapture(name)
    original_forward, original_backward = layer.forward, layer.backward
    shadowed = {key: layer.__dict__[key] for key in ("forward", "backward") if key in layer.__dict__}  # an enclosing capture's

    def forward(*inputs: Any, **keywords: Any) -> Any:
        output = original_forward(*inputs, **keywords)
        captured.output = output.copy()
        return output

    def backward(grad_output: Any) -> Any:
        captured.grad_output = grad_output.copy()
        return original_backward(grad_output)

    object.__setattr__(layer, "forward", forward)  # an instance attribute hides the class's method
    object.__setattr__(layer, "backward", backward)
    try:
        yield captured
    finally:
        for key in ("forward", "backward"):
            layer.__dict__.pop(key)
        layer.__dict__.update(shadowed)


@contextmanager
def evaluation_mode(model: Module) -> Iterator[Module]:
    """``model`` in evaluation mode (dropout off, BatchNorm's running statistics) while the block
    runs; afterwards every module is back in the mode it was in."""
    modes = [(module, module.training) for _, module in model.named_modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, training in modes:
            object.__setattr__(module, "training", training)


def image_batch(image: Any) -> numpy.ndarray:
    """One (C, H, W) image as the batch (1, C, H, W) a network takes."""
    image = numpy.asarray(backend.to_numpy(image))
    if image.ndim != 3:
        hint = " (add a channel axis: image[None])" if image.ndim == 2 else ""
        raise ValueError(f"expected one image of shape (C, H, W){hint}, got shape {image.shape}")
    if image.dtype.kind not in "fiu":
        raise ValueError(f"expected a numeric image, got dtype {image.dtype}")
    return image[None]


def class_score_gradient(model: Module, images: numpy.ndarray, target_class: int) -> numpy.ndarray:
    """``∂y_c / ∂x`` for every image, y the model's (N, classes) outputs (class scores before any
    softmax) and c ``target_class``, by one forward and one backward pass.

    In evaluation mode the images do not affect each other, so row i is the gradient of row i's
    score. Parameter gradients are left at zero (see :func:`~smartmod.explain.gradient.input_gradient`).

    Parameters
    ----------
    images : (N, C, H, W) array
    target_class : int

    Returns
    -------
    numpy.ndarray, shape (N, C, H, W), float64
    """
    if isinstance(target_class, bool) or not isinstance(target_class, (int, numpy.integer)) or target_class < 0:
        raise ValueError(f"target_class must be a class index (a non-negative int), got {target_class!r}")
    try:
        return input_gradient(model, images, int(target_class))
    except IndexError as error:
        raise ValueError(f"target_class {target_class} is not one of the model's outputs ({error})") from None
