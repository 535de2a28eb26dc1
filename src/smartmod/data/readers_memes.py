"""Readers for the texts of meme datasets whose images are not available: Facebook Hateful Memes,
MultiOFF, HarMeme (Harm-C, Harm-P) and PrideMM.

A meme's label judges image and text together, so the text alone can read as benign while the
meme is hateful (Hateful Memes adds "benign confounders" on purpose): expect these labels to be
noisier for a text-only model than those of the text sets. Mapping: ``docs/categories.md``.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from smartmod.data.categories import hate_speech_labels
from smartmod.data.records import TextRecord
from smartmod.data.source_files import (
    ParsedRow, PathLike, RowProblem, SourceRow, binary_field, choice_field, csv_rows, dataset_file, field,
    json_lines_rows, read_records, read_split_files, text_field,
)

__all__ = ["read_hateful_memes", "read_multioff", "read_harmeme", "read_pridemm"]


def read_hateful_memes(files: Mapping[str, PathLike] | None = None, *, root: PathLike | None = None, errors: str = "raise") -> list[TextRecord]:
    """Facebook Hateful Memes texts: ``label`` 1 hateful / 0 not → hate speech.

    ``files`` maps split → JSON lines (``id, img, label, text``); default the shared ``train``,
    ``dev_seen`` and ``dev_unseen``. Note that the two dev files share 400 memes (same id, text and
    label); each record's ``group`` is the meme id, so a split keeps the copies together.
    """
    defaults = {split: f"text/hateful-memes-text/{split}.jsonl" for split in ("train", "dev_seen", "dev_unseen")}
    return read_split_files(files, defaults, root, json_lines_rows, _parse_hateful_meme, source="hateful-memes-text", errors=errors)


def _parse_hateful_meme(row: SourceRow) -> ParsedRow:
    label = binary_field(row.fields, "label")
    meme_id = str(field(row.fields, "id"))
    return ParsedRow(text_field(row.fields, "text"), hate_speech_labels(label == 1), {"label": label, "img": row.fields.get("img")}, id=meme_id)


_MULTIOFF_LABELS = ("offensive", "Non-offensiv", "Non-offensive")


def read_multioff(files: Mapping[str, PathLike] | None = None, *, root: PathLike | None = None, errors: str = "raise") -> list[TextRecord]:
    """MultiOFF meme texts: ``label`` offensive / Non-offensiv(e) → ``toxicity`` 1 / 0.

    ``files`` maps split → CSV (``image_name, sentence, label``); default the shared ``train`` and
    ``val``. The source spells the negative class ``Non-offensiv``.
    """
    defaults = {split: f"text/meme-texts/multioff/{split}.csv" for split in ("train", "val")}
    rows = partial(csv_rows, columns=("image_name", "sentence", "label"))
    return read_split_files(files, defaults, root, rows, _parse_multioff, source="multioff", errors=errors)


def _parse_multioff(row: SourceRow) -> ParsedRow:
    label = choice_field(row.fields, "label", _MULTIOFF_LABELS)
    labels = {"toxicity": int(label == "offensive")}
    return ParsedRow(text_field(row.fields, "sentence"), labels, {"label": label}, id=field(row.fields, "image_name"))


_HARM_LEVELS = ("not harmful", "somewhat harmful", "very harmful")
_HARM_TARGETS = ("individual", "organization", "community", "society")
_HARMEME_FILES = {
    "C": {"train": "text/meme-texts/harmeme/Harm-C/train.jsonl", "val": "text/meme-texts/harmeme/Harm-C/val.jsonl"},
    "P": {"train": "text/meme-texts/harmeme/Harm-P/train_v1.jsonl", "val": "text/meme-texts/harmeme/Harm-P/val_v1.jsonl"},
}


def read_harmeme(subset: str = "C", files: Mapping[str, PathLike] | None = None, *, root: PathLike | None = None, errors: str = "raise") -> list[TextRecord]:
    """HarMeme meme texts (Pramanick et al. 2021): Harm-C (COVID-19) or Harm-P (US politics).

    ``labels`` in the source is ``[harm level, *targets]``. Harmful (somewhat or very) →
    ``toxicity`` 1, not harmful → 0; ``identity_attack`` is 1 for a harmful meme whose target is a
    community, 0 for a harmless one, and unlabeled for harm aimed at an individual, organization or
    society. A meme with an empty harm level (one in Harm-P) is left out. ``original`` keeps
    ``harm`` and ``targets``.

    Parameters
    ----------
    subset : {"C", "P"}
        Source ``"harmeme-c"`` or ``"harmeme-p"``.
    files : mapping split → JSON lines (``id, image, labels, text``), optional
        Default: the shared ``train`` and ``val`` files of ``subset``.
    """
    if subset not in _HARMEME_FILES:
        raise ValueError(f"HarMeme has the subsets 'C' (COVID-19) and 'P' (politics), got {subset!r}")
    return read_split_files(files, _HARMEME_FILES[subset], root, json_lines_rows, _parse_harmeme, source=f"harmeme-{subset.lower()}", errors=errors)


def _parse_harmeme(row: SourceRow) -> ParsedRow | None:
    annotation = field(row.fields, "labels")
    if not isinstance(annotation, list) or not annotation or not all(isinstance(value, str) for value in annotation):
        raise RowProblem(f"labels is {annotation!r}, expected a list [harm level, *targets]")
    harm, targets = annotation[0], annotation[1:]
    if harm not in (*_HARM_LEVELS, ""):
        raise RowProblem(f"the harm level is {harm!r}, expected {', '.join(_HARM_LEVELS)}")
    unknown = [target for target in targets if target not in _HARM_TARGETS]
    if unknown:
        raise RowProblem(f"labels holds the targets {unknown}, expected only {', '.join(_HARM_TARGETS)}")
    text = text_field(row.fields, "text")
    if not harm:
        return None  # not rated
    labels = {"toxicity": int(harm != "not harmful")}
    if harm == "not harmful" or "community" in targets:
        labels["identity_attack"] = labels["toxicity"]
    return ParsedRow(text, labels, {"harm": harm, "targets": targets}, id=str(field(row.fields, "id")))


_PRIDEMM_TARGETS = ("undirected", "individual", "community", "organization")
_PRIDEMM_STANCES = ("neutral", "support", "oppose")


def read_pridemm(path: PathLike | None = None, *, root: PathLike | None = None, errors: str = "raise") -> list[TextRecord]:
    """PrideMM meme texts about the LGBTQ+ movement (Shah et al. 2024): ``hate`` 1/0 → hate speech.

    The CSV (``name, hate, target, stance, humour, split, text``) carries its own ``split``
    (train / val). ``original`` keeps ``hate``, ``target`` (undirected, individual, community or
    organization; None when not hateful), ``stance`` towards the movement (neutral, support, oppose)
    and ``humour``, decoded from the source's codes 0, 1, ...
    """
    path = dataset_file(path, "text/meme-texts/pridemm/train_val.csv.gz", root)
    rows = csv_rows(path, ("name", "hate", "target", "stance", "humour", "split", "text"))
    return read_records(path, rows, _parse_pridemm, source="pridemm", errors=errors)


def _parse_pridemm(row: SourceRow) -> ParsedRow:
    hate = binary_field(row.fields, "hate")
    target = choice_field(row.fields, "target", ("", "0.0", "1.0", "2.0", "3.0", "0", "1", "2", "3"))
    if bool(target) != bool(hate):
        raise RowProblem(f"target is {target!r} while hate is {hate}; expected a target (0 to 3) exactly when hate is 1")
    stance = choice_field(row.fields, "stance", ("0", "1", "2"))
    split = field(row.fields, "split").strip()
    if not split:
        raise RowProblem("split is empty, expected the split's name (train, val, ...)")
    original = {
        "hate": hate, "target": _PRIDEMM_TARGETS[int(float(target))] if target else None,
        "stance": _PRIDEMM_STANCES[int(stance)], "humour": binary_field(row.fields, "humour"),
    }
    return ParsedRow(text_field(row.fields, "text"), hate_speech_labels(hate == 1), original, id=field(row.fields, "name"), split=split)
