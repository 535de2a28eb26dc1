"""Does the spam threshold cost the specialist its F1? 5-fold cross-validation of the shipped
recipe (the folds of ``smartmod train text --cross-validate 5``, holdout untouched), scoring each
fold's SMS messages at the threshold the fold's validation rows chose (max F1, floor 0.5: what
ships) and at a fixed calibrated 0.5.

    python bench/spam_thresholds.py [--config configs/default-text.json]   # about 10 minutes on 2 cores
"""
from __future__ import annotations

import argparse

import numpy

from smartmod.data.categories import CATEGORIES
from smartmod.data.splits import stratified_group_kfold, stratified_group_split
from smartmod.moderation.training import fit_text_model, load_training_config, prepare_records, split_records


def f1(probabilities: numpy.ndarray, labels: numpy.ndarray, threshold: float) -> float:
    flagged = probabilities >= threshold
    tp, fp, fn = (flagged & (labels == 1)).sum(), (flagged & (labels == 0)).sum(), (~flagged & (labels == 1)).sum()
    return float(2 * tp / (2 * tp + fp + fn))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="configs/default-text.json")
    args = parser.parse_args()
    config = load_training_config(args.config)
    config.progress = False
    records, labels, groups, sources = prepare_records(config)
    texts = [record.text for record in records]
    sides = split_records(labels, groups, sources, config)
    pool = numpy.sort(numpy.concatenate([sides["train"], sides["validation"]]))
    inner = config.validation_size / (1.0 - config.holdout_size)
    spam = CATEGORIES.index("spam")
    chosen, fixed = [], []
    for index, (rest, scored) in enumerate(stratified_group_kfold(labels[pool], groups[pool], k=5, seed=config.seed, strata=sources[pool])):
        rest, scored = pool[rest], pool[scored]
        train, validation = stratified_group_split(labels[rest], groups[rest], test_size=inner, seed=config.seed + 1 + index, strata=sources[rest])
        bundle = fit_text_model(config, texts, labels, rest[train], rest[validation]).bundle
        sms = scored[sources[scored] == "sms-spam"]
        probabilities = bundle.probabilities([texts[i] for i in sms])[:, spam]
        threshold = bundle.config.thresholds["spam"]
        chosen.append(f1(probabilities, labels[sms, spam], threshold))
        fixed.append(f1(probabilities, labels[sms, spam], 0.5))
        print(f"fold {index}: threshold {threshold:.3f}, F1 {chosen[-1]:.3f} there, {fixed[-1]:.3f} at 0.5", flush=True)
    print(f"SMS spam F1, mean over folds: {numpy.mean(chosen):.3f} at the chosen thresholds, {numpy.mean(fixed):.3f} at 0.5")


if __name__ == "__main__":
    main()
