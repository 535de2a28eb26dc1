"""Word tokens, word n-grams and character n-grams within word boundaries.

Meant for text already passed through :func:`smartmod.text.normalize` (case-folded, with
placeholders such as ``xxurl``), though nothing here depends on it.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["word_tokens", "word_ngrams", "char_ngrams", "char_wb_ngrams", "check_ngram_range"]

_WORD = r"\w+(?:['*]+\w+)*"  # apostrophes and leftover masks inside a word: "don't", "b*ll*cks"
_EMOJI = (
    r"[\U0001F1E6-\U0001F1FF]{2}"  # a flag: two regional indicator letters
    r"|[\u2300-\u23FF\u2600-\u27BF\u2B00-\u2BFF\U0001F000-\U0001F1E5\U0001F200-\U0001F3FA\U0001F400-\U0001FAFF]"
)  # skin-tone modifiers (U+1F3FB..U+1F3FF) are left out: they only tint the emoji before them
_WORD_TOKEN = re.compile(_WORD)
_WORD_OR_EMOJI_TOKEN = re.compile(f"{_WORD}|{_EMOJI}")


def word_tokens(text: str, keep_emoji: bool = True) -> list[str]:
    """The words of ``text``, in order; punctuation and whitespace are dropped.

    A word is a run of letters, digits and underscores, with apostrophes or ``*`` allowed
    between them (``don't``, ``i'm``, ``b*ll*cks``); placeholders like ``xxurl`` are words.
    With ``keep_emoji`` each emoji (and each two-letter flag) is a token of its own.

    Examples
    --------
    >>> word_tokens("xxuser don't go!!! 😂😂")
    ['xxuser', "don't", 'go', '😂', '😂']
    """
    return (_WORD_OR_EMOJI_TOKEN if keep_emoji else _WORD_TOKEN).findall(text)


def check_ngram_range(ngram_range: tuple[int, int], name: str = "ngram_range") -> tuple[int, int]:
    """``ngram_range`` as ``(min_n, max_n)`` with ``1 <= min_n <= max_n``, or a ValueError."""
    try:
        min_n, max_n = (int(n) for n in ngram_range)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (min_n, max_n) of integers, got {ngram_range!r}") from None
    if not 1 <= min_n <= max_n or (min_n, max_n) != tuple(ngram_range):
        raise ValueError(f"{name} must be a pair of integers with 1 <= min_n <= max_n, got {ngram_range!r}")
    return min_n, max_n


def word_ngrams(tokens: Sequence[str], ngram_range: tuple[int, int] = (1, 2)) -> list[str]:
    """All runs of ``min_n`` to ``max_n`` consecutive tokens, each joined by one space.

    Parameters
    ----------
    tokens : sequence of str, length T
    ngram_range : (int, int)
        Inclusive lengths ``(min_n, max_n)``.

    Returns
    -------
    list of str
        The ``T - n + 1`` n-grams for each ``n`` from ``min_n`` to ``max_n``, shorter first.

    Examples
    --------
    >>> word_ngrams(["you", "are", "dumb"], (1, 2))
    ['you', 'are', 'dumb', 'you are', 'are dumb']
    """
    min_n, max_n = ngram_range
    if not 1 <= min_n <= max_n:
        check_ngram_range(ngram_range)  # raises, saying what was expected
    ngrams = list(tokens) if min_n == 1 else []
    for n in range(max(min_n, 2), max_n + 1):
        ngrams += map(" ".join, zip(*(tokens[start:] for start in range(n))))
    return ngrams


def char_ngrams(word: str, ngram_range: tuple[int, int] = (2, 5)) -> list[str]:
    """The character n-grams of ``" " + word + " "``, the spaces marking where the word starts and ends.

    Lengths run from ``min_n`` to ``max_n``; an ``n`` longer than the padded word gives none.
    Unlike scikit-learn's ``analyzer="char_wb"``, which repeats the whole padded word once
    for each such ``n``, every n-gram here is exactly ``n`` characters long.

    Examples
    --------
    >>> char_ngrams("hey", (2, 3))
    [' h', 'he', 'ey', 'y ', ' he', 'hey', 'ey ']
    """
    min_n, max_n = ngram_range
    if not 1 <= min_n <= max_n:
        check_ngram_range(ngram_range)  # raises, saying what was expected
    padded = f" {word} "
    return [padded[start : start + n] for n in range(min_n, min(max_n, len(padded)) + 1) for start in range(len(padded) - n + 1)]


def char_wb_ngrams(tokens: Sequence[str], ngram_range: tuple[int, int] = (2, 5)) -> list[str]:
    """:func:`char_ngrams` of every token, concatenated in token order."""
    return [ngram for token in tokens for ngram in char_ngrams(token, ngram_range)]
