"""Vote shares as training targets: :func:`offense_level_shares` and :func:`soft_label_matrix`."""
from __future__ import annotations

import numpy
import pytest

from smartmod.data.categories import CATEGORIES, label_matrix, offense_level_shares, soft_label_matrix
from smartmod.data.records import TextRecord

TOXICITY, IDENTITY, SPAM = (CATEGORIES.index(name) for name in ("toxicity", "identity_attack", "spam"))


def test_shares_count_hate_as_toxic_and_as_an_identity_attack():
    assert offense_level_shares(1, 1, 2) == {"toxicity": 0.5, "identity_attack": 0.25}
    assert offense_level_shares(0, 0, 5) == {"toxicity": 0.0, "identity_attack": 0.0}
    assert offense_level_shares(0, 0, 0) == {}  # no votes: nothing to share out


def test_negative_votes_are_an_error_naming_the_counts():
    with pytest.raises(ValueError, match="vote counts must not be negative, got hate=-1, offensive=0, normal=2"):
        offense_level_shares(-1, 0, 2)


def test_soft_matrix_takes_the_shares_and_keeps_everything_else_of_the_label_matrix():
    records = [
        TextRecord(text="a", source="davidson", labels={"toxicity": 1, "identity_attack": 1}, id="1",
                   original={"label_shares": {"toxicity": 1.0, "identity_attack": 0.67}}),
        TextRecord(text="b", source="olid", labels={"toxicity": 0}, id="2"),
        TextRecord(text="c", source="sms-spam", labels={"spam": 1}, id="3", original={"label_shares": {}}),
    ]
    hard, soft = label_matrix(records), soft_label_matrix(records)
    assert soft.dtype == numpy.float32 and soft.shape == hard.shape == (3, len(CATEGORIES))
    assert soft[0, IDENTITY] == pytest.approx(0.67) and hard[0, IDENTITY] == 1
    changed = numpy.zeros(hard.shape, dtype=bool)
    changed[0, IDENTITY] = True
    numpy.testing.assert_array_equal(soft[~changed], hard[~changed])  # NaN (not labeled) stays NaN where no share is given
    assert numpy.isnan(soft[2, TOXICITY]) and soft[2, SPAM] == 1


def test_a_share_for_a_category_the_record_does_not_label_is_an_error():
    record = TextRecord(text="a", source="x", labels={"toxicity": 1}, id="1", original={"label_shares": {"spam": 0.5}})
    with pytest.raises(ValueError, match=r"record 0 \(x\) has a vote share for 'spam', which its labels do not hold"):
        soft_label_matrix([record])
