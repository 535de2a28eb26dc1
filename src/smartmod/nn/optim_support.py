"""The optimizers' plumbing: scratch buffers reused by every step, the running averages their
moment estimates share, and the checks and conversions of their parameters and states."""
from __future__ import annotations

from typing import Any, Iterable

import numpy

from smartmod.nn import backend
from smartmod.nn.module import Parameter

__all__ = ["Scratch", "exponential_average", "restored_slot", "checked_parameters", "json_ready"]


class Scratch:
    """Flat buffers reused by every step, viewed in the shape of the parameter being updated.

    One buffer per purpose and dtype, as large as the largest parameter: the optimizer's
    temporaries cost one parameter's worth of memory, allocated once.
    """

    def __init__(self) -> None:
        self._buffers: dict[tuple[str, Any, Any], Any] = {}

    def like(self, array: Any, purpose: str) -> Any:
        key = (purpose, type(array), array.dtype)
        buffer = self._buffers.get(key)
        if buffer is None or buffer.size < array.size:
            buffer = backend.get_array_module(array).empty(array.size, dtype=array.dtype)
            self._buffers[key] = buffer
        return buffer[: array.size].reshape(array.shape)


def exponential_average(average: Any, value: Any, weight: float, scratch: Any) -> None:
    """average ← average + w (value − average) = (1 − w) average + w value, in place.

    ``value`` may be ``scratch`` itself; torch's ``lerp_`` computes the same expression.
    """
    xp = backend.get_array_module(average)
    xp.subtract(value, average, out=scratch)
    scratch *= weight
    average += scratch


def restored_slot(key: str, value: Any, like: Any) -> Any:
    if tuple(value.shape) != tuple(like.shape):
        raise ValueError(f"optimizer slot {key!r} has shape {tuple(value.shape)}, its parameter has shape {tuple(like.shape)}")
    return backend.get_array_module(like).array(value, dtype=like.dtype)  # a copy, in the parameter's dtype


def checked_parameters(parameters: Iterable[Parameter]) -> list[Parameter]:
    if isinstance(parameters, Parameter):
        raise TypeError("pass a list of Parameters (e.g. model.parameters()), not a single Parameter")
    parameters = list(parameters)
    if not parameters:
        raise ValueError("the optimizer got an empty parameter list: pass model.parameters() of a model that has weights")
    for index, parameter in enumerate(parameters):
        if not isinstance(parameter, Parameter):
            raise TypeError(f"optimizers take Parameters, item {index} is a {type(parameter).__name__}")
    if len({id(parameter) for parameter in parameters}) != len(parameters):
        raise ValueError("a Parameter appears more than once in the list; it would be updated several times per step")
    return parameters


def json_ready(value: Any) -> Any:
    """Hyperparameters as plain JSON types: tuples become lists, NumPy scalars Python numbers."""
    if isinstance(value, (tuple, list)):
        return [json_ready(item) for item in value]
    return value.item() if isinstance(value, numpy.generic) else value
