"""Parallel batch scoring: each worker process keeps BLAS to one thread (the workers share the cores)."""
from __future__ import annotations

import multiprocessing

import pytest
from threadpoolctl import threadpool_info

from smartmod.moderation.batch import _init_worker


def _blas_threads() -> int:
    return max((library["num_threads"] for library in threadpool_info() if library["user_api"] == "blas"), default=1)


def test_a_scoring_worker_holds_blas_to_one_thread():
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("parallel scoring forks its workers; no fork on this platform")
    with multiprocessing.get_context("fork").Pool(1, initializer=_init_worker, initargs=(None,)) as pool:
        assert pool.apply(_blas_threads) == 1
