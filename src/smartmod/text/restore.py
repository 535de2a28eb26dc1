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

Spaced letters: :func:`~smartmod.text.normalize.normalize` joins ``y o u i d i o t`` into one
run, ``youidiot``; :meth:`ObfuscationRestorer.segment` splits such a run into the vocabulary
words it most likely spells, ``you idiot`` (the most probable sequence of words under
unigram frequencies, a word break by dynamic programming). Only joined runs are split: an
unknown word such as ``cockpit`` is never cut into two known ones.
"""
from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Collection, Iterable

__all__ = ["LEET_READINGS", "MASKS", "RARE_DOUBLES", "SHORT_WORDS", "ObfuscationRestorer"]

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
#: The only words of one or two letters a run of spaced letters is split into (English): other
#: short vocabulary entries (``se``, ``rb``) are mostly fragments, and would cut runs to pieces.
SHORT_WORDS = frozenset("a i am an as at be by do go he hi if in is it me my no of oh ok on or so to up us we".split())


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
        How many documents a vocabulary word was found in, or any number proportional to it;
        it picks among several candidates and weighs the words of a split run
        (:meth:`segment`). None: a token with several candidates is kept.

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
        self._segment_costs: dict[str, float] | None = None  # word → -log p(word), built on first use
        self._segments: dict[str, str] = {}

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

    def segment(self, letters: str) -> str:
        """A joined run of spaced letters split into vocabulary words: ``afascist`` → ``a fascist``.

        The split minimizes the sum of ``-log p(word)`` over its words, ``p`` the word's share
        of the vocabulary's document frequencies (all words alike without them): the most
        probable sequence of independent words. Pieces are vocabulary words of three letters or
        more, or common short words (:data:`SHORT_WORDS`). A run that is a vocabulary word, or reads as one when restored
        (``shiiit`` → ``shit``, not ``sh ii it``), or that no sequence of such words spells, is
        returned whole.
        """
        if letters in self.vocabulary or self[letters] != letters:
            return letters
        if letters not in self._segments:
            if len(self._segments) >= _CACHE_SIZE:
                self._segments.clear()
            self._segments[letters] = self._best_split(letters)
        return self._segments[letters]

    def _best_split(self, letters: str) -> str:
        costs = self._word_costs()
        longest = max(map(len, costs), default=0)
        # best[end] = (cost, start of its last word) of the cheapest split of letters[:end]
        best: list[tuple[float, int] | None] = [(0.0, 0)] + [None] * len(letters)
        for end in range(1, len(letters) + 1):
            for start in range(max(0, end - longest), end):
                cost = costs.get(letters[start:end])
                if cost is not None and best[start] is not None and (best[end] is None or best[start][0] + cost < best[end][0]):
                    best[end] = (best[start][0] + cost, start)
        if best[-1] is None:
            return letters
        words, end = [], len(letters)
        while end > 0:
            start = best[end][1]
            words.append(letters[start:end])
            end = start
        return " ".join(reversed(words))

    def _word_costs(self) -> dict[str, float]:
        """``-log p(word)`` for each vocabulary word a run may be split into."""
        if self._segment_costs is None:
            words = [word for word in self.vocabulary
                     if word.isalpha() and (len(word) > 2 or word in SHORT_WORDS)]
            frequency = self.document_frequency or (lambda word: 1.0)
            counts = {word: count for word in words if (count := float(frequency(word))) > 0}
            total = sum(counts.values())
            self._segment_costs = {word: math.log(total / count) for word, count in counts.items()}
        return self._segment_costs
