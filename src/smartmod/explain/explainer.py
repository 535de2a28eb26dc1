"""``Moderator.explain``: one text's scores, each word's importance and the spans judged harmful.

Three methods (``method=``), each giving every word of the original text an importance in
calibrated log-odds of the explained category (:mod:`smartmod.explain.target`):

* ``"occlusion"`` (:mod:`~smartmod.explain.occlusion`): what the score loses without the word;
* ``"gradient_x_input"`` (:mod:`~smartmod.explain.gradient`): the word's features' first-order
  contribution, through the network's own backward pass;
* ``"lime"`` (:mod:`~smartmod.explain.lime`): the word's coefficient in a local linear model
  fitted on 500 randomly masked copies (seeded: the same text gets the same explanation).

The explained category is the one asked for, else the highest-scoring one. Words whose
importance reaches the text's span threshold form the harmful spans: at least the method's
``span_fraction`` of the top word's importance and at least
:data:`~smartmod.explain.spans.SPAN_FLOOR` (:func:`~smartmod.explain.spans.span_threshold`).
Each fraction was chosen to maximize character-span F1 on the Toxic Spans posts of the default
model's validation split (``python bench/explain_quality.py``, see docs/text-model.md).

A text longer than the model's window (``window_chars``) is scored in overlapping windows,
each category taking its maximum (:meth:`Moderator.scores`). Its explanation is that of the
window scoring highest for the explained category: the words lying wholly inside that window
are explained together, as the model read them, and every other word gets importance 0.
Offsets are always into the full text.
"""
from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy

from smartmod.explain.gradient import gradient_x_input
from smartmod.explain.lime import lime
from smartmod.explain.occlusion import occlusion
from smartmod.explain.spans import harmful_spans, span_threshold
from smartmod.explain.target import CategoryLogit
from smartmod.explain.words import Word, split_words

__all__ = ["ExplanationMethod", "METHODS", "EXPLANATION_METHODS", "DEFAULT_METHOD", "word_importances", "explain_text"]


@dataclass(frozen=True)
class ExplanationMethod:
    """A way of giving words importances, and where importance starts to mean harm."""

    importances: Callable[[CategoryLogit, str, Sequence[Word]], numpy.ndarray]  # (target, text, W words) -> (W,)
    span_fraction: float  # of the text's top importance a word needs to lie in a harmful span (tuned on validation posts)


METHODS: dict[str, ExplanationMethod] = {
    "occlusion": ExplanationMethod(occlusion, span_fraction=0.45),
    "gradient_x_input": ExplanationMethod(gradient_x_input, span_fraction=0.55),
    "lime": ExplanationMethod(partial(lime, samples=500, seed=0), span_fraction=0.4),
}
#: The names ``Moderator.explain`` accepts for ``method``.
EXPLANATION_METHODS: tuple[str, ...] = tuple(METHODS)
#: The method with the best character-span F1 on the validation posts of Toxic Spans.
DEFAULT_METHOD = "lime"


def _check_request(moderator: Any, text: Any, method: Any, category: Any) -> None:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"unknown explanation method {method!r}; choose one of {', '.join(EXPLANATION_METHODS)}")
    if category is not None and (not isinstance(category, str) or category not in moderator.categories):
        raise ValueError(f"unknown category {category!r}; choose one of {', '.join(moderator.categories)} (or none: the highest-scoring one)")


def _explained_window(moderator: Any, target: CategoryLogit, text: str, words: Sequence[Word]) -> tuple[int, int]:
    """``(first, stop)``: the words wholly inside the window scoring highest for ``target`` (all words when one window holds the text)."""
    windows = moderator.windows(text)
    starts, ends = [word.start for word in words], [word.end for word in words]
    candidates = [(bisect.bisect_left(starts, start), bisect.bisect_right(ends, end)) for start, end in windows]
    candidates = [(first, stop) for first, stop in candidates if first < stop]
    if len(windows) == 1 or not candidates:  # no candidate: a single word longer than a window
        return 0, len(words)
    scores = target([text[words[first].start:words[stop - 1].end] for first, stop in candidates])  # (K,)
    return candidates[int(numpy.argmax(scores))]


def word_importances(moderator: Any, text: str, method: str, category: str) -> tuple[list[Word], numpy.ndarray]:
    """The words of ``text`` and their importances ``(W,)`` for ``category`` by ``method`` (see the module docstring)."""
    _check_request(moderator, text, method, category)
    target = CategoryLogit(moderator.bundle, category)
    words = split_words(text)
    importances = numpy.zeros(len(words))
    first, stop = _explained_window(moderator, target, text, words)
    if first < stop:
        offset = words[first].start
        piece = text[offset:words[stop - 1].end]
        shifted = [Word(word.text, word.start - offset, word.end - offset) for word in words[first:stop]]
        importances[first:stop] = METHODS[method].importances(target, piece, shifted)
    return words, importances


def explain_text(moderator: Any, text: str, method: str = DEFAULT_METHOD, category: str | None = None) -> dict[str, Any]:
    """Why ``moderator`` scores ``text`` as it does, as JSON-ready data.

    Parameters
    ----------
    moderator : Moderator
    text : str
    method : str
        One of :data:`EXPLANATION_METHODS`.
    category : str or None
        The category explained; None explains the highest-scoring one.

    Returns
    -------
    dict
        ``text``, ``method``, ``category``; ``scores`` ``{category: probability}``, ``flagged``
        and the flagged ``categories`` as :meth:`Moderator.moderate` gives them; ``tokens``:
        every word of the text in order, ``{"text", "start", "end", "importance"}``; ``spans``:
        the harmful spans, ``{"start", "end", "text"}``, when the text is flagged for the
        explained category (none otherwise: words that raise the score of a text judged harmless
        are not harmful spans). Offsets index ``text`` (code points).

    Raises
    ------
    TypeError
        ``text`` is not a str.
    ValueError
        ``method`` or ``category`` is not one of the allowed values (the message names them).
    """
    _check_request(moderator, text, method, category)
    moderation = moderator.moderate([text])[0]
    if category is None:
        category = max(moderation["scores"], key=moderation["scores"].get)
    words, importances = word_importances(moderator, text, method, category)
    return {
        "text": text,
        "method": method,
        "category": category,
        "scores": moderation["scores"],
        "flagged": moderation["flagged"],
        "categories": moderation["categories"],
        "tokens": [
            {"text": word.text, "start": word.start, "end": word.end, "importance": float(importance)}
            for word, importance in zip(words, importances)
        ],
        "spans": harmful_spans(text, words, importances, span_threshold(importances, METHODS[method].span_fraction))
        if category in moderation["categories"] else [],
    }
