"""Memory-bound array work split over the batch, one slice per core.

A convolution network's step is GEMMs, which BLAS already runs on every core, and passes over
whole activations — im2col's copy, batch normalization, ReLU, pooling — which NumPy runs on one
core while the others wait. Those passes are independent from one image to the next, and NumPy
releases the GIL inside its loops, so :func:`over_batch` cuts the batch into one contiguous
slice per thread and runs the same function on every slice at once: the calling thread takes
the first slice, pool threads the rest.

It uses as many threads as BLAS may (``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``,
threadpoolctl limits), so one setting governs both, and a caller that held BLAS to one thread —
a worker process, or :class:`~smartmod.nn.Bidirectional` running its two directions side by
side — gets one slice, in its own thread. While slices run, BLAS is held to one thread, so a
slice may multiply matrices too: a convolution's GEMMs split over the batch like its copies, and
BLAS's own worker threads, which otherwise spin for a while after each product waiting for the
next, fall asleep instead of taking the cores the slices run on (measured on the small CNN of
``bench/cnn_speed.py``: splitting the copies alone gained nothing while BLAS threads spun).
Small arrays, where starting a thread costs more than the pass, are not split; neither is work
on the GPU, where one call already uses the device.
"""
from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, Callable

from smartmod.nn import backend

try:
    from threadpoolctl import ThreadpoolController
except ImportError:  # optional: without it every pass runs on the calling thread
    ThreadpoolController = None

__all__ = ["threads", "slices", "over_batch", "MIN_ELEMENTS"]

# Passes over fewer numbers than this (about 1 MB of float32) run on the calling thread: at that
# size a pass takes tens of microseconds, no more than handing half of it to another thread.
MIN_ELEMENTS = 1 << 18

_shared: dict[str, Any] = {}  # the BLAS controller and the thread pool, made on first use
# A forked child inherits the pool but not its threads, which would leave its work untaken: the
# child forgets both and makes its own on first use.
os.register_at_fork(after_in_child=_shared.clear)


def _blas() -> Any:
    """threadpoolctl's controller of the BLAS libraries NumPy loaded, or None without threadpoolctl."""
    if ThreadpoolController is None:
        return None
    if "blas" not in _shared:
        _shared["blas"] = ThreadpoolController().select(user_api="blas")
    return _shared["blas"]


def threads() -> int:
    """How many threads a pass may use: the number BLAS may use now, at least 1 (1 on the GPU)."""
    blas = _blas()
    if blas is None or backend.backend_name() != "numpy":
        return 1
    return max([1] + [library.num_threads for library in blas.lib_controllers])


def slices(size: int, parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous ranges ``(start, stop)`` covering ``range(size)``, sizes differing by at most 1
    (fewer ranges when ``size`` is smaller than ``parts``; one empty range when ``size`` is 0)."""
    parts = max(1, min(parts, size))
    bounds = [size * part // parts for part in range(parts + 1)]
    return list(zip(bounds[:-1], bounds[1:]))


def over_batch(work: Callable[[int, int], Any], size: int, elements: int) -> list[Any]:
    """Run ``work(start, stop)`` on contiguous slices covering ``range(size)`` at once.

    Parameters
    ----------
    work : callable (start, stop) -> any
        Does the pass for batch entries ``start`` to ``stop``. Slices must not write to the same
        memory: each call writes only its own rows of its outputs.
    size : int
        The batch size (the number of rows to split).
    elements : int
        How many numbers the whole pass touches; below :data:`MIN_ELEMENTS` it is not split.

    Returns
    -------
    list
        Each slice's return value, in batch order. An exception in any slice is raised after every
        slice has finished, so no thread is still writing when the caller sees it.
    """
    parts = threads() if elements >= MIN_ELEMENTS else 1
    ranges = slices(size, parts)
    if len(ranges) == 1:
        return [work(*ranges[0])]
    if _shared.get("pool size", 0) < len(ranges) - 1:
        _shared["pool"] = ThreadPoolExecutor(max_workers=len(ranges) - 1, thread_name_prefix="smartmod-batch")
        _shared["pool size"] = len(ranges) - 1
    pool = _shared["pool"]
    # Each slice's own matrix products run on its own thread: BLAS gets one thread while the slices
    # run. Its idle threads would otherwise spin on the cores the slices need.
    blas = _blas()
    with blas.limit(limits=1) if blas is not None else contextlib.nullcontext():
        pending = [pool.submit(work, start, stop) for start, stop in ranges[1:]]
        try:
            first = work(*ranges[0])
        finally:
            wait(pending)  # every slice finishes, even when the first one raised
    return [first, *(future.result() for future in pending)]
