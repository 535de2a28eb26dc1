"""Readers for the sets that label toxicity, its kinds, or spam: Jigsaw, OLID, Davidson et al.,
Toxic Spans, the Gab Hate Corpus and the SMS Spam Collection.

Each reader takes the file(s) to read (default: the shared copy under the data path setting, or
under ``root``) and ``errors="raise" | "skip"`` (see :func:`~smartmod.data.source_files.parse_rows`),
and returns :class:`~smartmod.data.records.TextRecord` objects labeled as ``docs/categories.md``
describes.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from smartmod.data.categories import offense_level_labels, offense_level_shares
from smartmod.data.records import TextRecord
from smartmod.data.source_files import (
    ParsedRow, PathLike, RowProblem, SourceRow, binary_field, choice_field, count_field, csv_rows, dataset_file,
    field, non_empty_text, parse_rows, read_records, read_split_files, text_field,
)

__all__ = [
    "JIGSAW_CATEGORIES", "read_jigsaw", "read_olid", "read_davidson", "read_toxic_spans", "read_gab_hate_corpus",
    "read_sms_spam",
]

JIGSAW_CATEGORIES: dict[str, str] = {
    "toxic": "toxicity", "severe_toxic": "severe_toxicity", "obscene": "obscene", "threat": "threat",
    "insult": "insult", "identity_hate": "identity_attack",
}
"""Jigsaw column → our category."""


def read_jigsaw(
    train_csv: PathLike | None = None, test_csv: PathLike | None = None, test_labels_csv: PathLike | None = None, *,
    root: PathLike | None = None, errors: str = "raise",
) -> list[TextRecord]:
    """Jigsaw Toxic Comment Classification (2018) comments with their six labels.

    With no file given, reads the shared subset ``text/jigsaw-subset/train.csv`` (source
    ``"jigsaw-subset"``). Otherwise reads the competition files the user brings (source
    ``"jigsaw"``): ``train.csv`` (``id, comment_text`` and the six labels) and/or ``test.csv``
    (``id, comment_text``) together with ``test_labels.csv`` (``id`` and the six labels, -1 where
    the comment was not scored). A test comment scored -1 in every column is left out; one scored
    in some columns only is labeled for those only. Test records get split ``"test"``.
    """
    if (test_csv is None) != (test_labels_csv is None):
        raise ValueError(
            "test_csv and test_labels_csv go together (the test comments are in one, their labels in the other); "
            f"got test_csv={test_csv!r}, test_labels_csv={test_labels_csv!r}"
        )
    if train_csv is None and test_csv is None:
        return _read_jigsaw_train(dataset_file(None, "text/jigsaw-subset/train.csv", root), "jigsaw-subset", errors)
    records = [] if train_csv is None else _read_jigsaw_train(Path(train_csv), "jigsaw", errors)
    if test_csv is not None:
        records += _read_jigsaw_test(Path(test_csv), Path(test_labels_csv), errors)
    return records


def _read_jigsaw_train(path: Path, source: str, errors: str) -> list[TextRecord]:
    return read_records(path, csv_rows(path, ("id", "comment_text", *JIGSAW_CATEGORIES)), _parse_jigsaw_train, source=source, errors=errors)


def _jigsaw_scores(fields: Mapping[str, str], allowed: tuple[str, ...]) -> dict[str, int]:
    """``{our category: 0 or 1}`` from the six Jigsaw columns; a column holding -1 is left out."""
    scores = {column: int(choice_field(fields, column, allowed)) for column in JIGSAW_CATEGORIES}
    return {JIGSAW_CATEGORIES[column]: score for column, score in scores.items() if score != -1}


def _parse_jigsaw_train(row: SourceRow) -> ParsedRow:
    labels = _jigsaw_scores(row.fields, ("0", "1"))
    original = {column: labels[category] for column, category in JIGSAW_CATEGORIES.items()}
    return ParsedRow(text_field(row.fields, "comment_text"), labels, original, id=field(row.fields, "id"))


def _read_jigsaw_test(test_path: Path, labels_path: Path, errors: str) -> list[TextRecord]:
    """The scored comments of ``test.csv``, labeled from ``test_labels.csv``."""
    scored = parse_rows(
        labels_path, csv_rows(labels_path, ("id", *JIGSAW_CATEGORIES)),
        lambda row: (field(row.fields, "id"), _jigsaw_scores(row.fields, ("-1", "0", "1"))), errors,
    )
    labels_by_id = dict(value for _, value in scored)

    def parse(row: SourceRow) -> ParsedRow | None:
        comment_id = field(row.fields, "id")
        if comment_id not in labels_by_id:
            raise RowProblem(f"id {comment_id!r} has no row in {labels_path.name}")
        labels = labels_by_id[comment_id]
        if not labels:
            return None  # not scored in any category
        original = {column: labels.get(category, -1) for column, category in JIGSAW_CATEGORIES.items()}
        return ParsedRow(text_field(row.fields, "comment_text"), labels, original, id=comment_id, split="test")

    return read_records(test_path, csv_rows(test_path, ("id", "comment_text")), parse, source="jigsaw", errors=errors)


def read_olid(path: PathLike | None = None, *, root: PathLike | None = None, errors: str = "raise") -> list[TextRecord]:
    """OLID v1.0 (OffensEval 2019) training tweets: ``subtask_a`` OFF/NOT → ``toxicity``.

    The TSV holds bare quotes, so it is split with quoting off; a tweet that holds a quote was
    written CSV-quoted (wrapped in quotes, inner quotes doubled), which :func:`_unquote` undoes.
    ``original`` keeps the three subtasks (``NULL`` → None).
    """
    path = dataset_file(path, "text/olid/olid-training-v1.0.tsv", root)
    rows = csv_rows(path, ("id", "tweet", "subtask_a", "subtask_b", "subtask_c"), delimiter="\t", quoting=csv.QUOTE_NONE)
    return read_records(path, rows, _parse_olid, source="olid", errors=errors)


def _parse_olid(row: SourceRow) -> ParsedRow:
    subtasks = {
        "subtask_a": choice_field(row.fields, "subtask_a", ("OFF", "NOT")),
        "subtask_b": choice_field(row.fields, "subtask_b", ("TIN", "UNT", "NULL")),
        "subtask_c": choice_field(row.fields, "subtask_c", ("IND", "GRP", "OTH", "NULL")),
    }
    text = non_empty_text(_unquote(field(row.fields, "tweet")), "tweet")
    original = {name: None if value == "NULL" else value for name, value in subtasks.items()}
    return ParsedRow(text, {"toxicity": int(subtasks["subtask_a"] == "OFF")}, original, id=field(row.fields, "id"))


def _unquote(value: str) -> str:
    """A CSV-quoted field (``"a ""b"" c"``) as its text (``a "b" c``); any other value unchanged."""
    inner = value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"' and '"' not in inner.replace('""', ""):
        return inner.replace('""', '"')
    return value


def read_davidson(path: PathLike | None = None, *, root: PathLike | None = None, errors: str = "raise") -> list[TextRecord]:
    """Davidson et al. (2017) tweets: ``class`` 0 hate / 1 offensive / 2 neither.

    Mapped by :func:`~smartmod.data.categories.offense_level_labels`; ``original`` keeps ``class``,
    the vote counts (``count`` coders; ``hate_speech``, ``offensive_language``, ``neither``) and
    their ``label_shares`` (:func:`~smartmod.data.categories.offense_level_shares`).
    """
    path = dataset_file(path, "text/davidson/train.csv.gz", root)
    rows = csv_rows(path, ("count", "hate_speech", "offensive_language", "neither", "class", "tweet"))
    return read_records(path, rows, _parse_davidson, source="davidson", errors=errors)


def _parse_davidson(row: SourceRow) -> ParsedRow:
    label = choice_field(row.fields, "class", ("0", "1", "2"))
    votes = {name: count_field(row.fields, name) for name in ("count", "hate_speech", "offensive_language", "neither")}
    level = {"0": "hate", "1": "offensive", "2": "normal"}[label]
    shares = offense_level_shares(votes["hate_speech"], votes["offensive_language"], votes["neither"])
    return ParsedRow(text_field(row.fields, "tweet"), offense_level_labels(level), {"class": int(label), **votes, "label_shares": shares})


def read_toxic_spans(files: Mapping[str, PathLike] | None = None, *, root: PathLike | None = None, errors: str = "raise") -> list[TextRecord]:
    """SemEval-2021 Toxic Spans posts: every post is toxic (``toxicity`` 1).

    ``files`` maps split → CSV (``spans,text``); default the shared ``train`` and ``trial`` files.
    ``original["spans"]`` is the sorted list of 0-based character offsets raters marked toxic
    (empty when they agreed on none).
    """
    defaults = {"train": "text/toxic-spans/tsd_train.csv.gz", "trial": "text/toxic-spans/tsd_trial.csv"}
    rows = partial(csv_rows, columns=("spans", "text"))
    return read_split_files(files, defaults, root, rows, _parse_toxic_spans, source="toxic-spans", errors=errors)


def _parse_toxic_spans(row: SourceRow) -> ParsedRow:
    text = text_field(row.fields, "text")
    spans = field(row.fields, "spans")
    try:
        offsets = json.loads(spans)
    except json.JSONDecodeError:
        offsets = None
    if not isinstance(offsets, list) or not all(isinstance(offset, int) and not isinstance(offset, bool) for offset in offsets):
        raise RowProblem(f"spans is {spans!r}, expected a JSON list of character offsets such as [3, 4, 5]")
    outside = [offset for offset in offsets if not 0 <= offset < len(text)]
    if outside:
        raise RowProblem(f"spans holds offsets {outside[:5]} outside the text's {len(text)} characters")
    return ParsedRow(text, {"toxicity": 1}, {"spans": sorted(offsets)})


def read_gab_hate_corpus(path: PathLike | None = None, *, root: PathLike | None = None, errors: str = "raise") -> list[TextRecord]:
    """Gab Hate Corpus posts: ``hd`` → ``identity_attack``, ``cv`` → ``threat``, ``vo`` → ``obscene``,
    and ``toxicity`` = any of the three.

    The TSV CSV-quotes some texts, so it is read by a CSV reader with a tab delimiter.
    """
    path = dataset_file(path, "text/gab-hate-corpus/ghc_train.tsv.gz", root)
    return read_records(path, csv_rows(path, ("text", "hd", "cv", "vo"), delimiter="\t"), _parse_gab, source="gab-hate-corpus", errors=errors)


def _parse_gab(row: SourceRow) -> ParsedRow:
    original = {name: binary_field(row.fields, name) for name in ("hd", "cv", "vo")}
    labels = {"identity_attack": original["hd"], "threat": original["cv"], "obscene": original["vo"], "toxicity": max(original.values())}
    return ParsedRow(text_field(row.fields, "text"), labels, original)


def read_sms_spam(path: PathLike | None = None, *, root: PathLike | None = None, errors: str = "raise") -> list[TextRecord]:
    """UCI SMS Spam Collection messages: ``label`` ham/spam → ``spam`` 0/1 (nothing else labeled)."""
    path = dataset_file(path, "text/sms-spam/train.csv.gz", root)
    return read_records(path, csv_rows(path, ("label", "text")), _parse_sms, source="sms-spam", errors=errors)


def _parse_sms(row: SourceRow) -> ParsedRow:
    label = choice_field(row.fields, "label", ("ham", "spam"))
    return ParsedRow(text_field(row.fields, "text"), {"spam": int(label == "spam")}, {"label": label})
