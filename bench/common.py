"""Shared timing helpers for benchmarks: interleaved blocks and median ratios."""
from __future__ import annotations

import os
import statistics
import time
from typing import Callable

__all__ = ["set_threads", "interleaved", "report"]


def set_threads(threads: int) -> None:
    """Pin BLAS and PyTorch to the same number of threads (call before importing numpy)."""
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)


def interleaved(runners: dict[str, Callable[[], None]], blocks: int, steps_per_block: int, warmup: int = 2) -> dict[str, list[float]]:
    """Time each runner in alternating blocks (A B A B ...); returns seconds per step per block."""
    for run in runners.values():
        for _ in range(warmup):
            run()
    times: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(blocks):
        for name, run in runners.items():
            start = time.perf_counter()
            for _ in range(steps_per_block):
                run()
            times[name].append((time.perf_counter() - start) / steps_per_block)
    return times


def report(title: str, times: dict[str, list[float]], batch_size: int, mine: str = "smartmod", peer: str = "pytorch") -> float:
    """Print medians, samples/s and the time ratio mine / peer; returns the ratio."""
    medians = {name: statistics.median(values) for name, values in times.items()}
    ratio = medians[mine] / medians[peer]
    print(f"\n{title}")
    for name, median in medians.items():
        print(f"  {name:10s} median {median * 1000:8.2f} ms/step  {batch_size / median:9.0f} samples/s  (blocks: {len(times[name])})")
    print(f"  time ratio {mine}/{peer}: {ratio:.2f}x")
    return ratio
