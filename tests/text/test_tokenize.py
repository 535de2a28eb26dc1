"""Word tokens, word n-grams and character n-grams within word boundaries."""
from __future__ import annotations

import pytest

from smartmod.text.tokenize import char_ngrams, char_wb_ngrams, check_ngram_range, word_ngrams, word_tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("xxuser you're so dumb!!! xxurl", ["xxuser", "you're", "so", "dumb", "xxurl"]),
        ("don't, won't; can't.", ["don't", "won't", "can't"]),
        ("b*ll*cks *sigh*", ["b*ll*cks", "sigh"]),
        ("well-known e-mail", ["well", "known", "e", "mail"]),
        ("xxnum , xxnum", ["xxnum", "xxnum"]),
        ("", []),
        ("  !!! ... ", []),
    ],
)
def test_word_tokens(text, expected):
    assert word_tokens(text) == expected


def test_each_emoji_is_a_token_and_flags_are_pairs():
    assert word_tokens("lol😂😂 go 🇺🇸! 👍🏽") == ["lol", "😂", "😂", "go", "🇺🇸", "👍"]


def test_emoji_can_be_dropped():
    assert word_tokens("lol😂 go", keep_emoji=False) == ["lol", "go"]


def test_word_ngrams_are_joined_by_a_space_shorter_first():
    assert word_ngrams(["a", "b", "c", "d"], (1, 3)) == ["a", "b", "c", "d", "a b", "b c", "c d", "a b c", "b c d"]


def test_word_ngrams_of_a_range_without_unigrams():
    assert word_ngrams(["a", "b", "c"], (2, 2)) == ["a b", "b c"]


def test_word_ngrams_longer_than_the_text_are_absent():
    assert word_ngrams(["a"], (1, 3)) == ["a"]
    assert word_ngrams([], (1, 2)) == []


def test_char_ngrams_are_padded_with_spaces():
    assert char_ngrams("hey", (2, 3)) == [" h", "he", "ey", "y ", " he", "hey", "ey "]


def test_char_ngrams_longer_than_the_padded_word_are_absent():
    assert char_ngrams("a", (2, 5)) == [" a", "a ", " a "]


def test_char_wb_ngrams_concatenate_the_words_ngrams():
    assert char_wb_ngrams(["ab", "c"], (3, 3)) == [" ab", "ab ", " c "]


@pytest.mark.parametrize("ngram_range", [(0, 2), (3, 2), (1.5, 2), (1, 2, 3), "12", None])
def test_a_bad_ngram_range_is_a_clear_error(ngram_range):
    with pytest.raises(ValueError, match="ngram_range must be a pair"):
        check_ngram_range(ngram_range)


@pytest.mark.parametrize("function", [word_ngrams, char_ngrams])
def test_ngram_functions_reject_an_empty_range(function):
    with pytest.raises(ValueError, match="1 <= min_n <= max_n"):
        function(["a"] if function is word_ngrams else "a", (2, 1))
