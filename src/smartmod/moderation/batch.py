"""Batch scoring from file to file: ``smartmod moderate --input FILE --output FILE``.

Each batch of rows is scored and, for CSV and JSON-lines output, formatted by the same worker
process: formatting the output is as much work per row as a fifth of the scoring, and done by
the main process alone it would leave the other cores idle at the end.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import time
from dataclasses import dataclass
from typing import Any, Iterator

import numpy
import pandas
from threadpoolctl import threadpool_limits

from smartmod.moderation.io import detect_format, encode_rows, read_texts, write_bytes, write_table
from smartmod.moderation.moderator import Moderator

__all__ = ["moderate_file", "score_in_batches"]

PARALLEL_MINIMUM = 20_000  # below this many texts, starting worker processes costs more than it saves


@dataclass
class _Job:
    """What every batch needs; forked workers inherit it instead of receiving it through a pipe."""

    moderator: Moderator
    texts: list[str]
    frame: pandas.DataFrame | None = None  # the input rows, when batches are formatted as well
    fmt: str | None = None  # "csv" or "jsonl": the format of the rows a batch returns


_job: _Job | None = None


def _init_worker(job: _Job | None) -> None:
    global _job
    _job = job
    # The workers share the cores already: BLAS threads in each one would oversubscribe them
    # (a recurrent model then scored about 4x slower).
    threadpool_limits(limits=1)
    # The caches of words met fill the heap with long-lived objects that the cyclic garbage
    # collector would traverse again and again (about 7% of the time); a worker collects
    # once per batch instead, while what a batch left behind is still young.
    gc.disable()


def _run_batch(bounds: tuple[int, int]) -> tuple[numpy.ndarray, bytes | None]:
    """The scores of ``texts[start:stop]`` and, when the job formats rows, those rows encoded."""
    start, stop = bounds
    scores = _job.moderator.scores(_job.texts[start:stop])
    if _job.fmt is None:
        return scores, None
    return scores, encode_rows(_scored_frame(_job.frame.iloc[start:stop], _job.moderator, scores), _job.fmt, header=False)


def _run_batch_in_worker(bounds: tuple[int, int]) -> tuple[numpy.ndarray, bytes | None]:
    """:func:`_run_batch` in a worker process, then the garbage of that batch collected (see :func:`_init_worker`)."""
    result = _run_batch(bounds)
    gc.collect(1)
    return result


def _scored_frame(frame: pandas.DataFrame, moderator: Moderator, scores: numpy.ndarray) -> pandas.DataFrame:
    """The input columns plus one score column per category and ``flagged``."""
    frame = frame.copy()
    for index, category in enumerate(moderator.categories):
        frame[category] = scores[:, index]
    frame["flagged"] = moderator.flags(scores).any(axis=1)
    return frame


def _batches(job: _Job, batch_size: int, workers: int) -> Iterator[tuple[int, numpy.ndarray, bytes | None]]:
    """``(start, scores, rows)`` for consecutive batches, in order. With ``workers`` > 1 and a
    forking platform, batches run in that many processes (the text pipeline is pure Python, so
    threads would not run in parallel)."""
    global _job
    bounds = [(start, min(start + batch_size, len(job.texts))) for start in range(0, len(job.texts), batch_size)]
    if workers > 1 and len(job.texts) >= PARALLEL_MINIMUM and "fork" in multiprocessing.get_all_start_methods():
        # Forked workers inherit the loaded model, its lookup tables and the rows; only bounds
        # go out, scores and rows come back.
        job.moderator.warm_up()
        caller_froze = gc.get_freeze_count() > 0  # then unfreezing would release the caller's objects too
        gc.freeze()  # the parent's objects out of the workers' collections: no copy-on-write of their pages
        try:
            with multiprocessing.get_context("fork").Pool(workers, initializer=_init_worker, initargs=(job,)) as pool:
                for (start, _), (scores, rows) in zip(bounds, pool.imap(_run_batch_in_worker, bounds)):
                    yield start, scores, rows
        finally:
            if not caller_froze:
                gc.unfreeze()
        return
    _job = job
    try:
        for start, stop in bounds:
            yield (start, *_run_batch((start, stop)))
    finally:
        _job = None


def score_in_batches(moderator: Moderator, texts: list[str], batch_size: int, workers: int) -> Iterator[tuple[int, numpy.ndarray]]:
    """``(start, scores)`` for consecutive batches of ``texts``, in order, scored by ``workers`` processes."""
    for start, scores, _ in _batches(_Job(moderator, texts), batch_size, workers):
        yield start, scores


def moderate_file(
    moderator: Moderator,
    input_path: str,
    output_path: str,
    *,
    text_column: str = "text",
    input_format: str | None = None,
    output_format: str | None = None,
    batch_size: int = 4096,
    workers: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Score every text of ``input_path`` and write the input columns plus one score column per
    category and ``flagged`` to ``output_path``. The output is written only once every text is
    scored, atomically, so a failure leaves any existing output untouched. ``workers`` (default:
    the number of CPU cores) score batches in parallel processes. Returns counts and speed."""
    started = time.perf_counter()
    fmt = detect_format(output_path, output_format, "jsonl")
    if fmt == "txt":  # before any work: nothing is scored only to be refused at the end
        encode_rows(pandas.DataFrame(), fmt)
    table = read_texts(input_path, text_column=text_column, fmt=input_format)
    texts = table.texts
    job = _Job(moderator, texts, table.frame, fmt if fmt in ("csv", "jsonl") else None)
    scores = numpy.zeros((len(texts), len(moderator.categories)), dtype=numpy.float32)
    pieces = [encode_rows(_scored_frame(table.frame.iloc[:0], moderator, scores[:0]), fmt)] if job.fmt is not None else []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(texts), unit="text", desc="scoring")
    for start, batch_scores, rows in _batches(job, batch_size, workers or os.cpu_count() or 1):
        scores[start:start + len(batch_scores)] = batch_scores
        if rows is not None:
            pieces.append(rows)
        if bar is not None:
            bar.update(len(batch_scores))
    if bar is not None:
        bar.close()
    flagged = moderator.flags(scores).any(axis=1)
    if job.fmt is not None:
        write_bytes(b"".join(pieces), output_path)
    else:
        write_table(_scored_frame(table.frame, moderator, scores), output_path, fmt=fmt)
    seconds = time.perf_counter() - started
    return {"texts": len(texts), "flagged": int(flagged.sum()), "seconds": seconds,
            "texts_per_second": len(texts) / seconds if seconds > 0 else float("inf"), "replaced_bytes": table.replaced_bytes}
