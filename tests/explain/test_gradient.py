"""Gradient × input: the feature gradient from our backward pass against central differences,
and the sharing of features over the words that produce them."""
from __future__ import annotations

import numpy
import pytest
import scipy.sparse

from smartmod.explain.feature_shares import feature_shares
from smartmod.explain.gradient import feature_attributions, gradient_x_input, input_gradient
from smartmod.explain.target import CategoryLogit
from smartmod.explain.words import split_words
from smartmod.moderation.bundle import TextModelBundle
from smartmod.nn import Dense, Parallel, ReLU, Sequential, backend
from smartmod.nn.gradcheck import numerical_gradient


@pytest.fixture()
def float64_target(tiny_bundle_dir) -> CategoryLogit:
    bundle = TextModelBundle.load(tiny_bundle_dir)
    bundle.network.astype(numpy.float64)
    bundle.config.temperatures["toxicity"] = 0.8  # a temperature other than 1, so the scale is checked too
    return CategoryLogit(bundle, "toxicity")


def central_difference_attributions(network, features: numpy.ndarray, column: int, scale: float) -> numpy.ndarray:
    """``x ⊙ ∂(scale · y[:, column]) / ∂x`` of one dense float64 row ``(1, V)``, by central differences on the whole network."""
    numeric = numerical_gradient(lambda: float(network.forward(features)[0, column]) * scale, features)  # (1, V)
    return numeric * features


def test_attributions_of_a_dense_first_layer_network_match_central_differences(float64_target):
    network = float64_target.bundle.network  # Sequential(Dense, ReLU, Dense): runs cut down to the text's columns
    features = float64_target.bundle.vectorizer.transform(["shut up you stupid idiot"])  # (1, V)
    analytic = feature_attributions(network, features, float64_target.column, float64_target.scale).toarray()
    expected = central_difference_attributions(network, features.toarray().astype(numpy.float64), float64_target.column, float64_target.scale)
    numpy.testing.assert_allclose(analytic, expected, rtol=1e-6, atol=1e-9)
    assert numpy.abs(analytic).max() > 0.01  # the check compared real attributions, not zeros


@pytest.mark.parametrize("name, network, reads", [
    ("wide and deep (a specialist beside the MLP): every branch cut to the text's columns",
     lambda: Parallel(Dense(12, 3), Sequential(Dense(12, 5), ReLU(), Dense(5, 3))), "columns"),
    ("a network that does not start with a Dense: the full dense row",
     lambda: Sequential(ReLU(), Dense(12, 5), ReLU(), Dense(5, 3)), "row"),
])
def test_attributions_of_other_networks_match_central_differences(monkeypatch, name, network, reads):
    from smartmod.explain import gradient

    backend.set_default_dtype("float64")
    network = network().eval()
    features = scipy.sparse.random(1, 12, density=0.5, random_state=1, format="csr")  # (1, 12)
    widths = []
    monkeypatch.setattr(gradient, "input_gradient", lambda net, x, *args: widths.append(x.shape[1]) or input_gradient(net, x, *args))
    analytic = feature_attributions(network, features, output=2, scale=1.5).toarray()
    numpy.testing.assert_allclose(analytic, central_difference_attributions(network, features.toarray(), 2, 1.5), rtol=1e-6, atol=1e-9)
    assert numpy.count_nonzero(analytic) == features.nnz
    assert widths == [features.nnz if reads == "columns" else 12], name


def test_input_gradient_leaves_no_weight_gradient_and_restores_needs_input_grad(float64_target):
    network = float64_target.bundle.network
    network.needs_input_grad = False
    input_gradient(network, float64_target.bundle.vectorizer.transform(["you idiot"]).toarray(), float64_target.column)
    assert network.needs_input_grad is False
    assert all(not parameter.grad.any() for parameter in network.parameters())


def test_a_text_without_known_features_has_no_attributions(float64_target):
    text = "zzz qqq"
    assert not gradient_x_input(float64_target, text, split_words(text)).any()


def test_each_feature_is_shared_out_over_the_words_that_produce_it(tiny_bundle_dir):
    vectorizer = TextModelBundle.load(tiny_bundle_dir).vectorizer
    text = "you stupid idiot, you"
    words = split_words(text)  # you stupid idiot you
    shares = feature_shares(vectorizer, text, words).toarray()  # (4, V)
    column = vectorizer.vocabulary_
    numpy.testing.assert_allclose(shares[:, column["word:stupid idiot"]], [0, 0.5, 0.5, 0])  # a bigram: half to each word
    numpy.testing.assert_allclose(shares[:, column["word:you"]], [0.5, 0, 0, 0.5])  # two occurrences: half each
    numpy.testing.assert_allclose(shares[:, column["char:idi"]], [0, 0, 1, 0])
    present = vectorizer.transform([text]).indices
    numpy.testing.assert_allclose(shares[:, present].sum(axis=0), 1.0)  # every feature of the text is shared out in full


def test_word_importances_add_up_to_the_first_order_contribution_of_all_features(float64_target):
    text = "shut up you stupid idiot"
    features = float64_target.bundle.vectorizer.transform([text]).toarray().astype(numpy.float64)  # (1, V)
    expected = central_difference_attributions(float64_target.bundle.network, features, float64_target.column, float64_target.scale)
    importances = gradient_x_input(float64_target, text, split_words(text))  # (5,)
    assert importances.shape == (5,)
    assert importances.sum() == pytest.approx(float(expected.sum()), rel=1e-6)
    assert set(importances.argsort()[-2:]) == {3, 4}  # "stupid" and "idiot", the words the tiny model learned
