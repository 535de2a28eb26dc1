"""Padding, padding masks, length buckets and trimming of token-id sequences."""
from __future__ import annotations

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartmod.text.sequences import length_buckets, pad_sequences, trim_padding

SEQUENCES = [[5, 6, 7], [8], [], [9, 10, 11, 12]]


def test_post_padding_puts_the_tokens_first():
    ids, padding_mask = pad_sequences(SEQUENCES)
    numpy.testing.assert_array_equal(ids, [[5, 6, 7, 0], [8, 0, 0, 0], [0, 0, 0, 0], [9, 10, 11, 12]])
    numpy.testing.assert_array_equal(padding_mask, ids == 0)
    assert ids.dtype == numpy.int64 and padding_mask.dtype == bool


def test_pre_padding_puts_the_tokens_last():
    ids, padding_mask = pad_sequences(SEQUENCES, padding="pre", pad_id=-1)
    numpy.testing.assert_array_equal(ids, [[-1, 5, 6, 7], [-1, -1, -1, 8], [-1, -1, -1, -1], [9, 10, 11, 12]])
    numpy.testing.assert_array_equal(padding_mask, ids == -1)


@pytest.mark.parametrize("truncating, kept", [("post", [9, 10]), ("pre", [11, 12])])
def test_truncation_keeps_the_start_or_the_end(truncating, kept):
    ids, padding_mask = pad_sequences(SEQUENCES, max_length=2, truncating=truncating)
    numpy.testing.assert_array_equal(ids[3], kept)
    numpy.testing.assert_array_equal(ids[1], [8, 0])
    assert not padding_mask[3].any()


def test_an_empty_batch_and_length_zero():
    ids, padding_mask = pad_sequences([])
    assert ids.shape == padding_mask.shape == (0, 0)
    assert pad_sequences(SEQUENCES, max_length=0)[0].shape == (4, 0)


@pytest.mark.parametrize("arguments, message", [({"padding": "left"}, "padding must be"), ({"truncating": "end"}, "truncating must be"), ({"max_length": -1}, "max_length")])
def test_bad_arguments_are_explained(arguments, message):
    with pytest.raises(ValueError, match=message):
        pad_sequences(SEQUENCES, **arguments)


@given(st.lists(st.integers(0, 40), max_size=60), st.integers(1, 8), st.booleans(), st.integers(0, 100))
def test_buckets_hold_every_row_once_and_similar_lengths_together(lengths, batch_size, shuffle, seed):
    batches = length_buckets(lengths, batch_size, shuffle=shuffle, seed=seed)
    rows = numpy.concatenate(batches) if batches else numpy.array([], dtype=int)
    numpy.testing.assert_array_equal(numpy.sort(rows), numpy.arange(len(lengths)))
    assert all(len(batch) == batch_size for batch in batches[:-1] if not shuffle)
    assert sum(len(batch) < batch_size for batch in batches) <= 1
    # the batches partition the sorted lengths: no two batches' length ranges overlap inside
    spans = sorted((min(numpy.asarray(lengths)[b]), max(numpy.asarray(lengths)[b])) for b in batches)
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:]))


def test_buckets_without_shuffling_go_from_short_to_long():
    batches = length_buckets([5, 1, 3, 2, 4], 2, shuffle=False)
    assert [batch.tolist() for batch in batches] == [[1, 3], [2, 4], [0]]


def test_bucket_size_must_be_positive():
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        length_buckets([1, 2], 0)


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_trimming_drops_columns_that_are_padding_in_every_row(padding):
    ids, padding_mask = pad_sequences([[1, 2], [3]], max_length=5, padding=padding)
    trimmed, trimmed_mask = trim_padding(ids, padding_mask)
    expected, expected_mask = pad_sequences([[1, 2], [3]], padding=padding)
    numpy.testing.assert_array_equal(trimmed, expected)
    numpy.testing.assert_array_equal(trimmed_mask, expected_mask)
    assert trim_padding(ids[:, :0], padding_mask[:, :0])[0].shape == (2, 0)
