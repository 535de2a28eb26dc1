"""Counting the word and character n-grams of many texts into sparse matrices, fast.

While fitting, the Python work per text is one ``re.findall`` (:func:`word_tokens`), the word
n-grams' ``dict.get`` through C-level ``map``, and one ``bytes.join`` of cached per-word
character n-gram columns (:class:`CharNgramColumns`): words repeat, so a word's character
n-grams are looked up once. Once the vocabularies are fixed (transforming), more is cached per
whitespace-separated piece of the preprocessed text (:class:`PieceFeatures`): its tokens,
restored, with their word and character columns; no token spans whitespace, so a text's
tokens are its pieces' tokens in order, and only the n-grams of two or more words that cross
pieces are looked up per text. The column ids of a batch go to SciPy at once, which sums them
into counts.
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
import scipy.sparse

from smartmod.text.deobfuscate import join_spaced_letters
from smartmod.text.ngram_table import CharNgramTable
from smartmod.text.normalize import folded_words, may_join_spaced_letters, normalize, normalize_word
from smartmod.text.tokenize import char_ngrams, word_ngrams, word_tokens

__all__ = ["CharNgramColumns", "FoldedWordFeatures", "PieceFeatures", "WordPairColumns", "count_ngrams", "transform_cache"]

_CHUNK_SIZE = 4096  # texts counted per batch: bounds the temporary id lists
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
        return _remember(self, word, array("i", _lookup_many(self.vocabulary)(char_ngrams(word, self.ngram_range))).tobytes())

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
    word_columns = _lookup_many(vocabularies["word"]) if "word" in vocabularies else None
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


def _lookup_many(vocabulary: dict[str, int]) -> Callable[[list[str]], Iterator[int]]:
    """A function from n-grams to their columns: -1 when unknown, new columns for a defaultdict."""
    if isinstance(vocabulary, defaultdict):
        return lambda ngrams: map(vocabulary.__getitem__, ngrams)
    return lambda ngrams: map(vocabulary.get, ngrams, itertools.repeat(-1))


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
