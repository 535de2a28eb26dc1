"""How well an explanation agrees with the words people marked: the plausibility metrics.

* Character-span F1, per post, as in SemEval-2021 Task 5 "Toxic Spans Detection" (Pavlopoulos
  et al. 2021): with ``P`` the predicted and ``G`` the gold character offsets of one post,
  ``F1 = 2 |P ∩ G| / (|P| + |G|)``; a post whose gold is empty scores 1 when the prediction is
  empty too, else 0 (and an empty prediction against non-empty gold scores 0). The task's
  figure is the mean over posts.
* Token F1 and AUPRC against a human rationale, per post and averaged over posts, the
  plausibility metrics of HateXplain (Mathew et al. 2021, arXiv:2012.10289) after ERASER
  (DeYoung et al. 2020): F1 of the tokens an explanation selects against the rationale's
  tokens, and the area under the precision-recall curve of the token importances (average
  precision) for the rationale's tokens.
"""
from __future__ import annotations

from collections.abc import Collection

import numpy

from smartmod.eval import average_precision

__all__ = ["span_f1", "token_f1", "token_auprc"]


def span_f1(predicted: Collection[int], gold: Collection[int]) -> float:
    """SemEval-2021 Task 5 F1 of one post's predicted character offsets against its gold ones."""
    predicted, gold = set(predicted), set(gold)
    if not gold:
        return 1.0 if not predicted else 0.0
    if not predicted:
        return 0.0
    return 2.0 * len(predicted & gold) / (len(predicted) + len(gold))


def token_f1(selected: numpy.ndarray, rationale: numpy.ndarray) -> float:
    """F1 of the selected tokens against the rationale's, for one post.

    Parameters
    ----------
    selected, rationale : (T,) bool arrays
        Tokens the explanation selects; tokens the rationale holds (at least one).
    """
    selected, rationale = numpy.asarray(selected, dtype=bool), numpy.asarray(rationale, dtype=bool)
    if not rationale.any():
        raise ValueError("token_f1 needs a rationale with at least one token; leave posts without one out")
    return 2.0 * float((selected & rationale).sum()) / float(selected.sum() + rationale.sum())


def token_auprc(importances: numpy.ndarray, rationale: numpy.ndarray) -> float:
    """Average precision of the token importances ``(T,)`` for the rationale's tokens ``(T,)`` bool, for one post."""
    rationale = numpy.asarray(rationale, dtype=bool)
    if not rationale.any():
        raise ValueError("token_auprc needs a rationale with at least one token; leave posts without one out")
    return average_precision(rationale.astype(numpy.float64), numpy.asarray(importances, dtype=numpy.float64))
