"""Characters as integer ids, with the three special tokens a sequence-to-sequence model needs."""
from __future__ import annotations

from typing import Sequence

import numpy

__all__ = ["CharacterVocabulary"]


class CharacterVocabulary:
    """Ids for the characters of ``alphabet``, after three special ids.

    ``PAD`` (0) fills sequences up to the batch's length, ``START`` (1) begins every decoder
    input, ``END`` (2) ends every target. Character ``alphabet[i]`` has id ``i + 3``.

    Parameters
    ----------
    alphabet : str
        The characters, each once.
    """

    PAD, START, END = 0, 1, 2
    SPECIALS = 3

    def __init__(self, alphabet: str):
        if len(set(alphabet)) != len(alphabet):
            raise ValueError(f"the alphabet must list each character once, got {alphabet!r}")
        self.alphabet = alphabet
        self._ids = {character: index + self.SPECIALS for index, character in enumerate(alphabet)}

    def __len__(self) -> int:
        return len(self.alphabet) + self.SPECIALS

    def encode(self, text: str) -> list[int]:
        """The ids of ``text``'s characters (no special ids)."""
        unknown = sorted(set(text) - set(self._ids))
        if unknown:
            raise ValueError(f"characters {unknown} are not in the vocabulary's alphabet {self.alphabet!r}")
        return [self._ids[character] for character in text]

    def decode(self, ids: Sequence[int]) -> str:
        """The text of ``ids``, stopping at the first END and skipping PAD and START."""
        characters = []
        for token in ids:
            if token == self.END:
                break
            if token >= self.SPECIALS:
                characters.append(self.alphabet[token - self.SPECIALS])
        return "".join(characters)

    def pad(self, sequences: Sequence[Sequence[int]], start: bool = False, end: bool = False) -> numpy.ndarray:
        """Id sequences as one ``(N, L)`` int64 array, optionally framed by START and END, PAD after."""
        framed = [([self.START] if start else []) + list(ids) + ([self.END] if end else []) for ids in sequences]
        batch = numpy.full((len(framed), max(map(len, framed), default=0)), self.PAD, dtype=numpy.int64)
        for row, ids in enumerate(framed):
            batch[row, : len(ids)] = ids
        return batch
