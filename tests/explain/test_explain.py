"""Moderator.explain: the contract the HTTP API and the web page rely on, windows, and the shipped model."""
from __future__ import annotations

import json

import pytest

from smartmod.explain import DEFAULT_METHOD, EXPLANATION_METHODS


@pytest.mark.parametrize("method", EXPLANATION_METHODS)
def test_explanation_has_the_documented_keys_and_types(tiny_moderator, method):
    text = "Shut up, you stupid idiot!! 😂"
    explanation = tiny_moderator.explain(text, method=method)
    assert list(explanation) == ["text", "method", "category", "scores", "flagged", "categories", "tokens", "spans"]
    assert explanation["text"] == text and explanation["method"] == method
    assert explanation["scores"] == tiny_moderator.moderate([text])[0]["scores"]
    assert explanation["category"] == max(explanation["scores"], key=explanation["scores"].get)
    assert isinstance(explanation["flagged"], bool) and all(isinstance(c, str) for c in explanation["categories"])
    assert [token["text"] for token in explanation["tokens"]] == ["Shut", "up", "you", "stupid", "idiot", "😂"]
    for token in explanation["tokens"]:
        assert text[token["start"]:token["end"]] == token["text"]
        assert isinstance(token["importance"], float)
    for span in explanation["spans"]:
        assert set(span) == {"start", "end", "text"} and text[span["start"]:span["end"]] == span["text"]
    json.dumps(explanation, allow_nan=False)


def test_the_category_asked_for_is_explained(tiny_moderator):
    assert tiny_moderator.explain("you idiot", category="spam")["category"] == "spam"


def test_default_method_is_one_of_the_methods(tiny_moderator):
    assert DEFAULT_METHOD in EXPLANATION_METHODS
    assert tiny_moderator.explain("you idiot")["method"] == DEFAULT_METHOD


@pytest.mark.parametrize("text", ["", "   \n\t", "?!"])
def test_text_without_words_has_no_tokens_and_no_spans(tiny_moderator, text):
    for method in EXPLANATION_METHODS:
        explanation = tiny_moderator.explain(text, method=method)
        assert explanation["tokens"] == [] and explanation["spans"] == []


def test_bad_requests_say_what_is_allowed(tiny_moderator):
    with pytest.raises(TypeError, match="text must be a str"):
        tiny_moderator.explain(["you idiot"])
    with pytest.raises(ValueError, match="occlusion") as error:
        tiny_moderator.explain("you idiot", method="saliency")
    assert all(method in str(error.value) for method in EXPLANATION_METHODS)
    with pytest.raises(ValueError, match="toxicity"):
        tiny_moderator.explain("you idiot", category="rudeness")


def test_a_long_text_is_explained_in_its_highest_scoring_window(tiny_moderator):
    # the tiny model's window is 50 characters: the insult sits in the last window
    text = "have a nice day and thanks for the help. " * 3 + "shut up you stupid idiot"
    explanation = tiny_moderator.explain(text, method="occlusion", category="toxicity")
    tokens = explanation["tokens"]
    assert [token["text"] for token in tokens][-1] == "idiot"
    assert all(text[token["start"]:token["end"]] == token["text"] for token in tokens)
    assert tokens[0]["importance"] == 0.0  # outside the explained window
    assert max(tokens, key=lambda token: token["importance"])["text"] in ("stupid", "idiot")


@pytest.mark.parametrize("method", EXPLANATION_METHODS)
def test_an_insult_in_a_benign_sentence_gets_the_top_importance(default_moderator, method):
    text = "Thanks for the lovely photos from the park, you idiot, see you at the picnic tomorrow"
    explanation = default_moderator.explain(text, method=method)
    assert explanation["flagged"]
    top = max(explanation["tokens"], key=lambda token: token["importance"])
    assert top["text"] == "idiot"
    assert any(span["text"] == "idiot" for span in explanation["spans"])


@pytest.mark.parametrize("method", EXPLANATION_METHODS)
@pytest.mark.parametrize("insult", ["1d10t", "i d i o t"])
def test_an_obfuscated_insult_is_found_at_its_original_offsets(default_moderator, method, insult):
    text = f"thanks for the photos from the park, you {insult}"
    explanation = default_moderator.explain(text, method=method)
    top = max(explanation["tokens"], key=lambda token: token["importance"])
    assert (top["text"], top["start"], top["end"]) == (insult, 41, 41 + len(insult))


@pytest.mark.parametrize("method", EXPLANATION_METHODS)
def test_a_benign_text_has_no_harmful_spans(default_moderator, method):
    explanation = default_moderator.explain("Thanks for the lovely photos from the park, see you at the picnic tomorrow", method=method)
    assert not explanation["flagged"]
    assert explanation["spans"] == []
