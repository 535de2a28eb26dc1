"""Word2vec: skip-gram and CBOW word vectors trained by negative sampling, in NumPy.

Mikolov et al. 2013, "Efficient Estimation of Word Representations in Vector Space" (the two
architectures) and "Distributed Representations of Words and Phrases and their
Compositionality" (negative sampling, subsampling of frequent words), with the choices of the
original ``word2vec.c``: a ``min_count`` vocabulary, dynamic windows, input vectors initialized
uniformly in ±0.5/D and output vectors at zero, and a learning rate that decays linearly from
``alpha`` to ``min_alpha`` over all epochs.

- **skip-gram**: each (centre, context) pair inside the centre's window is one example; the
  centre word's vector predicts the context word.
- **CBOW**: each centre word is one example; the mean of its context words' vectors predicts it.
  As in word2vec.c and gensim (``cbow_mean=1``), every context word then moves by the whole
  gradient with respect to that mean, not by the 1/count of it the mean's exact gradient would
  give: a learning rate ``count`` times larger on the input side, without which CBOW learns far
  more slowly at the same ``alpha``.

Training is vectorized: the corpus is one array of word ids, processed in stretches of whole
sentences; each stretch is subsampled, its pairs built one window offset at a time
(:mod:`~smartmod.text.word2vec_sampling`), shuffled, and fed in mini-batches to
:func:`~smartmod.text.negative_sampling.negative_sampling_step`, whose gradients are written out
by hand. Everything is float32 and seeded.

::

    model = Word2Vec(Word2VecConfig(epochs=3)).fit(token_lists)
    model.vectors[model.vocabulary["idiot"]]        # (D,) float32
    model.save("w2v/");  Word2Vec.load("w2v/")     # JSON vocabulary + vectors.npz, no pickle
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy

from smartmod.nn.serialize import SerializationError, atomic_write_bytes, load_arrays, read_json, save_arrays
from smartmod.text.negative_sampling import WordRows, negative_sampling_step
from smartmod.text.vocab import Vocabulary
from smartmod.text.word2vec_config import Word2VecConfig
from smartmod.text.word2vec_sampling import NoiseDistribution, cbow_contexts, draw_windows, keep_probabilities, skip_gram_pairs

__all__ = ["Word2VecConfig", "Word2Vec"]

FORMAT = "smartmod.text.word2vec"
FORMAT_VERSION = 1
CONFIG_FILE = "word2vec.json"
VECTORS_FILE = "vectors.npz"
CHUNK_WORDS = 50_000  # corpus words per stretch: pairs are built and shuffled one stretch at a time


class Word2Vec:
    """Word vectors learned from token lists: ``Word2Vec(config).fit(token_lists)``.

    Attributes (after :meth:`fit` or :meth:`load`)
    ----------
    words : list of str, length V
        The vocabulary, most frequent first (ties alphabetical).
    vocabulary : dict of str to int
        Word → row of :attr:`vectors`.
    counts : int64 array (V,)
        Each word's count in the training corpus.
    vectors : float32 array (V, D)
        The word vectors (the input side, ``syn0`` in word2vec.c).
    training_log : list of dict
        Per epoch: loss (mean over examples), examples, words, seconds, words_per_second.
    """

    def __init__(self, config: Word2VecConfig | None = None):
        self.config = config if config is not None else Word2VecConfig()

    def fit(self, token_lists: Sequence[Sequence[str]], on_epoch: Callable[[dict[str, Any]], None] | None = None) -> Word2Vec:
        """Build the vocabulary from ``token_lists`` (one list per sentence or text) and train; returns ``self``.

        ``on_epoch`` is called with each epoch's entry of :attr:`training_log` as it ends.
        """
        token_lists = list(token_lists)
        vocabulary = Vocabulary(min_count=self.config.min_count).fit(token_lists)
        if len(vocabulary) == 2:
            raise ValueError(f"no word occurs min_count={self.config.min_count} times in the {len(token_lists)} token lists; "
                             "give more text or lower min_count")
        self._set_vocabulary(vocabulary.tokens_[2:], [vocabulary.counts_[word] for word in vocabulary.tokens_[2:]])
        words, sentences = self._encode(token_lists)
        self.training_log = []
        self.vectors = _train(words, sentences, self.counts, self.config, self.training_log, on_epoch)
        return self

    def _set_vocabulary(self, words: list[str], counts: Sequence[int]) -> None:
        self.words = list(words)
        self.vocabulary = {word: index for index, word in enumerate(self.words)}
        self.counts = numpy.asarray(counts, dtype=numpy.int64)

    def _encode(self, token_lists: list[Sequence[str]]) -> tuple[numpy.ndarray, numpy.ndarray]:
        """The corpus as word ids (N,) and sentence numbers (N,), int32; out-of-vocabulary words dropped."""
        lengths = numpy.fromiter(map(len, token_lists), dtype=numpy.int64, count=len(token_lists))
        tokens = itertools.chain.from_iterable(token_lists)
        ids = numpy.fromiter(map(self.vocabulary.get, tokens, itertools.repeat(-1)), dtype=numpy.int32, count=int(lengths.sum()))
        sentences = numpy.repeat(numpy.arange(len(token_lists), dtype=numpy.int32), lengths)
        known = ids >= 0
        return ids[known], sentences[known]

    def __len__(self) -> int:
        return len(self._fitted().words)

    def __contains__(self, word: object) -> bool:
        return word in self._fitted().vocabulary

    def __getitem__(self, word: str) -> numpy.ndarray:
        """The vector of ``word``, float32 (D,)."""
        index = self._fitted().vocabulary.get(word)
        if index is None:
            raise KeyError(f"{word!r} is not in the word2vec vocabulary ({len(self.words)} words seen at least min_count times)")
        return self.vectors[index]

    def _fitted(self) -> Word2Vec:
        if not hasattr(self, "vectors"):
            raise RuntimeError("this Word2Vec has no vectors yet; call fit(token_lists) or Word2Vec.load(directory) first")
        return self

    def save(self, directory: str | Path) -> Path:
        """Write ``word2vec.json`` (config, words, counts, training log) and ``vectors.npz`` into ``directory``."""
        self._fitted()
        directory = Path(directory)
        save_arrays(directory / VECTORS_FILE, {"vectors": self.vectors})
        document = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": dataclasses.asdict(self.config),
                    "words": self.words, "counts": self.counts.tolist(), "training_log": self.training_log}
        atomic_write_bytes(directory / CONFIG_FILE, json.dumps(document, ensure_ascii=False, allow_nan=False).encode("utf-8"))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> Word2Vec:
        """A model written by :meth:`save` (read without pickle)."""
        directory = Path(directory)
        holder = f"a saved word2vec directory ({CONFIG_FILE} + {VECTORS_FILE})"
        document = read_json(directory / CONFIG_FILE, holder)
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise SerializationError(f"{directory / CONFIG_FILE} is not a smartmod word2vec file (expected format {FORMAT!r})")
        if document.get("format_version", 0) > FORMAT_VERSION:
            raise SerializationError(f"word2vec format {document['format_version']} is newer than this smartmod reads ({FORMAT_VERSION}); upgrade smartmod")
        vectors = load_arrays(directory / VECTORS_FILE).get("vectors")
        words = document.get("words", [])
        if vectors is None or vectors.ndim != 2 or len(vectors) != len(words) or len(document.get("counts", [])) != len(words):
            raise SerializationError(f"{directory} is damaged: {len(words)} words, {len(document.get('counts', []))} counts and vectors "
                                     f"of shape {None if vectors is None else vectors.shape}; save the model again")
        try:
            config = Word2VecConfig(**document["config"])
        except (KeyError, TypeError, ValueError) as error:
            raise SerializationError(f"{directory / CONFIG_FILE} holds no usable word2vec config ({error}); save the model again") from error
        model = cls(config)
        model._set_vocabulary(words, document["counts"])
        model.vectors = vectors.astype(numpy.float32, copy=False)
        model.training_log = document.get("training_log", [])
        return model

    def save_word2vec_format(self, path: str | Path) -> None:
        """Export to the word2vec text format: ``V D`` on the first line, then ``word x_1 .. x_D`` per line.

        The values are written with 9 significant digits, which reads back as the same float32.
        gensim reads it with ``KeyedVectors.load_word2vec_format(path)``.
        """
        self._fitted()
        spaced = next((word for word in self.words if not word or any(character.isspace() for character in word)), None)
        if spaced is not None:
            raise ValueError(f"the word {spaced!r} is empty or holds whitespace, which the word2vec text format cannot store")
        lines = [f"{len(self.words)} {self.vectors.shape[1]}"]
        lines += [f"{word} {' '.join(format(value, '.9g') for value in row)}" for word, row in zip(self.words, self.vectors.tolist())]
        atomic_write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8"))

    def embedding_matrix(self, vocabulary: Vocabulary, scale: float = 0.1, seed: int = 0) -> tuple[numpy.ndarray, dict[str, Any]]:
        """Initial weights of an embedding layer over ``vocabulary``, from these word vectors.

        Rows of words word2vec knows are their vectors; the padding row is zero; every other row
        (the out-of-vocabulary id and words word2vec never kept) is drawn from a normal
        distribution with ``scale`` times the standard deviation of the word vectors.

        Parameters
        ----------
        vocabulary : smartmod.text.Vocabulary
            A fitted vocabulary (padding id 0, out-of-vocabulary id 1).
        scale : float
            Size of the random rows relative to the trained vectors.
        seed : int

        Returns
        -------
        matrix : float32 array (len(vocabulary), D)
        coverage : dict
            ``words`` (the vocabulary's words, special ids not counted), ``found`` (those with a
            word2vec vector), ``coverage`` (found / words), ``token_coverage`` (the same weighted
            by the vocabulary's counts) and ``missing`` (the 20 most frequent words not found).
        """
        self._fitted()
        words = vocabulary.tokens_[2:]
        rng = numpy.random.default_rng(seed)
        matrix = rng.normal(0.0, scale * float(self.vectors.std()), size=(len(vocabulary), self.vectors.shape[1])).astype(numpy.float32)
        matrix[vocabulary.pad_id] = 0
        rows = numpy.array([self.vocabulary.get(word, -1) for word in words], dtype=numpy.int64)  # (W,) -1 where missing
        found = rows >= 0
        matrix[2:][found] = self.vectors[rows[found]]
        counts = numpy.array([vocabulary.counts_[word] for word in words], dtype=numpy.float64)
        coverage = {"words": len(words), "found": int(found.sum()), "coverage": float(found.mean()) if words else 0.0,
                    "token_coverage": float(counts[found].sum() / counts.sum()) if words else 0.0,
                    "missing": [word for word, known in zip(words, found) if not known][:20]}
        return matrix, coverage


def _stretches(sentences: numpy.ndarray, size: int) -> list[tuple[int, int]]:
    """(start, stop) ranges of about ``size`` corpus positions, cut only where a sentence starts."""
    sentence_starts = numpy.flatnonzero(numpy.r_[True, sentences[1:] != sentences[:-1]]) if len(sentences) else numpy.zeros(0, numpy.int64)
    wanted = numpy.arange(size, len(sentences), size)
    cuts = numpy.unique(sentence_starts[numpy.searchsorted(sentence_starts, wanted).clip(max=len(sentence_starts) - 1)])
    bounds = [0, *[int(cut) for cut in cuts if 0 < cut < len(sentences)], len(sentences)]
    return list(zip(bounds[:-1], bounds[1:]))


def _train(words: numpy.ndarray, sentences: numpy.ndarray, counts: numpy.ndarray, config: Word2VecConfig,
           log: list[dict[str, Any]], on_epoch: Callable[[dict[str, Any]], None] | None) -> numpy.ndarray:
    """Train on the corpus ``words`` (N,) with ``sentences`` (N,); returns the input vectors (V, D) float32."""
    rng = numpy.random.default_rng(config.seed)
    size, dim = len(counts), config.dim
    input_vectors = ((rng.random((size, dim), dtype=numpy.float32) - 0.5) / dim)  # (V, D), word2vec.c's init
    output_vectors = numpy.zeros((size, dim), dtype=numpy.float32)  # (V, D)
    keep = keep_probabilities(counts, config.sample)  # (V,)
    noise_distribution = NoiseDistribution(counts, config.noise_power)
    total = config.epochs * max(len(words), 1)
    for epoch in range(config.epochs):
        started, loss, examples = time.perf_counter(), 0.0, 0
        for start, stop in _stretches(sentences, CHUNK_WORDS):
            kept = rng.random(stop - start) < keep[words[start:stop]]
            stretch, stretch_sentences = words[start:stop][kept], sentences[start:stop][kept]
            windows = draw_windows(len(stretch), config.window, rng)
            if config.architecture == "skip-gram":
                inputs, targets = skip_gram_pairs(stretch, stretch_sentences, windows, config.window)  # (P,), (P,)
            else:
                targets, inputs = cbow_contexts(stretch, stretch_sentences, windows, config.window)  # (C,), (C, 2·window)
            order = rng.permutation(len(targets))
            inputs, targets = inputs[order], targets[order]
            noise = noise_distribution.sample((len(targets), config.negative), rng)  # (P, K)
            for first in range(0, len(targets), config.batch_size):
                batch = slice(first, first + config.batch_size)
                progress = (epoch * len(words) + start + (stop - start) * first / len(targets)) / total
                learning_rate = config.alpha - (config.alpha - config.min_alpha) * progress
                loss += _step(input_vectors, output_vectors, inputs[batch], targets[batch], noise[batch], learning_rate)
            examples += len(targets)
        seconds = time.perf_counter() - started
        log.append({"epoch": epoch + 1, "loss": loss / max(examples, 1), "examples": examples, "words": len(words),
                    "seconds": round(seconds, 3), "words_per_second": round(len(words) / seconds, 1)})
        if on_epoch is not None:
            on_epoch(log[-1])
    return input_vectors


def _step(input_vectors: numpy.ndarray, output_vectors: numpy.ndarray, inputs: numpy.ndarray, targets: numpy.ndarray,
          noise: numpy.ndarray, learning_rate: float) -> float:
    """One SGD step on B examples: ``inputs`` (B,) centre words (skip-gram) or (B, 2·window) contexts
    padded with -1 (CBOW); ``targets`` (B,) the words to predict; ``noise`` (B, K)."""
    batch = len(targets)
    if inputs.ndim == 1:
        rows, weights = WordRows(inputs, numpy.arange(batch), batch), None
    else:
        examples, slots = numpy.nonzero(inputs >= 0)
        rows = WordRows(inputs[examples, slots], examples, batch)
        weights = (1.0 / numpy.bincount(examples, minlength=batch))[examples]  # the mean over each example's contexts
    all_targets = numpy.column_stack([targets, noise])  # (B, K+1)
    target_weights = numpy.ones(all_targets.shape, dtype=input_vectors.dtype)
    target_weights[:, 1:] = noise != targets[:, None]
    update_weights = None if weights is None else numpy.ones_like(weights)  # word2vec.c's CBOW: the whole ∂L/∂h to each context word
    return negative_sampling_step(input_vectors, output_vectors, rows, weights, all_targets, target_weights, learning_rate, update_weights)
