"""``smartmod moderate`` as a real subprocess: arguments, files in every format, stdin/stdout, bad input."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas
import pytest

from smartmod.data.categories import CATEGORIES


def moderate(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smartmod.cli", "moderate", *args], input=stdin, capture_output=True, timeout=120,
                          env={**os.environ, "PYTHONIOENCODING": "utf-8"})


def test_texts_as_arguments_give_json_lines(tiny_bundle_dir):
    result = moderate("you are an idiot", "have a nice day", "--model", tiny_bundle_dir)
    assert result.returncode == 0, result.stderr.decode()
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [line["text"] for line in lines] == ["you are an idiot", "have a nice day"]
    assert lines[0]["flagged"] and not lines[1]["flagged"]
    assert set(lines[0]["scores"]) == set(CATEGORIES)


@pytest.mark.parametrize("suffix", ["csv", "jsonl", "parquet"])
def test_file_to_file_keeps_columns_and_adds_scores(tmp_path, tiny_bundle_dir, suffix):
    frame = pandas.DataFrame({"id": [1, 2, 3], "comment": ["you stupid idiot", "thanks for the help", ""]})
    source = tmp_path / f"in.{suffix}"
    {"csv": lambda: frame.to_csv(source, index=False), "jsonl": lambda: frame.to_json(source, orient="records", lines=True),
     "parquet": lambda: frame.to_parquet(source)}[suffix]()
    target = tmp_path / f"out.{suffix}"
    result = moderate("--input", str(source), "--output", str(target), "--text-column", "comment", "--model", tiny_bundle_dir, "--no-progress")
    assert result.returncode == 0, result.stderr.decode()
    out = {"csv": pandas.read_csv, "jsonl": lambda p: pandas.read_json(p, lines=True), "parquet": pandas.read_parquet}[suffix](target)
    assert list(out["id"]) == [1, 2, 3]
    assert set(CATEGORIES) | {"flagged"} <= set(out.columns)
    assert bool(out["flagged"][0]) and not bool(out["flagged"][1])
    assert "scored 3 texts" in result.stderr.decode()


def test_txt_from_stdin_to_stdout(tiny_bundle_dir):
    result = moderate("--input", "-", "--model", tiny_bundle_dir, "--no-progress", stdin=b"you are an idiot\nsee you tomorrow\n")
    assert result.returncode == 0, result.stderr.decode()
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [row["text"] for row in rows] == ["you are an idiot", "see you tomorrow"] and rows[0]["flagged"]


def test_invalid_utf8_is_replaced_and_counted(tmp_path, tiny_bundle_dir):
    source = tmp_path / "bad.txt"
    source.write_bytes(b"caf\xe9 idiot\nfine\n")
    result = moderate("--input", str(source), "--output", str(tmp_path / "out.csv"), "--model", tiny_bundle_dir, "--no-progress")
    assert result.returncode == 0, result.stderr.decode()
    assert "1 bytes were not valid UTF-8" in result.stderr.decode()
    assert len(pandas.read_csv(tmp_path / "out.csv")) == 2


def test_missing_column_names_the_existing_ones(tmp_path, tiny_bundle_dir):
    source = tmp_path / "in.csv"
    pandas.DataFrame({"body": ["x"], "author": ["y"]}).to_csv(source, index=False)
    result = moderate("--input", str(source), "--model", tiny_bundle_dir, "--no-progress")
    assert result.returncode == 2
    assert "no column 'text'" in result.stderr.decode() and "'body', 'author'" in result.stderr.decode()


def test_non_text_cell_names_the_row_and_keeps_existing_output(tmp_path, tiny_bundle_dir):
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text('{"text": "fine"}\n{"text": 42}\n')
    target.write_text("previous results\n")
    result = moderate("--input", str(source), "--output", str(target), "--model", tiny_bundle_dir, "--no-progress")
    assert result.returncode == 2 and "row 2" in result.stderr.decode() and "int" in result.stderr.decode()
    assert target.read_text() == "previous results\n"


def test_nothing_to_score_is_a_clear_error(tiny_bundle_dir):
    result = moderate("--model", tiny_bundle_dir)
    assert result.returncode == 2 and "nothing to score" in result.stderr.decode()
