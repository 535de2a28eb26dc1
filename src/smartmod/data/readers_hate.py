"""Readers for the hate-speech sets: HatEval 2019, HateXplain, Stormfront and Latent Hatred
(implicit-hate).

Their verdicts map through :func:`~smartmod.data.categories.hate_speech_labels` (HateXplain's
three levels through :func:`~smartmod.data.categories.offense_level_labels`); see
``docs/categories.md``. Each reader takes the file(s) to read (default: the shared copy) and
``errors="raise" | "skip"``.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from smartmod.data.categories import hate_speech_labels, offense_level_labels, offense_level_shares
from smartmod.data.records import DataFormatError, TextRecord
from smartmod.data.source_files import (
    ParsedRow, PathLike, RowProblem, SourceRow, binary_field, choice_field, count_field, csv_rows, dataset_file,
    field, read_decoded, read_records, read_split_files, text_field,
)

__all__ = ["read_hateval", "read_hatexplain", "read_stormfront", "read_implicit_hate"]

_HATEVAL_FILES = {
    "en": {"train": "text/hateval2019/hateval2019_en_train.csv.gz", "dev": "text/hateval2019/hateval2019_en_dev.csv"},
    "es": {"train": "text/hateval2019/hateval2019_es_train.csv", "dev": "text/hateval2019/hateval2019_es_dev.csv"},
}


def read_hateval(
    language: str = "en", files: Mapping[str, PathLike] | None = None, *, root: PathLike | None = None, errors: str = "raise",
) -> list[TextRecord]:
    """HatEval 2019 (SemEval-2019 Task 5) tweets against immigrants and women: ``HS`` → hate speech.

    Parameters
    ----------
    language : {"en", "es"}
        Source ``"hateval-en"`` or ``"hateval-es"``; records carry the language.
    files : mapping split → CSV (``id,text,HS,TR,AG``), optional
        Default: the shared ``train`` and ``dev`` files of ``language``.

    ``original`` keeps ``HS``, ``TR`` (targets an individual) and ``AG`` (aggressive).
    """
    if language not in _HATEVAL_FILES:
        raise ValueError(f"HatEval has English and Spanish tweets: language must be 'en' or 'es', got {language!r}")
    rows = partial(csv_rows, columns=("id", "text", "HS", "TR", "AG"))
    return read_split_files(files, _HATEVAL_FILES[language], root, rows, _parse_hateval, source=f"hateval-{language}", errors=errors, language=language)


def _parse_hateval(row: SourceRow) -> ParsedRow:
    original = {name: binary_field(row.fields, name) for name in ("HS", "TR", "AG")}
    return ParsedRow(text_field(row.fields, "text"), hate_speech_labels(original["HS"] == 1), original, id=field(row.fields, "id"))


_HATEXPLAIN_LEVELS = {"hatespeech": "hate", "offensive": "offensive", "normal": "normal"}


def read_hatexplain(
    dataset_json: PathLike | None = None, divisions_json: PathLike | None = None, *,
    root: PathLike | None = None, errors: str = "raise",
) -> list[TextRecord]:
    """HateXplain posts (tweets and Gab), labeled by the majority of their annotators.

    ``dataset_json`` maps post id → ``{post_id, annotators: [{label, target, ...}], post_tokens,
    rationales}``; ``divisions_json`` maps split → post ids and decides which posts are read (the
    shared copy holds ``train`` and ``val``). A post whose annotators reach no majority has no gold
    label and is left out, as in the original splits. ``hatespeech`` / ``offensive`` / ``normal``
    map through :func:`~smartmod.data.categories.offense_level_labels`.

    The text is the lower-cased tokens joined by spaces. ``original`` keeps the majority ``label``,
    each annotator's ``annotator_labels`` and ``targets``, the ``tokens``, and the ``rationales``:
    one 0/1 mask per annotator who saw harm, meant to align with ``tokens`` (one shared post has a
    mask one token longer).
    Its ``label_shares`` are the annotators' votes as shares (:func:`~smartmod.data.categories.offense_level_shares`).
    """
    dataset_path = dataset_file(dataset_json, "text/hatexplain/dataset.json.gz", root)
    divisions_path = dataset_file(divisions_json, "text/hatexplain/post_id_divisions.json", root)
    posts = _json_document(dataset_path)
    split_of = {post_id: split for split, post_ids in _divisions(divisions_path).items() for post_id in post_ids}
    return read_records(dataset_path, _hatexplain_rows(posts, split_of, divisions_path), _parse_hatexplain, source="hatexplain", errors=errors)


def _json_document(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(read_decoded(path))
    except json.JSONDecodeError as error:
        raise DataFormatError(path, error.lineno, f"is not valid JSON ({error.msg} at column {error.colno})") from error
    if not isinstance(document, dict):
        raise DataFormatError(path, None, f"holds a JSON {type(document).__name__}, expected an object")
    return document


def _divisions(path: Path) -> dict[str, list[str]]:
    divisions = _json_document(path)
    for split, post_ids in divisions.items():
        if not isinstance(post_ids, list) or not all(isinstance(post_id, str) for post_id in post_ids):
            raise DataFormatError(path, None, f"split {split!r} holds {type(post_ids).__name__}, expected a list of post ids")
    return divisions


def _hatexplain_rows(posts: Mapping[str, Any], split_of: Mapping[str, str], divisions_path: Path) -> Iterator[SourceRow]:
    """The posts named in the divisions, as rows keyed by post id, with their split."""
    for post_id, split in split_of.items():
        key = f"post {post_id}"
        post = posts.get(post_id)
        if post is None:
            yield SourceRow(None, {}, f"is listed in {divisions_path.name} but absent from the dataset", key=key)
        elif not isinstance(post, dict):
            yield SourceRow(None, {}, f"holds a JSON {type(post).__name__}, expected an object", key=key)
        else:
            yield SourceRow(None, {**post, "post_id": post_id, "split": split}, key=key)


def _parse_hatexplain(row: SourceRow) -> ParsedRow | None:
    annotators = field(row.fields, "annotators")
    if not isinstance(annotators, list) or not annotators or not all(isinstance(annotator, dict) for annotator in annotators):
        raise RowProblem(f"annotators is {annotators!r}, expected a list of {{label, target}} objects")
    votes = [choice_field(annotator, "label", tuple(_HATEXPLAIN_LEVELS)) for annotator in annotators]
    tokens = field(row.fields, "post_tokens")
    if not isinstance(tokens, list) or not all(isinstance(token, str) for token in tokens) or not "".join(tokens).strip():
        raise RowProblem(f"post_tokens is {tokens!r}, expected a non-empty list of strings")
    rationales = field(row.fields, "rationales")
    if not isinstance(rationales, list) or not all(isinstance(mask, list) and all(value in (0, 1) for value in mask) for mask in rationales):
        raise RowProblem("rationales must be a list of 0/1 masks, one per annotator who saw harm")
    label, count = Counter(votes).most_common(1)[0]
    if 2 * count <= len(votes):
        return None  # no majority: no gold label
    original = {
        "label": label, "annotator_labels": votes, "targets": [annotator.get("target", []) for annotator in annotators],
        "tokens": tokens, "rationales": rationales,
        "label_shares": offense_level_shares(*(sum(vote == level for vote in votes) for level in ("hatespeech", "offensive", "normal"))),
    }
    post_id = row.fields["post_id"]
    return ParsedRow(" ".join(tokens), offense_level_labels(_HATEXPLAIN_LEVELS[label]), original, id=post_id, split=row.fields["split"])


def read_stormfront(path: PathLike | None = None, *, root: PathLike | None = None, errors: str = "raise") -> list[TextRecord]:
    """Sentences from the Stormfront forum (de Gibert et al. 2018): ``hate`` / ``noHate`` → hate speech.

    ``relation`` (hateful only together with its neighbouring sentences) and ``idk/skip`` are
    left out: neither says whether the sentence alone is hateful. The sentences of one post share
    the ``file_id`` prefix before ``_``, which becomes the record's ``group``. ``original`` keeps
    the label and the file's metadata (``sampled_split`` marks the source's balanced training sample).
    """
    path = dataset_file(path, "text/stormfront/sentences.csv.gz", root)
    rows = csv_rows(path, ("file_id", "user_id", "subforum_id", "num_contexts", "label", "sampled_split", "text"))
    return read_records(path, rows, _parse_stormfront, source="stormfront", errors=errors)


def _parse_stormfront(row: SourceRow) -> ParsedRow | None:
    label = choice_field(row.fields, "label", ("hate", "noHate", "relation", "idk/skip"))
    text = text_field(row.fields, "text")
    file_id = field(row.fields, "file_id")
    if "_" not in file_id:
        raise RowProblem(f"file_id is {file_id!r}, expected <post id>_<sentence number>")
    if label in ("relation", "idk/skip"):
        return None
    original = {
        "label": label, "num_contexts": count_field(row.fields, "num_contexts"), "user_id": row.fields["user_id"],
        "subforum_id": row.fields["subforum_id"], "sampled_split": row.fields["sampled_split"] or None,
    }
    return ParsedRow(text, hate_speech_labels(label == "hate"), original, id=file_id, group=file_id.split("_")[0])


_IMPLICIT_HATE_CLASSES = ("not_hate", "implicit_hate", "explicit_hate")


def read_implicit_hate(path: PathLike | None = None, *, root: PathLike | None = None, errors: str = "raise") -> list[TextRecord]:
    """Latent Hatred (ElSherief et al. 2021) stage-1 posts: ``class`` ``implicit_hate`` or
    ``explicit_hate`` → hate speech, ``not_hate`` → not. ``original["class"]`` keeps which."""
    path = dataset_file(path, "text/implicit-hate/stg1_posts.csv.gz", root)
    return read_records(path, csv_rows(path, ("post", "class")), _parse_implicit_hate, source="implicit-hate", errors=errors)


def _parse_implicit_hate(row: SourceRow) -> ParsedRow:
    label = choice_field(row.fields, "class", _IMPLICIT_HATE_CLASSES)
    return ParsedRow(text_field(row.fields, "post"), hate_speech_labels(label != "not_hate"), {"class": label})
