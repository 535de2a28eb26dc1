"""K-fold cross-validation of the text model: how much its figures move with the split.

One holdout of ~15k rows gives each figure once, and a small dataset's figure (SMS spam: 60
spam messages) moves by a point with one message. Cross-validation measures that spread.
The rows the training run would use for train and validation (never its holdout) are cut into
``k`` folds, stratified over labels and datasets with duplicate texts and source groups kept in
one fold (:func:`~smartmod.data.splits.stratified_group_kfold`). For each fold the model is
fitted on the other folds exactly as :func:`~smartmod.moderation.training.fit_text_model`
fits it — a seeded part of them for early stopping, calibration and thresholds, in the same
proportion as the training run's validation side — and the fold is scored with the holdout's
headline figures. The summary gives each figure's mean, standard deviation, minimum and maximum
over the folds.
"""
from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any, Callable

import numpy

from smartmod.data.categories import CATEGORIES
from smartmod.data.splits import stratified_group_kfold, stratified_group_split
from smartmod.moderation.evaluation import headline_figures
from smartmod.moderation.training import TextTrainingConfig, fit_text_model, prepare_records, split_records, training_targets

__all__ = ["cross_validate_text_model", "summarize_folds"]


def cross_validate_text_model(config: TextTrainingConfig, folds: int = 5,
                              on_fold: Callable[[int, dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Per-fold and summarized headline figures of ``folds``-fold cross-validation.

    Parameters
    ----------
    config : TextTrainingConfig
        The training recipe; its seed fixes the folds and each fold's inner validation part.
    folds : int, at least 2
    on_fold : callable, optional
        Called as ``on_fold(index, figures)`` after each fold (progress reporting).

    Returns
    -------
    dict
        ``folds``, ``rows`` (rows cross-validated), ``config``, ``per_fold`` (one dict of figures
        and seconds per fold) and ``summary`` (figure → mean, std, min, max).
    """
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ValueError(f"cross-validation needs an integer of at least 2 folds, got {folds!r}")
    records, labels, groups, sources = prepare_records(config)
    targets = training_targets(config, records)
    texts = [record.text for record in records]
    sides = split_records(labels, groups, sources, config)
    pool = numpy.sort(numpy.concatenate([sides["train"], sides["validation"]]))  # the holdout stays untouched
    inner_validation = config.validation_size / (1.0 - config.holdout_size)  # validation's share of train + validation
    per_fold = []
    for index, (rest, scored) in enumerate(stratified_group_kfold(labels[pool], groups[pool], k=folds, seed=config.seed, strata=sources[pool])):
        started = time.perf_counter()
        rest, scored = pool[rest], pool[scored]
        train, validation = stratified_group_split(labels[rest], groups[rest], test_size=inner_validation, seed=config.seed + 1 + index,
                                                   strata=sources[rest])
        fitted = fit_text_model(config, texts, labels, rest[train], rest[validation], targets)
        probabilities = fitted.bundle.probabilities([texts[i] for i in scored])  # (S, C)
        figures = headline_figures(probabilities, labels[scored], sources[scored], [records[i].original for i in scored], CATEGORIES,
                                   fitted.bundle.config.thresholds)
        figures["seconds"] = round(time.perf_counter() - started, 1)
        per_fold.append(figures)
        if on_fold is not None:
            on_fold(index, figures)
    return {"folds": folds, "rows": int(pool.size), "config": asdict(config), "per_fold": per_fold, "summary": summarize_folds(per_fold)}


def summarize_folds(per_fold: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean, standard deviation (ddof 1), minimum and maximum of every numeric figure over the
    folds; nested figures (per-category ECE) are flattened as ``parent.child``."""
    values: dict[str, list[float]] = {}
    for figures in per_fold:
        for name, value in _flatten(figures).items():
            values.setdefault(name, []).append(value)
    summary = {}
    for name, series in values.items():
        array = numpy.asarray(series, dtype=numpy.float64)
        summary[name] = {"mean": float(array.mean()), "std": float(array.std(ddof=1)) if array.size > 1 else 0.0,
                         "min": float(array.min()), "max": float(array.max())}
    return summary


def _flatten(figures: dict[str, Any], prefix: str = "") -> dict[str, float]:
    flat = {}
    for name, value in figures.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{name}."))
        elif isinstance(value, (int, float, numpy.floating, numpy.integer)) and not isinstance(value, bool) and numpy.isfinite(value):
            flat[f"{prefix}{name}"] = float(value)
    return flat
