"""Each imbalance strategy returns a loss and a training set that keeps the masking intact."""
from __future__ import annotations

import numpy
import pytest
import scipy.sparse

from smartmod.moderation.imbalance_strategies import MIN_POSITIVE_SHARE, STRATEGIES, training_set
from smartmod.nn.losses import BCEWithLogitsLoss, FocalLoss


def rare_labels():
    rng = numpy.random.default_rng(0)
    features = scipy.sparse.random(400, 30, density=0.2, format="csr", random_state=0, dtype=numpy.float32)
    labels = numpy.full((400, 7), numpy.nan, dtype=numpy.float32)
    labels[:, 0] = rng.random(400) < 0.05  # rare, labeled everywhere
    labels[:200, 6] = rng.random(200) < 0.1  # rare, labeled on half the rows
    return features, labels


def positive_share(labels, column):
    known = labels[~numpy.isnan(labels[:, column]), column]
    return known.mean()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_gives_aligned_features_and_labels(strategy):
    features, labels = rare_labels()
    loss, new_features, new_labels = training_set(strategy, features, labels, seed=0)
    assert isinstance(loss, FocalLoss if strategy == "focal" else BCEWithLogitsLoss)
    assert new_features.shape[0] == new_labels.shape[0] and new_features.shape[1] == 30
    assert scipy.sparse.issparse(new_features)


@pytest.mark.parametrize("strategy", ["oversample", "smote"])
def test_resampling_raises_the_share_of_rare_positives(strategy):
    features, labels = rare_labels()
    _, _, new_labels = training_set(strategy, features, labels, seed=0)
    for column in (0, 6):
        assert positive_share(new_labels, column) > positive_share(labels, column)
        assert positive_share(new_labels, column) >= MIN_POSITIVE_SHARE * 0.8


def test_smote_rows_are_labeled_for_their_own_category_only():
    features, labels = rare_labels()
    _, _, new_labels = training_set("smote", features, labels, seed=0)
    synthetic = new_labels[len(labels):]
    assert len(synthetic) > 0
    assert all((~numpy.isnan(row)).sum() == 1 for row in synthetic)


def test_unknown_strategy_is_a_clear_error():
    features, labels = rare_labels()
    with pytest.raises(ValueError, match="unknown imbalance strategy 'magic'"):
        training_set("magic", features, labels, seed=0)


def test_balanced_category_weights_follow_label_coverage_and_stop_at_the_cap():
    from smartmod.moderation.imbalance_strategies import balanced_category_weights

    nan = numpy.nan
    labels = numpy.array([[1, 0, nan, nan], [0, 1, nan, nan], [1, nan, 0, nan], [0, nan, nan, nan]] * 30, dtype=numpy.float32)
    weights = balanced_category_weights(labels, cap=3.0)
    # 120, 60 and 30 rows label the first three; the fourth is never labeled (weight 1, it has no loss)
    numpy.testing.assert_allclose(weights, [1.0, 2.0, 3.0, 1.0])


def test_category_weights_scale_each_category_loss_and_keep_pos_weight():
    from smartmod.moderation.imbalance_strategies import with_category_weights

    labels = numpy.array([[1.0, numpy.nan], [0.0, numpy.nan], [1.0, 0.0], [0.0, 1.0]])
    plain = BCEWithLogitsLoss(pos_weight=[2.0, 1.0])
    weighted = with_category_weights(plain, "balanced", labels)
    assert weighted.weight == [1.0, 2.0] and weighted.pos_weight == [2.0, 1.0]
    logits = numpy.array([[0.3, -1.0], [0.1, 2.0], [-0.5, 0.2], [1.0, -0.4]])
    assert with_category_weights(plain, "none", labels) is plain
    # the second column's labeled entries count twice: the weighted sum grows by exactly their loss
    column_two = BCEWithLogitsLoss(weight=[0.0, 1.0]).forward(logits, labels) * 6  # the mean divides by all 6 labeled entries
    assert weighted.forward(logits, labels) * 6 == pytest.approx(plain.forward(logits, labels) * 6 + column_two)


def test_category_weights_are_refused_by_name_and_for_focal_loss():
    from smartmod.moderation.imbalance_strategies import with_category_weights

    with pytest.raises(ValueError, match="unknown category_weights 'even'"):
        with_category_weights(BCEWithLogitsLoss(), "even", numpy.zeros((1, 2)))
    with pytest.raises(ValueError, match="FocalLoss of this imbalance strategy has no category weights"):
        with_category_weights(FocalLoss(), "balanced", numpy.zeros((1, 2)))
