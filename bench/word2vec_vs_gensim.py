"""smartmod's NumPy word2vec against gensim's compiled one: speed and quality on the shared English text.

Both train on the same token lists (every shared English text dataset, each distinct text
normalized and tokenized once, :func:`smartmod.text.english_corpus.english_token_lists`) with the
same hyperparameters: negative sampling, dim 100, window 5, 5 noise words, min_count 5,
sample 1e-3, alpha 0.025 → 0.0001. gensim runs with ``workers=1`` and ``workers=2``.

- speed: corpus words per second of training (every token of the corpus, including those below
  min_count, as gensim counts "raw words", times the epochs, over the training time; building the
  vocabulary is not timed for either);
- quality: 3CosAdd accuracy on bench/data/word_analogies.txt, Spearman's rho on
  bench/data/word_similarity.tsv, and the mean overlap of the 10 nearest neighbours of the 1,000
  most frequent words between two models. Word2vec is stochastic, so the overlap between gensim's
  two runs (1 and 2 workers, seeds 0 and 1: neither the initial vectors nor the random stream
  shared) is the yardstick for ours against gensim.

    python bench/word2vec_vs_gensim.py [--epochs 3] [--cbow] [--save DIR] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from smartmod.text.embedding_tools import (
    HasWordVectors, WordVectors, evaluate_analogies, evaluate_similarity, neighbour_overlap, read_analogies, read_similarity_pairs,
)
from smartmod.text.english_corpus import english_token_lists
from smartmod.text.word2vec import Word2Vec, Word2VecConfig

DATA = Path(__file__).resolve().parent / "data"


def train_gensim(token_lists: list[list[str]], config: Word2VecConfig, workers: int, seed: int) -> tuple[WordVectors, float]:
    """gensim's Word2Vec with ``config``'s hyperparameters and ``seed``; returns its vectors and the training seconds."""
    from gensim.models import Word2Vec as GensimWord2Vec

    model = GensimWord2Vec(sg=int(config.architecture == "skip-gram"), vector_size=config.dim, window=config.window, negative=config.negative,
                           hs=0, min_count=config.min_count, sample=config.sample, alpha=config.alpha, min_alpha=config.min_alpha,
                           ns_exponent=config.noise_power, epochs=config.epochs, workers=workers, seed=seed)
    model.build_vocab(token_lists)
    started = time.perf_counter()
    model.train(token_lists, total_examples=model.corpus_count, epochs=config.epochs)
    return WordVectors(list(model.wv.index_to_key), model.wv.vectors), time.perf_counter() - started


def quality(model: HasWordVectors) -> dict[str, Any]:
    analogies = evaluate_analogies(model, read_analogies(DATA / "word_analogies.txt"))
    similarity = evaluate_similarity(model, read_similarity_pairs(DATA / "word_similarity.tsv"))
    return {"analogy_accuracy": analogies["accuracy"], "analogies_answered": analogies["answered"],
            "analogy_sections": {name: round(section["accuracy"], 3) for name, section in analogies["sections"].items()},
            "similarity_spearman": similarity["spearman"], "similarity_pairs_answered": similarity["answered"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--cbow", action="store_true", help="CBOW instead of skip-gram, for both")
    parser.add_argument("--save", help="save smartmod's model to this directory (bench/word2vec_plots.py draws from it)")
    parser.add_argument("--json", help="write the figures to this JSON file")
    args = parser.parse_args()
    config = Word2VecConfig(architecture="cbow" if args.cbow else "skip-gram", epochs=args.epochs)
    print(f"config: {config}\nCPU cores: {os.cpu_count()}, load average at start: {os.getloadavg()[0]:.1f}")

    started = time.perf_counter()
    token_lists = english_token_lists()
    corpus_words = sum(map(len, token_lists))
    print(f"corpus: {len(token_lists)} texts, {corpus_words} words, read and tokenized in {time.perf_counter() - started:.1f} s")

    results: dict[str, Any] = {"config": vars(config), "corpus_texts": len(token_lists), "corpus_words": corpus_words, "models": {}}
    ours = Word2Vec(config).fit(token_lists, on_epoch=lambda entry: print(f"  smartmod epoch {entry['epoch']}: loss {entry['loss']:.4f}, {entry['seconds']:.1f} s"))
    models: dict[str, tuple[HasWordVectors, float]] = {"smartmod": (ours, sum(entry["seconds"] for entry in ours.training_log))}
    if args.save:
        ours.save(args.save)
    for workers in (1, 2):
        models[f"gensim-{workers}w"] = train_gensim(token_lists, config, workers, seed=config.seed + workers - 1)
        print(f"  gensim workers={workers}: {models[f'gensim-{workers}w'][1]:.1f} s")

    print(f"\nload average after training: {os.getloadavg()[0]:.1f}")
    print(f"{'model':12s} {'vocabulary':>10s} {'train s':>8s} {'words/s':>9s} {'analogy':>8s} {'spearman':>8s}")
    for name, (model, seconds) in models.items():
        figures = {"vocabulary": len(model.words), "train_seconds": round(seconds, 2),
                   "words_per_second": round(corpus_words * config.epochs / seconds), **quality(model)}
        results["models"][name] = figures
        print(f"{name:12s} {figures['vocabulary']:10d} {seconds:8.1f} {figures['words_per_second']:9d} "
              f"{figures['analogy_accuracy']:8.3f} {figures['similarity_spearman']:8.3f}   {figures['analogy_sections']}")
    speed = results["models"]
    for workers in (1, 2):
        ratio = speed[f"gensim-{workers}w"]["words_per_second"] / speed["smartmod"]["words_per_second"]
        results[f"gensim_{workers}w_over_smartmod_speed"] = round(ratio, 2)
        print(f"gensim ({workers} worker{'s' if workers > 1 else ''}) is {ratio:.2f}x as fast as smartmod")

    frequent = [word for word in ours.words if word in set(models["gensim-1w"][0].words)][:1000]
    for first, second in (("smartmod", "gensim-1w"), ("smartmod", "gensim-2w"), ("gensim-1w", "gensim-2w")):
        overlap = neighbour_overlap(models[first][0], models[second][0], frequent, k=10)
        results[f"overlap@10 {first} / {second}"] = round(overlap, 4)
        print(f"mean overlap of the 10 nearest neighbours of the 1,000 most frequent words, {first} / {second}: {overlap:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
