"""The moderation categories every text dataset is mapped onto, and the label matrix built from them.

The first six are the Jigsaw Toxic Comment Classification categories (under the names the Perspective
API uses); ``spam`` comes from the SMS Spam Collection. A dataset labels only some of them: a
category it does not label is absent from a record's ``labels`` and becomes NaN in
:func:`label_matrix`, which the masked losses in :mod:`smartmod.nn.losses` read as "not labeled",
so a missing label never teaches the model a 0. ``docs/categories.md`` gives the mapping of every
dataset and the reasons behind it; the helpers below hold the mappings that several datasets share.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy

if TYPE_CHECKING:
    from smartmod.data.records import TextRecord

__all__ = ["CATEGORIES", "label_matrix", "soft_label_matrix", "label_counts", "hate_speech_labels", "offense_level_labels",
           "offense_level_shares"]

CATEGORIES: tuple[str, ...] = ("toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack", "spam")

_COLUMN = {category: column for column, category in enumerate(CATEGORIES)}


def label_matrix(records: Sequence[TextRecord]) -> numpy.ndarray:
    """The records' labels as a matrix, NaN where a record is not labeled for a category.

    Parameters
    ----------
    records : sequence of TextRecord, length N

    Returns
    -------
    numpy.ndarray, float32, shape (N, 7)
        Column ``j`` is ``CATEGORIES[j]``; entries are 0.0, 1.0 or NaN (not labeled).
    """
    matrix = numpy.full((len(records), len(CATEGORIES)), numpy.nan, dtype=numpy.float32)  # (N, 7)
    for row, record in enumerate(records):
        for category, value in record.labels.items():
            matrix[row, _COLUMN[category]] = value
    return matrix


def soft_label_matrix(records: Sequence[TextRecord]) -> numpy.ndarray:
    """Training targets: :func:`label_matrix` with annotators' vote shares where a record has them.

    A dataset that publishes its annotators' votes (Davidson et al., HateXplain) keeps them in
    ``record.original["label_shares"]`` (from :func:`offense_level_shares`): a tweet two of three
    coders called hate is 0.67 hate, not 1. Trained on these, a head learns how sure people were,
    which ranks borderline texts better than the majority verdict alone. Evaluation keeps the
    majority labels of :func:`label_matrix`.

    Returns
    -------
    numpy.ndarray, float32, shape (N, 7)
        Entries in [0, 1] or NaN (not labeled).
    """
    matrix = label_matrix(records)  # (N, 7)
    for row, record in enumerate(records):
        for category, share in record.original.get("label_shares", {}).items():
            if category not in record.labels:
                raise ValueError(f"record {row} ({record.source}) has a vote share for {category!r}, which its labels do not hold")
            matrix[row, _COLUMN[category]] = share
    return matrix


def label_counts(records: Iterable[TextRecord]) -> dict[str, tuple[int, int]]:
    """For each category, how many records are labeled for it and how many of those are positive.

    Returns
    -------
    dict
        ``{category: (labeled, positive)}`` for every category in :data:`CATEGORIES`, in order.
    """
    labeled = dict.fromkeys(CATEGORIES, 0)
    positive = dict.fromkeys(CATEGORIES, 0)
    for record in records:
        for category, value in record.labels.items():
            labeled[category] += 1
            positive[category] += value
    return {category: (labeled[category], positive[category]) for category in CATEGORIES}


def hate_speech_labels(is_hate: bool) -> dict[str, int]:
    """The labels of a hate-speech set's binary verdict: ``identity_attack`` only.

    Hate speech attacks people for who they are, so the verdict labels ``identity_attack``. It
    does not label ``toxicity``: a post judged "not hate" may still be rude, so its toxicity is
    unknown, and labeling toxicity on the hateful side alone (positives only, negatives masked)
    teaches the toxicity head that these sets' vocabulary — identity terms above all — is toxic
    in itself: benign mentions of identity groups were flagged 12.6% of the time that way.
    """
    return {"identity_attack": int(bool(is_hate))}


def offense_level_labels(level: str) -> dict[str, int]:
    """The labels of a three-way hate / offensive / normal verdict (Davidson et al., HateXplain).

    Parameters
    ----------
    level : {"hate", "offensive", "normal"}
        ``hate``: toxic and an identity attack; ``offensive``: toxic but no identity attack;
        ``normal``: neither.
    """
    levels = {"hate": (1, 1), "offensive": (1, 0), "normal": (0, 0)}
    if level not in levels:
        raise ValueError(f"offense level must be one of {sorted(levels)}, got {level!r}")
    toxicity, identity_attack = levels[level]
    return {"toxicity": toxicity, "identity_attack": identity_attack}


def offense_level_shares(hate: int, offensive: int, normal: int) -> dict[str, float]:
    """Annotators' votes on a hate / offensive / normal verdict as shares of the categories of
    :func:`offense_level_labels`: ``toxicity`` is the share who saw hate or offense,
    ``identity_attack`` the share who saw hate. No votes at all: no shares (an empty dict)."""
    if min(hate, offensive, normal) < 0:
        raise ValueError(f"vote counts must not be negative, got hate={hate}, offensive={offensive}, normal={normal}")
    total = hate + offensive + normal
    if total == 0:
        return {}
    return {"toxicity": round((hate + offensive) / total, 6), "identity_attack": round(hate / total, 6)}
