"""Hypothesis strategies for evaluation inputs: label columns with NaN (not labeled), scores with
many ties, and matrices whose columns may hold a single class or no labeled row at all."""
from __future__ import annotations

import numpy
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

LABEL_VALUES = (0.0, 1.0, numpy.nan)


def scores(n: int) -> st.SearchStrategy[numpy.ndarray]:
    """(n,) scores in [0, 1]: either on a coarse grid (ties everywhere) or continuous."""
    tied = st.integers(1, 6).flatmap(lambda levels: arrays(numpy.float64, n, elements=st.integers(0, levels)).map(lambda a: a / levels))
    continuous = arrays(numpy.float64, n, elements=st.floats(0, 1, allow_nan=False, width=32))
    return st.one_of(tied, continuous)


def labels(shape: int | tuple[int, ...], with_nan: bool = True) -> st.SearchStrategy[numpy.ndarray]:
    """0/1 labels of ``shape``, with NaN (not labeled) entries when ``with_nan``."""
    return arrays(numpy.float64, shape, elements=st.sampled_from(LABEL_VALUES if with_nan else LABEL_VALUES[:2]))


@st.composite
def labeled_column(draw, min_size: int = 1, max_size: int = 60, with_nan: bool = True) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(y_true (N,), y_score (N,))."""
    n = draw(st.integers(min_size, max_size))
    return draw(labels(n, with_nan)), draw(scores(n))


@st.composite
def labeled_matrix(draw, max_rows: int = 50, min_columns: int = 1, max_columns: int = 4,
                   with_nan: bool = True) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(Y (N, C), P (N, C))."""
    n, c = draw(st.integers(1, max_rows)), draw(st.integers(min_columns, max_columns))
    return draw(labels((n, c), with_nan)), numpy.stack([draw(scores(n)) for _ in range(c)], axis=1)


def both_classes(y_true: numpy.ndarray) -> bool:
    """Whether the labeled entries hold a 0 and a 1."""
    return bool((y_true == 0).any() and (y_true == 1).any())


def labeled_part(y_true: numpy.ndarray, y_score: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The labeled rows as (int labels, scores), the input sklearn gets."""
    known = ~numpy.isnan(y_true)
    return y_true[known].astype(int), y_score[known]
