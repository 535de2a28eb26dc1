"""Token-id sequences as batches for sequence models: padding, padding masks and length buckets.

Sequence models read a batch as one (N, L) array, so shorter sequences are padded to the longest.
:func:`pad_sequences` pads (before or after the tokens) and returns the padding mask, True at
padded positions, which the recurrent layers, pooling and attention of :mod:`smartmod.nn` take
as ``padding_mask``. Padding is wasted computation: :func:`length_buckets` groups sequences of
similar length into the same batch, and :func:`trim_padding` cuts the columns a batch does not
need, so a batch of short texts costs only its own length.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy

__all__ = ["pad_sequences", "length_buckets", "trim_padding"]


def pad_sequences(
    sequences: Sequence[Sequence[int]],
    max_length: int | None = None,
    padding: str = "post",
    truncating: str = "post",
    pad_id: int = 0,
) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Pad (and truncate) token-id sequences into one array.

    Parameters
    ----------
    sequences : N sequences of int
        Token ids, e.g. from :meth:`smartmod.text.Vocabulary.encode`.
    max_length : int or None
        L, the padded length; None uses the longest sequence's length.
    padding : {"post", "pre"}
        Put the padding after the tokens ("post") or before them ("pre").
    truncating : {"post", "pre"}
        Drop the tokens beyond ``max_length`` at the end ("post") or at the start ("pre").
    pad_id : int
        The id written at padded positions (the vocabulary's padding id).

    Returns
    -------
    ids : int64 array (N, L)
    padding_mask : bool array (N, L)
        True at padded positions.
    """
    for name, value in (("padding", padding), ("truncating", truncating)):
        if value not in ("post", "pre"):
            raise ValueError(f"{name} must be 'post' or 'pre', got {value!r}")
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 0):
        raise ValueError(f"max_length must be None or an integer >= 0, got {max_length!r}")
    rows = [numpy.asarray(sequence, dtype=numpy.int64).reshape(-1) for sequence in sequences]
    length = max((len(row) for row in rows), default=0) if max_length is None else max_length
    ids = numpy.full((len(rows), length), pad_id, dtype=numpy.int64)  # (N, L)
    padding_mask = numpy.ones((len(rows), length), dtype=bool)
    for index, row in enumerate(rows):
        kept = row[:length] if truncating == "post" else row[max(len(row) - length, 0):]
        start = 0 if padding == "post" else length - len(kept)
        ids[index, start:start + len(kept)] = kept
        padding_mask[index, start:start + len(kept)] = False
    return ids, padding_mask


def length_buckets(lengths: Sequence[int], batch_size: int, shuffle: bool = True, seed: int | None = None) -> list[numpy.ndarray]:
    """Batches of row indices whose sequences have similar lengths.

    The rows are sorted by length (ties in random order when shuffling) and cut into batches of
    ``batch_size``; the order of the batches is then shuffled, so training still sees lengths in
    random order while each batch pads only to its own longest sequence.

    Parameters
    ----------
    lengths : N ints
        The length of each sequence.
    batch_size : int
    shuffle : bool
        Shuffle ties and the batch order (False: batches from shortest to longest).
    seed : int or None
        Seed of the shuffle.

    Returns
    -------
    list of int64 arrays, every row index exactly once, each batch ``batch_size`` long but the
    last (the longest sequences when not shuffled).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    lengths = numpy.asarray(lengths).reshape(-1)
    rng = numpy.random.default_rng(seed)
    tie_breaker = rng.random(len(lengths)) if shuffle else numpy.arange(len(lengths))
    order = numpy.lexsort((tie_breaker, lengths))  # by length, then by the tie breaker
    batches = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
    if shuffle:
        batches = [batches[index] for index in rng.permutation(len(batches))]
    return batches


def trim_padding(ids: Any, padding_mask: Any) -> tuple[Any, Any]:
    """Drop the leading and trailing columns that are padding in every row.

    Parameters
    ----------
    ids : array (N, L)
    padding_mask : bool array (N, L), True at padded positions

    Returns
    -------
    ids, padding_mask : arrays (N, L'), L' from the first to the last column with a real token
    (L' = 0 when there is none).
    """
    if numpy.shape(ids) != numpy.shape(padding_mask) or numpy.ndim(ids) != 2:
        raise ValueError(f"ids and padding_mask must be (N, L) arrays of one shape, got {numpy.shape(ids)} and {numpy.shape(padding_mask)}")
    used = numpy.flatnonzero(~numpy.asarray(padding_mask).all(axis=0))  # columns with a real token
    if used.size == 0:
        return ids[:, :0], padding_mask[:, :0]
    columns = slice(int(used[0]), int(used[-1]) + 1)
    return ids[:, columns], padding_mask[:, columns]
