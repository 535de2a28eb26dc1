"""Batch scoring from file to file: ``smartmod moderate --input FILE --output FILE``."""
from __future__ import annotations

import time
from typing import Any

import numpy

from smartmod.moderation.io import read_texts, write_table
from smartmod.moderation.moderator import Moderator

__all__ = ["moderate_file"]


def moderate_file(
    moderator: Moderator,
    input_path: str,
    output_path: str,
    *,
    text_column: str = "text",
    input_format: str | None = None,
    output_format: str | None = None,
    batch_size: int = 4096,
    progress: bool = True,
) -> dict[str, Any]:
    """Score every text of ``input_path`` and write the input columns plus one score column per
    category and ``flagged`` to ``output_path``. The output is written only once every text is
    scored, atomically, so a failure leaves any existing output untouched. Returns counts and speed."""
    started = time.perf_counter()
    table = read_texts(input_path, text_column=text_column, fmt=input_format)
    texts = table.texts
    scores = numpy.zeros((len(texts), len(moderator.categories)), dtype=numpy.float32)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(texts), unit="text", desc="scoring")
    for start in range(0, len(texts), batch_size):
        scores[start:start + batch_size] = moderator.scores(texts[start:start + batch_size])
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
