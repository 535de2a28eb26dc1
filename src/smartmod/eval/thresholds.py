"""Choosing each category's decision threshold on held-out scores.

The rule "score >= t" changes only at the labeled scores, so the candidates are the distinct
labeled scores (one sort: :func:`~smartmod.eval.curves.counts_by_threshold`). Two criteria:

* maximum F1 = 2 TP / (2 TP + FP + FN); among equal F1 the highest threshold (fewest flags) wins;
* target precision: the lowest threshold whose precision TP / (TP + FP) reaches the target, that
  is the most recall at that precision. Precision is not monotone in the threshold, so this
  scans every candidate. When no threshold reaches the target, the fallback is the threshold of
  highest precision (among equal precision the lowest, for the most recall), and the choice says
  the target was missed.

Neither criterion is defined without a labeled positive (F1 and precision are 0 at every
threshold): the single-column functions raise, and :func:`choose_thresholds` falls back to a
default threshold and says so.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy

from smartmod.eval.curves import counts_by_threshold
from smartmod.eval.validation import as_categories, as_label_matrix, as_score_matrix

__all__ = ["ThresholdChoice", "max_f1_threshold", "precision_target_threshold", "choose_thresholds"]


@dataclass(frozen=True)
class ThresholdChoice:
    """A chosen threshold and the figures of "score >= threshold" on the scores it was chosen on.

    ``rule`` is ``"max_f1"``, ``"target_precision"`` or ``"default"``; ``note`` is None or a
    sentence on a fallback. ``dataclasses.asdict`` gives JSON-ready data.
    """

    threshold: float
    precision: float
    recall: float
    f1: float
    rule: str
    note: str | None = None


def _candidates(y_true: Any, y_score: Any) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Thresholds and their precision, recall and F1, each (T,), in decreasing order of threshold."""
    false_positives, true_positives, thresholds, positives = counts_by_threshold(y_true, y_score)
    if positives == 0:
        raise ValueError("a threshold needs at least one labeled positive row; this column has none "
                         "(choose_thresholds falls back to a default threshold for such categories)")
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / positives
    f1 = 2 * true_positives / (true_positives + false_positives + positives)  # 2TP / (2TP + FP + FN)
    return thresholds, precision, recall, f1


def _choice(index: int, candidates: tuple[numpy.ndarray, ...], rule: str, note: str | None = None) -> ThresholdChoice:
    thresholds, precision, recall, f1 = candidates
    return ThresholdChoice(float(thresholds[index]), float(precision[index]), float(recall[index]), float(f1[index]), rule, note)


def max_f1_threshold(y_true: Any, y_score: Any) -> ThresholdChoice:
    """The threshold of maximum F1 (the highest one among ties).

    Parameters
    ----------
    y_true : (N,) array of 0, 1, NaN (not labeled); at least one labeled 1
    y_score : (N,) float scores
    """
    candidates = _candidates(y_true, y_score)
    return _choice(int(numpy.argmax(candidates[3])), candidates, "max_f1")


def precision_target_threshold(y_true: Any, y_score: Any, target_precision: float) -> ThresholdChoice:
    """The lowest threshold whose precision reaches ``target_precision``, else the most precise one.

    Parameters
    ----------
    y_true : (N,) array of 0, 1, NaN (not labeled); at least one labeled 1
    y_score : (N,) float scores
    target_precision : float in (0, 1]
    """
    if not 0 < target_precision <= 1:
        raise ValueError(f"target_precision must be in (0, 1], got {target_precision!r}")
    candidates = _candidates(y_true, y_score)
    precision = candidates[1]  # (T,), thresholds decreasing: a larger index is a lower threshold
    reaching = numpy.flatnonzero(precision >= target_precision)
    if reaching.size:
        return _choice(int(reaching[-1]), candidates, "target_precision")
    best = precision.size - 1 - int(numpy.argmax(precision[::-1]))
    note = f"precision {target_precision:g} is not reached; the threshold of highest precision ({precision[best]:.4g}) is used"
    return _choice(best, candidates, "target_precision", note)


def choose_thresholds(Y: Any, P: Any, categories: Sequence[str], target_precision: float | None = None,
                      default: float = 0.5) -> dict[str, ThresholdChoice]:
    """One threshold per category: maximum F1, or the target precision when one is given.

    Parameters
    ----------
    Y : (N, C) array of 0, 1, NaN (not labeled)
    P : (N, C) float scores
    categories : list of C str
    target_precision : float in (0, 1], optional
        Use :func:`precision_target_threshold` instead of :func:`max_f1_threshold`.
    default : float
        The threshold of a category with no labeled positive (its figures are NaN).

    Returns
    -------
    dict {category: ThresholdChoice}
    """
    labels = as_label_matrix(Y)
    scores = as_score_matrix(P, labels)
    choices = {}
    for c, name in enumerate(as_categories(categories, labels.shape[1])):
        if not (labels[:, c] == 1).any():
            choices[name] = ThresholdChoice(float(default), numpy.nan, numpy.nan, numpy.nan, "default",
                                            f"no labeled positive for {name!r}: the default threshold {default:g} is used")
        elif target_precision is None:
            choices[name] = max_f1_threshold(labels[:, c], scores[:, c])
        else:
            choices[name] = precision_target_threshold(labels[:, c], scores[:, c], target_precision)
    return choices
