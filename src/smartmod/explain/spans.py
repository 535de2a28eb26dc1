"""From word importances to the character spans judged harmful.

A span is a run of consecutive words (in the order of
:func:`~smartmod.explain.words.split_words`) whose importances all reach a threshold; it runs
from the first character of its first word to the last of its last word, what lies between
them included, as the SemEval-2021 Toxic Spans annotators marked multi-word spans.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy

from smartmod.explain.words import Word

__all__ = ["harmful_spans", "span_offsets"]


def harmful_spans(text: str, words: Sequence[Word], importances: numpy.ndarray, threshold: float) -> list[dict[str, int | str]]:
    """The maximal runs of consecutive words with ``importance >= threshold``.

    Parameters
    ----------
    text : str
    words : sequence of W :class:`~smartmod.explain.words.Word` of ``text``
    importances : (W,) float array
    threshold : float

    Returns
    -------
    list of dict
        ``{"start": int, "end": int, "text": text[start:end]}`` in text order.
    """
    spans: list[dict[str, int | str]] = []
    previous_passed = False
    for word, importance in zip(words, importances):
        passed = bool(importance >= threshold)
        if passed and previous_passed:
            spans[-1]["end"] = word.end
        elif passed:
            spans.append({"start": word.start, "end": word.end})
        previous_passed = passed
    for span in spans:
        span["text"] = text[span["start"]:span["end"]]
    return spans


def span_offsets(spans: Sequence[dict[str, int | str]]) -> set[int]:
    """Every character offset the spans cover: ``{start, ..., end - 1}`` for each span."""
    return {offset for span in spans for offset in range(int(span["start"]), int(span["end"]))}
