"""Reading texts to score from files and writing the scores back.

Formats are chosen by file extension (``.csv``, ``.jsonl``/``.ndjson``, ``.txt``, ``.parquet``)
or explicitly; ``-`` means standard input or output (text lines in, JSON lines out unless a
format is given). Bytes that are not valid UTF-8 are replaced by U+FFFD and counted in one
warning, never a crash. A cell that is not text (a number or null in JSON, a non-string Parquet
column) is an error naming its row; a missing text column is an error naming the columns that
exist.
"""
from __future__ import annotations

import io
import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas

__all__ = ["InputError", "FORMATS", "detect_format", "TextTable", "encode_rows", "read_texts", "write_bytes", "write_table"]

FORMATS = ("csv", "jsonl", "txt", "parquet")
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".txt": "txt", ".parquet": "parquet"}


class InputError(ValueError):
    """The input cannot be scored as given; the message says what to change."""


def detect_format(path: str, explicit: str | None, default_for_stream: str) -> str:
    """The format named explicitly, else the one the extension implies (``-`` uses the default)."""
    if explicit is not None:
        if explicit not in FORMATS:
            raise InputError(f"unknown format {explicit!r}; choose one of {', '.join(FORMATS)}")
        return explicit
    if path == "-":
        return default_for_stream
    suffix = Path(path).suffix.lower()
    if suffix not in _EXTENSIONS:
        raise InputError(f"cannot tell the format of {path!r} from its extension; pass --format ({', '.join(FORMATS)})")
    return _EXTENSIONS[suffix]


@dataclass
class TextTable:
    """The rows read: ``frame`` holds every input column, ``texts`` the column to score."""

    frame: pandas.DataFrame
    texts: list[str]
    text_column: str
    replaced_bytes: int = 0


class _ReplacementCounter:
    """A codec error handler that replaces undecodable bytes with U+FFFD and counts them."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, error: UnicodeDecodeError) -> tuple[str, int]:
        self.count += error.end - error.start
        return "\ufffd", error.end


def _decode(data: bytes, source: str) -> tuple[str, int]:
    import codecs

    counter = _ReplacementCounter()
    name = f"smartmod-count-{id(counter)}"
    codecs.register_error(name, counter)
    text = data.decode("utf-8-sig", errors=name)
    if counter.count:
        warnings.warn(f"{source}: {counter.count} bytes were not valid UTF-8 and were replaced by U+FFFD", stacklevel=3)
    return text, counter.count


def _read_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"input file {path!r} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"input {path!r} is a directory; pass a file") from None


def _text_cells(values: list[Any], column: str, source: str) -> list[str]:
    for row, value in enumerate(values):
        if not isinstance(value, str):
            kind = "null" if value is None or (isinstance(value, float) and value != value) else type(value).__name__
            raise InputError(f"{source} row {row + 1}: column {column!r} holds a {kind} ({value!r:.50}), not text; every cell to score must be a string")
    return values


def read_texts(path: str, text_column: str = "text", fmt: str | None = None) -> TextTable:
    """Read the texts to score from ``path`` (``-`` for standard input)."""
    fmt = detect_format(path, fmt, "txt")
    source = "standard input" if path == "-" else path
    if fmt == "parquet":
        try:
            frame = pandas.read_parquet(io.BytesIO(_read_bytes(path)))
        except (OSError, ValueError) as error:
            raise InputError(f"{source} is not a readable Parquet file ({error})") from error
        replaced = 0
    else:
        content, replaced = _decode(_read_bytes(path), source)
        if fmt == "txt":
            lines = content.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            frame = pandas.DataFrame({text_column: [line.rstrip("\r") for line in lines]})
        elif fmt == "csv":
            try:
                frame = pandas.read_csv(io.StringIO(content), dtype=str, keep_default_na=False)
            except (pandas.errors.ParserError, pandas.errors.EmptyDataError) as error:
                raise InputError(f"{source} is not a readable CSV file ({error})") from error
        else:
            frame = pandas.DataFrame(_parse_jsonl(content, source))
    if text_column not in frame.columns:
        existing = ", ".join(map(repr, map(str, frame.columns))) or "none"
        raise InputError(f"{source} has no column {text_column!r}; the columns are: {existing}. Pass --text-column")
    texts = _text_cells(frame[text_column].tolist(), text_column, source)
    return TextTable(frame, texts, text_column, replaced)


def _parse_jsonl(content: str, source: str) -> list[dict[str, Any]]:
    records = []
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"{source} line {number}: not valid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise InputError(f"{source} line {number}: expected a JSON object per line, got {type(record).__name__}")
        records.append(record)
    return records


def encode_rows(frame: pandas.DataFrame, fmt: str, header: bool = True) -> bytes:
    """``frame`` as CSV (with or without the header line) or JSON lines, UTF-8 encoded.

    Every row is formatted on its own, so the encodings of consecutive slices of a frame,
    joined, are the encoding of the whole frame: batches can be formatted in parallel.
    """
    if fmt == "csv":
        return frame.to_csv(index=False, header=header).encode("utf-8")
    if fmt == "jsonl":
        if frame.empty:
            return b""
        data = frame.to_json(orient="records", lines=True, force_ascii=False).encode("utf-8")
        return data if data.endswith(b"\n") else data + b"\n"
    if fmt == "txt":
        raise InputError("txt output would lose the scores; write csv, jsonl or parquet")
    raise ValueError(f"encode_rows writes csv or jsonl, got {fmt!r}")


def write_table(frame: pandas.DataFrame, path: str, fmt: str | None = None) -> None:
    """Write ``frame`` to ``path`` (``-`` for standard output); files are replaced atomically."""
    fmt = detect_format(path, fmt, "jsonl")
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        write_bytes(buffer.getvalue(), path)
    else:
        write_bytes(encode_rows(frame, fmt), path)


def write_bytes(data: bytes, path: str) -> None:
    """``data`` to ``path``, replacing a file atomically, or to standard output for ``-``."""
    from smartmod.nn.serialize import atomic_write_bytes

    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        atomic_write_bytes(path, data)
