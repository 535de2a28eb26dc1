"""Central-difference gradient checking in float64.

The derivative of a scalar function f at x along coordinate i is approximated by
(f(x + ε e_i) - f(x - ε e_i)) / 2ε, whose error is O(ε²). In float64 with ε = 1e-6 this agrees
with a correct analytic gradient to about 1e-8 relative, so disagreement means a bug.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy

from smartmod.nn import backend
from smartmod.nn.module import Module

__all__ = ["GradcheckError", "numerical_gradient", "gradcheck"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its central-difference estimate."""


def numerical_gradient(f: Callable[[], float], array: Any, eps: float = 1e-6) -> numpy.ndarray:
    """∂f/∂array by central differences, perturbing ``array`` in place (and restoring it).

    Parameters
    ----------
    f : callable
        Takes no arguments and returns a scalar that depends on ``array``.
    array : float64 array, any shape
    """
    grad = numpy.zeros(array.shape, dtype=numpy.float64)
    if not array.flags.c_contiguous:
        raise ValueError("numerical_gradient perturbs in place and needs a C-contiguous array")
    flat = array.reshape(-1)  # a view: writes reach ``array``
    for i in range(flat.size):
        original = flat[i].item()
        flat[i] = original + eps
        plus = float(f())
        flat[i] = original - eps
        minus = float(f())
        flat[i] = original
        grad.reshape(-1)[i] = (plus - minus) / (2 * eps)
    return grad


def _compare(name: str, analytic: Any, numeric: numpy.ndarray, rtol: float, atol: float) -> None:
    analytic = numpy.asarray(backend.to_numpy(analytic), dtype=numpy.float64)
    if analytic.shape != numeric.shape:
        raise GradcheckError(f"{name}: analytic gradient has shape {analytic.shape}, expected {numeric.shape}")
    error = numpy.abs(analytic - numeric)
    allowed = atol + rtol * numpy.abs(numeric)
    if numpy.any(error > allowed) or not numpy.all(numpy.isfinite(analytic)):
        worst = numpy.unravel_index(numpy.argmax(error - allowed), error.shape)
        raise GradcheckError(
            f"{name}: gradient mismatch at index {tuple(int(i) for i in worst)}: "
            f"analytic {analytic[worst]:.10g}, numerical {numeric[worst]:.10g} "
            f"(max abs error {error.max():.3g}, rtol {rtol}, atol {atol})"
        )


def gradcheck(
    module: Module,
    *inputs: Any,
    grad_output: Any = None,
    eps: float = 1e-6,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    seed: int | None = None,
    check_inputs: bool = True,
) -> bool:
    """Check ``module.backward`` against central differences for its inputs and parameters.

    The scalar checked is ``Σ forward(*inputs) * grad_output`` (``grad_output`` random when not
    given), so the analytic gradient is exactly what ``backward(grad_output)`` returns and adds
    into ``.grad``. The module and float inputs must be float64. ``seed`` reseeds the shared
    generator before every forward, so stochastic layers (dropout) repeat the same mask.

    Returns True, or raises :class:`GradcheckError` naming the tensor and index that disagree.
    """
    for parameter in module.parameters():
        if parameter.data.dtype != numpy.float64:
            raise TypeError("gradcheck needs a float64 module: call module.astype('float64') first")

    def run() -> Any:
        if seed is not None:
            backend.seed(seed)
        return module.forward(*inputs)

    output = run()
    if grad_output is None:
        grad_output = numpy.random.default_rng(1234).normal(size=output.shape)

    def objective() -> float:
        return float(numpy.sum(backend.to_numpy(run()) * grad_output))

    module.zero_grad()
    run()
    input_grad = module.backward(grad_output)
    analytic_params = {name: p.grad.copy() for name, p in module.named_parameters()}

    if check_inputs:
        grads = input_grad if isinstance(input_grad, tuple) else (input_grad,)
        for index, (x, g) in enumerate(zip(inputs, grads)):
            if not isinstance(x, numpy.ndarray) or x.dtype.kind != "f":
                continue  # sparse data or integer ids: nothing to differentiate
            if x.dtype != numpy.float64:
                raise TypeError(f"gradcheck needs float64 inputs, input {index} is {x.dtype}")
            if g is None:
                raise GradcheckError(f"input {index}: backward returned None (pass check_inputs=False for data inputs)")
            _compare(f"input {index}", g, numerical_gradient(objective, x, eps), rtol, atol)
    for name, parameter in module.named_parameters():
        _compare(f"parameter {name!r}", analytic_params[name], numerical_gradient(objective, parameter.data, eps), rtol, atol)
    return True
