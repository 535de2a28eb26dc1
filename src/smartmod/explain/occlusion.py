"""Occlusion: a word's importance is what the score loses when the word is left out.

Zeiler and Fergus (2014) slid a grey patch over an image and watched the class score; for
text the patch is one word (Li, Monroe and Jurafsky 2016, "Understanding Neural Networks
through Representation Erasure", arXiv:1612.08220). With ``s`` the explained score,

    importance_w = s(text) - s(text without word w),

so a word the score rests on gets a large positive importance, a word that holds it down a
negative one. The text and its ``W`` variants, each with one word cut out of the original
text, are scored in one call.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy

from smartmod.explain.words import Word, without_words

__all__ = ["occlusion"]


def occlusion(score: Callable[[list[str]], numpy.ndarray], text: str, words: Sequence[Word]) -> numpy.ndarray:
    """The drop in ``score`` when each word is left out.

    Parameters
    ----------
    score : callable
        Texts to one score each, shape ``(len(texts),)`` (a
        :class:`~smartmod.explain.target.CategoryLogit`, or any scorer).
    text : str
    words : sequence of W :class:`~smartmod.explain.words.Word` of ``text``

    Returns
    -------
    numpy.ndarray, shape (W,), float64
    """
    keep = ~numpy.eye(len(words), dtype=bool)  # row w leaves word w out
    scores = numpy.asarray(score([text] + [without_words(text, words, row) for row in keep]), dtype=numpy.float64)  # (W + 1,)
    return scores[0] - scores[1:]
