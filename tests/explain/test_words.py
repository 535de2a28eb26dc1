"""Words of the original text: offsets that round-trip, obfuscated words kept whole, and word removal."""
from __future__ import annotations

import numpy
import pytest

from smartmod.explain.words import Word, split_words, without_words


def texts_of(text: str) -> list[str]:
    return [word.text for word in split_words(text)]


@pytest.mark.parametrize(
    "text",
    [
        "you f*ck, f**k and f***!",
        "what an i d i o t.",
        "ｆｕｃｋ you 😂😂 🇫🇷 ok",
        "naïve café ДУРАК 白痴",
        "@USER (stupid) https://t.co/x?a=1 &amp; 1d10t!!!",
        "  tabs\tand\nnewlines  ",
    ],
)
def test_every_word_round_trips_to_its_offsets(text):
    words = split_words(text)
    assert words
    for word in words:
        assert text[word.start:word.end] == word.text
    assert all(before.end <= after.start for before, after in zip(words, words[1:]))


def test_punctuation_around_a_word_is_trimmed_but_masks_and_mentions_stay():
    assert texts_of('"Stupid!!!" (you) f*** @user sh*t...') == ["Stupid", "you", "f***", "@user", "sh*t"]


def test_spaced_out_letters_are_one_word():
    assert texts_of("you are an i d i o t, a f. u. c. k and s-h-i-t") == ["you", "are", "an", "i d i o t", "a", "f. u. c. k", "and", "s-h-i-t"]


def test_emoji_and_non_ascii_words_are_words():
    assert texts_of("naïve 😂 白痴") == ["naïve", "😂", "白痴"]


@pytest.mark.parametrize("text", ["", "   \n\t ", "!!! ... ---"])
def test_text_without_words_has_none(text):
    assert split_words(text) == []


def test_split_words_refuses_a_non_string():
    with pytest.raises(TypeError, match="str"):
        split_words(["a list"])


def test_removed_words_leave_a_boundary_and_the_rest_untouched():
    text = "a f*ck1ng i d i o t!"
    words = split_words(text)
    assert without_words(text, words, numpy.array([True, False, True])) == "a | i d i o t!"
    assert without_words(text, words, numpy.ones(3, dtype=bool)) == text
    assert words[1] == Word("f*ck1ng", 2, 9)
