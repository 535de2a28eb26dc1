"""Shared test helpers: PyTorch mirrors of our layers, and comparisons that print "mine / theirs".

Only tests import torch; ``smartmod.nn`` itself never does.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy
import torch

from smartmod.nn.module import Module


def same(array: numpy.ndarray) -> numpy.ndarray:
    """A parameter stored alike on both sides."""
    return array


def transpose(array: numpy.ndarray) -> numpy.ndarray:
    """Dense stores W as (in, out) for ``y = x @ W``; torch.nn.Linear stores (out, in)."""
    return array.T


def assert_close(name: str, mine: Any, theirs: Any, rtol: float, atol: float, normwise: bool = False) -> None:
    """``|mine - theirs| <= atol + rtol |theirs|`` elementwise, same shape; prints both on failure.

    ``normwise=True`` measures every entry against the largest ``|theirs|`` instead: right where
    entries come from cancelling sums (normalization subtracts a mean), so that a small entry
    carries the rounding of the large terms it was computed from.
    """
    mine = numpy.asarray(mine)
    theirs = theirs.detach().cpu().numpy() if isinstance(theirs, torch.Tensor) else numpy.asarray(theirs)
    assert mine.shape == theirs.shape, f"{name}: shape mine {mine.shape} / theirs {theirs.shape}"
    error = numpy.abs(mine.astype(numpy.float64) - theirs.astype(numpy.float64))
    scale = numpy.abs(theirs.astype(numpy.float64))
    if normwise and scale.size:
        scale = numpy.full_like(scale, scale.max())
    allowed = atol + rtol * scale
    if not numpy.all(error <= allowed):  # NaN anywhere fails too
        worst = numpy.unravel_index(numpy.nanargmax(error - allowed), error.shape) if error.size else ()
        raise AssertionError(
            f"{name}: max abs error {numpy.nanmax(error):.3g} at {worst} "
            f"(rtol {rtol}{' of the largest entry' if normwise else ''}, atol {atol})\n"
            f"mine:\n{mine}\ntheirs:\n{theirs}"
        )


def copy_parameters(mine: Module, theirs: torch.nn.Module, mapping: dict[str, tuple[str, Callable]]) -> None:
    """Copy our parameters into the torch mirror: ``{our_name: (torch_name, transform)}``."""
    with torch.no_grad():
        for name, (torch_name, transform) in mapping.items():
            value = numpy.ascontiguousarray(transform(dict(mine.named_parameters())[name].data))
            target = theirs.get_parameter(torch_name)
            target.copy_(torch.from_numpy(value).to(target.dtype))


def check_against_torch(
    mine: Module,
    theirs: Callable[[torch.Tensor], torch.Tensor],
    x: numpy.ndarray,
    parameters: dict[str, tuple[str, Callable]] | None = None,
    torch_module: torch.nn.Module | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    grad_rtol: float | None = None,
    grad_atol: float | None = None,
    reference_dtype: torch.dtype | None = None,
    normwise: bool = False,
) -> numpy.ndarray:
    """Forward, input gradient and every parameter gradient of ``mine`` against ``theirs``.

    ``parameters`` maps each of our parameter names to ``(torch name, transform)``; every one of
    ``mine``'s parameters must appear. They are copied into ``torch_module`` before the forward.
    Torch computes in the dtype of ``x`` (integer ids: float32), or in ``reference_dtype`` when
    given (float64, the exact answer, where float32 ties could flip a kink). The upstream
    gradient is seeded random; ``normwise`` is passed to :func:`assert_close`. Returns our output.
    """
    parameters = parameters or {}
    grad_rtol = rtol if grad_rtol is None else grad_rtol
    grad_atol = atol if grad_atol is None else grad_atol
    if torch_module is not None:
        if reference_dtype is not None:
            torch_module.to(reference_dtype)
        copy_parameters(mine, torch_module, parameters)
        torch_module.zero_grad()

    mine.zero_grad()
    y = mine.forward(x)
    grad_output = numpy.random.default_rng(99).normal(size=y.shape).astype(y.dtype)
    dx = mine.backward(grad_output)

    floating = x.dtype.kind == "f"
    x_torch = torch.from_numpy(x.copy())
    if floating and reference_dtype is not None:
        x_torch = x_torch.to(reference_dtype)
    x_torch.requires_grad_(floating)
    y_torch = theirs(x_torch)
    y_torch.backward(torch.from_numpy(grad_output).to(y_torch.dtype))

    if floating:
        assert y.dtype == x.dtype, f"output dtype mine {y.dtype} / input {x.dtype}"
    assert_close("forward", y, y_torch, rtol, atol, normwise)
    if floating:
        assert dx is not None, "backward returned None for an input that needs a gradient"
        assert dx.dtype == x.dtype, f"input gradient dtype mine {dx.dtype} / input {x.dtype}"
        assert_close("input gradient", dx, x_torch.grad, grad_rtol, grad_atol, normwise)
    named = dict(mine.named_parameters())
    assert set(parameters) == set(named), f"parameters mapped {sorted(parameters)} / layer has {sorted(named)}"
    for name, (torch_name, transform) in parameters.items():
        torch_grad = torch_module.get_parameter(torch_name).grad.detach().numpy()
        assert_close(f"gradient of {name!r}", named[name].grad, transform(torch_grad), grad_rtol, grad_atol, normwise)
    return y
