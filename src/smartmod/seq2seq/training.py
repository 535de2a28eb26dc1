"""Teacher-forced training of a sequence-to-sequence model, and exact-match accuracy.

Teacher forcing (Williams & Zipser 1989): the decoder reads the true target shifted right by
one, ``START y₁ … y_{n-1}``, and learns to predict ``y₁ … y_n END`` at every position in one
pass, the causal mask hiding each position's future. The loss is the cross-entropy of those
predictions, padding excluded.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Sequence

import numpy

from smartmod.nn import backend
from smartmod.nn.clip import clip_grad_norm
from smartmod.nn.losses import CrossEntropyLoss
from smartmod.nn.optim import Adam
from smartmod.nn.schedules import CosineWithWarmup
from smartmod.seq2seq.model import Seq2SeqTransformer
from smartmod.seq2seq.vocabulary import CharacterVocabulary

__all__ = ["teacher_forcing_batch", "train", "exact_match"]


def teacher_forcing_batch(targets: Sequence[Sequence[int]], vocabulary: CharacterVocabulary) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Decoder input ``START y₁ … y_n`` and expected output ``y₁ … y_n END``, each ``(B, n + 1)``, PAD after."""
    framed = vocabulary.pad(targets, start=True, end=True)  # (B, n + 2)
    return framed[:, :-1], framed[:, 1:]


def train(model: Seq2SeqTransformer, sources: Sequence[Sequence[int]], targets: Sequence[Sequence[int]],
          source_vocabulary: CharacterVocabulary, target_vocabulary: CharacterVocabulary, *, epochs: int,
          batch_size: int = 64, lr: float = 1e-3, warmup_steps: int = 100, clip_norm: float = 1.0,
          label_smoothing: float = 0.0, seed: int = 0, log: Callable[[str], None] | None = None) -> list[float]:
    """Fit ``model`` to (source, target) id sequences with Adam, warm-up then cosine decay of the
    learning rate, and gradient clipping. Returns the mean training loss of each epoch.

    Parameters
    ----------
    sources, targets : sequences of id lists (no special ids), one pair per example
    epochs, batch_size, lr, warmup_steps, clip_norm, label_smoothing : training settings
    seed : int
        Seeds shuffling, dropout and nothing else (initialize the model under its own seed).
    log : callable, optional
        Receives one line per epoch.
    """
    if len(sources) != len(targets) or not sources:
        raise ValueError(f"train needs as many targets as sources, at least one; got {len(sources)} and {len(targets)}")
    loss = CrossEntropyLoss(label_smoothing=label_smoothing)
    optimizer = Adam(model.parameters(), lr=lr, betas=(0.9, 0.98))
    steps_per_epoch = math.ceil(len(sources) / batch_size)
    schedule = CosineWithWarmup(optimizer, warmup_steps=min(warmup_steps, epochs * steps_per_epoch - 1),
                                total_steps=epochs * steps_per_epoch)
    backend.seed(seed)
    order_rng = numpy.random.default_rng(seed)
    model.train()
    history = []
    for epoch in range(epochs):
        started, losses = time.perf_counter(), []
        for batch in numpy.array_split(order_rng.permutation(len(sources)), steps_per_epoch):
            source = source_vocabulary.pad([sources[i] for i in batch])  # (B, S)
            decoder_input, expected = teacher_forcing_batch([targets[i] for i in batch], target_vocabulary)  # (B, T) each
            model.zero_grad()
            logits = model.forward(source, decoder_input)  # (B, T, V)
            vocabulary_size = logits.shape[-1]
            losses.append(loss.forward(logits.reshape(-1, vocabulary_size), expected.reshape(-1),
                                       mask=expected.reshape(-1) != target_vocabulary.PAD))
            model.backward(loss.backward().reshape(logits.shape))
            clip_grad_norm(model.parameters(), clip_norm)
            optimizer.step()
            schedule.step()
        history.append(float(numpy.mean(losses)))
        if log is not None:
            log(f"epoch {epoch + 1}/{epochs}: loss {history[-1]:.4f} ({time.perf_counter() - started:.1f} s)")
    model.eval()
    return history


def exact_match(predictions: Sequence[str], references: Sequence[str]) -> float:
    """The fraction of predictions equal to their reference, character for character."""
    if len(predictions) != len(references):
        raise ValueError(f"exact_match needs one prediction per reference, got {len(predictions)} and {len(references)}")
    return sum(p == r for p, r in zip(predictions, references)) / max(len(references), 1)
