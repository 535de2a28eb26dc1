"""One labeled text from any dataset, and the errors a reader raises on a malformed file."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smartmod.data.categories import CATEGORIES

__all__ = ["TextRecord", "DataFormatError", "DataFormatWarning"]


@dataclass(frozen=True, kw_only=True, slots=True)
class TextRecord:
    """A text with the moderation categories its dataset labels it for.

    Attributes
    ----------
    text : str
        The text as the dataset holds it (HTML entities, ``@USER`` placeholders and all); never empty.
    source : str
        The dataset's name in :data:`smartmod.data.text_readers.TEXT_DATASETS`, e.g. ``"olid"``,
        ``"hateval-en"``; ``"jigsaw"`` for competition files a user brings.
    labels : Mapping[str, int]
        Only the categories of :data:`~smartmod.data.categories.CATEGORIES` this record is labeled
        for, each 0 or 1. A category absent from the mapping is "not labeled", which is not 0.
    id : str
        The dataset's own id where it has one, else ``"<file name>:<line>"``; unique within ``source``.
    split : str
        The source's split (``"train"``, ``"dev"``, ``"val"``, ``"trial"``, ``"test"`` ...);
        ``"train"`` when the source has none.
    group : str
        Records sharing a group must land on the same side of a split (e.g. the sentences of one
        Stormfront post); defaults to ``id``.
    original : Mapping[str, Any]
        The source's own labels and annotations (Davidson ``class``, OLID subtasks, HateXplain
        rationales, Toxic Spans offsets ...) for per-dataset evaluation.
    language : str
        ISO 639-1 code of the text's language.
    """

    text: str
    source: str
    labels: Mapping[str, int]
    id: str
    split: str = "train"
    group: str = ""
    original: Mapping[str, Any] = field(default_factory=dict)
    language: str = "en"

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise ValueError(f"{self.source} record {self.id}: text must be a non-empty string, got {self.text!r}")
        unknown = sorted(set(self.labels) - set(CATEGORIES))
        if unknown:
            raise ValueError(f"{self.source} record {self.id}: unknown categories {unknown}; the categories are {list(CATEGORIES)}")
        not_binary = {category: value for category, value in self.labels.items() if value not in (0, 1)}
        if not_binary:
            raise ValueError(f"{self.source} record {self.id}: labels must be 0 or 1, got {not_binary}; leave a category out when it is not labeled")
        if not self.group:
            object.__setattr__(self, "group", self.id)


class DataFormatError(ValueError):
    """A dataset file that does not hold what its format promises.

    Parameters
    ----------
    file : str or os.PathLike
        The file; the message names it by its file name.
    line : int or None
        The 1-based line where the bad row starts (the header is line 1), or None when the problem
        is not tied to a line (a whole JSON document, a missing file-level key).
    problem : str
        What is wrong and what was expected, e.g. ``"subtask_a is 'OFFF', expected OFF or NOT"``.
    """

    def __init__(self, file: str | os.PathLike, line: int | None, problem: str):
        self.file = Path(file)
        self.line = line
        self.problem = problem
        location = self.file.name if line is None else f"{self.file.name} line {line}"
        super().__init__(f"{location}: {problem}")

    def __reduce__(self):
        return type(self), (self.file, self.line, self.problem)


class DataFormatWarning(UserWarning):
    """A dataset file had rows that were skipped, or bytes that were not valid UTF-8."""
