"""The date-normalization task: a date written in one of several English forms becomes its
ISO 8601 form, e.g. ``"Wednesday, 3 Mar 2021"`` → ``"2021-03-03"``.

A small sequence-to-sequence problem that still needs what translation needs: reordering (the
year moves to the front), lookup (month names to numbers), variable-length input and output
that must be exact, and ignoring words that carry nothing (the weekday).
"""
from __future__ import annotations

import calendar
import datetime
import string

import numpy

from smartmod.seq2seq.vocabulary import CharacterVocabulary

__all__ = ["FORMATS", "SOURCE_VOCABULARY", "TARGET_VOCABULARY", "written", "date_pairs"]

MONTHS = list(calendar.month_name)[1:]
FIRST, LAST = datetime.date(1900, 1, 1), datetime.date(2099, 12, 31)


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


# How each form writes a date; the ISO target is the same for all.
FORMATS = {
    "day month year": lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",  # 3 March 2021
    "month day, year": lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",  # March 3, 2021
    "ordinal of month": lambda d: f"{_ordinal(d.day)} of {MONTHS[d.month - 1]} {d.year}",  # 3rd of March 2021
    "abbreviated": lambda d: f"{MONTHS[d.month - 1][:3]} {d.day} {d.year}",  # Mar 3 2021
    "weekday": lambda d: f"{calendar.day_name[d.weekday()]}, {d.day} {MONTHS[d.month - 1][:3]} {d.year}",  # Wednesday, 3 Mar 2021
    "dotted": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",  # 03.03.2021
}

SOURCE_VOCABULARY = CharacterVocabulary(string.ascii_letters + string.digits + " ,.")
TARGET_VOCABULARY = CharacterVocabulary(string.digits + "-")


def written(date: datetime.date, form: str) -> str:
    """``date`` written in ``form``, one of :data:`FORMATS`."""
    if form not in FORMATS:
        raise ValueError(f"unknown date form {form!r}; choose from {sorted(FORMATS)}")
    return FORMATS[form](date)


def date_pairs(count: int, seed: int, forms: tuple[str, ...] = tuple(FORMATS)) -> list[tuple[str, str]]:
    """``count`` (written, ISO) pairs of dates drawn uniformly from 1900-2099, each in a form
    drawn uniformly from ``forms``; the same ``seed`` gives the same pairs."""
    rng = numpy.random.default_rng(seed)
    days = rng.integers(0, (LAST - FIRST).days + 1, size=count)
    chosen = rng.integers(0, len(forms), size=count)
    pairs = []
    for offset, form_index in zip(days, chosen):
        date = FIRST + datetime.timedelta(days=int(offset))
        pairs.append((written(date, forms[form_index]), date.isoformat()))
    return pairs
