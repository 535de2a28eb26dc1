"""Vocabulary-guided restoration of obfuscated words: ``1d107`` → ``idiot`` when ``idiot`` is known.

:func:`~smartmod.text.normalize.normalize` undoes leetspeak, masks and stretched letters only
for the few words of :data:`~smartmod.text.deobfuscate.LEXICON`. A fitted vectorizer knows many
more words, so a word token it has never seen that looks obfuscated is read against its
vocabulary instead:

* leetspeak: ``1`` reads ``i`` or ``l``, ``0 3 4 5 7 $`` read ``o e a s t s``
  (:data:`LEET_READINGS`);
* masks: ``* # @ !`` stand for any one letter (``id*ot``, ``b!tch``);
* stretched letters: each run of a repeated letter reads as one or two of it (``stupiiid``,
  and ``pathetiic``, which is what :func:`normalize` leaves of ``pathetiiiiic``).

A token looks obfuscated when it has a letter, at least 3 characters, at most half of them
masks, and a leetspeak character, a mask, a letter three times in a row, or a doubled letter
that English rarely doubles (:data:`RARE_DOUBLES`: ``aa``, ``ii``, ``uu``, ...). Common doubles
are no cue, else ``rapping`` would read ``raping`` and ``losses`` ``loses`` (the price:
``idioot``, what :func:`normalize` leaves of ``idiooooot`` for a word outside its lexicon, stays).
A token's readings are looked up in the vocabulary (masked ones: searched among its words of
the same length); the one found in the most documents wins (ties: the first in alphabetical
order). A token with no reading in the vocabulary is kept as written, and
so is a token in the vocabulary, a number (``2019``: no letter) and anything else that does not
look obfuscated.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Collection, Iterable

__all__ = ["LEET_READINGS", "MASKS", "RARE_DOUBLES", "ObfuscationRestorer"]

#: Leetspeak characters and the letters each may stand for.
LEET_READINGS: dict[str, str] = {"1": "il", "0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "$": "s"}
#: Characters that stand for any one letter.
MASKS = "*#@!"
#: Letters that a doubled pair of marks as stretched: English spelling rarely doubles them.
RARE_DOUBLES = "aihjkquvwy"  # not x: the placeholders xxuser, xxurl, ... start with xx

_MAX_STRETCHED_RUNS = 4  # 2 ** 4 readings at most; a word with more runs is kept as written
_LETTER = r"[^\W\d_]"
_REPEATED_LETTER = re.compile(r"([^\W\d_])\1+")
_CUE = re.compile(r"[" + re.escape("".join(LEET_READINGS) + MASKS) + r"]|([^\W\d_])\1\1|([" + RARE_DOUBLES + r"])\2")
_ANY_LETTER = re.compile(_LETTER)
_CACHE_SIZE = 1 << 17  # tokens whose restoration is remembered


def _destretched(word: str) -> Iterable[str]:
    """``word`` with each run of a repeated letter cut to one or to two of it, every combination."""
    pieces = _REPEATED_LETTER.split(word)  # [text, letter, text, letter, ..., text]
    letters = pieces[1::2]
    if not letters:
        return [word]
    if len(letters) > _MAX_STRETCHED_RUNS:
        return []
    spellings = []
    for repeats in itertools.product((1, 2), repeat=len(letters)):
        runs = [letter * count for letter, count in zip(letters, repeats)]
        spellings.append("".join(itertools.chain.from_iterable(itertools.zip_longest(pieces[0::2], runs, fillvalue=""))))
    return spellings


def _pattern(spelling: str) -> str:
    """A regular expression for a vocabulary line (between newlines) that ``spelling`` may stand for.

    Starting with the newline, not ``^``, lets the regular expression engine jump to each
    newline followed by the literal start of the word rather than try every position.
    """
    parts = []
    for character in spelling:
        if character in MASKS:
            parts.append(_LETTER)
        elif character in LEET_READINGS:
            parts.append(f"[{LEET_READINGS[character]}]")
        else:
            parts.append(re.escape(character))
    return "\n(" + "".join(parts) + ")(?=\n)"


class ObfuscationRestorer(dict):
    """token → the token to count instead (:meth:`restore`), remembered per token.

    Parameters
    ----------
    vocabulary : collection of str
        The known words (a token found in it is kept); word n-grams of two or more words
        (with a space) are no candidates.
    document_frequency : callable or None
        How many documents (or any number in the same order) a vocabulary word was found in;
        it picks among several candidates. None: a token with several candidates is kept.

    Calling it on a list of tokens gives the list with each one restored. Empties itself
    when it holds ``2 ** 17`` tokens, so memory stays bounded on endless streams of new words.
    """

    def __init__(self, vocabulary: Collection[str], document_frequency: Callable[[str], float] | None):
        super().__init__()
        self.vocabulary = vocabulary
        by_length: dict[int, list[str]] = {}
        for word in vocabulary:
            if " " not in word and "\n" not in word:
                by_length.setdefault(len(word), []).append(word)
        # each length's words on lines of their own, for masks: one regular expression search per length
        self.lines_by_length = {length: "\n" + "\n".join(words) + "\n" for length, words in by_length.items()}
        self.document_frequency = document_frequency

    def __missing__(self, token: str) -> str:
        restored = token if token in self.vocabulary else self.restore(token)
        if len(self) >= _CACHE_SIZE:
            self.clear()
        self[token] = restored
        return restored

    def __call__(self, tokens: list[str]) -> list[str]:
        return list(map(self.__getitem__, tokens))

    def restore(self, word: str) -> str:
        """The vocabulary word that the obfuscated ``word`` most likely spells, or ``word`` itself."""
        candidates = self.candidates(word)
        if len(candidates) == 1:
            return candidates.pop()
        if not candidates or self.document_frequency is None:
            return word
        return min(candidates, key=lambda candidate: (-self.document_frequency(candidate), candidate))

    def candidates(self, word: str) -> set[str]:
        """The vocabulary words (no n-grams) that ``word`` may spell, if it looks obfuscated (else none)."""
        if len(word) < 3 or not _CUE.search(word) or not _ANY_LETTER.search(word):
            return set()
        masks = sum(map(word.count, MASKS))
        if 2 * masks > len(word):
            return set()
        candidates = set()
        for spelling in _destretched(word):
            if masks:
                candidates.update(re.findall(_pattern(spelling), self.lines_by_length.get(len(spelling), "")))
            else:  # few readings (1 is i or l): look each one up
                readings = map("".join, itertools.product(*(LEET_READINGS.get(character, character) for character in spelling)))
                candidates.update(reading for reading in readings if reading in self.vocabulary)
        candidates.discard(word)
        return candidates
