"""CharNgramTable: n-gram columns of many words at once, exact even when hashes collide."""
from __future__ import annotations

import numpy
import pytest

from smartmod.text import ngram_table
from smartmod.text.ngram_table import CharNgramTable
from smartmod.text.tokenize import char_ngrams

VOCABULARY = {ngram: column for column, ngram in enumerate(["ab", "b ", " a", "abc", "bc ", "é ", " 😂", "😂 ", " 😂 "])}


def expected(word: str) -> list[int]:
    return [VOCABULARY.get(ngram, -1) for ngram in char_ngrams(word, (2, 3))]


def test_columns_follow_char_ngrams_order_with_unknowns():
    table = CharNgramTable(VOCABULARY, (2, 3))
    words = ["abc", "ab", "", "é", "😂", "zzz", "a"]
    for word, encoded in zip(words, table.columns(words)):
        assert numpy.frombuffer(encoded, dtype=numpy.int32).tolist() == expected(word)
    assert table.columns([]) == []


def test_a_colliding_hash_never_gives_a_column(monkeypatch):
    # every key equal: candidates are found by hash, then refused by comparing code points
    monkeypatch.setattr(ngram_table, "_keys", lambda windows, lengths: numpy.zeros(len(windows), dtype=numpy.uint64))
    table = CharNgramTable({"ab": 0}, (2, 3))
    assert numpy.frombuffer(table.columns(["xy"])[0], dtype=numpy.int32).tolist() == [-1, -1, -1, -1, -1]
    crowded = CharNgramTable({"ab": 0, "cd": 1}, (2, 3))
    assert not crowded.usable
    with pytest.raises(RuntimeError, match="share a hash"):
        crowded.columns(["ab"])


def test_an_empty_vocabulary_knows_nothing():
    table = CharNgramTable({}, (2, 3))
    assert numpy.frombuffer(table.columns(["ab"])[0], dtype=numpy.int32).tolist() == [-1] * 5
