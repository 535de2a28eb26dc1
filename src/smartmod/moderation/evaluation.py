"""Evaluating a text moderation model: calibration, thresholds, the headline figures, the report.

The headline figures are the quality bars of the text model: OLID offensive macro-F1, Davidson
hate-vs-rest and toxic AUC, SMS spam F1, HatEval and Gab hate figures, calibration error per
category, recall kept under obfuscation, and the flag rate of benign identity mentions.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy

from smartmod.eval import EvaluationReport, apply_temperature, average_precision, choose_thresholds, expected_calibration_error, fit_temperatures, roc_auc
from smartmod.moderation.probes import identity_flag_rate, obfuscation_recall

__all__ = ["calibrate_and_threshold", "olid_threshold", "headline_figures", "evaluate_bundle_scores", "evaluate_command"]


def calibrate_and_threshold(logits: numpy.ndarray, labels: numpy.ndarray, categories: Sequence[str], target_precision: float | None,
                            floor: float = 0.0) -> tuple[dict[str, float], dict[str, float]]:
    """Temperatures fitted on validation logits, then per-category thresholds on the calibrated
    scores (max-F1 or a target precision), never below ``floor``: for rare categories the max-F1
    threshold on a few hundred positives can sit at a few percent and flag benign text."""
    temperatures = fit_temperatures(labels, logits)
    calibrated = apply_temperature(logits, temperatures)
    choices = choose_thresholds(labels, calibrated, list(categories), target_precision=target_precision)
    return ({c: float(t) for c, t in zip(categories, temperatures)}, {c: max(float(choices[c].threshold), floor) for c in categories})


def _binary_f1(y: numpy.ndarray, predicted: numpy.ndarray) -> float:
    tp = float((predicted & y).sum())
    fp = float((predicted & ~y).sum())
    fn = float((~predicted & y).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")


def _column(categories: Sequence[str], name: str) -> int:
    return list(categories).index(name)


def _labeled(labels: numpy.ndarray, sources: numpy.ndarray, source: str, column: int) -> numpy.ndarray:
    return numpy.flatnonzero((sources == source) & ~numpy.isnan(labels[:, column]))


def _macro_f1(y: numpy.ndarray, predicted: numpy.ndarray) -> float:
    """Mean of the F1 of the positive and of the negative class (OffensEval's macro-F1)."""
    return (_binary_f1(y, predicted) + _binary_f1(~y, ~predicted)) / 2


def olid_threshold(probabilities: numpy.ndarray, labels: numpy.ndarray, sources: numpy.ndarray, categories: Sequence[str]) -> float | None:
    """The toxicity threshold maximizing OLID macro-F1 on these (validation) rows, as a team
    deploying on tweets would tune it; None without OLID rows."""
    toxicity = _column(categories, "toxicity")
    rows = _labeled(labels, sources, "olid", toxicity)
    if not rows.size:
        return None
    y, scores = labels[rows, toxicity] == 1, probabilities[rows, toxicity]
    candidates = numpy.unique(numpy.round(scores, 3))
    return float(max(candidates, key=lambda t: _macro_f1(y, scores >= t)))


def headline_figures(probabilities: numpy.ndarray, labels: numpy.ndarray, sources: numpy.ndarray, originals: Sequence[dict],
                     categories: Sequence[str], thresholds: dict[str, float], olid_tuned_threshold: float | None = None) -> dict[str, Any]:
    """The per-dataset quality-bar figures on the given (holdout) rows. With
    ``olid_tuned_threshold`` (chosen on validation rows), OLID macro-F1 is also given at it."""
    toxicity, identity, spam = (_column(categories, c) for c in ("toxicity", "identity_attack", "spam"))
    figures: dict[str, Any] = {}
    rows = _labeled(labels, sources, "olid", toxicity)
    if rows.size:
        y, predicted = labels[rows, toxicity] == 1, probabilities[rows, toxicity] >= thresholds["toxicity"]
        figures["olid_offensive_macro_f1"] = _macro_f1(y, predicted)
        if olid_tuned_threshold is not None:
            figures["olid_tuned_threshold"] = olid_tuned_threshold
            figures["olid_offensive_macro_f1_tuned_threshold"] = _macro_f1(y, probabilities[rows, toxicity] >= olid_tuned_threshold)
        figures["olid_offensive_auc"] = roc_auc(y, probabilities[rows, toxicity])
        figures["olid_rows"] = int(rows.size)
    rows = numpy.flatnonzero(sources == "davidson")
    if rows.size:
        davidson_class = numpy.array([originals[i]["class"] for i in rows]).astype(int)
        figures["davidson_hate_vs_rest_auc"] = roc_auc(davidson_class == 0, probabilities[rows, identity])
        figures["davidson_toxic_auc"] = roc_auc(davidson_class != 2, probabilities[rows, toxicity])
        figures["davidson_rows"] = int(rows.size)
    rows = _labeled(labels, sources, "sms-spam", spam)
    if rows.size:
        figures["sms_spam_f1"] = _binary_f1(labels[rows, spam] == 1, probabilities[rows, spam] >= thresholds["spam"])
        figures["sms_rows"] = int(rows.size)
    for source, key in (("hateval-en", "hateval_en"), ("gab-hate-corpus", "gab"), ("implicit-hate", "implicit_hate"), ("hatexplain", "hatexplain")):
        rows = _labeled(labels, sources, source, identity)
        if rows.size:
            y = labels[rows, identity] == 1
            figures[f"{key}_hate_f1"] = _binary_f1(y, probabilities[rows, identity] >= thresholds["identity_attack"])
            figures[f"{key}_hate_auc"] = roc_auc(y, probabilities[rows, identity])
            figures[f"{key}_hate_average_precision"] = average_precision(y, probabilities[rows, identity])
    figures["ece_after_temperature"] = {
        c: expected_calibration_error(labels[:, i], probabilities[:, i]) for i, c in enumerate(categories) if (~numpy.isnan(labels[:, i])).sum() > 0
    }
    return figures


def evaluate_bundle_scores(bundle: Any, texts: list[str], labels: numpy.ndarray, sources: numpy.ndarray, originals: Sequence[dict], *,
                           history: dict | None = None, report_dir: str | Path | None = None, cross_dataset: dict | None = None,
                           olid_tuned_threshold: float | None = None) -> dict[str, Any]:
    """Headline figures, probes and (optionally) the full report of ``bundle`` on labeled rows."""
    from smartmod.moderation.moderator import Moderator

    categories, thresholds = bundle.config.categories, bundle.config.thresholds
    logits = bundle.logits(texts)
    temperatures = numpy.array([bundle.config.temperatures[c] for c in categories])
    probabilities = apply_temperature(logits, temperatures)
    figures = headline_figures(probabilities, labels, sources, originals, categories, thresholds, olid_tuned_threshold)
    moderator = Moderator(bundle)
    toxicity = _column(categories, "toxicity")
    offensive = [texts[i] for i in _labeled(labels, sources, "olid", toxicity) if labels[i, toxicity] == 1]
    if offensive:
        figures["obfuscation"] = obfuscation_recall(lambda batch: moderator.scores(batch)[:, toxicity], offensive, thresholds["toxicity"])
    figures["identity_mentions"] = identity_flag_rate(lambda batch: moderator.flags(moderator.scores(batch)).any(axis=1))
    if report_dir is not None:
        report = EvaluationReport(labels, 1 / (1 + numpy.exp(-logits.astype(numpy.float64))), categories, [thresholds[c] for c in categories],
                                  sources=sources, texts=texts, history=history, temperatures=temperatures, cross_dataset=cross_dataset,
                                  title=f"{bundle.config.name} v{bundle.config.version}: holdout evaluation")
        report.write(report_dir)
        Path(report_dir, "headline.json").write_text(json.dumps(figures, indent=2, default=float), encoding="utf-8")
    return figures


def evaluate_command(model: str, data: list[str], output: str | Path, text_column: str = "text", cross_dataset: str | Path | None = None) -> dict[str, Any]:
    """``smartmod evaluate``: shared dataset names are scored on the model's own holdout split;
    files (CSV/JSONL with a text column and 0/1 columns named after categories) on every row.
    ``cross_dataset`` is a JSON matrix from ``bench/cross_dataset.py`` to render in the report."""
    from smartmod.data.categories import CATEGORIES, label_matrix
    from smartmod.data.text_readers import TEXT_DATASETS, read_all_text
    from smartmod.moderation.bundle import TextModelBundle
    from smartmod.moderation.io import read_texts
    from smartmod.moderation.moderator import resolve_model

    bundle = TextModelBundle.load(resolve_model(model))
    names = [item for item in data if item in TEXT_DATASETS]
    files = [item for item in data if item not in TEXT_DATASETS]
    texts: list[str] = []
    label_rows: list[numpy.ndarray] = []
    sources: list[str] = []
    originals: list[dict] = []
    if names:
        rows, records = holdout_rows(bundle, names)
        texts += [records[i].text for i in rows]
        label_rows.append(label_matrix([records[i] for i in rows]))
        sources += [records[i].source for i in rows]
        originals += [dict(records[i].original) for i in rows]
    for path in files:
        if not Path(path).exists():
            raise ValueError(f"{path!r} is neither a shared dataset ({', '.join(sorted(TEXT_DATASETS))}) nor an existing file")
        table = read_texts(path, text_column=text_column)
        block = numpy.full((len(table.texts), len(CATEGORIES)), numpy.nan, dtype=numpy.float32)
        present = [c for c in CATEGORIES if c in table.frame.columns]
        if not present:
            raise ValueError(f"{path} has no label column; name 0/1 columns after categories: {', '.join(CATEGORIES)}")
        for c in present:
            block[:, CATEGORIES.index(c)] = numpy.asarray(table.frame[c].replace("", numpy.nan), dtype=numpy.float32)
        texts += table.texts
        label_rows.append(block)
        sources += [Path(path).name] * len(table.texts)
        originals += [{}] * len(table.texts)
    labels = numpy.vstack(label_rows)
    matrix = None
    if cross_dataset is not None:
        try:
            cells = json.loads(Path(cross_dataset).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"cannot read the cross-dataset matrix {cross_dataset}: {error}") from error
        matrix = {train: {target: cell["auc"] for target, cell in row.items()} for train, row in cells.items()}
    return evaluate_bundle_scores(bundle, texts, labels, numpy.array(sources), originals, report_dir=output, cross_dataset=matrix)


def holdout_rows(bundle: Any, names: list[str]) -> tuple[numpy.ndarray, list]:
    """Rows of ``names`` on the holdout side of the split the bundle's training run made."""
    from smartmod.moderation.training import TextTrainingConfig, prepare_records, split_records

    saved = bundle.card.get("training", {}).get("config")
    if saved is None:
        raise ValueError("this model's card has no training config, so its holdout split cannot be rebuilt; evaluate on files instead")
    config = TextTrainingConfig(**saved)
    records, labels, groups, sources = prepare_records(config)
    missing = sorted(set(names) - set(sources.tolist()))
    if missing:
        raise ValueError(f"the model was not trained with {missing}: their holdout split does not exist; pass them as files instead")
    holdout = split_records(labels, groups, sources, config)["holdout"]
    return holdout[numpy.isin(sources[holdout], names)], records
