"""What every text reader shares: finding, decoding and splitting a dataset file into rows, checking
each row's fields, and the ``errors="raise" | "skip"`` policy for bad rows.

A reader is a parse function from one :class:`SourceRow` to a :class:`ParsedRow` (or None for a row
the dataset leaves unlabeled by design); :func:`read_records` runs it over a file's rows, turns each
:class:`RowProblem` into a :class:`~smartmod.data.records.DataFormatError` naming the file and
line, and builds the :class:`~smartmod.data.records.TextRecord` objects.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from smartmod.data.paths import DataMissingError, data_path
from smartmod.data.records import DataFormatError, DataFormatWarning, TextRecord

__all__ = [
    "PathLike", "RowProblem", "SourceRow", "ParsedRow", "dataset_file", "read_decoded", "csv_rows",
    "json_lines_rows", "parse_rows", "read_records", "read_split_files", "field", "non_empty_text", "text_field",
    "binary_field", "choice_field", "count_field",
]

PathLike = str | os.PathLike
T = TypeVar("T")

_PROBLEMS_SHOWN = 3
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that surrogateescape could not decode


class RowProblem(ValueError):
    """What is wrong with one row; :func:`parse_rows` adds the file and the line."""


class SourceRow(NamedTuple):
    """One row of a dataset file.

    ``line`` is where the row starts (the header is line 1), None where rows have no line (the
    posts of one JSON document: ``key`` then names the row). ``problem`` is set, and ``fields``
    empty, when the row could not even be split into fields.
    """

    line: int | None
    fields: Mapping[str, Any]
    problem: str | None = None
    key: str | None = None


class ParsedRow(NamedTuple):
    """What a reader takes from one row; ``id``, ``group`` and ``split`` left None fall back to
    ``"<file name>:<line>"``, the id, and the file's split."""

    text: str
    labels: dict[str, int]
    original: dict[str, Any]
    id: str | None = None
    group: str | None = None
    split: str | None = None


def dataset_file(path: PathLike | None, relative: str, root: PathLike | None = None) -> Path:
    """``path`` when given, else the shared file ``relative`` under ``root`` (default: the data path setting)."""
    if path is not None:
        return Path(path)
    if root is None:
        return data_path(relative)
    candidate = Path(root) / relative
    if not candidate.exists():
        raise DataMissingError(f"dataset file {candidate} not found; the data folder {root} must contain {relative}")
    return candidate


def read_decoded(path: Path) -> str:
    """The file's text, gunzipped when it starts with the gzip magic bytes.

    Bytes that are not valid UTF-8 become U+FFFD with one :class:`DataFormatWarning` giving their
    count; a leading byte-order mark is dropped.
    """
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise DataFormatError(path, None, f"starts like a gzip file but does not decompress ({error}); re-download it") from error
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        escaped = data.decode("utf-8", errors="surrogateescape")
        bad = _UNDECODABLE.findall(escaped)
        first_line = escaped.count("\n", 0, _UNDECODABLE.search(escaped).start()) + 1
        warnings.warn(
            f"{path.name}: {len(bad)} bytes are not valid UTF-8 (the first on line {first_line}); "
            "each was replaced with U+FFFD", DataFormatWarning, stacklevel=2,
        )
        text = _UNDECODABLE.sub("\ufffd", escaped)
    return text.removeprefix("\ufeff")


def csv_rows(path: Path, columns: Sequence[str], *, delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL) -> Iterator[SourceRow]:
    """The rows of a delimited file with a header line, as ``{column: str}``.

    Raises a :class:`DataFormatError` when the header lacks one of ``columns`` (extra columns are
    kept) or the file cannot be split into rows; a row with the wrong number of fields comes back
    with its ``problem`` set. Blank lines are passed over.
    """
    reader = csv.reader(io.StringIO(read_decoded(path), newline=""), delimiter=delimiter, quoting=quoting)
    header = [name.strip() for name in next(reader, [])]
    if not header:
        raise DataFormatError(path, 1, f"the file is empty; expected a header line with the columns {', '.join(columns)}")
    missing = [column for column in columns if column not in header]
    if missing:
        raise DataFormatError(
            path, 1, f"the header lacks the column(s) {', '.join(missing)}; it has {', '.join(header)}; "
            f"expected {', '.join(columns)} ({_separator_name(delimiter)}-separated)",
        )
    start = reader.line_num + 1
    try:
        for values in reader:
            line, start = start, reader.line_num + 1
            if not values:
                continue
            if len(values) != len(header):
                yield SourceRow(line, {}, f"has {len(values)} {_separator_name(delimiter)}-separated fields, expected {len(header)} ({', '.join(header)})")
            else:
                yield SourceRow(line, dict(zip(header, values)))
    except csv.Error as error:
        raise DataFormatError(path, start, f"cannot be split into fields ({error}); check the quoting around this line") from error


def _separator_name(delimiter: str) -> str:
    return {",": "comma", "\t": "tab"}.get(delimiter, repr(delimiter))


def json_lines_rows(path: Path) -> Iterator[SourceRow]:
    """The rows of a JSON-lines file (one object per line); blank lines are passed over."""
    for number, line in enumerate(read_decoded(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            yield SourceRow(number, {}, f"is not valid JSON ({error.msg} at column {error.colno})")
            continue
        if isinstance(value, dict):
            yield SourceRow(number, value)
        else:
            yield SourceRow(number, {}, f"holds a JSON {type(value).__name__}, expected an object")


def parse_rows(path: Path, rows: Iterable[SourceRow], parse: Callable[[SourceRow], T | None], errors: str) -> list[tuple[SourceRow, T]]:
    """``(row, parse(row))`` for the rows of ``path`` that parse to something other than None.

    With ``errors="raise"`` the first bad row raises a :class:`DataFormatError`; with ``"skip"``
    bad rows are dropped and one :class:`DataFormatWarning` gives their count and the first few.
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
    parsed, problems = [], []
    for row in rows:
        try:
            if row.problem is not None:
                raise RowProblem(row.problem)
            value = parse(row)
        except RowProblem as problem:
            error = DataFormatError(path, row.line, str(problem) if row.key is None else f"{row.key}: {problem}")
            if errors == "raise":
                raise error from None
            problems.append(error)
            continue
        if value is not None:
            parsed.append((row, value))
    if problems:
        shown = "; ".join(str(problem) for problem in problems[:_PROBLEMS_SHOWN])
        more = " ..." if len(problems) > _PROBLEMS_SHOWN else ""
        warnings.warn(f"{path.name}: skipped {len(problems)} bad row(s): {shown}{more}", DataFormatWarning, stacklevel=2)
    return parsed


def read_records(
    path: Path, rows: Iterable[SourceRow], parse: Callable[[SourceRow], ParsedRow | None], *,
    source: str, split: str = "train", errors: str = "raise", language: str = "en",
) -> list[TextRecord]:
    """The :class:`TextRecord` of every good row of ``path`` (see :func:`parse_rows` for ``errors``)."""
    records = []
    for row, parsed in parse_rows(path, rows, parse, errors):
        record_id = parsed.id if parsed.id is not None else f"{path.name}:{row.line}"
        records.append(TextRecord(
            text=parsed.text, source=source, labels=parsed.labels, id=record_id, split=parsed.split or split,
            group=parsed.group or record_id, original=parsed.original, language=language,
        ))
    return records


def read_split_files(
    files: Mapping[str, PathLike] | None, defaults: Mapping[str, str], root: PathLike | None,
    rows: Callable[[Path], Iterable[SourceRow]], parse: Callable[[SourceRow], ParsedRow | None], *,
    source: str, errors: str = "raise", language: str = "en",
) -> list[TextRecord]:
    """The records of a dataset kept as one file per split: ``rows(path)`` of each ``split → path``
    in ``files`` (default: the shared files ``defaults``, ``split → relative path`` under ``root``)."""
    if files is None:
        paths = {split: dataset_file(None, relative, root) for split, relative in defaults.items()}
    else:
        paths = {split: Path(path) for split, path in files.items()}
    return [
        record for split, path in paths.items()
        for record in read_records(path, rows(path), parse, source=source, split=split, errors=errors, language=language)
    ]


def field(fields: Mapping[str, Any], name: str) -> Any:
    """``fields[name]``, or a :class:`RowProblem` naming the fields the row has."""
    try:
        return fields[name]
    except KeyError:
        raise RowProblem(f"lacks {name!r}; it has {', '.join(map(repr, fields))}") from None


def non_empty_text(value: Any, name: str) -> str:
    """``value`` when it is a string holding more than whitespace."""
    if not isinstance(value, str):
        raise RowProblem(f"{name} is {value!r} ({type(value).__name__}), expected a non-empty string")
    if not value.strip():
        raise RowProblem(f"{name} is empty, expected the text")
    return value


def text_field(fields: Mapping[str, Any], name: str) -> str:
    """The non-empty string in column ``name``."""
    return non_empty_text(field(fields, name), name)


def choice_field(fields: Mapping[str, Any], name: str, allowed: Sequence[str]) -> str:
    """The value of column ``name`` (numbers read as their text) when it is one of ``allowed``."""
    value = field(fields, name)
    text = _as_text(value)
    if text not in allowed:
        alternatives = ", ".join(allowed[:-1]) + f" or {allowed[-1]}" if len(allowed) > 1 else allowed[0]
        raise RowProblem(f"{name} is {value!r}, expected {alternatives}")
    return text


def _as_text(value: Any) -> Any:
    """A JSON integer as the text a delimited file would hold (``1`` → ``"1"``); anything else unchanged."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def binary_field(fields: Mapping[str, Any], name: str) -> int:
    """Column ``name`` as 0 or 1 (``"0"``/``"1"`` in text files, 0/1 in JSON)."""
    return int(choice_field(fields, name, ("0", "1")))


def count_field(fields: Mapping[str, Any], name: str) -> int:
    """Column ``name`` as a count (a non-negative whole number)."""
    value = field(fields, name)
    text = _as_text(value)
    if not isinstance(text, str) or not (text.isascii() and text.isdigit()):
        raise RowProblem(f"{name} is {value!r}, expected a count (a whole number, 0 or more)")
    return int(text)

