"""Looking into word vectors: similarity, nearest neighbours, analogies and their evaluation.

Everything works on any object with ``words`` (a sequence of V strings) and ``vectors`` (V, D):
a :class:`~smartmod.text.word2vec.Word2Vec`, or :class:`WordVectors` wrapping vectors from
elsewhere (gensim's ``WordVectors(kv.index_to_key, kv.vectors)``).

- similarity is the cosine ``a·b / (|a||b|)``;
- analogies use 3CosAdd (Mikolov, Yih and Zweig 2013, "Linguistic Regularities in Continuous
  Space Word Representations"): the answer to ``a - b + c`` is the word whose unit vector has
  the largest cosine with ``â - b̂ + ĉ``, the three query words excluded;
- an analogy set is scored by accuracy (questions whose four words are all known), a similarity
  set by Spearman's rank correlation between cosines and human scores (the WordSim-353 protocol).

Evaluation files are plain text, ``#`` starting a comment line: analogies in the format of
Mikolov's ``questions-words.txt`` (``: section`` headers, then ``a b c d`` lines meaning
``a : b :: c : d``), similarity pairs as ``word1<TAB>word2<TAB>score`` lines.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy
from scipy.stats import spearmanr

__all__ = [
    "HasWordVectors", "WordVectors", "cosine_similarity", "most_similar", "analogy", "read_analogies", "read_similarity_pairs",
    "evaluate_analogies", "evaluate_similarity", "neighbour_overlap",
]


class HasWordVectors(Protocol):
    """Anything with ``words`` (V,) and their ``vectors`` (V, D)."""

    words: Sequence[str]
    vectors: numpy.ndarray


@dataclass(frozen=True)
class WordVectors:
    """Word vectors from anywhere: ``words`` (V,) and ``vectors`` (V, D)."""

    words: Sequence[str]
    vectors: numpy.ndarray


def _unit_rows(vectors: numpy.ndarray) -> numpy.ndarray:
    """``vectors`` (V, D) scaled to length 1 (zero rows stay zero), float32."""
    norms = numpy.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / numpy.where(norms == 0, 1, norms)).astype(numpy.float32)


def _index(model: HasWordVectors) -> dict[str, int]:
    return {word: row for row, word in enumerate(model.words)}


def _row(index: dict[str, int], word: str) -> int:
    if word not in index:
        raise KeyError(f"{word!r} is not among the {len(index)} words that have a vector")
    return index[word]


def cosine_similarity(model: HasWordVectors, first: str, second: str) -> float:
    """The cosine between the vectors of two words."""
    index = _index(model)
    a, b = (numpy.asarray(model.vectors[_row(index, word)], dtype=numpy.float64) for word in (first, second))
    norms = numpy.linalg.norm(a) * numpy.linalg.norm(b)
    return float(a @ b / norms) if norms else 0.0


def _nearest(unit: numpy.ndarray, queries: numpy.ndarray, excluded: Sequence[Iterable[int]], topn: int) -> numpy.ndarray:
    """Rows of the ``topn`` largest cosines for each query (Q, D), best first, ``excluded`` rows left out; (Q, topn)."""
    scores = queries @ unit.T  # (Q, V)
    for query, rows in enumerate(excluded):
        scores[query, list(rows)] = -numpy.inf
    topn = min(topn, unit.shape[0])
    best = numpy.argpartition(-scores, topn - 1, axis=1)[:, :topn]  # (Q, topn), unordered
    order = numpy.argsort(-numpy.take_along_axis(scores, best, axis=1), axis=1, kind="stable")
    return numpy.take_along_axis(best, order, axis=1)


def most_similar(model: HasWordVectors, word: str, topn: int = 10) -> list[tuple[str, float]]:
    """The ``topn`` words nearest to ``word`` by cosine, best first, with their cosines; ``word`` excluded."""
    index, unit = _index(model), _unit_rows(model.vectors)
    row = _row(index, word)
    rows = _nearest(unit, unit[row][None], [[row]], topn)[0]
    return [(model.words[other], float(unit[other] @ unit[row])) for other in rows]


def analogy(model: HasWordVectors, a: str, b: str, c: str, topn: int = 1) -> list[tuple[str, float]]:
    """The words nearest to ``a - b + c`` (3CosAdd on unit vectors), the three excluded.

    ``analogy(model, "king", "man", "woman")`` asks "king is to man as what is to woman";
    returns ``topn`` (word, cosine) pairs, best first.
    """
    index, unit = _index(model), _unit_rows(model.vectors)
    rows = [_row(index, word) for word in (a, b, c)]
    query = unit[rows[0]] - unit[rows[1]] + unit[rows[2]]
    query = query / max(float(numpy.linalg.norm(query)), 1e-12)
    return [(model.words[row], float(unit[row] @ query)) for row in _nearest(unit, query[None], [rows], topn)[0]]


def _data_lines(path: str | Path) -> Iterable[tuple[int, str]]:
    """(line number, stripped line) of the non-empty, non-comment lines of a UTF-8 file."""
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            yield number, line


def read_analogies(path: str | Path) -> list[tuple[str, str, str, str, str]]:
    """Analogy questions ``(section, a, b, c, d)`` from a ``questions-words.txt``-style file.

    Each ``a b c d`` line means ``a : b :: c : d``: the expected answer to ``b - a + c`` is ``d``.
    Words are lower-cased, as the corpus is.
    """
    questions, section = [], ""
    for number, line in _data_lines(path):
        if line.startswith(":"):
            section = line[1:].strip()
            continue
        words = line.lower().split()
        if len(words) != 4:
            raise ValueError(f"{path}, line {number}: an analogy needs four words 'a b c d', got {line!r}")
        questions.append((section, *words))
    return questions


def read_similarity_pairs(path: str | Path) -> list[tuple[str, str, float]]:
    """Scored word pairs ``(word1, word2, score)`` from ``word1<TAB>word2<TAB>score`` lines."""
    pairs = []
    for number, line in _data_lines(path):
        fields = line.split("\t")
        try:
            pairs.append((fields[0].strip().lower(), fields[1].strip().lower(), float(fields[2])))
        except (IndexError, ValueError):
            raise ValueError(f"{path}, line {number}: expected 'word1<TAB>word2<TAB>score', got {line!r}") from None
    return pairs


def evaluate_analogies(model: HasWordVectors, questions: Sequence[tuple[str, str, str, str, str]]) -> dict[str, Any]:
    """3CosAdd accuracy on ``questions`` (from :func:`read_analogies`), overall and per section.

    A question counts when its four words all have vectors; ``coverage`` is the share that do.
    Returns ``{"accuracy", "correct", "answered", "questions", "coverage", "sections": {name:
    {"accuracy", "correct", "answered"}}}``; an accuracy is None when nothing was answered.
    """
    index, unit = _index(model), _unit_rows(model.vectors)
    known = [question for question in questions if all(word in index for word in question[1:])]
    rows = numpy.array([[index[word] for word in question[1:]] for question in known], dtype=numpy.int64).reshape(-1, 4)
    queries = unit[rows[:, 1]] - unit[rows[:, 0]] + unit[rows[:, 2]]  # (Q, D) b - a + c
    answers = _nearest(unit, queries, rows[:, :3], 1)[:, 0] if len(known) else numpy.zeros(0, numpy.int64)
    hits = answers == rows[:, 3]
    sections: dict[str, dict[str, Any]] = {}
    for question, hit in zip(known, hits):
        counts = sections.setdefault(question[0], {"correct": 0, "answered": 0})
        counts["correct"] += int(hit)
        counts["answered"] += 1
    for counts in sections.values():
        counts["accuracy"] = counts["correct"] / counts["answered"]
    return {"accuracy": float(hits.mean()) if len(known) else None, "correct": int(hits.sum()), "answered": len(known),
            "questions": len(questions), "coverage": len(known) / len(questions) if questions else 0.0, "sections": sections}


def evaluate_similarity(model: HasWordVectors, pairs: Sequence[tuple[str, str, float]]) -> dict[str, Any]:
    """Spearman's rho between the cosines and the scores of ``pairs`` whose two words have vectors.

    Returns ``{"spearman", "pairs", "answered", "coverage"}``; ``spearman`` is None with fewer than
    three answered pairs.
    """
    index, unit = _index(model), _unit_rows(model.vectors)
    known = [(first, second, score) for first, second, score in pairs if first in index and second in index]
    cosines = [float(unit[index[first]] @ unit[index[second]]) for first, second, _ in known]
    rho = float(spearmanr(cosines, [score for _, _, score in known]).statistic) if len(known) >= 3 else None
    return {"spearman": rho, "pairs": len(pairs), "answered": len(known), "coverage": len(known) / len(pairs) if pairs else 0.0}


def neighbour_overlap(first: HasWordVectors, second: HasWordVectors, words: Sequence[str], k: int = 10) -> float:
    """Mean share of common words among the ``k`` nearest neighbours of each of ``words`` in two models.

    Each word must have a vector in both; neighbours are searched among each model's own words.
    """
    overlaps = []
    for model_neighbours in zip(*(_neighbour_sets(model, words, k) for model in (first, second))):
        overlaps.append(len(model_neighbours[0] & model_neighbours[1]) / k)
    return float(numpy.mean(overlaps)) if overlaps else 0.0


def _neighbour_sets(model: HasWordVectors, words: Sequence[str], k: int) -> list[set[str]]:
    index, unit = _index(model), _unit_rows(model.vectors)
    rows = numpy.array([_row(index, word) for word in words], dtype=numpy.int64)
    nearest = _nearest(unit, unit[rows], rows[:, None], k)  # (W, k)
    return [{model.words[row] for row in neighbours} for neighbours in nearest]
