"""Cross-dataset generalization: train on one source, score every other source's holdout.

For each training source, the default recipe (smaller: one hidden layer of 64, 3 epochs) is fit
on that source's rows of the training side of the standard split; every source's holdout rows
are then scored, and the ROC AUC of the category both sources label (identity_attack when both
label it, else toxicity) fills one cell of the matrix. The diagonal is in-dataset quality, the
rest shows how far a definition of harm carries. Writes the matrix as JSON and renders it with
the evaluation report.

    python bench/cross_dataset.py [--sources olid davidson ...] [--output runs/cross-dataset]
"""
from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy

from smartmod.data.categories import CATEGORIES
from smartmod.eval import roc_auc
from smartmod.moderation.training import load_training_config, prepare_records, split_records
from smartmod.nn import Dense, Dropout, ReLU, Sequential, backend
from smartmod.nn.losses import BCEWithLogitsLoss
from smartmod.nn.optim import Adam
from smartmod.nn.train import Trainer, predict
from smartmod.text.vectorize import TfidfVectorizer

DEFAULT_SOURCES = ["olid", "davidson", "hateval-en", "gab-hate-corpus", "hatexplain", "implicit-hate", "stormfront", "hateful-memes-text"]


def shared_category(labels: numpy.ndarray, sources: numpy.ndarray, first: str, second: str) -> int | None:
    for name in ("identity_attack", "toxicity"):
        column = CATEGORIES.index(name)
        if all(((sources == s) & ~numpy.isnan(labels[:, column])).any() for s in (first, second)):
            return column
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="configs/default-text.json")
    parser.add_argument("--sources", nargs="+", default=DEFAULT_SOURCES)
    parser.add_argument("--output", default="runs/cross-dataset")
    args = parser.parse_args()
    config = replace(load_training_config(args.config), progress=False)
    records, labels, groups, sources = prepare_records(config)
    texts = numpy.array([record.text for record in records], dtype=object)
    sides = split_records(labels, groups, sources, config)
    holdout = sides["holdout"]
    matrix: dict[str, dict[str, float]] = {}
    for train_source in args.sources:
        rows = sides["train"][sources[sides["train"]] == train_source]
        backend.seed(config.seed)
        vectorizer = TfidfVectorizer(max_features=20000)
        features = vectorizer.fit_transform(texts[rows].tolist())
        network = Sequential(Dense(features.shape[1], 64, init="he_uniform"), ReLU(), Dropout(0.5), Dense(64, len(CATEGORIES)))
        Trainer(network, BCEWithLogitsLoss(), Adam(network.parameters(), lr=1e-3), batch_size=128, progress=False).fit(features, labels[rows], epochs=3)
        scores = numpy.asarray(predict(network, vectorizer.transform(texts[holdout].tolist())))
        matrix[train_source] = {}
        for eval_source in args.sources:
            column = shared_category(labels, sources, train_source, eval_source)
            mask = (sources[holdout] == eval_source) & ~numpy.isnan(labels[holdout, column]) if column is not None else None
            if column is None or not mask.any():
                continue
            auc = roc_auc(labels[holdout][mask, column] == 1, scores[mask, column])
            if not numpy.isnan(auc):  # NaN: the evaluated source labels only one class of this category
                matrix[train_source][eval_source] = {"auc": auc, "category": CATEGORIES[column]}
        print(train_source, {k: round(v["auc"], 3) for k, v in matrix[train_source].items()}, flush=True)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "cross-dataset.json").write_text(json.dumps(matrix, indent=2))
    header = "trained on \\ scored on".ljust(22) + "".join(s[:12].rjust(13) for s in args.sources)
    print("\n" + header)
    for train_source in args.sources:
        print(train_source.ljust(22) + "".join(f"{matrix[train_source][s]['auc']:13.3f}" if s in matrix[train_source] else " " * 12 + "-" for s in args.sources))


if __name__ == "__main__":
    main()
