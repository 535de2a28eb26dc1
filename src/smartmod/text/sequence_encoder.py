"""Texts to token-id sequences for sequence models: the counterpart of the TF-IDF vectorizer.

Each text goes through the same steps as the vectorizer's word analyzer: :func:`normalize`,
:func:`word_tokens`, and at transform time vocabulary-guided restoration of obfuscated tokens
(:class:`~smartmod.text.restore.ObfuscationRestorer`: ``1d107`` reads as ``idiot`` when the
vocabulary knows ``idiot``; spaced-letter runs split into vocabulary words). The tokens then
become :class:`~smartmod.text.vocab.Vocabulary` ids (0 padding, 1 out of vocabulary), and
sequences are cut to ``max_length`` tokens, keeping the first ones.

Saved as one JSON file, the vocabulary's with the encoder's settings added, read back without
executing anything.
"""
from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy

from smartmod.nn.serialize import SerializationError, atomic_write_bytes, read_json
from smartmod.text.normalize import normalize
from smartmod.text.restore import ObfuscationRestorer
from smartmod.text.sequences import pad_sequences
from smartmod.text.tokenize import word_tokens
from smartmod.text.vocab import Vocabulary

__all__ = ["SequenceEncoder"]

ENCODER_FILE = "sequence_encoder.json"


class SequenceEncoder:
    """Texts → padded token ids ``(N, L)``, ``L <= max_length``, with 0 at padded positions.

    Parameters
    ----------
    max_length : int
        Tokens kept per text (the first ones).
    min_count : int
        Keep words seen at least this many times in the texts given to :meth:`fit`.
    max_size : int or None
        Keep at most this many words (the most frequent); None keeps all.
    keep_emoji : bool
        Emoji are tokens (:func:`word_tokens`).
    restore_obfuscated : bool
        Read an unknown token that looks obfuscated as the vocabulary word it spells.

    Attributes
    ----------
    vocabulary_ : Vocabulary
        Fitted by :meth:`fit`; ``len(vocabulary_)`` is the embedding table's row count.
    """

    preprocess = staticmethod(normalize)  # what drift monitoring applies before counting unknown words

    def __init__(self, max_length: int = 64, min_count: int = 2, max_size: int | None = None, keep_emoji: bool = True,
                 restore_obfuscated: bool = True):
        if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
            raise ValueError(f"max_length must be a positive integer (tokens kept per text), got {max_length!r}")
        self.max_length, self.min_count, self.max_size = max_length, min_count, max_size
        self.keep_emoji, self.restore_obfuscated = keep_emoji, restore_obfuscated

    def fit(self, texts: Iterable[str]) -> "SequenceEncoder":
        """Fit the vocabulary on the tokens of ``texts``; returns ``self``."""
        self.vocabulary_ = Vocabulary(min_count=self.min_count, max_size=self.max_size).fit(self._tokens(texts, normalize))
        self._restorer: ObfuscationRestorer | None = None
        return self

    def encode(self, texts: Iterable[str]) -> list[numpy.ndarray]:
        """The ids of each text, N int64 arrays of at most ``max_length`` ids (none for a text without words)."""
        vocabulary = self._fitted()
        preprocess = normalize
        restorer = self._obfuscation_restorer()
        if restorer is not None:
            preprocess = functools.partial(normalize, segment=restorer.segment)
        return [vocabulary.encode(restorer(tokens) if restorer is not None else tokens)[: self.max_length]
                for tokens in self._tokens(texts, preprocess)]

    def transform(self, texts: Iterable[str]) -> numpy.ndarray:
        """Token ids padded after the tokens, int64 ``(N, L)``, L the longest encoded text (at
        most ``max_length``, at least 1 so that every row has a step); 0 marks padding."""
        ids, _ = pad_sequences(self.encode(texts), pad_id=Vocabulary.pad_id)
        if ids.shape[1] == 0:
            ids = numpy.zeros((ids.shape[0], 1), dtype=numpy.int64)
        return ids

    @property
    def vocabularies_(self) -> dict[str, dict[str, int]]:
        """``{"word": token → id}``, the shape of a vectorizer's vocabularies, for drift monitoring's
        out-of-vocabulary rate (:func:`smartmod.eval.drift.out_of_vocabulary_rates`)."""
        return {"word": self._fitted()._index}

    def get_config(self) -> dict[str, Any]:
        return {"max_length": self.max_length, "min_count": self.min_count, "max_size": self.max_size,
                "keep_emoji": self.keep_emoji, "restore_obfuscated": self.restore_obfuscated}

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``sequence_encoder.json`` into ``directory``: the vocabulary's JSON
        (:meth:`Vocabulary.to_dict`) with the encoder's settings under ``"encoder"``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        document = {**self._fitted().to_dict(), "encoder": self.get_config()}
        atomic_write_bytes(directory / ENCODER_FILE, json.dumps(document, ensure_ascii=False).encode("utf-8"))
        return directory

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "SequenceEncoder":
        """Rebuild an encoder written by :meth:`save`."""
        path = Path(directory) / ENCODER_FILE
        document = read_json(path, "a saved sequence encoder")
        try:
            vocabulary = Vocabulary.from_dict(document)
            encoder = cls(**document["encoder"])
        except (KeyError, TypeError, ValueError) as error:
            raise SerializationError(f"{path} is not a sequence encoder smartmod can rebuild: {error}") from error
        encoder.vocabulary_, encoder._restorer = vocabulary, None
        return encoder

    # ------------------------------------------------------------------ helpers

    def _tokens(self, texts: Iterable[str], preprocess: Any) -> Iterable[list[str]]:
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {index} is a {type(text).__name__}, not a str")
            yield word_tokens(preprocess(text), keep_emoji=self.keep_emoji)

    def _obfuscation_restorer(self) -> ObfuscationRestorer | None:
        if not self.restore_obfuscated:
            return None
        if getattr(self, "_restorer", None) is None:
            counts = self._fitted().counts_  # the kept words (not the special tokens) and their counts
            self._restorer = ObfuscationRestorer(counts, counts.get)
        return self._restorer

    def _fitted(self) -> Vocabulary:
        if not hasattr(self, "vocabulary_"):
            raise RuntimeError("this SequenceEncoder is not fitted yet; call fit(texts) or SequenceEncoder.load(directory) first")
        return self.vocabulary_

