"""The array backend: which array module computes, in which precision, from which random stream.

Every layer obtains its array module from here (``xp``), so the same code runs on NumPy (the
default) or on CuPy when a GPU is asked for with ``set_backend("cupy")``. The default floating
point type is float32, the precision networks train in; gradient checks switch to float64.

All randomness in smartmod.nn (initialization, dropout, shuffling) is drawn from one seeded
generator, so a run is reproducible from its seed and resumable from the generator's state.
"""
from __future__ import annotations

import types
from typing import Any

import numpy

__all__ = [
    "xp",
    "set_backend",
    "backend_name",
    "get_array_module",
    "to_numpy",
    "default_dtype",
    "set_default_dtype",
    "seed",
    "rng",
    "get_rng_state",
    "set_rng_state",
]

_state = types.SimpleNamespace(
    module=numpy,
    name="numpy",
    dtype=numpy.dtype(numpy.float32),
    rng=numpy.random.default_rng(0),
)


class _ArrayModuleProxy:
    """Forwards attribute access to the active array module, so ``xp.zeros`` follows ``set_backend``."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_state.module, name)

    def __repr__(self) -> str:
        return f"<smartmod array backend: {_state.name}>"


xp = _ArrayModuleProxy()


def set_backend(name: str) -> None:
    """Select the array module: ``"numpy"`` (default) or ``"cupy"`` (needs a CUDA GPU and CuPy)."""
    if name == "numpy":
        _state.module, _state.name = numpy, "numpy"
    elif name == "cupy":
        try:
            import cupy  # optional dependency
        except ImportError as error:
            raise RuntimeError(
                "the cupy backend needs CuPy and a CUDA GPU: install 'cupy-cuda12x' "
                "(or the build matching your CUDA) or keep the default 'numpy' backend"
            ) from error
        _state.module, _state.name = cupy, "cupy"
    else:
        raise ValueError(f"unknown backend {name!r}: expected 'numpy' or 'cupy'")


def backend_name() -> str:
    """The name of the active array module, ``"numpy"`` or ``"cupy"``."""
    return _state.name


def get_array_module(*arrays: Any) -> types.ModuleType:
    """The array module that owns ``arrays`` (CuPy for device arrays, NumPy otherwise)."""
    if _state.name == "cupy":
        import cupy

        return cupy.get_array_module(*arrays)
    return numpy


def to_numpy(array: Any) -> numpy.ndarray:
    """Copy a backend array to host memory as a NumPy array (no copy when it already is one)."""
    if hasattr(array, "get"):
        return array.get()
    return numpy.asarray(array)


def default_dtype() -> numpy.dtype:
    """The floating point type new parameters and activations use (float32 unless changed)."""
    return _state.dtype


def set_default_dtype(dtype: Any) -> None:
    """Set the floating point type for new parameters: float32 for training, float64 for checks."""
    dtype = numpy.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"default dtype must be a floating point type, got {dtype}")
    _state.dtype = dtype


def seed(value: int) -> None:
    """Reseed the one generator behind initialization, dropout and shuffling."""
    _state.rng = _new_generator(value)


def rng() -> Any:
    """The shared random generator (``numpy.random.Generator`` or CuPy's equivalent)."""
    return _state.rng


def get_rng_state() -> dict:
    """The generator's state as JSON-serializable data, for checkpoints."""
    return _host_generator(_state.rng).bit_generator.state


def set_rng_state(state: dict) -> None:
    """Restore a generator state captured by :func:`get_rng_state`."""
    _host_generator(_state.rng).bit_generator.state = state


def _new_generator(value: int) -> Any:
    if _state.name == "cupy":
        import cupy

        return cupy.random.default_rng(value)
    return numpy.random.default_rng(value)


def _host_generator(generator: Any) -> numpy.random.Generator:
    if not isinstance(generator, numpy.random.Generator):
        raise RuntimeError("saving the random state is supported on the numpy backend only")
    return generator
