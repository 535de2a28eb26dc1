"""Word2vec: hand-written gradients, the sampling rules of word2vec.c, learning, reproducibility, files."""
from __future__ import annotations

import json
import math

import numpy
import pytest
import torch

from smartmod.nn.gradcheck import numerical_gradient
from smartmod.nn.serialize import SerializationError
from smartmod.text import Vocabulary
from smartmod.text.embedding_tools import most_similar
from smartmod.text.negative_sampling import WordRows, negative_sampling_step
from smartmod.text.word2vec import Word2Vec, Word2VecConfig
from smartmod.text.word2vec_sampling import (
    NoiseDistribution, _alias_table, cbow_contexts, draw_windows, keep_probabilities, skip_gram_pairs,
)
from tests.nn.torch_reference import assert_close


def sigmoid(x):
    return 1 / (1 + numpy.exp(-x))


def random_vectors(rows: int, dim: int, seed: int, dtype=numpy.float64):
    rng = numpy.random.default_rng(seed)
    return rng.normal(0, 0.5, size=(rows, dim)).astype(dtype), rng.normal(0, 0.5, size=(rows, dim)).astype(dtype)


def step_gradients(input_vectors, output_vectors, inputs, input_weights, targets, target_weights):
    """(loss, ∂L/∂input_vectors, ∂L/∂output_vectors) read off one SGD step of learning rate 1."""
    new_input, new_output = input_vectors.copy(), output_vectors.copy()
    loss = negative_sampling_step(new_input, new_output, inputs, input_weights, targets, target_weights, learning_rate=1.0)
    return loss, input_vectors - new_input, output_vectors - new_output


def check_against_central_differences(input_vectors, output_vectors, inputs, input_weights, targets, target_weights):
    _, grad_input, grad_output = step_gradients(input_vectors, output_vectors, inputs, input_weights, targets, target_weights)

    def loss():  # learning rate 0 writes the rows back unchanged, so this only measures
        return negative_sampling_step(input_vectors, output_vectors, inputs, input_weights, targets, target_weights, learning_rate=0.0)

    numpy.testing.assert_allclose(grad_input, numerical_gradient(loss, input_vectors), rtol=1e-6, atol=1e-9)
    numpy.testing.assert_allclose(grad_output, numerical_gradient(loss, output_vectors), rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------- gradients of the negative-sampling loss

def test_one_pair_gradient_is_the_hand_formula_and_matches_central_differences():
    input_vectors, output_vectors = random_vectors(6, 4, seed=1)
    centre, context, noise = 2, 3, [1, 4]
    targets, weights = numpy.array([[context, *noise]]), numpy.ones((1, 3))
    inputs = WordRows(numpy.array([centre]), numpy.array([0]), 1)
    loss, grad_input, grad_output = step_gradients(input_vectors, output_vectors, inputs, None, targets, weights)

    h, u = input_vectors[centre], output_vectors[[context, *noise]]  # (D,), (3, D)
    s = u @ h
    assert loss == pytest.approx(-math.log(sigmoid(s[0])) - math.log(sigmoid(-s[1])) - math.log(sigmoid(-s[2])), rel=1e-12)
    slope = sigmoid(s) - numpy.array([1.0, 0.0, 0.0])  # ∂L/∂s
    numpy.testing.assert_allclose(grad_input[centre], slope @ u, rtol=1e-12)
    for row, word in enumerate([context, *noise]):
        numpy.testing.assert_allclose(grad_output[word], slope[row] * h, rtol=1e-12)
    assert not grad_input[[0, 1, 3, 4, 5]].any() and not grad_output[[0, 2, 5]].any()
    check_against_central_differences(input_vectors, output_vectors, inputs, None, targets, weights)


def skip_gram_batch():
    """Six pairs over five words: words repeat as inputs, targets and noise; one noise word equals its target."""
    centres = numpy.array([0, 1, 1, 2, 0, 4])
    targets = numpy.array([[1, 2, 3, 3], [0, 0, 4, 2], [2, 3, 1, 0], [3, 3, 0, 1], [4, 2, 2, 1], [0, 1, 2, 3]])
    weights = numpy.ones(targets.shape)
    weights[:, 1:] = targets[:, 1:] != targets[:, :1]
    return WordRows(centres, numpy.arange(6), 6), targets, weights


def cbow_batch():
    """Three examples whose hidden vectors average 3, 1 and 2 context words, one of them twice."""
    context_words, examples = numpy.array([1, 2, 4, 0, 3, 3]), numpy.array([0, 0, 0, 1, 2, 2])
    input_weights = numpy.array([1 / 3, 1 / 3, 1 / 3, 1.0, 0.5, 0.5])
    targets = numpy.array([[0, 2, 3], [4, 4, 1], [2, 0, 1]])
    weights = numpy.ones(targets.shape)
    weights[:, 1:] = targets[:, 1:] != targets[:, :1]
    return WordRows(context_words, examples, 3), input_weights, targets, weights


def test_skip_gram_batch_with_repeated_words_matches_central_differences():
    input_vectors, output_vectors = random_vectors(5, 3, seed=2)
    inputs, targets, weights = skip_gram_batch()
    check_against_central_differences(input_vectors, output_vectors, inputs, None, targets, weights)


def test_cbow_batch_matches_central_differences():
    input_vectors, output_vectors = random_vectors(5, 3, seed=3)
    inputs, input_weights, targets, weights = cbow_batch()
    check_against_central_differences(input_vectors, output_vectors, inputs, input_weights, targets, weights)


def test_cbow_update_of_word2vec_c_gives_each_context_word_the_whole_hidden_gradient():
    input_vectors, output_vectors = random_vectors(5, 3, seed=3)
    inputs, input_weights, targets, weights = cbow_batch()
    _, exact_input, exact_output = step_gradients(input_vectors, output_vectors, inputs, input_weights, targets, weights)
    moved_input, moved_output = input_vectors.copy(), output_vectors.copy()
    negative_sampling_step(moved_input, moved_output, inputs, input_weights, targets, weights, 1.0, input_update_weights=numpy.ones(6))
    numpy.testing.assert_allclose(output_vectors - moved_output, exact_output, rtol=1e-12)  # the output side is unchanged
    # words 1, 2, 4 are one third of example 0's mean, word 3 is twice in example 2 (two halves), word 0 alone in example 1
    for word, times in [(1, 3), (2, 3), (4, 3), (3, 2), (0, 1)]:
        numpy.testing.assert_allclose(input_vectors[word] - moved_input[word], times * exact_input[word], rtol=1e-12)


def torch_step(input_vectors, output_vectors, hidden_of, targets, weights, learning_rate):
    """The same step by PyTorch autograd in float32: loss and the vectors after SGD."""
    input_t = torch.tensor(input_vectors, requires_grad=True)
    output_t = torch.tensor(output_vectors, requires_grad=True)
    hidden = hidden_of(input_t)  # (B, D)
    scores = torch.einsum("bd,bkd->bk", hidden, output_t[torch.from_numpy(targets)])
    signs = torch.ones_like(scores)
    signs[:, 1:] = -1
    loss = -(torch.from_numpy(weights) * torch.nn.functional.logsigmoid(signs * scores)).sum()
    loss.backward()
    with torch.no_grad():
        return loss.item(), (input_t - learning_rate * input_t.grad).numpy(), (output_t - learning_rate * output_t.grad).numpy()


@pytest.mark.parametrize("architecture", ["skip-gram", "cbow"])
def test_step_matches_pytorch_autograd_in_float32(architecture):
    input_vectors, output_vectors = random_vectors(5, 8, seed=4, dtype=numpy.float32)
    if architecture == "skip-gram":
        inputs, targets, weights = skip_gram_batch()
        input_weights, hidden_of = None, lambda vectors: vectors[torch.tensor([0, 1, 1, 2, 0, 4])]
    else:
        inputs, input_weights, targets, weights = cbow_batch()
        mix = torch.zeros(3, 5)
        for word, example, weight in zip([1, 2, 4, 0, 3, 3], [0, 0, 0, 1, 2, 2], input_weights):
            mix[example, word] += float(weight)
        hidden_of = lambda vectors: mix @ vectors  # noqa: E731
    weights = weights.astype(numpy.float32)
    theirs = torch_step(input_vectors, output_vectors, hidden_of, targets, weights, learning_rate=0.1)
    mine_input, mine_output = input_vectors.copy(), output_vectors.copy()
    loss = negative_sampling_step(mine_input, mine_output, inputs, input_weights, targets, weights, learning_rate=0.1)
    assert loss == pytest.approx(theirs[0], rel=1e-5)
    assert_close("input vectors", mine_input, theirs[1], rtol=1e-5, atol=1e-6)
    assert_close("output vectors", mine_output, theirs[2], rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- sampling

def test_keep_probabilities_follow_the_word2vec_c_formula():
    counts = numpy.array([5000, 400, 30, 1])
    total = counts.sum()  # 5431
    threshold = 1e-2 * total  # t · total = 54.31
    expected = [(math.sqrt(5000 / threshold) + 1) * threshold / 5000, (math.sqrt(400 / threshold) + 1) * threshold / 400, 1.0, 1.0]
    numpy.testing.assert_allclose(keep_probabilities(counts, 1e-2), expected, rtol=1e-12)
    assert keep_probabilities(counts, 1e-2)[0] == pytest.approx(0.1151, abs=1e-4)  # (sqrt(92.06) + 1) · 0.01086: mostly dropped
    numpy.testing.assert_array_equal(keep_probabilities(counts, 0), [1, 1, 1, 1])


def test_noise_words_are_drawn_in_proportion_to_count_to_the_three_quarters():
    counts = numpy.array([1, 10, 100, 1000, 5, 0])
    distribution = NoiseDistribution(counts)
    expected = counts ** 0.75 / (counts ** 0.75).sum()
    numpy.testing.assert_allclose(distribution.probabilities, expected, rtol=1e-12)
    draws = 400_000
    frequencies = numpy.bincount(distribution.sample((draws,), numpy.random.default_rng(0)).ravel(), minlength=len(counts)) / draws
    standard_errors = numpy.sqrt(expected * (1 - expected) / draws)
    assert numpy.all(numpy.abs(frequencies - expected) <= 5 * standard_errors + 1e-12), (frequencies, expected)
    assert frequencies[-1] == 0  # a word never seen is never noise


def test_alias_table_holds_exactly_the_probabilities():
    probabilities = numpy.random.default_rng(5).dirichlet(numpy.full(50, 0.3))
    accept, alias = _alias_table(probabilities)
    rebuilt = accept.copy()
    numpy.add.at(rebuilt, alias, 1 - accept)  # each slot gives its unaccepted share to its alias
    numpy.testing.assert_allclose(rebuilt / len(probabilities), probabilities, rtol=1e-9, atol=1e-15)


def brute_force_pairs(words, sentences, windows):
    return sorted((words[i], words[j]) for i in range(len(words)) for j in range(len(words))
                  if i != j and sentences[i] == sentences[j] and abs(i - j) <= windows[i])


def test_window_pairs_equal_a_brute_force_loop_and_stay_inside_sentences():
    rng = numpy.random.default_rng(6)
    words = numpy.arange(40)  # distinct ids, so a pair names its positions
    sentences = numpy.sort(rng.integers(0, 6, size=40))
    windows = draw_windows(40, 4, rng)
    centres, contexts = skip_gram_pairs(words, sentences, windows, 4)
    assert sorted(zip(centres.tolist(), contexts.tolist())) == brute_force_pairs(words, sentences, windows)


def test_cbow_contexts_hold_each_centres_window():
    rng = numpy.random.default_rng(7)
    words, sentences, windows = numpy.arange(30), numpy.sort(rng.integers(0, 4, size=30)), draw_windows(30, 3, rng)
    centres, contexts = cbow_contexts(words, sentences, windows, 3)
    found = sorted((centre, context) for centre, row in zip(centres.tolist(), contexts.tolist()) for context in row if context >= 0)
    assert found == brute_force_pairs(words, sentences, windows)
    assert contexts.shape[1] == 6 and numpy.all((contexts >= 0).any(axis=1))


def test_dynamic_windows_are_uniform_and_give_the_expected_number_of_pairs():
    rng = numpy.random.default_rng(8)
    windows = draw_windows(100_000, 5, rng)
    assert windows.min() == 1 and windows.max() == 5
    numpy.testing.assert_allclose(numpy.bincount(windows)[1:] / len(windows), 0.2, atol=0.01)
    # one long sentence: each centre has 2·b context words, E[2b] = window + 1 = 6
    centres, _ = skip_gram_pairs(numpy.zeros(len(windows), numpy.int64), numpy.zeros(len(windows), numpy.int64), windows, 5)
    assert len(centres) / len(windows) == pytest.approx(6.0, rel=0.01)


# ---------------------------------------------------------------- training

def planted_corpus(sentences: int = 1200, seed: int = 0) -> list[list[str]]:
    """Two topics of ten words each; every sentence draws its eight words from one topic."""
    rng = numpy.random.default_rng(seed)
    topics = [[f"{name}{index}" for index in range(10)] for name in ("cat", "car")]
    return [list(rng.choice(topics[rng.integers(2)], size=8)) for _ in range(sentences)]


@pytest.mark.parametrize("architecture", ["skip-gram", "cbow"])
def test_learns_two_planted_topics(architecture):
    config = Word2VecConfig(architecture=architecture, dim=16, window=3, negative=5, min_count=1, sample=0, epochs=4, batch_size=128)
    model = Word2Vec(config).fit(planted_corpus())
    assert len(model) == 20 and model.vectors.shape == (20, 16) and model.vectors.dtype == numpy.float32
    for word in model.words:
        neighbours = [other for other, _ in most_similar(model, word, topn=5)]
        assert all(other[:3] == word[:3] for other in neighbours), f"{word}: {neighbours}"
    assert model.training_log[-1]["loss"] < model.training_log[0]["loss"]


def test_same_seed_same_vectors_other_seed_other_vectors():
    corpus = planted_corpus(200)
    first, second = (Word2Vec(Word2VecConfig(dim=8, min_count=1, epochs=1, seed=3)).fit(corpus) for _ in range(2))
    other = Word2Vec(Word2VecConfig(dim=8, min_count=1, epochs=1, seed=4)).fit(corpus)
    numpy.testing.assert_array_equal(first.vectors, second.vectors)
    assert not numpy.allclose(first.vectors, other.vectors)


def test_vocabulary_keeps_words_seen_min_count_times_most_frequent_first():
    model = Word2Vec(Word2VecConfig(dim=4, min_count=2, epochs=1)).fit([["b", "a", "b", "c"], ["a", "b", "d", "d"]])
    assert model.words == ["b", "a", "d"] and model.counts.tolist() == [3, 2, 2]
    assert model.vocabulary == {"b": 0, "a": 1, "d": 2} and "c" not in model
    with pytest.raises(ValueError, match="min_count=5"):
        Word2Vec().fit([["too", "short"]])


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match="architecture"):
        Word2VecConfig(architecture="skipgram")
    with pytest.raises(ValueError, match="window"):
        Word2VecConfig(window=0)
    with pytest.raises(ValueError, match="min_alpha"):
        Word2VecConfig(alpha=0.01, min_alpha=0.1)


# ---------------------------------------------------------------- files and embeddings

@pytest.fixture(scope="module")
def small_model() -> Word2Vec:
    return Word2Vec(Word2VecConfig(dim=8, min_count=1, epochs=1)).fit(planted_corpus(100))


def test_save_and_load_round_trip(small_model, tmp_path):
    small_model.save(tmp_path / "w2v")
    loaded = Word2Vec.load(tmp_path / "w2v")
    numpy.testing.assert_array_equal(loaded.vectors, small_model.vectors)
    assert loaded.vectors.dtype == numpy.float32
    assert loaded.words == small_model.words and loaded.vocabulary == small_model.vocabulary
    numpy.testing.assert_array_equal(loaded.counts, small_model.counts)
    assert loaded.config == small_model.config and loaded.training_log == small_model.training_log
    numpy.testing.assert_array_equal(loaded["cat3"], small_model["cat3"])


def test_load_refuses_a_damaged_directory(small_model, tmp_path):
    small_model.save(tmp_path / "w2v")
    (tmp_path / "w2v" / "vectors.npz").write_bytes(b"not a zip")
    with pytest.raises(SerializationError, match="vectors.npz"):
        Word2Vec.load(tmp_path / "w2v")
    with pytest.raises(SerializationError, match="word2vec.json"):
        Word2Vec.load(tmp_path / "nothing-here")
    small_model.save(tmp_path / "future")
    document = json.loads((tmp_path / "future" / "word2vec.json").read_text(encoding="utf-8"))
    document["config"]["hierarchical_softmax"] = True
    (tmp_path / "future" / "word2vec.json").write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(SerializationError, match="no usable word2vec config"):
        Word2Vec.load(tmp_path / "future")


def test_word2vec_text_format_reads_back_the_same_float32(small_model, tmp_path):
    small_model.save_word2vec_format(tmp_path / "vectors.txt")
    header, *lines = (tmp_path / "vectors.txt").read_text(encoding="utf-8").splitlines()
    assert header == f"{len(small_model)} 8" and len(lines) == len(small_model)
    words = [line.split(" ")[0] for line in lines]
    vectors = numpy.array([[float(value) for value in line.split(" ")[1:]] for line in lines], dtype=numpy.float32)
    assert words == small_model.words
    numpy.testing.assert_array_equal(vectors, small_model.vectors)


def test_embedding_matrix_copies_known_words_and_reports_coverage(small_model):
    vocabulary = Vocabulary().fit([["cat1", "cat1", "cat1", "unseen", "car2"]])  # ids: pad, oov, cat1, car2, unseen
    matrix, coverage = small_model.embedding_matrix(vocabulary, scale=0.1, seed=0)
    assert matrix.shape == (5, 8) and matrix.dtype == numpy.float32
    numpy.testing.assert_array_equal(matrix[0], 0)
    numpy.testing.assert_array_equal(matrix[2], small_model["cat1"])
    numpy.testing.assert_array_equal(matrix[3], small_model["car2"])
    assert 0 < numpy.abs(matrix[4]).max() < 5 * 0.1 * small_model.vectors.std() * 3
    assert coverage == {"words": 3, "found": 2, "coverage": 2 / 3, "token_coverage": 4 / 5, "missing": ["unseen"]}


def test_command_line_trains_and_writes_the_model(tmp_path, monkeypatch, capsys):
    from smartmod.cli import main

    monkeypatch.setattr("smartmod.text.english_corpus.english_token_lists", lambda: planted_corpus(200))
    assert main(["train", "word2vec", "--output", str(tmp_path), "--cbow", "--dim", "8", "--epochs", "2", "--min-count", "1",
                 "--text-format"]) == 0
    model = Word2Vec.load(tmp_path)
    assert model.config.architecture == "cbow" and model.vectors.shape == (20, 8) and len(model.training_log) == 2
    assert (tmp_path / "vectors.txt").read_text(encoding="utf-8").startswith("20 8\n")
    assert '"words": 20' in capsys.readouterr().out
