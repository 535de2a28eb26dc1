"""Greedy decoding, beam search and temperature sampling on scorers whose answers are known."""
from __future__ import annotations

import itertools

import numpy
import pytest

from smartmod.seq2seq.decoding import beam_search, greedy_decode, sample

START, END = 0, 1


def random_scorer(vocabulary: int, seed: int):
    """Log-probabilities that depend on the whole prefix, fixed by (prefix, seed); START never follows."""

    def next_log_probs(prefixes: numpy.ndarray) -> numpy.ndarray:
        rows = []
        for prefix in prefixes.tolist():
            logits = numpy.random.default_rng([seed, *prefix]).normal(scale=2.0, size=vocabulary)
            logits[START] = -numpy.inf
            rows.append(logits - numpy.log(numpy.exp(logits).sum()))
        return numpy.array(rows)

    return next_log_probs


def table_scorer(table: dict[tuple[int, ...], list[float]]):
    """Probabilities of the next token after each prefix (START excluded), from a table."""
    return lambda prefixes: numpy.log([table[tuple(prefix[1:])] for prefix in prefixes.tolist()])


def score(next_log_probs, tokens: list[int], ended: bool = True) -> float:
    """Σ log p of ``tokens`` (then END, when ``ended``) under the scorer."""
    sequence = [START, *tokens] + ([END] if ended else [])
    return sum(float(next_log_probs(numpy.array([sequence[:t]]))[0, sequence[t]]) for t in range(1, len(sequence)))


@pytest.mark.parametrize("seed", range(5))
def test_beam_of_width_one_is_greedy_decoding(seed):
    scorer = random_scorer(4, seed)
    (best, _), = beam_search(scorer, START, END, max_length=6, beam_width=1)
    assert best == greedy_decode(scorer, 1, START, END, max_length=6)[0]


@pytest.mark.parametrize("seed", range(3))
def test_beam_scores_are_sorted_and_are_the_sequences_log_probabilities(seed):
    scorer = random_scorer(5, seed)
    found = beam_search(scorer, START, END, max_length=5, beam_width=4)
    scores = [value for _, value in found]
    assert len(found) == 4 and scores == sorted(scores, reverse=True)
    for tokens, value in found:
        assert value == pytest.approx(score(scorer, tokens, ended=len(tokens) < 5), abs=1e-9)


def test_beam_search_finds_the_best_sequence_where_greedy_does_not():
    # token 2 first is likelier (0.6) but then spreads thin; token 3 first (0.4) is followed by END for sure
    table = {(): [0.0, 0.0, 0.6, 0.4], (2,): [0.0, 0.34, 0.33, 0.33], (3,): [0.0, 1.0, 0.0, 0.0],
             (2, 2): [0.0, 1.0, 0.0, 0.0], (2, 3): [0.0, 1.0, 0.0, 0.0]}
    with numpy.errstate(divide="ignore"):
        scorer = table_scorer(table)
        assert greedy_decode(scorer, 1, START, END, max_length=3) == [[2]]  # 0.6 · 0.34 = 0.204
        (best, best_score), _ = beam_search(scorer, START, END, max_length=3, beam_width=2)
    assert best == [3] and best_score == pytest.approx(numpy.log(0.4))


@pytest.mark.parametrize("seed", range(3))
def test_a_beam_wider_than_every_prefix_finds_the_exhaustive_best(seed):
    scorer, length = random_scorer(4, seed), 3  # tokens 2 and 3, END; every sequence of up to 3 tokens
    candidates = [(list(tokens), score(scorer, list(tokens), ended=n < length))
                  for n in range(length + 1) for tokens in itertools.product([2, 3], repeat=n)]
    best_tokens, best_score = max(candidates, key=lambda pair: pair[1])
    (found, found_score), *_ = beam_search(scorer, START, END, max_length=length, beam_width=16)
    assert found == best_tokens and found_score == pytest.approx(best_score)


def test_sampling_repeats_under_a_seed_and_varies_across_seeds():
    scorer = random_scorer(6, seed=0)
    first = sample(scorer, 20, START, END, 8, temperature=1.0, rng=numpy.random.default_rng(1))
    assert sample(scorer, 20, START, END, 8, temperature=1.0, rng=numpy.random.default_rng(1)) == first
    assert sample(scorer, 20, START, END, 8, temperature=1.0, rng=numpy.random.default_rng(2)) != first


@pytest.mark.parametrize("seed", range(3))
def test_sampling_as_temperature_goes_to_zero_is_greedy_decoding(seed):
    scorer = random_scorer(5, seed)
    sampled = sample(scorer, 10, START, END, 6, temperature=1e-4, rng=numpy.random.default_rng(seed))
    assert sampled == greedy_decode(scorer, 10, START, END, 6)


def test_sampling_at_temperature_one_draws_from_the_model_and_higher_flattens():
    probabilities = [0.0, 0.1, 0.2, 0.7]  # END, then tokens 2 and 3, after START; always END after
    scorer = lambda prefixes: numpy.log([probabilities if len(p) == 1 else [0.0, 1.0, 0.0, 0.0] for p in prefixes.tolist()])
    draws = 20_000
    with numpy.errstate(divide="ignore"):
        for temperature, expected in ((1.0, probabilities), (2.0, numpy.sqrt(probabilities) / numpy.sqrt(probabilities).sum())):
            sequences = sample(scorer, draws, START, END, 2, temperature=temperature, rng=numpy.random.default_rng(0))
            first = numpy.array([tokens[0] if tokens else END for tokens in sequences])
            for token in (1, 2, 3):
                frequency, p = numpy.mean(first == token), expected[token]
                assert abs(frequency - p) <= 5 * numpy.sqrt(p * (1 - p) / draws) + 1e-12, f"temperature {temperature}, token {token}"


def test_sequences_stop_at_the_length_limit_without_end():
    never_ends = lambda prefixes: numpy.log(numpy.tile([0.0, 0.0, 1.0], (len(prefixes), 1)))
    with numpy.errstate(divide="ignore"):
        assert greedy_decode(never_ends, 2, START, END, 3) == [[2, 2, 2], [2, 2, 2]]
        assert beam_search(never_ends, START, END, 3, beam_width=1)[0][0] == [2, 2, 2]


@pytest.mark.parametrize("temperature", [0.0, -1.0])
def test_sampling_refuses_a_temperature_that_is_not_positive(temperature):
    with pytest.raises(ValueError, match="temperature must be positive"):
        sample(random_scorer(3, 0), 1, START, END, 3, temperature=temperature, rng=numpy.random.default_rng(0))
