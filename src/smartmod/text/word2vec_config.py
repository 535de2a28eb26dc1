"""The hyperparameters of :class:`~smartmod.text.word2vec.Word2Vec`, as JSON-ready data.

Kept apart from the training code so that the command line can list them without importing it.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Word2VecConfig", "ARCHITECTURES"]

ARCHITECTURES = ("skip-gram", "cbow")


@dataclass
class Word2VecConfig:
    """Hyperparameters of :class:`Word2Vec`; the defaults are gensim 4's but for ``batch_size`` and ``seed``."""

    architecture: str = "skip-gram"  # "skip-gram" or "cbow"
    dim: int = 100  # D, the length of a word vector
    window: int = 5  # the largest distance between centre and context; each centre draws 1..window
    negative: int = 5  # K, noise words per example
    min_count: int = 5  # words seen fewer times are dropped from the corpus
    sample: float = 1e-3  # subsampling threshold t; 0 keeps every word
    alpha: float = 0.025  # learning rate at the start
    min_alpha: float = 0.0001  # learning rate at the end, reached linearly
    epochs: int = 5  # passes over the corpus
    noise_power: float = 0.75  # noise distribution ∝ count^noise_power
    batch_size: int = 1024  # examples per SGD step (gensim: one at a time); see docs/word2vec.md
    seed: int = 0  # seeds initialization, subsampling, windows, shuffling and noise words

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {self.architecture!r}")
        for name in ("dim", "window", "negative", "min_count", "epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if not 0 <= self.sample < 1:
            raise ValueError(f"sample must be in [0, 1) (1e-3 is usual; 0 turns subsampling off), got {self.sample!r}")
        if not 0 <= self.min_alpha <= self.alpha:
            raise ValueError(f"need 0 <= min_alpha <= alpha, got min_alpha={self.min_alpha!r}, alpha={self.alpha!r}")
