"""How well each explanation method points at the words people marked, on posts the model never trained on.

    python bench/explain_quality.py [--limit N]

* Toxic Spans (SemEval-2021 Task 5): per-post character-span F1, the task's metric
  (:func:`smartmod.explain.span_f1`; the best system of the task reached 0.708 on its test
  set). Each method's span fraction (a word is harmful from this fraction of the text's top
  importance, and at least ``SPAN_FLOOR`` log-odds: :func:`smartmod.explain.span_threshold`) is
  chosen on the Toxic Spans posts of the default model's *validation* split, and F1 is reported
  on its *holdout* split. The method with the best validation F1 is the default.
* HateXplain: on the holdout posts the annotators' majority labels hateful or offensive, token
  F1 (tokens inside the predicted spans, at the fraction chosen above) and AUPRC of the token
  importances against the majority rationale (a token marked by at least half of the annotators
  who gave a rationale), per post and averaged, as in the HateXplain paper.

Both sets are among the model's training data. Their validation and holdout posts are rebuilt
with the model's own training split (the seeded, stratified split of ``holdout_rows`` in
``smartmod.moderation.evaluation``), which keeps duplicate texts (after normalization) on one
side; the script checks that the rebuilt split has the sizes the model card records and that no
evaluated post's normalized text occurs among the training posts.

Every method explains the ``toxicity`` category. Times are per text on one BLAS thread:
``ms/post`` the importances of the holdout Toxic Spans posts (mean), ``ms/60 words`` a whole
``Moderator.explain`` call on a 60-word comment (median of 21).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import set_threads  # noqa: E402

set_threads(1)

import numpy  # noqa: E402

from smartmod.explain import METHODS, harmful_spans, span_f1, span_offsets, span_threshold, token_auprc, token_f1, word_importances  # noqa: E402
from smartmod.moderation.moderator import Moderator  # noqa: E402
from smartmod.moderation.training import TextTrainingConfig, prepare_records, split_records  # noqa: E402
from smartmod.text.normalize import normalize  # noqa: E402

CATEGORY = "toxicity"
FRACTIONS = numpy.round(numpy.arange(0.05, 1.0001, 0.05), 2)  # candidate span fractions
SEMEVAL_BEST = 0.708
SIXTY_WORDS = (
    "I read the whole article twice and I still think the mayor is right about the budget, but you are a pathetic idiot "
    "if you believe the new bridge will be finished next year. The council has delayed every project since 2015, and the "
    "contractors keep asking for more money while the roads in our town fall apart every winter."
)


def held_out_posts(moderator: Moderator, names: list[str]) -> dict[str, list]:
    """The records of ``names`` on the validation and holdout sides of the model's own training split."""
    card = moderator.bundle.card
    config = TextTrainingConfig(**card["training"]["config"])
    records, labels, groups, sources = prepare_records(config)
    sides = split_records(labels, groups, sources, config)
    expected = card["data"]["split_sizes"]
    rebuilt = {side: int(rows.size) for side, rows in sides.items()}
    if rebuilt != {side: expected[side] for side in rebuilt}:
        raise SystemExit(f"the rebuilt split {rebuilt} differs from the model card's {expected}: the data or the code changed since training")
    trained = {normalize(records[i].text) for i in sides["train"]}
    posts = {side: [records[i] for i in sides[side] if sources[i] in names] for side in ("validation", "holdout")}
    overlap = sum(normalize(record.text) in trained for side in posts.values() for record in side)
    if overlap:
        raise SystemExit(f"{overlap} evaluated posts have a normalized text the model trained on")
    print(f"split rebuilt as the card records ({rebuilt}); evaluated posts whose text the model trained on: 0")
    return posts


def explain_all(moderator: Moderator, texts: list[str], method: str) -> tuple[list, float]:
    """Words and importances of every text, and the mean seconds per text."""
    explained = []
    start = time.perf_counter()
    for text in texts:
        explained.append(word_importances(moderator, text, method, CATEGORY))
    return explained, (time.perf_counter() - start) / max(len(texts), 1)


def predicted_offsets(text: str, words: list, importances: numpy.ndarray, fraction: float) -> set[int]:
    return span_offsets(harmful_spans(text, words, importances, span_threshold(importances, fraction)))


def mean_span_f1(texts: list[str], gold: list[set[int]], explained: list, fraction: float) -> float:
    predicted = [predicted_offsets(text, words, importances, fraction) for text, (words, importances) in zip(texts, explained)]
    return float(numpy.mean([span_f1(p, g) for p, g in zip(predicted, gold)]))


def majority_rationale(record) -> numpy.ndarray | None:
    """The tokens at least half of the rationale-giving annotators marked, ``(T,)`` bool; None without any."""
    tokens = record.original["tokens"]
    masks = [mask[:len(tokens)] for mask in record.original["rationales"] if len(mask) >= len(tokens)]
    if not masks:
        return None
    rationale = numpy.mean(masks, axis=0) >= 0.5
    return rationale if rationale.any() else None


def hatexplain_agreement(moderator: Moderator, records: list, method: str, fraction: float) -> tuple[float, float, int]:
    """Mean token F1 and AUPRC against the majority rationale, and the number of posts."""
    f1s, auprcs = [], []
    for record in records:
        rationale = majority_rationale(record)
        if rationale is None:
            continue
        tokens = record.original["tokens"]
        text = " ".join(tokens)
        ends = numpy.cumsum([len(token) + 1 for token in tokens]) - 1  # (T,) each token's end offset in text
        starts = ends - numpy.array([len(token) for token in tokens])
        words, importances = word_importances(moderator, text, method, CATEGORY)
        selected_offsets = predicted_offsets(text, words, importances, fraction)
        token_importance = numpy.zeros(len(tokens))
        for word, importance in zip(words, importances):  # a token takes the importance of the word it lies in
            inside = (starts < word.end) & (ends > word.start)
            token_importance[inside] = importance
        selected = numpy.array([any(offset in selected_offsets for offset in range(s, e)) for s, e in zip(starts, ends)], dtype=bool)
        f1s.append(token_f1(selected, rationale))
        auprcs.append(token_auprc(token_importance, rationale))
    return float(numpy.mean(f1s)), float(numpy.mean(auprcs)), len(f1s)


def explain_call_ms(moderator: Moderator, method: str, repeats: int = 21) -> float:
    moderator.explain(SIXTY_WORDS, method=method)  # warm caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        moderator.explain(SIXTY_WORDS, method=method)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="at most this many posts per set and side (a quick look)")
    arguments = parser.parse_args()
    moderator = Moderator.load("default")
    posts = held_out_posts(moderator, ["toxic-spans", "hatexplain"])
    spans = {side: [r for r in records if r.source == "toxic-spans"][: arguments.limit] for side, records in posts.items()}
    hateful = [r for r in posts["holdout"] if r.source == "hatexplain" and r.original["label"] in ("hatespeech", "offensive")][: arguments.limit]
    print(f"Toxic Spans posts: {len(spans['validation'])} validation (thresholds), {len(spans['holdout'])} holdout (reported); "
          f"HateXplain hateful/offensive holdout posts: {len(hateful)}; words in the 60-word comment: {len(SIXTY_WORDS.split())}")

    rows = []
    for method in METHODS:
        texts = {side: [r.text for r in records] for side, records in spans.items()}
        gold = {side: [set(r.original["spans"]) for r in records] for side, records in spans.items()}
        validation, _ = explain_all(moderator, texts["validation"], method)
        tuned = max(FRACTIONS, key=lambda fraction: mean_span_f1(texts["validation"], gold["validation"], validation, fraction))
        holdout, seconds = explain_all(moderator, texts["holdout"], method)
        token_f1_mean, auprc_mean, n_rationales = hatexplain_agreement(moderator, hateful, method, tuned)
        rows.append((method, tuned, METHODS[method].span_fraction, mean_span_f1(texts["validation"], gold["validation"], validation, tuned),
                     mean_span_f1(texts["holdout"], gold["holdout"], holdout, tuned), token_f1_mean, auprc_mean, 1000 * seconds,
                     explain_call_ms(moderator, method)))
        print(f"  {method} done (HateXplain posts with a majority rationale: {n_rationales})", flush=True)

    print(f"\n| method | span fraction (validation) | shipped fraction | span-F1 validation | span-F1 holdout | HateXplain token F1 | HateXplain AUPRC | ms/post | ms/60 words |")
    print("|---|---|---|---|---|---|---|---|---|")
    for method, tuned, shipped, dev_f1, test_f1, hx_f1, hx_auprc, ms_post, ms_call in rows:
        print(f"| {method} | {tuned:.2f} | {shipped:.2f} | {dev_f1:.3f} | **{test_f1:.3f}** | {hx_f1:.3f} | {hx_auprc:.3f} | {ms_post:.1f} | {ms_call:.1f} |")
    best = max(rows, key=lambda row: row[3])
    print(f"\nbest by validation span-F1: {best[0]} (holdout {best[4]:.3f}; the SemEval-2021 best was {SEMEVAL_BEST})")


if __name__ == "__main__":
    main()
