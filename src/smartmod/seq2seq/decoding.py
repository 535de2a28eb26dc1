"""Turning a model of the next token into output sequences: greedy decoding, beam search and
temperature sampling.

Each takes ``next_log_probs``: a function from prefixes ``(K, t)`` (integer ids, each starting
with the START id) to log-probabilities ``(K, V)`` of the token that comes next. A sequence ends
at the END id or after ``max_length`` tokens; returned sequences hold neither START nor END.
"""
from __future__ import annotations

from typing import Callable

import numpy

__all__ = ["greedy_decode", "beam_search", "sample"]

NextLogProbs = Callable[[numpy.ndarray], numpy.ndarray]


def _extend(next_log_probs: NextLogProbs, rows: int, start: int, end: int, max_length: int,
            choose: Callable[[numpy.ndarray], numpy.ndarray]) -> list[list[int]]:
    """Grow ``rows`` sequences one token at a time, ``choose`` picking each row's token (K,)
    from its log-probabilities (K, V), until every row has ended."""
    prefixes = numpy.full((rows, 1), start, dtype=numpy.int64)  # (K, 1)
    ended = numpy.zeros(rows, dtype=bool)
    for _ in range(max_length):
        tokens = numpy.where(ended, end, choose(next_log_probs(prefixes)))  # (K,), an ended row repeats END
        prefixes = numpy.concatenate([prefixes, tokens[:, None]], axis=1)  # (K, t + 1)
        ended |= tokens == end
        if ended.all():
            break
    return [_strip(row[1:].tolist(), end) for row in prefixes]


def _strip(tokens: list[int], end: int) -> list[int]:
    return tokens[: tokens.index(end)] if end in tokens else tokens


def greedy_decode(next_log_probs: NextLogProbs, rows: int, start: int, end: int, max_length: int) -> list[list[int]]:
    """The most likely next token at every step, for ``rows`` sequences at once (the lowest id on a tie)."""
    return _extend(next_log_probs, rows, start, end, max_length, lambda log_probs: log_probs.argmax(axis=1))


def sample(next_log_probs: NextLogProbs, rows: int, start: int, end: int, max_length: int, temperature: float,
           rng: numpy.random.Generator) -> list[list[int]]:
    """Each next token drawn from softmax(log p / temperature): 1 samples the model's own
    distribution, below 1 sharpens it towards greedy decoding (its limit as temperature → 0),
    above 1 flattens it. ``rng`` makes the draw repeatable."""
    if not temperature > 0:
        raise ValueError(f"temperature must be positive (use greedy_decode for the limit 0), got {temperature!r}")

    def draw(log_probs: numpy.ndarray) -> numpy.ndarray:
        scaled = log_probs.astype(numpy.float64) / temperature  # (K, V)
        probabilities = numpy.exp(scaled - scaled.max(axis=1, keepdims=True))
        cumulative = numpy.cumsum(probabilities, axis=1)  # (K, V), unnormalized
        threshold = rng.random(len(cumulative))[:, None] * cumulative[:, -1:]  # inverse-CDF draw, (K, 1)
        return numpy.minimum((cumulative <= threshold).sum(axis=1), cumulative.shape[1] - 1)

    return _extend(next_log_probs, rows, start, end, max_length, draw)


def beam_search(next_log_probs: NextLogProbs, start: int, end: int, max_length: int, beam_width: int) -> list[tuple[list[int], float]]:
    """The ``beam_width`` best sequences found by beam search, best first, with their scores
    (the sum of the log-probabilities of their tokens, END included).

    At every step each of the ``beam_width`` live prefixes is extended by every token, and the
    best ``beam_width`` extensions that do not end stay live; those that end join the finished
    list. Search stops when ``beam_width`` sequences have finished and none of the live prefixes
    scores above the worst of them (log-probabilities are ≤ 0, so a prefix's score only falls),
    or after ``max_length`` tokens, when live prefixes count as finished. With ``beam_width=1``
    this is greedy decoding.
    """
    if beam_width < 1:
        raise ValueError(f"beam_width must be at least 1, got {beam_width}")
    live, live_scores = [[start]], numpy.zeros(1)
    finished: list[tuple[list[int], float]] = []
    for _ in range(max_length):
        candidates = live_scores[:, None] + next_log_probs(numpy.array(live, dtype=numpy.int64))  # (K, V)
        vocabulary = candidates.shape[1]
        next_live, next_scores = [], []
        for flat in numpy.argsort(-candidates, axis=None, kind="stable"):  # best first, ties by lower beam and id
            beam, token = divmod(int(flat), vocabulary)
            score = float(candidates[beam, token])
            if token == end:
                finished.append((live[beam][1:], score))
            else:
                next_live.append(live[beam] + [token])
                next_scores.append(score)
                if len(next_live) == beam_width:
                    break
        live, live_scores = next_live, numpy.array(next_scores)
        finished = sorted(finished, key=lambda pair: -pair[1])[:beam_width]
        if not live or (len(finished) == beam_width and finished[-1][1] >= live_scores.max()):
            break
    else:
        finished += [(prefix[1:], float(score)) for prefix, score in zip(live, live_scores)]
    return sorted(finished, key=lambda pair: -pair[1])[:beam_width]
