"""Counting the word and character n-grams of many texts into sparse matrices, fast.

While fitting, the Python work per text is one ``re.findall`` (:func:`word_tokens`), the word
n-grams' ``dict.get`` through C-level ``map``, and one ``bytes.join`` of cached per-word
character n-gram columns (:class:`CharNgramColumns`): words repeat, so a word's character
n-grams are looked up once. Once the vocabularies are fixed (transforming), more is cached per
whitespace-separated piece of the preprocessed text (:class:`PieceFeatures`): its tokens,
restored, with their word and character columns; no token spans whitespace, so a text's
tokens are its pieces' tokens in order, and only the n-grams of two or more words that cross
pieces are looked up per text. The column ids of a batch go to SciPy at once, which sums them
into counts. The caches live in :mod:`smartmod.text.ngram_caches`.
"""
from __future__ import annotations

import itertools
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

import numpy
import scipy.sparse

from smartmod.text.ngram_caches import (
    _CHAR_COLUMNS,
    _INT32_BYTES,
    _PAIR_IDS,
    _TOKENS,
    _WORD_COLUMNS,
    CharNgramColumns,
    FoldedWordFeatures,
    PieceFeatures,
    WordPairColumns,
    lookup_many,
    transform_cache,
)
from smartmod.text.normalize import folded_words
from smartmod.text.tokenize import word_ngrams, word_tokens

__all__ = ["CharNgramColumns", "FoldedWordFeatures", "PieceFeatures", "WordPairColumns", "count_ngrams", "transform_cache"]

_CHUNK_SIZE = 4096  # texts counted per batch: bounds the temporary id lists


def count_ngrams(
    texts: Iterable[str],
    vocabularies: dict[str, dict[str, int]],
    word_ngram_range: tuple[int, int],
    char_columns: CharNgramColumns | None,
    keep_emoji: bool,
    preprocess: Callable[[str], str] | None,
    restore: Callable[[list[str]], list[str]] | None = None,
    piece_features: PieceFeatures | FoldedWordFeatures | None = None,
    layout: str = "csr",
) -> list[scipy.sparse.csr_matrix]:
    """How often each n-gram of ``vocabularies`` occurs in each text.

    Parameters
    ----------
    texts : iterable of N str
    vocabularies : dict of str to dict of str to int
        ``"word"`` and/or ``"char"``: n-gram → column. A ``defaultdict`` numbering new keys
        (``defaultdict(itertools.count().__next__)``) learns every n-gram it meets.
    word_ngram_range : (int, int)
        For the ``"word"`` vocabulary.
    char_columns : CharNgramColumns or None
        The per-word cache over ``vocabularies["char"]``; needed when that key is present.
    keep_emoji : bool
        Emoji are tokens (:func:`word_tokens`).
    preprocess : callable or None
        Applied to each text before tokenization.
    restore : callable or None
        Maps each text's word tokens to the tokens to count (an
        :class:`~smartmod.text.restore.ObfuscationRestorer`).
    piece_features : PieceFeatures or FoldedWordFeatures or None
        The per-piece cache over the same (fixed) vocabularies, ``char_columns`` and
        ``restore`` (or the per-word cache over it, when ``preprocess`` is :func:`normalize`
        with its ``segment``): the fast path for transforming. The counts are the same without it.
    layout : {"csr", "csc"}
        The sparse layout of the matrices returned; ``"csc"`` (for fixed vocabularies) skips
        the conversion to rows that counting otherwise ends with.

    Returns
    -------
    list of scipy.sparse.csr_matrix, each (N, len(vocabulary)), float64
        One per vocabulary, in the order of ``vocabularies``; indices sorted within rows.
    """
    if isinstance(texts, str):
        raise TypeError("texts must be an iterable of str (one per document), got a single str; wrap it in a list")
    if layout not in ("csr", "csc"):
        raise ValueError(f"layout must be 'csr' or 'csc', got {layout!r}")
    if piece_features is not None:
        chunks = [_count_chunk_by_pieces(chunk, start, vocabularies, preprocess, piece_features, layout)
                  for start, chunk in _chunks(texts, _CHUNK_SIZE)]
    else:
        chunks = [_count_chunk(chunk, start, vocabularies, word_ngram_range, char_columns, keep_emoji, preprocess, restore)
                  for start, chunk in _chunks(texts, _CHUNK_SIZE)]
    if layout == "csc":
        if any(isinstance(vocabulary, defaultdict) for vocabulary in vocabularies.values()):
            raise ValueError("layout='csc' needs fixed vocabularies; while fitting, counts are rows (csr)")
        chunks = [[matrix.tocsc() for matrix in matrices] for matrices in chunks]  # no-op for the fast path's
        return [
            scipy.sparse.vstack([matrices[position] for matrices in chunks], format="csc") if len(chunks) > 1
            else chunks[0][position] if chunks else scipy.sparse.csc_matrix((0, len(vocabulary)))
            for position, vocabulary in enumerate(vocabularies.values())
        ]
    counts = []
    for position, vocabulary in enumerate(vocabularies.values()):
        width = len(vocabulary)  # the first chunks of a fit saw fewer n-grams: widen them
        widened = [scipy.sparse.csr_matrix((c.data, c.indices, c.indptr), shape=(c.shape[0], width)) for c in (matrices[position] for matrices in chunks)]
        counts.append(scipy.sparse.vstack(widened, format="csr") if widened else scipy.sparse.csr_matrix((0, width)))
    return counts


def _count_chunk(
    texts: list[str],
    start: int,
    vocabularies: dict[str, dict[str, int]],
    word_ngram_range: tuple[int, int],
    char_columns: CharNgramColumns | None,
    keep_emoji: bool,
    preprocess: Callable[[str], str] | None,
    restore: Callable[[list[str]], list[str]] | None,
) -> list[scipy.sparse.csr_matrix]:
    """:func:`count_ngrams` for the texts numbered from ``start``; widths are the vocabularies' sizes so far."""
    word_columns = lookup_many(vocabularies["word"]) if "word" in vocabularies else None
    char_columns_of = char_columns.__getitem__ if "char" in vocabularies else None
    word_ids: list[int] = []
    word_ends: list[int] = []
    char_ids: list[bytes] = []  # int32 bytes, one entry per text
    char_ends: list[int] = []  # in bytes
    char_length = 0
    for index, text in enumerate(texts, start):
        if not isinstance(text, str):
            raise TypeError(f"texts[{index}] is {type(text).__name__}, expected str")
        tokens = word_tokens(preprocess(text) if preprocess is not None else text, keep_emoji)
        if restore is not None:
            tokens = restore(tokens)
        if word_columns is not None:
            word_ids.extend(word_columns(word_ngrams(tokens, word_ngram_range)))
            word_ends.append(len(word_ids))
        if char_columns_of is not None:
            encoded = b"".join(map(char_columns_of, tokens))
            char_ids.append(encoded)
            char_length += len(encoded)
            char_ends.append(char_length)
    matrices = []
    if word_columns is not None:
        matrices.append(_count_matrix(numpy.array(word_ids, dtype=numpy.int64), numpy.array(word_ends), len(vocabularies["word"])))
    if char_columns_of is not None:
        columns = numpy.frombuffer(b"".join(char_ids), dtype=numpy.int32)
        matrices.append(_count_matrix(columns, numpy.array(char_ends) // _INT32_BYTES, len(vocabularies["char"])))
    return matrices




def _count_chunk_by_pieces(
    texts: list[str],
    start: int,
    vocabularies: dict[str, dict[str, int]],
    preprocess: Callable[[str], str] | None,
    features: PieceFeatures | FoldedWordFeatures,
    layout: str = "csr",
) -> list[scipy.sparse.csr_matrix]:
    """:func:`_count_chunk` for fixed vocabularies, from the cached features of each text's
    pieces (or, for :class:`FoldedWordFeatures`, of its folded words; ``preprocess`` is then
    the normalization they stand for, and is not called)."""
    folded = isinstance(features, FoldedWordFeatures)
    pieces = features.pieces if folded else features
    word_vocabulary, pairs, longer = vocabularies.get("word"), pieces.pairs, pieces.longer
    word_ids: list[bytes] = []  # int32 bytes, one entry per text
    pair_ids: list[bytes] = []
    char_ids: list[bytes] = []
    word_lists = []
    for index, text in enumerate(texts, start):
        if not isinstance(text, str):
            raise TypeError(f"texts[{index}] is {type(text).__name__}, expected str")
        word_lists.append(folded_words(text) if folded else (preprocess(text) if preprocess is not None else text).split())
    features.fill(itertools.chain.from_iterable(word_lists))  # the chunk's new words, together
    for text, words in zip(texts, word_lists):
        entries = features.entries(text, words) if folded else list(map(features.__getitem__, words))
        if word_vocabulary is not None:
            encoded = b"".join(map(_WORD_COLUMNS, entries))
            if longer:  # three words or more: joined and looked up one by one
                tokens = list(itertools.chain.from_iterable(map(_TOKENS, entries)))
                for n in longer:
                    ngrams = map(" ".join, zip(*(tokens[offset:] for offset in range(n))))
                    encoded += array("i", map(word_vocabulary.get, ngrams, itertools.repeat(-1))).tobytes()
            word_ids.append(encoded)
            if pairs is not None:
                pair_ids.append(b"".join(map(_PAIR_IDS, entries)))
        if "char" in vocabularies:
            char_ids.append(b"".join(map(_CHAR_COLUMNS, entries)))
    matrices = []
    for name in vocabularies:
        columns, ends = _joined(word_ids if name == "word" else char_ids)
        rows = numpy.repeat(numpy.arange(len(texts)), numpy.diff(ends, prepend=0))
        if name == "word" and pairs is not None:
            pair_rows, pair_columns = pairs.pair_columns(*_joined(pair_ids))
            rows, columns = numpy.concatenate([rows, pair_rows]), numpy.concatenate([columns, pair_columns])
        matrices.append(_counts(rows, columns, len(texts), len(vocabularies[name]), layout))
    return matrices


def _joined(encoded: list[bytes]) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The int32 ids of every row, one after another, and where each row ends."""
    ends = numpy.fromiter(itertools.accumulate(map(len, encoded)), dtype=numpy.int64, count=len(encoded)) // _INT32_BYTES
    return numpy.frombuffer(b"".join(encoded), dtype=numpy.int32), ends


def _count_matrix(columns: numpy.ndarray, ends: numpy.ndarray, n_columns: int) -> scipy.sparse.csr_matrix:
    """How often each column occurs in each row, shape (len(ends), n_columns).

    ``columns[ends[i - 1]:ends[i]]`` are the column ids of row ``i``; -1 (unknown n-gram) is skipped.
    """
    rows = numpy.repeat(numpy.arange(len(ends)), numpy.diff(ends, prepend=0))
    return _counts(rows, columns, len(ends), n_columns)


def _counts(rows: numpy.ndarray, columns: numpy.ndarray, n_rows: int, n_columns: int, layout: str = "csr") -> scipy.sparse.csr_matrix:
    """How often each ``(row, column)`` pair occurs, shape (n_rows, n_columns), in ``layout``; column -1 is skipped."""
    known = columns >= 0
    ones = numpy.ones(int(known.sum()), dtype=numpy.float64)
    # COO to CSC sums the duplicates, the count of each (row, column), and CSC to CSR (a
    # counting transpose) leaves each row's columns sorted whatever order the pairs came in
    counts = scipy.sparse.csc_matrix((ones, (rows[known], columns[known])), shape=(n_rows, n_columns))
    if layout == "csc":
        counts.sum_duplicates()  # canonical: one sorted entry per (row, column)
        return counts
    return counts.tocsr()


def _chunks(texts: Iterable[str], size: int) -> Iterator[tuple[int, list[str]]]:
    """``(start, texts[start:start + size])`` for consecutive chunks of an iterable."""
    iterator, start = iter(texts), 0
    while chunk := list(itertools.islice(iterator, size)):
        yield start, chunk
        start += len(chunk)
