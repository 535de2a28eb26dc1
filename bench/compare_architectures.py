"""Compare text classifier architectures on one split of all shared text (issue 5, item 6).

Every architecture is trained by the same recipe (``fit_text_model``: the shipped config
``configs/default-text.json``, its split, identity negatives, calibration and thresholds on
validation), each in its own process, one after the other, so that each one's peak memory is
its own. Sequence models share one small setting (``SEQUENCE_SETTINGS``), capped so the whole
run fits in about 40 minutes on two shared cores. BLAS runs one thread (``OPENBLAS_NUM_THREADS=1``):
on a loaded two-core machine, two BLAS threads make the small recurrent GEMMs several times slower.

Measured per architecture, on the validation rows: headline figures per dataset (thresholds and
temperatures chosen on the same rows, so they are validation figures), AUC per category and by
text length, seconds per training epoch, texts per second scored (normalization and encoding
included, one process), peak resident memory, parameter count and bundle size; and attention
heatmaps on four fixed validation tweets for the attention-pooling and transformer models. Then
ensembles (means of calibrated probabilities of the TF-IDF MLP and the best sequence models,
chosen by validation mean AUC, or the fastest one) are scored on validation, and the TF-IDF MLP
as a first pass that sends only the texts it is unsure about to the best sequence model. Only the TF-IDF model, the best
sequence model and the best ensemble are scored on the holdout, once, for the final figures.

    python bench/compare_architectures.py [--workdir runs/architectures] [--docs docs] [--only NAME ... | --report-only]

writes ``runs/architectures/<name>/`` (bundle, validation and holdout scores, result.json),
``docs/architecture-comparison.md`` and ``docs/img/arch_*.png`` (bench/architecture_report.py).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

SEQUENCE_SETTINGS = {"embedding_dim": 64, "hidden": 64, "max_length": 64, "max_features": 30000, "min_df": 2, "lr": 2e-3,
                     "batch_size": 128, "epochs": 4, "patience": 1, "dropout": 0.3, "clip_norm": 5.0}
RUNS: dict[str, dict] = {
    "tfidf-mlp": {},  # the shipped recipe as configured
    "mean-embedding": {"architecture": "mean-embedding"},
    "rnn": {"architecture": "rnn"},
    "lstm": {"architecture": "lstm"},
    "bilstm": {"architecture": "bilstm"},
    "bigru-attention": {"architecture": "bigru-attention"},
    "lstm-attention": {"architecture": "lstm-attention"},
    "transformer": {"architecture": "transformer", "hidden": 128, "num_heads": 4},
}
LENGTH_BUCKETS = [(1, 10), (11, 20), (21, 40), (41, 64), (65, None)]  # words after normalization


def run_config(name: str, sample: int | None = None):
    """The training config of one run; ``sample`` keeps that many records per dataset (a quick trial of the script)."""
    from smartmod.moderation.training import load_training_config

    base = replace(load_training_config(ROOT / "configs" / "default-text.json"), progress=False, max_records_per_dataset=sample)
    settings = {} if name == "tfidf-mlp" else SEQUENCE_SETTINGS
    return replace(base, **{**settings, **RUNS[name]}, name=name)


def resident_mebibytes() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def category_aucs(scores: numpy.ndarray, labels: numpy.ndarray) -> list[float | None]:
    """ROC AUC of each category over the rows labeled for it (None without both classes)."""
    from smartmod.eval import roc_auc

    aucs = []
    for column in range(labels.shape[1]):
        labeled = ~numpy.isnan(labels[:, column])
        y = labels[labeled, column] == 1
        aucs.append(float(roc_auc(y, scores[labeled, column])) if 0 < y.sum() < y.size else None)
    return aucs


def mean_auc(scores: numpy.ndarray, labels: numpy.ndarray) -> float:
    return float(numpy.mean([auc for auc in category_aucs(scores, labels) if auc is not None]))


def word_counts(texts: list[str]) -> numpy.ndarray:
    from smartmod.text.normalize import normalize
    from smartmod.text.tokenize import word_tokens

    return numpy.array([len(word_tokens(normalize(text))) for text in texts])


def by_length(scores: numpy.ndarray, labels: numpy.ndarray, counts: numpy.ndarray) -> dict[str, dict]:
    """Mean AUC over categories (and rows) within each bucket of text length in words."""
    buckets = {}
    for low, high in LENGTH_BUCKETS:
        rows = (counts >= low) & (counts <= (high if high is not None else counts.max()))
        buckets[f"{low}-{high}" if high else f"{low}+"] = {"rows": int(rows.sum()), "mean_auc": mean_auc(scores[rows], labels[rows])}
    return buckets


def attention_examples(records, validation: numpy.ndarray, labels: numpy.ndarray, sources: numpy.ndarray, encoder) -> list[int]:
    """Four validation rows of OLID with 8 to 16 words: the first two labeled offensive and the
    first two labeled not offensive, in validation order (fixed, not picked by how they look)."""
    from smartmod.data.categories import CATEGORIES

    toxicity = CATEGORIES.index("toxicity")
    chosen: dict[bool, list[int]] = {True: [], False: []}
    for row in validation:
        if sources[row] != "olid" or numpy.isnan(labels[row, toxicity]) or not 8 <= len(encoder.encode([records[row].text])[0]) <= 16:
            continue
        offensive = bool(labels[row, toxicity] == 1)
        if len(chosen[offensive]) < 2:
            chosen[offensive].append(int(row))
    return chosen[True] + chosen[False]


def attention_maps(bundle, texts: list[str]) -> list[dict]:
    """Tokens and attention weights of each text, scored alone: the pooling's weights (T,) for
    attention pooling, the last encoder layer's weights averaged over heads (T, T) for a transformer."""
    from smartmod.nn.layers import AttentionPooling

    network, vocabulary = bundle.network, bundle.vectorizer.vocabulary_
    maps = []
    for text in texts:
        ids = bundle.vectorizer.transform([text])  # (1, T)
        network.forward(ids)
        tokens = (["<cls>"] if network.has_class_token else []) + [vocabulary.tokens_[i] for i in ids[0]]
        if isinstance(network.pooling, AttentionPooling):
            weights = network.pooling.attention_weights[0]  # (T,)
        else:
            weights = network.body.layers[-1].self_attention.sublayer.attention_weights[0].mean(axis=0)  # (H, T, T) -> (T, T)
        maps.append({"text": text, "tokens": tokens, "weights": numpy.asarray(weights, dtype=float).round(4).tolist()})
    return maps


def worker(name: str, workdir: Path, sample: int | None) -> None:
    """Train one architecture, measure it on validation, keep its bundle and scores."""
    from smartmod.data.categories import CATEGORIES
    from smartmod.moderation.evaluation import headline_figures, olid_threshold
    from smartmod.moderation.training import fit_text_model, prepare_records, split_records

    config = run_config(name, sample)
    records, labels, groups, sources = prepare_records(config)
    texts = [record.text for record in records]
    sides = split_records(labels, groups, sources, config)
    validation, holdout = sides["validation"], sides["holdout"]
    data_mebibytes = resident_mebibytes()

    fitted = fit_text_model(config, texts, labels, sides["train"], validation)
    bundle, scores = fitted.bundle, fitted.validation_scores
    output = workdir / name
    bundle.save(output / "bundle")
    validation_texts = [texts[i] for i in validation]
    started = time.perf_counter()
    for start in range(0, len(validation_texts), 4096):  # as `smartmod moderate` batches them
        bundle.probabilities(validation_texts[start:start + 4096])
    scoring_seconds = time.perf_counter() - started
    numpy.save(output / "validation_scores.npy", scores)
    numpy.save(output / "holdout_scores.npy", bundle.probabilities([texts[i] for i in holdout]))  # read only for the final figures

    epochs = len(fitted.history["loss"])
    result = {
        "name": name,
        "config": {key: getattr(config, key) for key in ("architecture", "embedding_dim", "hidden", "max_length", "max_features", "lr", "batch_size",
                                                         "epochs", "patience", "dropout", "pooling", "num_heads", "clip_norm")},
        "parameters": bundle.network.num_parameters(),
        "bundle_megabytes": sum(path.stat().st_size for path in (output / "bundle").rglob("*") if path.is_file()) / 1e6,
        "epochs_run": epochs,
        "history": fitted.history,
        "train_seconds": fitted.seconds["train"],
        "train_seconds_per_epoch": fitted.seconds["train"] / epochs,
        "inference_texts_per_second": len(validation_texts) / scoring_seconds,
        "peak_mebibytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # Linux reports KiB
        "data_mebibytes": data_mebibytes,  # resident after reading and splitting the data, before training
        "validation": {
            "figures": headline_figures(scores, labels[validation], sources[validation], [records[i].original for i in validation], CATEGORIES,
                                        bundle.config.thresholds, olid_threshold(scores, labels[validation], sources[validation], CATEGORIES)),
            "category_auc": dict(zip(CATEGORIES, category_aucs(scores, labels[validation]))),
            "mean_auc": mean_auc(scores, labels[validation]),
            "by_length": by_length(scores, labels[validation], word_counts(validation_texts)),
        },
        "thresholds": bundle.config.thresholds,
    }
    if bundle.config.input_encoding == "token-ids" and (config.architecture == "transformer" or "attention" in config.architecture):
        rows = attention_examples(records, validation, labels, sources, bundle.vectorizer)
        result["attention"] = attention_maps(bundle, [texts[i] for i in rows])
    (output / "result.json").write_text(json.dumps(result, indent=2, default=float), encoding="utf-8")
    print(f"{name}: validation mean AUC {result['validation']['mean_auc']:.4f}, OLID macro-F1 (tuned) "
          f"{result['validation']['figures'].get('olid_offensive_macro_f1_tuned_threshold', float('nan')):.4f}, "
          f"{result['train_seconds_per_epoch']:.0f} s/epoch x {epochs}, {result['inference_texts_per_second']:.0f} texts/s, "
          f"peak {result['peak_mebibytes']:.0f} MiB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default="runs/architectures", type=Path)
    parser.add_argument("--docs", default="docs", type=Path)
    parser.add_argument("--only", nargs="+", choices=list(RUNS), help="train only these (the others' earlier results are reused)")
    parser.add_argument("--report-only", action="store_true", help="train nothing: write the report from the results in --workdir")
    parser.add_argument("--sample", type=int, help="records per dataset (a quick trial of this script; the report is then not comparable)")
    parser.add_argument("--worker", choices=list(RUNS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.workdir, args.sample)
        return
    environment = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for name in [] if args.report_only else args.only or RUNS:
        (args.workdir / name).mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        sample = ["--sample", str(args.sample)] if args.sample else []
        subprocess.run([sys.executable, __file__, "--worker", name, "--workdir", str(args.workdir), *sample], check=True, env=environment)
        print(f"  ({name} took {time.perf_counter() - started:.0f} s in all)", flush=True)
    from architecture_report import write_report

    write_report(args.workdir, args.docs, list(RUNS), " ".join(["python", "bench/compare_architectures.py", *sys.argv[1:]]), args.sample)


if __name__ == "__main__":
    main()
