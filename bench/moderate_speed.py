"""End-to-end speed of ``smartmod moderate`` from file to file, next to alt-profanity-check.

Builds a CSV of N texts sampled (seeded, with replacement) from the shared text datasets, then
times the real CLI as a subprocess, start to finish (interpreter start, model load, reading,
normalization, TF-IDF, network, writing the scored CSV). alt-profanity-check (TF-IDF + linear
SVM), when installed (`pip install -e '.[bench]'`), scores the same texts in-process from the
same CSV to a CSV, for comparison.

    python bench/moderate_speed.py [--texts 100000] [--model default]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy
import pandas

from smartmod.data.text_readers import read_all_text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=100_000)
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    corpus = [record.text for record in read_all_text() if record.language == "en"]
    rng = numpy.random.default_rng(0)
    texts = [corpus[i] for i in rng.integers(0, len(corpus), args.texts)]
    with tempfile.TemporaryDirectory() as directory:
        source, target = Path(directory) / "in.csv", Path(directory) / "out.csv"
        pandas.DataFrame({"id": range(len(texts)), "text": texts}).to_csv(source, index=False)
        print(f"{len(texts):,} texts, {source.stat().st_size / 1e6:.1f} MB CSV, mean {numpy.mean([len(t) for t in texts]):.0f} characters")
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "smartmod.cli", "moderate", "--input", str(source), "--output", str(target), "--model", args.model, "--no-progress"], check=True)
        seconds = time.perf_counter() - start
        print(f"smartmod moderate (CLI, file to file): {seconds:.2f} s, {len(texts) / seconds:,.0f} texts/s")
        try:
            from profanity_check import predict_prob
        except ImportError:
            print("alt-profanity-check is not installed: pip install -e '.[bench]' to compare")
            return
        start = time.perf_counter()
        frame = pandas.read_csv(source, dtype=str, keep_default_na=False)
        frame["offensive"] = predict_prob(frame["text"].tolist())
        frame.to_csv(Path(directory) / "peer.csv", index=False)
        peer = time.perf_counter() - start
        print(f"alt-profanity-check (in-process, file to file): {peer:.2f} s, {len(texts) / peer:,.0f} texts/s")
        print(f"time ratio smartmod / alt-profanity-check: {seconds / peer:.2f}x")


if __name__ == "__main__":
    main()
