"""Batch scoring from file to file: ``smartmod moderate --input FILE --output FILE``."""
from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any, Iterator

import numpy
from threadpoolctl import threadpool_limits

from smartmod.moderation.io import read_texts, write_table
from smartmod.moderation.moderator import Moderator

__all__ = ["moderate_file", "score_in_batches"]

PARALLEL_MINIMUM = 20_000  # below this many texts, starting worker processes costs more than it saves
_worker_moderator: Moderator | None = None


def _score_chunk(texts: list[str]) -> numpy.ndarray:
    return _worker_moderator.scores(texts)


def _init_worker(moderator: Moderator) -> None:
    global _worker_moderator
    _worker_moderator = moderator
    # The workers share the cores already: BLAS threads in each one would oversubscribe them
    # (a recurrent model then scored about 4x slower).
    threadpool_limits(limits=1)


def score_in_batches(moderator: Moderator, texts: list[str], batch_size: int, workers: int) -> Iterator[tuple[int, numpy.ndarray]]:
    """``(start, scores)`` for consecutive batches, in order. With ``workers`` > 1 and a forking
    platform, batches are scored by that many processes (the text pipeline is pure Python, so
    threads would not run in parallel)."""
    starts = range(0, len(texts), batch_size)
    if workers > 1 and len(texts) >= PARALLEL_MINIMUM and "fork" in multiprocessing.get_all_start_methods():
        # Forked workers inherit the loaded model; only texts go out and scores come back.
        with multiprocessing.get_context("fork").Pool(workers, initializer=_init_worker, initargs=(moderator,)) as pool:
            yield from zip(starts, pool.imap(_score_chunk, (texts[start:start + batch_size] for start in starts)))
        return
    for start in starts:
        yield start, moderator.scores(texts[start:start + batch_size])


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
    table = read_texts(input_path, text_column=text_column, fmt=input_format)
    texts = table.texts
    scores = numpy.zeros((len(texts), len(moderator.categories)), dtype=numpy.float32)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(texts), unit="text", desc="scoring")
    for start, batch_scores in score_in_batches(moderator, texts, batch_size, workers or os.cpu_count() or 1):
        scores[start:start + len(batch_scores)] = batch_scores
        if bar is not None:
            bar.update(min(batch_size, len(texts) - start))
    if bar is not None:
        bar.close()
    frame = table.frame.copy()
    for index, category in enumerate(moderator.categories):
        frame[category] = scores[:, index]
    flagged = moderator.flags(scores).any(axis=1)
    frame["flagged"] = flagged
    write_table(frame, output_path, fmt=output_format)
    seconds = time.perf_counter() - started
    return {"texts": len(texts), "flagged": int(flagged.sum()), "seconds": seconds,
            "texts_per_second": len(texts) / seconds if seconds > 0 else float("inf"), "replaced_bytes": table.replaced_bytes}
