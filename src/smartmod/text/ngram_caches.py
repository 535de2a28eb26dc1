"""The caches that make counting n-grams with fixed vocabularies fast (see
:mod:`smartmod.text.ngram_counts`): per word, its character n-gram columns
(:class:`CharNgramColumns`); per whitespace-free piece of preprocessed text, its tokens and
columns (:class:`PieceFeatures`); per folded word, its piece entries merged
(:class:`FoldedWordFeatures`); and two-word n-grams found for a whole batch at once
(:class:`WordPairColumns`). Each cache is bounded: it empties itself when full.
"""
from __future__ import annotations

import functools
import itertools
import operator
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy

from smartmod.text.deobfuscate import join_spaced_letters
from smartmod.text.ngram_table import CharNgramTable
from smartmod.text.normalize import may_join_spaced_letters, normalize, normalize_word
from smartmod.text.tokenize import char_ngrams, word_tokens

__all__ = ["CharNgramColumns", "FoldedWordFeatures", "PieceFeatures", "WordPairColumns", "transform_cache", "lookup_many"]

_CACHE_SIZE = 1 << 17  # words whose character n-gram columns are remembered
_INT32_BYTES = 4
# fields of a PieceFeatures entry, then the two FoldedWordFeatures adds
_TOKENS, _WORD_COLUMNS, _CHAR_COLUMNS, _PAIR_IDS, _NORMALIZED, _MAY_JOIN = (operator.itemgetter(position) for position in range(6))


def _remember(cache: dict, key: str, value: Any) -> Any:
    """Store ``value`` under ``key`` in a bounded cache, emptying it first when full; returns ``value``."""
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value


def _new_keys(cache: dict, keys: Iterable[str]) -> list[str]:
    """The distinct ``keys`` a bounded cache does not hold, in order. When they would overfill
    it, the cache is emptied and only as many as it holds are returned (others are computed when met)."""
    new = list(dict.fromkeys([key for key in keys if key not in cache]))  # most keys are held: filter first
    if len(cache) + len(new) > _CACHE_SIZE:
        cache.clear()
        new = new[:_CACHE_SIZE]
    return new


class CharNgramColumns(dict):
    """word → the columns of its character n-grams (:func:`char_ngrams`), as int32 bytes.

    Filled on first use of each word. An unknown n-gram is column -1 (skipped when counting),
    or, when ``vocabulary`` is a ``defaultdict`` that numbers new keys (while fitting), gets
    the next column. Empties itself when it holds ``2 ** 17`` words, so memory stays bounded
    on endless streams of new words.
    """

    def __init__(self, vocabulary: dict[str, int], ngram_range: tuple[int, int]):
        super().__init__()
        self.vocabulary = vocabulary
        self.ngram_range = ngram_range

    def __missing__(self, word: str) -> bytes:
        return _remember(self, word, array("i", lookup_many(self.vocabulary)(char_ngrams(word, self.ngram_range))).tobytes())

    def fill(self, words: Iterable[str]) -> None:
        """Compute the columns of the ``words`` not yet held, all together (:class:`CharNgramTable`).

        For a fixed vocabulary only (transforming); the bytes are those :meth:`__missing__` gives.
        """
        if isinstance(self.vocabulary, defaultdict):
            raise TypeError("fill needs a fixed vocabulary; while fitting, words are numbered one by one")
        table = getattr(self, "_table", None)
        if table is None:
            table = self._table = CharNgramTable(self.vocabulary, self.ngram_range)
        if table.usable:  # else looked up one by one when used
            new = _new_keys(self, words)
            self.update(zip(new, table.columns(new)))

    def renumbered(self, new_columns: numpy.ndarray, vocabulary: dict[str, int]) -> CharNgramColumns:
        """This cache for ``vocabulary``, whose column for old column ``c`` is ``new_columns[c]`` (-1: dropped).

        Fitting fills the cache with the columns of every n-gram seen; renumbering it keeps
        the work done for the words of the training texts, which are most words to come.
        Only a cache filled while fitting (no unknown n-grams) can be renumbered.
        """
        renumbered = CharNgramColumns(vocabulary, self.ngram_range)
        old = numpy.frombuffer(b"".join(self.values()), dtype=numpy.int32)
        if old.size and old.min() < 0:
            raise ValueError("this cache holds unknown n-grams (column -1); only a cache filled while fitting can be renumbered")
        encoded = new_columns[old].astype(numpy.int32).tobytes()
        ends = itertools.accumulate(map(len, self.values()))
        renumbered.update(zip(self, (encoded[start:end] for start, end in itertools.pairwise(itertools.chain([0], ends)))))
        return renumbered


class WordPairColumns:
    """The columns of a word vocabulary's two-word n-grams, found for many token pairs at once.

    Every word that starts or ends a two-word entry gets an id; entry ``"a b"`` is the number
    ``id(a) * W + id(b)`` (``W`` such words), kept sorted, so the pairs of a whole batch are
    looked up by one ``searchsorted`` instead of one string join and dictionary probe each.
    """

    def __init__(self, vocabulary: dict[str, int]):
        pairs = [(ngram.split(" "), column) for ngram, column in vocabulary.items() if ngram.count(" ") == 1]
        words = sorted({word for (first, second), _ in pairs for word in (first, second)})
        self.ids = {word: index for index, word in enumerate(words)}
        self.width = len(words)
        keys = numpy.array([self.ids[first] * self.width + self.ids[second] for (first, second), _ in pairs], dtype=numpy.int64)
        order = numpy.argsort(keys)
        self.keys = keys[order]  # (P,)
        self.columns = numpy.array([column for _, column in pairs], dtype=numpy.int64)[order]  # (P,)

    def token_ids(self, tokens: list[str]) -> bytes:
        """Each token's id as int32 bytes; -1 for a word no two-word entry holds."""
        return array("i", map(self.ids.get, tokens, itertools.repeat(-1))).tobytes()

    def pair_columns(self, ids: numpy.ndarray, ends: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
        """``(rows, columns)`` of the known two-word n-grams of each row's consecutive tokens.

        ``ids[ends[i - 1]:ends[i]]`` are row ``i``'s token ids (:meth:`token_ids`).
        """
        if ids.size < 2 or not self.keys.size:
            return numpy.zeros(0, dtype=numpy.int64), numpy.zeros(0, dtype=numpy.int64)
        first, second = ids[:-1].astype(numpy.int64), ids[1:].astype(numpy.int64)
        rows = numpy.repeat(numpy.arange(len(ends)), numpy.diff(ends, prepend=0))[:-1]  # the row of each pair's first token
        within = numpy.ones(first.size, dtype=bool)
        within[ends[(ends > 0) & (ends < ids.size)] - 1] = False  # a row's last token pairs with the next row's first
        keys = numpy.where(within & (first >= 0) & (second >= 0), first * self.width + second, -1)
        positions = numpy.minimum(numpy.searchsorted(self.keys, keys), self.keys.size - 1)
        found = self.keys[positions] == keys
        return rows[found], self.columns[positions[found]]


class PieceFeatures(dict):
    """A whitespace-free piece of preprocessed text → ``(tokens, word columns, char columns, pair ids)``.

    ``tokens`` are the piece's word tokens (:func:`word_tokens`), restored when ``restore`` is
    given; the columns, as int32 bytes, are those of the tokens in ``word_vocabulary`` (when
    ``word_ngram_range`` starts at 1) and of their character n-grams (``char_columns``); -1
    marks an unknown n-gram. ``pair ids`` are the tokens' :meth:`WordPairColumns.token_ids`
    (``pairs``, when the range holds 2). For fixed vocabularies only. Empties itself when it
    holds ``2 ** 17`` pieces.
    """

    def __init__(self, word_vocabulary: dict[str, int] | None, word_ngram_range: tuple[int, int], char_columns: CharNgramColumns | None,
                 keep_emoji: bool, restore: Callable[[list[str]], list[str]] | None):
        super().__init__()
        if isinstance(word_vocabulary, defaultdict) or (char_columns is not None and isinstance(char_columns.vocabulary, defaultdict)):
            raise TypeError("PieceFeatures needs fixed vocabularies; a numbering defaultdict (fitting) would skip n-grams")
        self.made_for = (word_vocabulary, tuple(word_ngram_range), char_columns, bool(keep_emoji), restore)
        self.word_vocabulary, self.char_columns = word_vocabulary, char_columns
        self.keep_emoji, self.restore = keep_emoji, restore
        min_n, max_n = word_ngram_range
        self.unigrams = word_vocabulary is not None and min_n == 1
        self.pairs = WordPairColumns(word_vocabulary) if word_vocabulary is not None and min_n <= 2 <= max_n else None
        self.longer = range(max(min_n, 3), max_n + 1) if word_vocabulary is not None else range(0)  # looked up as strings

    def __missing__(self, piece: str) -> tuple[tuple[str, ...], bytes, bytes, bytes]:
        return _remember(self, piece, self._entry(self._tokens(piece)))

    def fill(self, pieces: Iterable[str]) -> None:
        """Compute the entries of the ``pieces`` not yet held, their new words' character columns all together."""
        new = _new_keys(self, pieces)
        tokens = list(map(self._tokens, new))
        if self.char_columns is not None:
            self.char_columns.fill(itertools.chain.from_iterable(tokens))
        self.update(zip(new, map(self._entry, tokens)))

    def _tokens(self, piece: str) -> list[str]:
        tokens = word_tokens(piece, self.keep_emoji)
        return self.restore(tokens) if self.restore is not None else tokens

    def _entry(self, tokens: list[str]) -> tuple[tuple[str, ...], bytes, bytes, bytes]:
        word = array("i", map(self.word_vocabulary.get, tokens, itertools.repeat(-1))).tobytes() if self.unigrams else b""
        chars = b"".join(map(self.char_columns.__getitem__, tokens)) if self.char_columns is not None else b""
        pair_ids = self.pairs.token_ids(tokens) if self.pairs is not None else b""
        return tuple(tokens), word, chars, pair_ids


class FoldedWordFeatures(dict):
    """For texts preprocessed by :func:`~smartmod.text.normalize.normalize`: a word of
    :func:`~smartmod.text.normalize.folded_words` → its :class:`PieceFeatures` entry (the
    pieces of its normalized form, merged) plus that normalized form and whether it
    :func:`~smartmod.text.normalize.may_join_spaced_letters`.

    A text's entries are then looked up straight from its folded words, without building the
    normalized text and splitting it again; only a text whose spaced letters normalization
    joins (``f u c k``) goes the long way, through ``normalize(text, segment=segment)``.
    Empties itself when it holds ``2 ** 17`` words.
    """

    def __init__(self, pieces: PieceFeatures, segment: Callable[[str], str] | None):
        super().__init__()
        self.pieces, self.segment = pieces, segment

    def __missing__(self, word: str) -> tuple:
        return _remember(self, word, self._entry(word, normalize_word(word)))

    def fill(self, words: Iterable[str]) -> None:
        """Compute the entries of the ``words`` not yet held, their pieces' all together (:meth:`PieceFeatures.fill`)."""
        new = _new_keys(self, words)
        normalized = list(map(normalize_word, new))
        self.pieces.fill(itertools.chain.from_iterable(map(str.split, normalized)))
        self.update(zip(new, map(self._entry, new, normalized)))

    def _entry(self, word: str, normalized: str) -> tuple:
        parts = list(map(self.pieces.__getitem__, normalized.split()))
        if len(parts) == 1:
            return (*parts[0], normalized, may_join_spaced_letters(normalized))
        tokens = tuple(itertools.chain.from_iterable(map(_TOKENS, parts)))
        return (tokens, *(b"".join(map(field, parts)) for field in (_WORD_COLUMNS, _CHAR_COLUMNS, _PAIR_IDS)),
                normalized, may_join_spaced_letters(normalized))

    def entries(self, text: str, words: list[str]) -> list[tuple]:
        """The entries of ``words`` (``folded_words(text)``), or of ``text``'s normalized pieces when spaced letters join."""
        entries = list(map(self.__getitem__, words))
        if any(map(_MAY_JOIN, entries)):
            normalized = " ".join(map(_NORMALIZED, entries))
            if join_spaced_letters(normalized, self.segment) != normalized:
                return list(map(self.pieces.__getitem__, normalize(text, segment=self.segment).split()))
        return entries


def transform_cache(
    cached: PieceFeatures | FoldedWordFeatures | None,
    vocabularies: dict[str, dict[str, int]],
    word_ngram_range: tuple[int, int],
    char_columns: CharNgramColumns | None,
    keep_emoji: bool,
    restore: Callable[[list[str]], list[str]] | None,
    preprocess: Callable[[str], str] | None,
) -> PieceFeatures | FoldedWordFeatures | None:
    """The ``piece_features`` for :func:`count_ngrams`: ``cached`` (what this returned the last
    time) when it was made for the same vocabularies and settings, else a new cache; a
    :class:`FoldedWordFeatures` when ``preprocess`` is :func:`normalize` (with or without its
    ``segment``); None for growing vocabularies (fitting)."""
    if any(isinstance(vocabulary, defaultdict) for vocabulary in vocabularies.values()):
        return None
    made_for = (vocabularies.get("word"), tuple(word_ngram_range), char_columns, bool(keep_emoji), restore)
    pieces = cached.pieces if isinstance(cached, FoldedWordFeatures) else cached
    if pieces is None or not all(a is b or (isinstance(a, (tuple, bool)) and a == b) for a, b in zip(pieces.made_for, made_for)):
        pieces = PieceFeatures(*made_for)
    if preprocess is normalize:
        segment = None
    elif isinstance(preprocess, functools.partial) and preprocess.func is normalize and not preprocess.args and set(preprocess.keywords) == {"segment"}:
        segment = preprocess.keywords["segment"]  # as CountVectorizer restores obfuscated words
    else:
        return pieces
    if isinstance(cached, FoldedWordFeatures) and cached.pieces is pieces and cached.segment == segment:
        return cached
    return FoldedWordFeatures(pieces, segment)


def lookup_many(vocabulary: dict[str, int]) -> Callable[[list[str]], Iterator[int]]:
    """A function from n-grams to their columns: -1 when unknown, new columns for a defaultdict."""
    if isinstance(vocabulary, defaultdict):
        return lambda ngrams: map(vocabulary.__getitem__, ngrams)
    return lambda ngrams: map(vocabulary.get, ngrams, itertools.repeat(-1))
