"""Vocabulary: padding 0, OOV 1, most frequent tokens next, JSON round trip."""
from __future__ import annotations

import json

import numpy
import pytest

from smartmod.text.vocab import Vocabulary

TEXTS = [["the", "cat", "sat"], ["the", "dog", "sat"], ["the", "cat", "ran"], ["a", "bird"]]


def test_special_tokens_come_first_then_frequency_then_alphabet():
    vocabulary = Vocabulary().fit(TEXTS)
    # the: 3; cat, sat: 2; a, bird, dog, ran: 1
    assert vocabulary.tokens_ == ["<pad>", "<oov>", "the", "cat", "sat", "a", "bird", "dog", "ran"]
    assert vocabulary.pad_id == 0 and vocabulary.oov_id == 1


def test_min_count_drops_rare_tokens():
    assert Vocabulary(min_count=2).fit(TEXTS).tokens_[2:] == ["the", "cat", "sat"]


def test_max_size_keeps_the_most_frequent_ties_by_token():
    vocabulary = Vocabulary(max_size=4).fit(TEXTS)
    assert vocabulary.tokens_[2:] == ["the", "cat", "sat", "a"]
    assert len(vocabulary) == 6


def test_unknown_tokens_encode_to_oov():
    vocabulary = Vocabulary(min_count=2).fit(TEXTS)
    ids = vocabulary.encode(["the", "zebra", "cat"])
    assert ids.dtype == numpy.int64
    assert ids.tolist() == [2, 1, 3]


def test_decode_inverts_encode_and_skips_padding():
    vocabulary = Vocabulary().fit(TEXTS)
    assert vocabulary.decode([2, 3, 0, 0]) == ["the", "cat"]
    assert vocabulary.decode(vocabulary.encode(["dog", "zebra"])) == ["dog", "<oov>"]


def test_decode_rejects_an_unknown_id():
    with pytest.raises(ValueError, match=r"ids\[1\] = 99"):
        Vocabulary().fit(TEXTS).decode([2, 99])


def test_encode_batch_pads_on_the_right_and_truncates():
    vocabulary = Vocabulary().fit(TEXTS)
    assert vocabulary.encode_batch([["the", "cat"], ["the"]]).tolist() == [[2, 3], [2, 0]]
    assert vocabulary.encode_batch([["the", "cat", "sat"], []], max_length=2).tolist() == [[2, 3], [0, 0]]


def test_special_tokens_in_the_data_are_not_counted():
    vocabulary = Vocabulary().fit([["<pad>", "<oov>", "x"]])
    assert vocabulary.tokens_ == ["<pad>", "<oov>", "x"]
    assert vocabulary.encode(["<pad>", "<oov>"]).tolist() == [0, 1]


def test_json_round_trip_keeps_everything():
    vocabulary = Vocabulary(min_count=1, max_size=5, pad_token="[PAD]", oov_token="[UNK]").fit(TEXTS)
    restored = Vocabulary.from_dict(json.loads(json.dumps(vocabulary.to_dict())))
    assert restored.tokens_ == vocabulary.tokens_
    assert restored.counts_ == vocabulary.counts_
    assert (restored.min_count, restored.max_size, restored.pad_token, restored.oov_token) == (1, 5, "[PAD]", "[UNK]")
    assert restored.encode(["cat", "nope"]).tolist() == vocabulary.encode(["cat", "nope"]).tolist()


def test_from_dict_rejects_foreign_data():
    with pytest.raises(ValueError, match="not a smartmod vocabulary"):
        Vocabulary.from_dict({"tokens": []})


def test_a_string_instead_of_a_token_list_is_a_type_error():
    with pytest.raises(TypeError, match=r"token_lists\[1\] is a str"):
        Vocabulary().fit([["ok"], "not split"])


def test_an_unfitted_vocabulary_says_so():
    with pytest.raises(RuntimeError, match="not fitted"):
        Vocabulary().encode(["x"])


@pytest.mark.parametrize(("argument", "value"), [("min_count", 0), ("max_size", -1)])
def test_bad_settings_are_clear_errors(argument, value):
    with pytest.raises(ValueError, match=argument):
        Vocabulary(**{argument: value}).fit(TEXTS)
