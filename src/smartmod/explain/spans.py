"""From word importances to the character spans judged harmful.

A span is a run of consecutive words (in the order of
:func:`~smartmod.explain.words.split_words`) whose importances all reach a threshold; it runs
from the first character of its first word to the last of its last word, what lies between
them included, as the SemEval-2021 Toxic Spans annotators marked multi-word spans.

The threshold of a text is relative, with a floor (:func:`span_threshold`): a word is harmful
when it weighs at least a ``fraction`` of the text's most important word, and adds at least
:data:`SPAN_FLOOR` to the log-odds. Relative, because how much one word moves the score depends
on the rest of the text (two insults share the blame that one would carry alone); on the
validation posts of Toxic Spans it beat one absolute threshold by about 0.03 span-F1 for every
method. The floor keeps a text whose words barely move the score free of spans: the fraction
alone would always mark its top word.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy

from smartmod.explain.words import Word

__all__ = ["SPAN_FLOOR", "span_threshold", "harmful_spans", "span_offsets"]

#: Calibrated log-odds a word must add, at least, to lie in a harmful span: a factor of
#: ``e ** 0.5 ≈ 1.65`` on the odds.
SPAN_FLOOR = 0.5


def span_threshold(importances: numpy.ndarray, fraction: float, floor: float = SPAN_FLOOR) -> float:
    """``max(floor, fraction × the highest importance)`` for one text's word importances ``(W,)``."""
    return max(floor, fraction * float(numpy.max(importances, initial=0.0)))


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
