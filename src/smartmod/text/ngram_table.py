"""The columns of many words' character n-grams at once, in NumPy.

:class:`~smartmod.text.ngram_caches.CharNgramColumns` looks a new word's n-grams up one string
at a time, about twenty dictionary probes per word. Scoring a stream meets thousands of new
words per batch (most distinct words of real text are rare), and those probes were a fifth of
the scoring time. Here the n-grams of all the new words are cut as windows of one array of
code points, hashed together, and found by binary search in the sorted hashes of the
vocabulary; each hit is then compared code point by code point with the vocabulary entry, so
a hash collision can never give a wrong column.
"""
from __future__ import annotations

import numpy

__all__ = ["CharNgramTable"]

# One odd 64-bit multiplier per position, and one for the length: key = sum(code * M) mod 2**64.
_MULTIPLIERS = numpy.random.default_rng(20261204).integers(1, 2**63, size=64, dtype=numpy.uint64) | numpy.uint64(1)
_INT32_BYTES = 4


def _code_points(text: str) -> numpy.ndarray:
    """The code points of ``text`` as uint64, lone surrogates included."""
    return numpy.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype=numpy.uint32).astype(numpy.uint64)


def _keys(windows: numpy.ndarray, lengths: numpy.ndarray | int) -> numpy.ndarray:
    """The hash of each row of ``windows`` (K, n) uint64 code points, zero-padded past its length."""
    n = windows.shape[1]
    keys = windows @ _MULTIPLIERS[:n] if n else numpy.zeros(len(windows), dtype=numpy.uint64)  # wraps modulo 2**64
    return keys + numpy.asarray(lengths, dtype=numpy.uint64) * _MULTIPLIERS[-1]


class CharNgramTable:
    """A fixed character n-gram vocabulary, for finding the n-grams of many words together.

    Parameters
    ----------
    vocabulary : dict of str to int
        n-gram → column.
    ngram_range : (int, int)
        The lengths :func:`~smartmod.text.tokenize.char_ngrams` cuts.

    Attributes
    ----------
    usable : bool
        False when two vocabulary entries share a hash (about one vocabulary in 10**9): then
        :meth:`columns` must not be used, and words are looked up one by one instead.
    """

    def __init__(self, vocabulary: dict[str, int], ngram_range: tuple[int, int]):
        self.ngram_range = ngram_range
        ngrams = list(vocabulary)
        width = max(ngram_range[1], max(map(len, ngrams), default=0))
        if width >= len(_MULTIPLIERS):
            raise ValueError(f"character n-grams longer than {len(_MULTIPLIERS) - 1} are not supported, got {width}")
        lengths = numpy.fromiter(map(len, ngrams), dtype=numpy.int64, count=len(ngrams))  # (V,)
        codes = _code_points("".join(ngram.ljust(width, "\0") for ngram in ngrams)).reshape(len(ngrams), width)  # (V, width)
        keys = _keys(codes, lengths)
        order = numpy.argsort(keys, kind="stable")
        self.keys, self.codes, self.lengths = keys[order], codes[order], lengths[order]
        self.column_ids = numpy.fromiter(vocabulary.values(), dtype=numpy.int64, count=len(ngrams))[order]
        self.usable = not numpy.any(self.keys[1:] == self.keys[:-1])

    def columns(self, words: list[str]) -> list[bytes]:
        """For each word, the int32 bytes of its n-grams' columns in :func:`char_ngrams` order, -1 for unknown ones.

        The same bytes :class:`~smartmod.text.ngram_caches.CharNgramColumns` computes per word.
        """
        if not self.usable:
            raise RuntimeError("two vocabulary n-grams share a hash; look these words up one by one")
        if not words:
            return []
        min_n, max_n = self.ngram_range
        padded_lengths = numpy.fromiter(map(len, words), dtype=numpy.int64, count=len(words)) + 2  # " word "
        codes = _code_points("".join(f" {word} " for word in words))  # (P,)
        ends = numpy.cumsum(padded_lengths)
        end_of = numpy.repeat(ends, padded_lengths)  # (P,) where the padded word of each position ends
        positions = numpy.arange(codes.size)
        word_of, columns = [], []
        for n in range(min_n, max_n + 1):
            starts = numpy.flatnonzero(positions + n <= end_of)  # windows inside one padded word
            windows = codes[starts[:, None] + numpy.arange(n)]  # (K, n)
            keys = _keys(windows, n)
            candidates = numpy.minimum(numpy.searchsorted(self.keys, keys), max(self.keys.size - 1, 0))
            if self.keys.size:
                hit = (self.keys[candidates] == keys) & (self.lengths[candidates] == n)
                hit &= numpy.all(self.codes[candidates, :n] == windows, axis=1)
                columns.append(numpy.where(hit, self.column_ids[candidates], -1))
            else:
                columns.append(numpy.full(starts.size, -1, dtype=numpy.int64))
            word_of.append(numpy.searchsorted(ends, starts, side="right"))
        word_of_all = numpy.concatenate(word_of)
        order = numpy.argsort(word_of_all, kind="stable")  # by word; within a word by length, then start
        encoded = numpy.concatenate(columns)[order].astype(numpy.int32).tobytes()
        bounds = numpy.concatenate([[0], numpy.cumsum(numpy.bincount(word_of_all, minlength=len(words)))]) * _INT32_BYTES
        return [encoded[start:end] for start, end in zip(bounds[:-1].tolist(), bounds[1:].tolist())]
