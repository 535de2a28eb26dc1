"""The words of a text as the user wrote it, with their character offsets.

An explanation is read against the original text, not against what the vectorizer makes of
it (:func:`~smartmod.text.normalize.normalize` folds case, de-obfuscates and replaces
addresses by placeholders), so the unit of explanation is a span of the original text:

* a word is a run of non-whitespace characters without the punctuation around it
  (``"idiot!!!"`` → ``idiot``, ``"(you)"`` → ``you``); a ``*`` is never trimmed, since it
  masks a letter (``f***``), nor is the ``@`` of a mention; a run of punctuation alone is no word;
* letters spaced out to dodge a filter (``i d i o t``, ``f. u. c. k``: three or more single
  letters joined by the same space, dot, ``". "`` or dash) form one word, the run that
  normalization joins (:func:`~smartmod.text.deobfuscate.join_spaced_letters`).

Offsets count Unicode code points (Python ``str`` indices): ``text[word.start:word.end] ==
word.text`` always. A browser counts UTF-16 code units, which differ after an emoji.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

import numpy

__all__ = ["Word", "split_words", "without_words"]

_LETTER = r"[^\W\d_]"
_SPACED_LETTERS = rf"(?<!\w){_LETTER}(\. |[ .\-]){_LETTER}(?:\1{_LETTER})+(?!\w)"
_CANDIDATE = re.compile(rf"{_SPACED_LETTERS}|\S+")
_KEPT_AT_START = "@*"  # a mention's @, a masked first letter
_KEPT_AT_END = "*"  # a masked last letter: "f***"
_GAP = "|"  # what a removed word leaves behind


class Word(NamedTuple):
    """One word of a text: ``text == original[start:end]``."""

    text: str
    start: int
    end: int


def _is_punctuation(character: str) -> bool:
    return unicodedata.category(character).startswith("P")


def split_words(text: str) -> list[Word]:
    """The words of ``text`` in order, with their offsets (see the module docstring).

    Examples
    --------
    >>> [word.text for word in split_words('"Ur such a f*ck1ng i d i o t!!!" 😂')]
    ['Ur', 'such', 'a', 'f*ck1ng', 'i d i o t', '😂']
    """
    if not isinstance(text, str):
        raise TypeError(f"expected the text as a str, got {type(text).__name__}")
    words = []
    for match in _CANDIDATE.finditer(text):
        start, end = match.span()
        while start < end and _is_punctuation(text[start]) and text[start] not in _KEPT_AT_START:
            start += 1
        while end > start and _is_punctuation(text[end - 1]) and text[end - 1] not in _KEPT_AT_END:
            end -= 1
        if start < end:
            words.append(Word(text[start:end], start, end))
    return words


def without_words(text: str, words: Sequence[Word], keep: numpy.ndarray) -> str:
    """``text`` with the words whose ``keep`` entry is False replaced by ``|`` (what lies between words stays).

    The ``|`` makes no token, and keeps a word boundary where the word was, so that the words
    around it cannot run together into a new one: cutting ``f*ck1ng`` out of
    ``a f*ck1ng i d i o t`` must not leave the spaced letters ``a i d i o t`` (``aidiot``).

    Parameters
    ----------
    text : str
    words : sequence of W :class:`Word`
        Words of ``text``, in order.
    keep : (W,) bool array
    """
    pieces = []
    position = 0
    for word, kept in zip(words, keep):
        pieces.append(text[position:word.start])
        pieces.append(word.text if kept else _GAP)
        position = word.end
    pieces.append(text[position:])
    return "".join(pieces)
