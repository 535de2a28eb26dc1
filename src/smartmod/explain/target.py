"""What an explanation explains: the calibrated logit of one category.

Every method scores how the text's words move the model's log-odds for one category, after
the bundle's temperature scaling (Guo et al. 2017): ``z_c = logit_c / T_c``, so that
``p_c = sigmoid(z_c)`` is the calibrated probability the moderator reports. Log-odds add up
where probabilities saturate: taking one of two insults out of a comment barely moves a
probability of 0.99, but lowers the log-odds as much as taking the other out does.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy

__all__ = ["CategoryLogit"]


class CategoryLogit:
    """``texts → z_c``, the calibrated logit of ``category`` under ``bundle``.

    Parameters
    ----------
    bundle : TextModelBundle
        Its vectorizer, network and calibration (``config.categories``, ``config.temperatures``).
    category : str
        One of ``bundle.config.categories``.

    Attributes
    ----------
    column : int
        The category's output of the network.
    scale : float
        ``1 / T_c``, the factor from the network's logit to the calibrated one.
    """

    def __init__(self, bundle: Any, category: str):
        categories = list(bundle.config.categories)
        if category not in categories:
            raise ValueError(f"unknown category {category!r}; the model's categories are {', '.join(categories)}")
        self.bundle = bundle
        self.category = category
        self.column = categories.index(category)
        self.scale = 1.0 / float(bundle.config.temperatures.get(category, 1.0))

    def __call__(self, texts: Sequence[str]) -> numpy.ndarray:
        """The calibrated logits of ``texts`` (one scoring call), shape ``(len(texts),)``, float64."""
        return self.bundle.logits(list(texts))[:, self.column].astype(numpy.float64) * self.scale
