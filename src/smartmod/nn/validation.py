"""Checks of hyperparameters shared by optimizers and schedules: each raises a ValueError that
names the argument, the allowed range and the value that arrived."""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy

__all__ = ["check_range", "check_flag"]


def check_range(low: float = 0.0, high: float = math.inf, include_high: bool = True, **values: Any) -> None:
    """Raise a ValueError naming the first keyword whose value is not a finite real number in
    [low, high] (or [low, high) when ``include_high`` is False)."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite real number, got {value!r}")
        if value < low or (value > high if include_high else value >= high):
            bound = f">= {low}" if high == math.inf else f"in [{low}, {high}{']' if include_high else ')'}"
            raise ValueError(f"{name} must be {bound}, got {value!r}")


def check_flag(name: str, value: Any) -> None:
    if not isinstance(value, (bool, numpy.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
