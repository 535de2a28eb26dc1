"""The random parts of word2vec training: subsampling, the noise distribution and dynamic windows.

All three follow Mikolov et al. 2013, "Distributed Representations of Words and Phrases and
their Compositionality" (NeurIPS), as implemented in the original ``word2vec.c`` (and gensim):

- **subsampling of frequent words**: a word seen ``f`` times among ``total`` corpus words is kept
  with probability ``(sqrt(f / (t·total)) + 1) · t·total / f`` (at most 1), ``t`` being the
  ``sample`` threshold; dropped words leave the sentence before windows are drawn, so the words
  around a frequent word come closer together;
- **the noise distribution** of negative sampling: the unigram distribution raised to the power
  3/4, ``P(w) ∝ count(w)^0.75``, sampled with an alias table;
- **dynamic windows**: each centre word draws its window ``b`` uniformly from ``1..window``, so
  a context word at distance ``d`` is used with probability ``(window - d + 1) / window``.

Windows never cross a sentence boundary. Pairs are built one window offset at a time over whole
arrays of positions: no Python loop runs over the words of the corpus.
"""
from __future__ import annotations

import numpy

__all__ = ["keep_probabilities", "NoiseDistribution", "draw_windows", "skip_gram_pairs", "cbow_contexts"]


def keep_probabilities(counts: numpy.ndarray, sample: float) -> numpy.ndarray:
    """The probability of keeping each word under subsampling (the ``word2vec.c`` formula).

    Parameters
    ----------
    counts : int array (V,)
        How often each vocabulary word occurs in the corpus.
    sample : float
        The threshold ``t`` (1e-3 in word2vec.c and gensim); 0 keeps every word.

    Returns
    -------
    float64 array (V,)
        ``min(1, (sqrt(f / (t·total)) + 1) · t·total / f)`` with ``f`` the word's count and
        ``total`` the sum of all counts.
    """
    counts = numpy.asarray(counts, dtype=numpy.float64)
    if sample == 0:
        return numpy.ones_like(counts)
    threshold = sample * counts.sum()
    return numpy.minimum(1.0, (numpy.sqrt(counts / threshold) + 1.0) * threshold / counts)


class NoiseDistribution:
    """The noise distribution of negative sampling, ``P(w) ∝ count(w)^power``, sampled in O(1).

    word2vec.c fills a table of 10^8 word ids in proportion to ``P`` and indexes it at random;
    gensim binary-searches the cumulative distribution. Walker's alias method (Walker 1977, in
    Vose's 1991 construction) is exact like the latter and constant-time like the former: each
    word id ``i`` holds a share ``accept[i]`` of its own slot and gives the rest to ``alias[i]``,
    so a draw is one uniform slot and one uniform coin.

    Parameters
    ----------
    counts : int array (V,)
    power : float
        0.75 in word2vec; 1 is the unigram distribution, 0 the uniform one.

    Attributes
    ----------
    probabilities : float64 array (V,)
    """

    def __init__(self, counts: numpy.ndarray, power: float = 0.75):
        weights = numpy.asarray(counts, dtype=numpy.float64) ** power
        self.probabilities = weights / weights.sum()
        self._accept, self._alias = _alias_table(self.probabilities)

    def sample(self, shape: tuple[int, ...], rng: numpy.random.Generator) -> numpy.ndarray:
        """Word ids drawn independently from :attr:`probabilities`, int64 array of ``shape``."""
        slots = rng.integers(0, len(self._accept), size=shape)
        return numpy.where(rng.random(shape) < self._accept[slots], slots, self._alias[slots])


def _alias_table(probabilities: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Vose's construction: ``accept`` float64 (V,) and ``alias`` int64 (V,) for ``probabilities`` (V,)."""
    scaled = probabilities * len(probabilities)  # slot i holds mass scaled[i]; the mean is 1
    accept, alias = numpy.ones(len(scaled)), numpy.arange(len(scaled))
    small, large = list(numpy.flatnonzero(scaled < 1)), list(numpy.flatnonzero(scaled >= 1))
    while small and large:
        under, over = small.pop(), large[-1]
        accept[under], alias[under] = scaled[under], over  # the slot of `under` is filled up by `over`
        scaled[over] -= 1 - scaled[under]
        if scaled[over] < 1:
            small.append(large.pop())
    return accept, alias  # slots left in either list hold exactly 1 up to rounding: accept stays 1


def draw_windows(size: int, window: int, rng: numpy.random.Generator) -> numpy.ndarray:
    """Each centre word's effective window, uniform on ``1..window``, int64 (size,)."""
    return rng.integers(1, window + 1, size=size)


def _offset_pairs(sentences: numpy.ndarray, windows: numpy.ndarray, window: int):
    """For each offset ``d`` and side: (centre positions, context positions) with ``d <= windows[centre]``.

    ``sentences`` (n,) holds each position's sentence number, non-decreasing; yields
    ``(d, side, centres, contexts)`` with ``side`` 0 for the context on the right, 1 on the left.
    """
    positions = numpy.arange(len(sentences))
    for offset in range(1, min(window, len(sentences) - 1) + 1):
        same_sentence = sentences[offset:] == sentences[:-offset]  # (n - d,) position i and i + d
        left, right = positions[:-offset], positions[offset:]
        right_context = same_sentence & (windows[:-offset] >= offset)  # centre i, context i + d
        left_context = same_sentence & (windows[offset:] >= offset)  # centre i + d, context i
        yield offset, 0, left[right_context], right[right_context]
        yield offset, 1, right[left_context], left[left_context]


def skip_gram_pairs(words: numpy.ndarray, sentences: numpy.ndarray, windows: numpy.ndarray, window: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Every (centre, context) word pair inside each centre's effective window.

    Parameters
    ----------
    words : int array (n,)
        Word ids of the (subsampled) corpus stretch, sentences one after another.
    sentences : int array (n,)
        Sentence number of each position, non-decreasing.
    windows : int array (n,)
        Effective window of each centre position (:func:`draw_windows`).
    window : int
        The largest window.

    Returns
    -------
    centres, contexts : int arrays (P,)
        Word ids of the pairs, grouped by offset (all ``d = 1`` pairs first).
    """
    pieces = [(centres, contexts) for _, _, centres, contexts in _offset_pairs(sentences, windows, window)]
    if not pieces:
        return numpy.zeros(0, dtype=words.dtype), numpy.zeros(0, dtype=words.dtype)
    centre_positions = numpy.concatenate([centres for centres, _ in pieces])
    context_positions = numpy.concatenate([contexts for _, contexts in pieces])
    return words[centre_positions], words[context_positions]


def cbow_contexts(words: numpy.ndarray, sentences: numpy.ndarray, windows: numpy.ndarray, window: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Each centre word's context words, as a padded matrix.

    Parameters are those of :func:`skip_gram_pairs`.

    Returns
    -------
    centres : int array (C,)
        Word ids of the positions with at least one context word.
    contexts : int array (C, 2·window)
        Their context word ids; -1 pads the slots outside the effective window or the sentence.
    """
    contexts = numpy.full((len(words), 2 * window), -1, dtype=words.dtype)  # (n, 2·window)
    for offset, side, centres, context_positions in _offset_pairs(sentences, windows, window):
        contexts[centres, 2 * (offset - 1) + side] = words[context_positions]
    has_context = (contexts >= 0).any(axis=1)
    return words[has_context], contexts[has_context]
