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


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_batches_formatted_by_workers_join_into_the_serial_output(tmp_path, tiny_bundle_dir, monkeypatch, fmt):
    import pandas

    from smartmod.moderation import batch
    from smartmod.moderation.moderator import Moderator

    moderator = Moderator.load(tiny_bundle_dir)
    texts = [f"you are idiot number {i}, \"quoted\", comma" if i % 3 else f"have a nice day {i}\nsecond line" for i in range(150)]
    source = tmp_path / "in.csv"
    pandas.DataFrame({"id": range(len(texts)), "text": texts}).to_csv(source, index=False)
    serial, parallel = tmp_path / f"serial.{fmt}", tmp_path / f"parallel.{fmt}"
    batch.moderate_file(moderator, str(source), str(serial), batch_size=1000, workers=1, progress=False)
    monkeypatch.setattr(batch, "PARALLEL_MINIMUM", 10)
    summary = batch.moderate_file(moderator, str(source), str(parallel), batch_size=16, workers=2, progress=False)
    assert summary["texts"] == len(texts)
    assert parallel.read_bytes() == serial.read_bytes()
    whole = batch._scored_frame(pandas.read_csv(source, dtype=str, keep_default_na=False), moderator, moderator.scores(texts))
    if fmt != "parquet":  # the joined batches are byte for byte the whole frame's encoding
        from smartmod.moderation.io import encode_rows

        assert serial.read_bytes() == encode_rows(whole, fmt)


def test_txt_output_is_refused_before_anything_is_read(tmp_path, tiny_bundle_dir):
    from smartmod.moderation.batch import moderate_file
    from smartmod.moderation.io import InputError
    from smartmod.moderation.moderator import Moderator

    target = tmp_path / "out.txt"
    target.write_text("kept")
    with pytest.raises(InputError, match="txt output would lose the scores"):
        moderate_file(Moderator.load(tiny_bundle_dir), str(tmp_path / "missing.csv"), str(target), progress=False)
    assert target.read_text() == "kept"


class _Cycle:
    def __init__(self):
        self.me = self


def _cycle_collected_by_one_batch() -> tuple[bool, bool, bool]:
    """In a worker: automatic collection off; cyclic garbage left before a batch is gone after it."""
    import gc
    import weakref

    from smartmod.moderation import batch

    automatic = gc.isenabled()
    cycle = _Cycle()
    alive = weakref.ref(cycle)
    del cycle
    before = alive() is not None
    batch._run_batch_in_worker((0, 2))
    return automatic, before, alive() is None


def test_a_scoring_worker_collects_garbage_once_per_batch(tiny_bundle_dir):
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("parallel scoring forks its workers; no fork on this platform")
    from smartmod.moderation.batch import _Job
    from smartmod.moderation.moderator import Moderator

    job = _Job(Moderator.load(tiny_bundle_dir), ["hello there", "you idiot"])
    with multiprocessing.get_context("fork").Pool(1, initializer=_init_worker, initargs=(job,)) as pool:
        automatic, left_before, collected_after = pool.apply(_cycle_collected_by_one_batch)
    assert not automatic and left_before and collected_after


def test_parallel_scoring_leaves_the_callers_collector_as_it_was(tmp_path, tiny_bundle_dir, monkeypatch):
    import gc

    import pandas

    from smartmod.moderation import batch
    from smartmod.moderation.moderator import Moderator

    source = tmp_path / "in.csv"
    pandas.DataFrame({"text": [f"text {i}" for i in range(40)]}).to_csv(source, index=False)
    monkeypatch.setattr(batch, "PARALLEL_MINIMUM", 10)
    frozen = gc.get_freeze_count()
    batch.moderate_file(Moderator.load(tiny_bundle_dir), str(source), str(tmp_path / "out.csv"), batch_size=8, workers=2, progress=False)
    assert gc.isenabled() and gc.get_freeze_count() == frozen
