"""Occlusion equals rescoring by hand; LIME recovers the weights of a linear scorer."""
from __future__ import annotations

import numpy
import pytest

from smartmod.explain.lime import lime, weighted_ridge
from smartmod.explain.occlusion import occlusion
from smartmod.explain.target import CategoryLogit
from smartmod.explain.words import split_words

WORD_WEIGHTS = {"alpha": 2.0, "beta": -1.0, "gamma": 0.5, "delta": 0.0, "epsilon": 3.0}


def linear_scorer(texts: list[str]) -> numpy.ndarray:
    """A toy model: the sum of the weights of the words present (a removed word leaves "|")."""
    return numpy.array([sum(WORD_WEIGHTS.get(token, 0.0) for token in text.split()) for text in texts])


def test_occlusion_is_the_score_lost_without_each_word(tiny_moderator):
    target = CategoryLogit(tiny_moderator.bundle, "toxicity")
    text = "shut up, you idiot"
    by_hand = target([text, "| up, you idiot", "shut |, you idiot", "shut up, | idiot", "shut up, you |"])
    numpy.testing.assert_allclose(occlusion(target, text, split_words(text)), by_hand[0] - by_hand[1:])


def test_occlusion_scores_every_variant_in_one_call():
    calls = []
    text = "alpha beta gamma"
    importances = occlusion(lambda texts: calls.append(texts) or linear_scorer(texts), text, split_words(text))
    assert len(calls) == 1 and len(calls[0]) == 4
    numpy.testing.assert_allclose(importances, [2.0, -1.0, 0.5])


def test_lime_recovers_the_weights_of_a_linear_scorer():
    text = "alpha beta gamma delta epsilon"
    exact = lime(linear_scorer, text, split_words(text), samples=300, penalty=0.0)
    numpy.testing.assert_allclose(exact, list(WORD_WEIGHTS.values()), atol=1e-9)
    shrunk = lime(linear_scorer, text, split_words(text), samples=1000)  # the default ridge penalty shrinks a little
    numpy.testing.assert_allclose(shrunk, list(WORD_WEIGHTS.values()), atol=0.05)


def test_lime_is_reproducible_for_a_seed_and_varies_across_seeds(tiny_moderator):
    target = CategoryLogit(tiny_moderator.bundle, "toxicity")
    text = "shut up you stupid idiot go away"
    words = split_words(text)
    first = lime(target, text, words, samples=200, seed=3)
    numpy.testing.assert_array_equal(first, lime(target, text, words, samples=200, seed=3))
    assert not numpy.allclose(first, lime(target, text, words, samples=200, seed=4))


def test_lime_refuses_too_few_samples():
    with pytest.raises(ValueError, match="at least 2"):
        lime(linear_scorer, "alpha", split_words("alpha"), samples=1)


def test_weighted_ridge_matches_the_normal_equations_with_a_free_intercept():
    generator = numpy.random.default_rng(0)
    features, targets, weights = generator.random((40, 3)), generator.random(40), generator.random(40)
    coefficients = weighted_ridge(features, targets, weights, penalty=0.7)
    design = numpy.hstack([features, numpy.ones((40, 1))])  # (40, 4): the last column is the intercept
    penalty = numpy.diag([0.7, 0.7, 0.7, 0.0])
    expected = numpy.linalg.solve(design.T @ (weights[:, None] * design) + penalty, design.T @ (weights * targets))
    numpy.testing.assert_allclose(coefficients, expected[:3], rtol=1e-10)
