"""The architecture comparison's report: ensembles, final holdout figures, plots and the markdown page.

Reads what ``bench/compare_architectures.py`` left in its work directory (one ``result.json``,
validation and holdout scores and a bundle per architecture), rebuilds the split's labels from
the shared data, and writes ``docs/architecture-comparison.md`` with ``docs/img/arch_*.png``.
Text below the line ``<!-- hand-written below -->`` of an existing page is kept.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy

from compare_architectures import LENGTH_BUCKETS, SEQUENCE_SETTINGS, mean_auc, run_config

__all__ = ["write_report"]

KEEP_MARKER = "<!-- hand-written below -->"
DATASET_COLUMNS = [  # (figure key, heading)
    ("davidson_hate_vs_rest_auc", "Davidson hate AUC"), ("davidson_toxic_auc", "Davidson toxic AUC"), ("sms_spam_f1", "SMS spam F1"),
    ("hateval_en_hate_f1", "HatEval F1"), ("hateval_en_hate_auc", "HatEval AUC"), ("implicit_hate_hate_f1", "implicit-hate F1"),
    ("implicit_hate_hate_auc", "implicit-hate AUC"), ("gab_hate_f1", "Gab F1"), ("gab_hate_auc", "Gab AUC"),
    ("hatexplain_hate_f1", "HateXplain F1"), ("hatexplain_hate_auc", "HateXplain AUC"),
]


def _split(sample: int | None) -> dict[str, dict]:
    """Labels, sources, originals and texts of the validation and holdout rows (the split every run used)."""
    from smartmod.moderation.training import prepare_records, split_records

    config = run_config("tfidf-mlp", sample)
    records, labels, groups, sources = prepare_records(config)
    sides = split_records(labels, groups, sources, config)
    return {side: {"labels": labels[rows], "sources": sources[rows], "originals": [records[i].original for i in rows],
                   "texts": [records[i].text for i in rows]} for side, rows in sides.items() if side != "train"}


def _figures(scores: numpy.ndarray, side: dict, thresholds: dict[str, float], olid_tuned: float | None) -> dict[str, Any]:
    from smartmod.data.categories import CATEGORIES
    from smartmod.moderation.evaluation import headline_figures

    return headline_figures(scores, side["labels"], side["sources"], side["originals"], CATEGORIES, thresholds, olid_tuned)


def _validation_choices(scores: numpy.ndarray, validation: dict) -> tuple[dict[str, float], float | None]:
    """Thresholds (max-F1, floor 0.5, as the recipe) and the OLID-tuned threshold, on validation rows."""
    from smartmod.data.categories import CATEGORIES
    from smartmod.eval import choose_thresholds
    from smartmod.moderation.evaluation import olid_threshold

    floor = run_config("tfidf-mlp").threshold_floor
    choices = choose_thresholds(validation["labels"], scores, list(CATEGORIES))
    return ({c: max(float(choices[c].threshold), floor) for c in CATEGORIES},
            olid_threshold(scores, validation["labels"], validation["sources"], CATEGORIES))


def _ensembles(results: dict[str, dict], workdir: Path, split: dict) -> dict[str, dict]:
    """Means of calibrated probabilities: the TF-IDF MLP with the best one and the best two sequence
    models (by validation mean AUC), and with the fastest sequence model (by texts/s scored)."""
    sequence_models = [name for name in results if name != "tfidf-mlp"]
    if "tfidf-mlp" not in results or not sequence_models:
        return {}
    ranked = sorted(sequence_models, key=lambda name: -results[name]["validation"]["mean_auc"])
    fastest = max(sequence_models, key=lambda name: results[name]["inference_texts_per_second"])
    ensembles = {}
    for group in dict.fromkeys((("tfidf-mlp", *ranked[:1]), ("tfidf-mlp", *ranked[:2]), ("tfidf-mlp", fastest))):  # distinct, in order
        members = list(group)
        scores = {side: numpy.mean([numpy.load(workdir / name / f"{side}_scores.npy") for name in members], axis=0) for side in ("validation", "holdout")}
        thresholds, olid_tuned = _validation_choices(scores["validation"], split["validation"])
        ensembles[" + ".join(members)] = {"members": members, "scores": scores, "thresholds": thresholds, "olid_tuned": olid_tuned,
                                          "validation": {"figures": _figures(scores["validation"], split["validation"], thresholds, olid_tuned),
                                                         "mean_auc": mean_auc(scores["validation"], split["validation"]["labels"])}}
    return ensembles


FIRST_PASS_BANDS = [(0.3, 0.7), (0.2, 0.8), (0.1, 0.9)]


def _first_pass(results: dict[str, dict], workdir: Path, split: dict, second: str) -> list[dict[str, Any]]:
    """The TF-IDF model as a first pass: a validation text goes to ``second`` too (and gets the
    mean of both) only when some category's TF-IDF probability lies inside a band; thresholds
    are chosen again on the validation rows. Returns, per band, the share sent on and the figures."""
    if "tfidf-mlp" not in results:
        return []
    first, other = (numpy.load(workdir / name / "validation_scores.npy") for name in ("tfidf-mlp", second))
    rows = []
    for low, high in FIRST_PASS_BANDS:
        unsure = ((first >= low) & (first <= high)).any(axis=1)  # (V,)
        scores = numpy.where(unsure[:, None], (first + other) / 2, first)
        thresholds, olid_tuned = _validation_choices(scores, split["validation"])
        rows.append({"band": [low, high], "share": float(unsure.mean()), "mean_auc": mean_auc(scores, split["validation"]["labels"]),
                     "figures": _figures(scores, split["validation"], thresholds, olid_tuned)})
    return rows


def _shipped(split: dict) -> dict[str, Any]:
    """The bundled default model scored on the validation rows, with its own thresholds."""
    from smartmod.data.categories import CATEGORIES
    from smartmod.moderation.evaluation import olid_threshold
    from smartmod.moderation.moderator import Moderator

    bundle = Moderator.load("default").bundle
    validation = split["validation"]
    scores = bundle.probabilities(validation["texts"])
    olid_tuned = olid_threshold(scores, validation["labels"], validation["sources"], CATEGORIES)
    return {"figures": _figures(scores, validation, bundle.config.thresholds, olid_tuned), "mean_auc": mean_auc(scores, validation["labels"])}


def _number(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None or (isinstance(value, float) and numpy.isnan(value)) else f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _plots(results: dict[str, dict], ensembles: dict[str, dict], images: Path) -> list[str]:
    """Quality bars, quality by length, cost against quality, attention heatmaps; returns the file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images.mkdir(parents=True, exist_ok=True)
    names = list(results) + list(ensembles)
    quality = {**{name: r["validation"] for name, r in results.items()}, **{name: e["validation"] for name, e in ensembles.items()}}
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for axis, (key, title) in zip(axes, [("mean_auc", "mean AUC over the 7 categories"), ("olid", "OLID macro-F1, tuned threshold")]):
        values = [quality[n]["mean_auc"] if key == "mean_auc" else quality[n]["figures"].get("olid_offensive_macro_f1_tuned_threshold", numpy.nan) for n in names]
        axis.barh(range(len(names)), values, color=["tab:gray" if n == "tfidf-mlp" else "tab:green" if n in ensembles else "tab:blue" for n in names])
        axis.set_yticks(range(len(names)), names, fontsize=8)
        axis.invert_yaxis()
        axis.set_xlim(min(v for v in values if numpy.isfinite(v)) - 0.05, max(v for v in values if numpy.isfinite(v)) + 0.02)
        axis.set_title(f"validation {title}", fontsize=10)
        for index, value in enumerate(values):
            axis.text(value, index, f" {value:.3f}", va="center", fontsize=8)
    figure.tight_layout()
    figure.savefig(images / "arch_quality.png", dpi=110)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(7, 4.5))
    labels = [f"{low}-{high}" if high else f"{low}+" for low, high in LENGTH_BUCKETS]
    for name, result in results.items():
        axis.plot(labels, [result["validation"]["by_length"][label]["mean_auc"] for label in labels], marker="o", label=name,
                  linestyle="--" if name == "tfidf-mlp" else "-")
    axis.set_xlabel("text length (words after normalization)")
    axis.set_ylabel("validation mean AUC")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(images / "arch_by_length.png", dpi=110)
    plt.close(figure)

    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for axis, (key, label) in zip(axes, [("train_seconds_per_epoch", "training seconds per epoch"), ("inference_texts_per_second", "texts scored per second (one process)")]):
        for name, result in results.items():
            axis.scatter(result[key], result["validation"]["mean_auc"])
            axis.annotate(name, (result[key], result["validation"]["mean_auc"]), fontsize=8)
        axis.set_xscale("log")
        axis.set_xlabel(label)
        axis.set_ylabel("validation mean AUC")
    figure.tight_layout()
    figure.savefig(images / "arch_cost.png", dpi=110)
    plt.close(figure)

    files = ["arch_quality.png", "arch_by_length.png", "arch_cost.png"]
    for name, result in results.items():
        if result.get("attention"):
            files.append(_attention_plot(plt, name, result["attention"], images))
    return files


def _attention_plot(plt: Any, name: str, maps: list[dict], images: Path) -> str:
    """One panel per example: a strip of pooling weights, or a head-averaged (T, T) matrix."""
    matrix = numpy.ndim(maps[0]["weights"]) == 2
    if matrix:  # a 2 x 2 grid of (T, T) matrices
        figure, axes = plt.subplots(2, (len(maps) + 1) // 2, figsize=(11, 10), squeeze=False)
    else:  # one strip per example
        figure, axes = plt.subplots(len(maps), 1, figsize=(11, 1.1 * len(maps) + 0.6), squeeze=False)
    for axis, example in zip(axes.ravel(), maps):
        weights = numpy.atleast_2d(numpy.asarray(example["weights"]))
        axis.imshow(weights, cmap="Reds", aspect="auto" if not matrix else "equal")
        axis.set_xticks(range(len(example["tokens"])), example["tokens"], rotation=60, fontsize=7)
        axis.set_yticks(range(len(example["tokens"])) if matrix else [], example["tokens"] if matrix else [], fontsize=7)
    title = "attention of the last encoder layer, averaged over heads (rows: queries)" if matrix else "attention-pooling weights"
    figure.suptitle(f"{name}: {title}; OLID validation tweets (first two offensive, first two not)", fontsize=9)
    figure.tight_layout()
    file = f"arch_attention_{name}.png"
    figure.savefig(images / file, dpi=110)
    plt.close(figure)
    return file


def write_report(workdir: Path, docs: Path, names: list[str], command: str, sample: int | None = None) -> None:
    results = {name: json.loads((workdir / name / "result.json").read_text()) for name in names if (workdir / name / "result.json").is_file()}
    split = _split(sample)
    ensembles = _ensembles(results, workdir, split)
    shipped = _shipped(split)
    best_sequence = max((name for name in results if name != "tfidf-mlp"), key=lambda name: results[name]["validation"]["mean_auc"])
    best_ensemble = max(ensembles, key=lambda name: ensembles[name]["validation"]["mean_auc"]) if ensembles else None
    holdout = {}
    for name in ["tfidf-mlp", best_sequence]:
        if name in results:
            result = results[name]
            scores = numpy.load(workdir / name / "holdout_scores.npy")
            holdout[name] = _figures(scores, split["holdout"], result["thresholds"], result["validation"]["figures"].get("olid_tuned_threshold"))
    if best_ensemble:
        chosen = ensembles[best_ensemble]
        holdout[best_ensemble] = _figures(chosen["scores"]["holdout"], split["holdout"], chosen["thresholds"], chosen["olid_tuned"])
    first_pass = _first_pass(results, workdir, split, best_sequence)
    files = _plots(results, ensembles, docs / "img")
    page = _markdown(results, ensembles, shipped, holdout, best_sequence, first_pass, files, command)
    path = docs / "architecture-comparison.md"
    kept = path.read_text(encoding="utf-8").split(KEEP_MARKER, 1)[1] if path.is_file() and KEEP_MARKER in path.read_text(encoding="utf-8") else "\n"
    path.write_text(page + "\n" + KEEP_MARKER + kept, encoding="utf-8")
    (workdir / "summary.json").write_text(json.dumps({"results": results, "ensembles": {n: {k: v for k, v in e.items() if k != "scores"} for n, e in ensembles.items()},
                                                      "shipped": shipped, "holdout": holdout, "first_pass": first_pass}, indent=2, default=float))
    print(f"wrote {path} and {len(files)} plots in {docs / 'img'}")


def _markdown(results: dict, ensembles: dict, shipped: dict, holdout: dict, best_sequence: str, first_pass: list[dict], files: list[str],
              command: str) -> str:
    olid = "olid_offensive_macro_f1_tuned_threshold"
    rows = [[name, f"{r['parameters']:,}", f"{r['bundle_megabytes']:.1f}", str(r["epochs_run"]), f"{r['train_seconds_per_epoch']:.0f}",
             f"{r['inference_texts_per_second']:,.0f}", f"{r['peak_mebibytes']:,.0f} ({r['peak_mebibytes'] - r['data_mebibytes']:+,.0f})",
             _number(r["validation"]["mean_auc"]), _number(r["validation"]["figures"].get("olid_offensive_macro_f1")),
             _number(r["validation"]["figures"].get(olid))] for name, r in results.items()]
    rows += [[f"shipped default ({'tfidf-mlp'})", "", "", "", "", "", "", _number(shipped["mean_auc"]),
              _number(shipped["figures"].get("olid_offensive_macro_f1")), _number(shipped["figures"].get(olid))]]
    rows += [[f"ensemble: {name}", "", "", "", "", "", "", _number(e["validation"]["mean_auc"]),
              _number(e["validation"]["figures"].get("olid_offensive_macro_f1")), _number(e["validation"]["figures"].get(olid))]
             for name, e in ensembles.items()]
    overview = _table(["model", "parameters", "bundle MB", "epochs", "train s/epoch", "texts/s scored", "peak RSS MiB (over data)",
                       "mean AUC", "OLID macro-F1", "OLID macro-F1, tuned"], rows)
    quality = {**{n: r["validation"]["figures"] for n, r in results.items()}, "shipped default": shipped["figures"],
               **{f"ensemble: {n}": e["validation"]["figures"] for n, e in ensembles.items()}}
    datasets = _table(["model", *[heading for _, heading in DATASET_COLUMNS]],
                      [[name, *[_number(figures.get(key)) for key, _ in DATASET_COLUMNS]] for name, figures in quality.items()])
    categories = list(next(iter(results.values()))["validation"]["category_auc"])
    per_category = _table(["model", *categories], [[n, *[_number(r["validation"]["category_auc"][c]) for c in categories]] for n, r in results.items()])
    buckets = list(next(iter(results.values()))["validation"]["by_length"])
    lengths = _table(["model", *[f"{b} words ({next(iter(results.values()))['validation']['by_length'][b]['rows']} rows)" for b in buckets]],
                     [[n, *[_number(r["validation"]["by_length"][b]["mean_auc"]) for b in buckets]] for n, r in results.items()])
    final = _table(["model", "OLID macro-F1", "OLID macro-F1, threshold tuned on validation", *[heading for _, heading in DATASET_COLUMNS]],
                   [[n, _number(f.get("olid_offensive_macro_f1")), _number(f.get(olid)), *[_number(f.get(key)) for key, _ in DATASET_COLUMNS]]
                    for n, f in holdout.items()])
    cascade = _table(["TF-IDF probability band sent on", f"share of texts also scored by {best_sequence}", "mean AUC", "OLID macro-F1",
                      "OLID macro-F1, tuned"],
                     [[f"{row['band'][0]} to {row['band'][1]} (any category)", f"{row['share']:.1%}", _number(row["mean_auc"]),
                       _number(row["figures"].get("olid_offensive_macro_f1")), _number(row["figures"].get(olid))] for row in first_pass])
    settings = json.dumps(SEQUENCE_SETTINGS)
    images = "\n\n".join(f"![{file}](img/{file})" for file in files)
    return f"""# Text classifier architectures compared

Measured by `python bench/compare_architectures.py` (bench/compare_architectures.py trains and
measures, bench/architecture_report.py writes this page; this copy was written by `{command}`;
`--report-only` rewrites it from the saved results without training) on the shared two-core
machine, other work running beside it, BLAS on one thread. Every model was
trained once on the same split of all shared English text (the shipped config's seed and
sizes), by the same recipe (`fit_text_model`: identity negatives, masked binary cross-entropy,
early stopping, temperature scaling and thresholds on validation).

The TF-IDF MLP is the shipped recipe (`configs/default-text.json`) retrained. Sequence models
share one setting, sized so the whole run fits in about 40 minutes: {settings}
(the transformer: feed-forward width 128, 4 heads, learned positions, mean pooling, pre-norm).
Embeddings start random.

**All quality figures below are validation figures** (temperatures and thresholds are chosen on
the same rows, which flatters every model alike), except the last table, the holdout figures of
the TF-IDF MLP, the best sequence model and the best ensemble (chosen on validation mean AUC).
Mean AUC is the mean over the seven categories of each one's AUC over the validation rows
labeled for it. "OLID macro-F1, tuned" uses the toxicity threshold that maximizes OLID macro-F1
on the validation rows themselves. Seconds, texts per second and memory are single measurements
on a loaded machine: read them as ratios, roughly. Texts/s covers normalization, encoding and
the network in one process; peak RSS is the worker process's maximum resident memory, the part
over the data read before training in brackets.

## Overview (validation)

{overview}

## Per dataset (validation)

{datasets}

## AUC per category (validation)

{per_category}

## Mean AUC by text length (validation)

{lengths}

## The TF-IDF model as a first pass (validation)

Only texts the TF-IDF MLP is unsure about (some category's probability inside the band) are
also scored by the best sequence model, {best_sequence}, and get the mean of the two; the others
keep the TF-IDF scores. Thresholds are chosen again on the validation rows.

{cascade}

## Final figures (holdout)

{final}

## Plots

{images}
"""
