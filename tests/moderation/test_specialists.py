"""Specialist heads (moderation/specialists.py): the logistic regression's loss and gradient
against central differences, its fit against scikit-learn's, the choice of C, and the network
that scores a category by its specialist alone."""
from __future__ import annotations

import numpy
import pytest
import scipy.sparse

from smartmod.data.categories import CATEGORIES
from smartmod.moderation.specialists import Specialist, fit_logistic_regression, fit_specialist, logistic_loss, with_specialists
from smartmod.moderation.training import TextTrainingConfig, fit_text_model, text_network
from smartmod.nn import Parallel, backend


def problem(seed: int, rows: int = 60, features: int = 8, sparse: bool = False):
    rng = numpy.random.default_rng(seed)
    x = rng.normal(size=(rows, features)) * (rng.random((rows, features)) < 0.5)
    y = (x @ rng.normal(size=features) + 0.3 * rng.normal(size=rows) > 0).astype(float)
    return (scipy.sparse.csr_matrix(x) if sparse else x), y


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_logistic_loss_gradient_matches_central_differences(seed, sparse):
    x, y = problem(seed, rows=7, features=5, sparse=sparse)
    parameters = numpy.random.default_rng(seed + 10).normal(size=6) * 3  # large logits included
    _, gradient = logistic_loss(parameters, x, y, strength=0.7)
    step, numeric = 1e-6, numpy.empty(6)
    for i in range(6):
        up, down = parameters.copy(), parameters.copy()
        up[i] += step
        down[i] -= step
        numeric[i] = (logistic_loss(up, x, y, 0.7)[0] - logistic_loss(down, x, y, 0.7)[0]) / (2 * step)
    numpy.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("seed", [0, 1])
def test_logistic_loss_and_gradient_match_torch(seed):
    torch = pytest.importorskip("torch")
    x, y = problem(seed, rows=40, features=6)
    parameters = numpy.random.default_rng(seed + 20).normal(size=7)
    loss, gradient = logistic_loss(parameters, x, y, strength=2.5)
    theirs = torch.tensor(parameters, dtype=torch.float32, requires_grad=True)
    logits = torch.from_numpy(x.astype(numpy.float32)) @ theirs[:-1] + theirs[-1]
    torch_loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.from_numpy(y.astype(numpy.float32)), reduction="sum")
    torch_loss = torch_loss + theirs[:-1].dot(theirs[:-1]) / (2 * 2.5)
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-5)
    numpy.testing.assert_allclose(gradient, theirs.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_logistic_loss_is_finite_for_huge_logits():
    x, y = numpy.array([[1000.0], [-1000.0]]), numpy.array([0.0, 1.0])
    loss, gradient = logistic_loss(numpy.array([1.0, 0.0]), x, y, 1.0)
    assert loss == pytest.approx(2000.5) and numpy.isfinite(gradient).all()


@pytest.mark.parametrize("strength", [0.1, 1.0, 30.0])
@pytest.mark.parametrize("sparse", [False, True])
def test_logistic_regression_reaches_scikit_learns_optimum(strength, sparse):
    LogisticRegression = pytest.importorskip("sklearn.linear_model").LogisticRegression
    x, y = problem(3, rows=200, features=12, sparse=sparse)
    weights, bias = fit_logistic_regression(x, y, strength)
    theirs = LogisticRegression(C=strength, tol=1e-10, max_iter=10_000).fit(x, y)
    numpy.testing.assert_allclose(weights, theirs.coef_[0], rtol=1e-3, atol=1e-4)
    assert bias == pytest.approx(theirs.intercept_[0], rel=1e-3, abs=1e-4)


@pytest.mark.parametrize("targets, message", [(numpy.array([0.0, 2.0]), "must be 0 or 1"), (numpy.array([0.0]), "need features")])
def test_logistic_regression_rejects_bad_targets(targets, message):
    with pytest.raises(ValueError, match=message):
        fit_logistic_regression(numpy.ones((2, 3)), targets, 1.0)


def test_specialist_learns_from_labeled_rows_only_and_keeps_the_c_with_the_lowest_validation_loss():
    x, y = problem(4, rows=300, features=10)
    masked = y.copy()
    masked[::3] = numpy.nan  # not labeled: must not count as negatives
    specialist = fit_specialist("spam", x[:200], masked[:200], x[200:], masked[200:], strengths=(0.01, 1.0, 100.0))
    assert specialist.rows == {"train": int((~numpy.isnan(masked[:200])).sum()), "validation": int((~numpy.isnan(masked[200:])).sum())}
    assert specialist.strength == min(specialist.validation_log_loss, key=specialist.validation_log_loss.get)
    labeled = ~numpy.isnan(masked[:200])
    weights, bias = fit_logistic_regression(x[:200][labeled], y[:200][labeled], specialist.strength)
    numpy.testing.assert_allclose(specialist.weights, weights)
    assert specialist.validation_log_loss[0.01] > specialist.validation_log_loss[specialist.strength]


def test_specialist_needs_both_classes_on_each_side():
    x = numpy.ones((4, 2))
    with pytest.raises(ValueError, match="training rows of both classes.*0 positive and 2 negative"):
        fit_specialist("threat", x, numpy.array([0.0, 0.0, numpy.nan, numpy.nan]), x, numpy.array([0.0, 1.0, 0.0, 1.0]))


def test_network_with_a_specialist_scores_its_category_by_it_alone():
    backend.set_default_dtype("float64")
    rng = numpy.random.default_rng(5)
    x = rng.random((6, 9))
    mlp = text_network(9, len(CATEGORIES), TextTrainingConfig(hidden=4)).eval()
    before = mlp(x).copy()
    spam = CATEGORIES.index("spam")
    specialist = Specialist("spam", rng.normal(size=9), 0.25, 10.0, {10.0: 0.1}, {"train": 1, "validation": 1})
    network = with_specialists(mlp, [specialist], CATEGORIES).eval()
    assert isinstance(network, Parallel)
    after = network(x)
    numpy.testing.assert_allclose(after[:, spam], x @ specialist.weights + 0.25)
    others = [c for c in range(len(CATEGORIES)) if c != spam]
    numpy.testing.assert_allclose(after[:, others], before[:, others])


def test_specialists_refuse_a_wide_network():
    wide = text_network(9, len(CATEGORIES), TextTrainingConfig(wide=True, hidden=4))
    specialist = Specialist("spam", numpy.zeros(9), 0.0, 1.0, {}, {})
    with pytest.raises(ValueError, match="set 'wide' to false"):
        with_specialists(wide, [specialist], CATEGORIES)


@pytest.mark.parametrize("settings, message", [
    ({"specialists": ["spamm"]}, "are not categories"),
    ({"specialists": ["spam", "spam"]}, "twice"),
    ({"specialists": ["spam"], "wide": True}, "set 'wide' to false"),
    ({"specialists": ["spam"], "architecture": "bilstm"}, "architecture 'tfidf-mlp'"),
])
def test_bad_specialist_settings_fail_before_any_training(settings, message):
    labels = numpy.zeros((2, len(CATEGORIES)))
    with pytest.raises(ValueError, match=message):
        fit_text_model(TextTrainingConfig(**settings), ["a", "b"], labels, numpy.array([0]), numpy.array([1]))
