"""Ways to add per-example gradient rows into a word-vector matrix, timed against each other.

A word2vec batch of B examples with K noise words gives B·(K+1) gradient rows for the output
vectors, many of them for the same frequent words, which must be summed, not overwritten. Four
ways, all giving the same matrix (checked):

- ``add.at``: ``numpy.add.at(W, ids, rows)``;
- ``sort+reduceat``: sort the ids, ``numpy.add.reduceat`` the sorted rows, one write per word;
- ``bincount``: ``numpy.bincount`` over flat ``id·D + column`` indices (float64), one write per word;
- ``sparse matrix`` (what smartmod uses, :class:`smartmod.text.negative_sampling.WordRows`): a
  (words × rows) CSR matrix built from a radix sort of 16-bit ids, times the rows, one write per word.

The ids are drawn from the noise distribution of a Zipf-like vocabulary of 22,000 words (the size
of the shared English corpus at min_count 5). Blocks are interleaved; medians are printed.

    python bench/word2vec_scatter_add.py [--batch 1024] [--negative 5] [--dim 100] [--blocks 15]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy

from smartmod.text.negative_sampling import WordRows
from smartmod.text.word2vec_sampling import NoiseDistribution

VOCABULARY = 22_000


def add_at(matrix, ids, rows):
    numpy.add.at(matrix, ids, rows)


def sort_reduceat(matrix, ids, rows):
    order = numpy.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    starts = numpy.flatnonzero(numpy.concatenate([[True], sorted_ids[1:] != sorted_ids[:-1]]))
    matrix[sorted_ids[starts]] += numpy.add.reduceat(rows[order], starts, axis=0)


def bincount(matrix, ids, rows):
    words, inverse = numpy.unique(ids, return_inverse=True)
    dim = rows.shape[1]
    flat = (inverse[:, None] * dim + numpy.arange(dim)).ravel()
    matrix[words] += numpy.bincount(flat, weights=rows.ravel(), minlength=len(words) * dim).reshape(len(words), dim).astype(matrix.dtype)


def sparse_matrix(matrix, ids, rows):
    words = WordRows(ids, numpy.arange(len(ids)), len(ids))
    matrix[words.words] += words.matrix(numpy.ones(len(ids), dtype=matrix.dtype)) @ rows


METHODS = {"add.at": add_at, "sort+reduceat": sort_reduceat, "bincount": bincount, "sparse matrix": sparse_matrix}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--blocks", type=int, default=15)
    parser.add_argument("--steps", type=int, default=20, help="batches per block")
    args = parser.parse_args()
    rng = numpy.random.default_rng(0)
    counts = numpy.maximum(1e6 / numpy.arange(1, VOCABULARY + 1), 5).astype(numpy.int64)  # Zipf, cut at min_count 5
    noise = NoiseDistribution(counts)
    batches = [(noise.sample((args.batch * (args.negative + 1),), rng), rng.normal(size=(args.batch * (args.negative + 1), args.dim)).astype(numpy.float32))
               for _ in range(args.steps)]
    reference = numpy.zeros((VOCABULARY, args.dim), dtype=numpy.float64)
    for ids, rows in batches:
        numpy.add.at(reference, ids, rows.astype(numpy.float64))
    times: dict[str, list[float]] = {name: [] for name in METHODS}
    for block in range(args.blocks + 1):
        for name, method in METHODS.items():
            matrix = numpy.zeros((VOCABULARY, args.dim), dtype=numpy.float32)
            started = time.perf_counter()
            for ids, rows in batches:
                method(matrix, ids, rows)
            if block > 0:  # the first block warms up
                times[name].append((time.perf_counter() - started) / len(batches))
            numpy.testing.assert_allclose(matrix, reference, rtol=1e-4, atol=1e-4, err_msg=name)
    print(f"scatter-add of {args.batch * (args.negative + 1)} rows of {args.dim} float32 into ({VOCABULARY}, {args.dim}); "
          f"median of {args.blocks} interleaved blocks of {args.steps} batches")
    fastest = min(statistics.median(values) for values in times.values())
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:14s} {median * 1e6:8.0f} µs per batch  ({median / fastest:.1f}x the fastest)")


if __name__ == "__main__":
    main()
