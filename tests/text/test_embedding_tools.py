"""Tools on word vectors: neighbours, analogies, evaluation sets, PCA, t-SNE and the English corpus."""
from __future__ import annotations

from pathlib import Path

import numpy
import pytest

from smartmod.text.embedding_plots import pca_coordinates, word_map_png
from smartmod.text.embedding_tools import (
    WordVectors, analogy, cosine_similarity, evaluate_analogies, evaluate_similarity, most_similar, neighbour_overlap,
    read_analogies, read_similarity_pairs,
)
from smartmod.text.english_corpus import english_token_lists
from smartmod.text.tsne import conditional_affinities, tsne
from tests.conftest import data_root, require_data

BENCH_DATA = Path(__file__).resolve().parents[2] / "bench" / "data"


@pytest.fixture
def royal() -> WordVectors:
    """Axes: royalty, male, female, fruit; each word a sum of its features plus a little noise."""
    features = {"king": [1, 1, 0, 0], "queen": [1, 0, 1, 0], "man": [0, 1, 0, 0], "woman": [0, 0, 1, 0],
                "prince": [0.5, 1, 0, 0.3], "apple": [0, 0, 0, 1], "pear": [0, 0.1, 0, 1]}
    noise = numpy.random.default_rng(0).normal(0, 0.01, size=(len(features), 4))
    return WordVectors(list(features), numpy.array(list(features.values()), dtype=numpy.float32) + noise.astype(numpy.float32))


def test_cosine_similarity_of_hand_made_vectors():
    vectors = WordVectors(["a", "b", "c", "zero"], numpy.array([[1, 0], [1, 1], [-2, 0], [0, 0]], dtype=numpy.float32))
    assert cosine_similarity(vectors, "a", "b") == pytest.approx(1 / numpy.sqrt(2))
    assert cosine_similarity(vectors, "a", "c") == pytest.approx(-1)
    assert cosine_similarity(vectors, "a", "zero") == 0
    with pytest.raises(KeyError, match="'d' is not among the 4 words"):
        cosine_similarity(vectors, "a", "d")


def test_most_similar_ranks_by_cosine_and_leaves_out_the_word(royal):
    neighbours = most_similar(royal, "apple", topn=3)
    assert [word for word, _ in neighbours][0] == "pear" and "apple" not in dict(neighbours)
    cosines = [cosine for _, cosine in neighbours]
    assert cosines == sorted(cosines, reverse=True)


def test_analogy_king_minus_man_plus_woman_is_queen(royal):
    assert analogy(royal, "king", "man", "woman")[0][0] == "queen"
    assert analogy(royal, "queen", "woman", "man")[0][0] == "king"
    # the query words are excluded: without that, "king" itself would be nearest to king - man + man
    assert analogy(royal, "king", "man", "man")[0][0] == "prince"


def test_evaluate_analogies_counts_answers_coverage_and_sections(royal):
    questions = [("gender", "man", "king", "woman", "queen"), ("gender", "woman", "queen", "man", "king"),
                 ("gender", "man", "king", "woman", "pear"), ("fruit", "man", "woman", "apple", "banana")]
    result = evaluate_analogies(royal, questions)
    assert (result["correct"], result["answered"], result["questions"]) == (2, 3, 4)
    assert result["accuracy"] == pytest.approx(2 / 3) and result["coverage"] == 0.75
    assert result["sections"] == {"gender": {"correct": 2, "answered": 3, "accuracy": pytest.approx(2 / 3)}}


def test_evaluate_similarity_is_spearman_of_cosines_and_scores(royal):
    pairs = [("king", "prince", 9.0), ("king", "man", 7.0), ("king", "queen", 6.0), ("king", "apple", 0.5), ("king", "unknown", 5.0)]
    result = evaluate_similarity(royal, pairs)
    assert result["spearman"] == pytest.approx(1.0) and result["answered"] == 4 and result["coverage"] == 0.8
    reversed_scores = [(first, second, -score) for first, second, score in pairs]
    assert evaluate_similarity(royal, reversed_scores)["spearman"] == pytest.approx(-1.0)


def test_neighbour_overlap_is_one_for_a_rotated_copy_and_lower_for_shuffled_vectors(royal):
    rotation, _ = numpy.linalg.qr(numpy.random.default_rng(1).normal(size=(4, 4)))
    rotated = WordVectors(royal.words, royal.vectors @ rotation.astype(numpy.float32))
    assert neighbour_overlap(royal, rotated, royal.words, k=2) == 1.0
    shuffled = WordVectors(royal.words, royal.vectors[[6, 5, 4, 3, 2, 1, 0]])
    assert neighbour_overlap(royal, shuffled, royal.words, k=2) < 1.0


def test_committed_evaluation_sets_parse_and_have_their_sizes():
    questions = read_analogies(BENCH_DATA / "word_analogies.txt")
    pairs = read_similarity_pairs(BENCH_DATA / "word_similarity.tsv")
    assert 100 <= len(questions) <= 200 and len({section for section, *_ in questions}) >= 6
    assert 100 <= len(pairs) <= 200 and all(0 <= score <= 10 for _, _, score in pairs)
    assert len(set(questions)) == len(questions) and len({(a, b) for a, b, _ in pairs}) == len(pairs)


def test_readers_name_the_bad_line(tmp_path):
    (tmp_path / "bad.txt").write_text(": gender\nman king woman\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: an analogy needs four words"):
        read_analogies(tmp_path / "bad.txt")
    (tmp_path / "bad.tsv").write_text("# comment\nking queen high\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: expected 'word1<TAB>word2<TAB>score'"):
        read_similarity_pairs(tmp_path / "bad.tsv")


def two_clusters(seed: int = 0) -> tuple[numpy.ndarray, numpy.ndarray]:
    rng = numpy.random.default_rng(seed)
    centres = numpy.zeros((2, 20))
    centres[1, 0] = 20.0
    labels = numpy.repeat([0, 1], 30)
    return centres[labels] + rng.normal(size=(60, 20)), labels


def test_tsne_rows_have_the_asked_perplexity():
    points, _ = two_clusters()
    rows = conditional_affinities(points, perplexity=10)
    entropy = -numpy.sum(numpy.where(rows > 0, rows * numpy.log(numpy.maximum(rows, 1e-300)), 0), axis=1)
    numpy.testing.assert_allclose(numpy.exp(entropy), 10, rtol=1e-3)
    numpy.testing.assert_allclose(rows.sum(axis=1), 1)
    assert numpy.all(numpy.diag(rows) == 0)


def test_tsne_keeps_well_separated_clusters_apart():
    points, labels = two_clusters()
    embedding = tsne(points, perplexity=10, iterations=1000, seed=0)
    assert embedding.shape == (60, 2) and numpy.all(numpy.isfinite(embedding))
    distances = numpy.linalg.norm(embedding[:, None] - embedding[None], axis=-1)
    numpy.fill_diagonal(distances, numpy.inf)
    assert numpy.all(labels[distances.argmin(axis=1)] == labels)  # every nearest neighbour in its own cluster
    within = max(distances[labels == k][:, labels == k][numpy.isfinite(distances[labels == k][:, labels == k])].max() for k in (0, 1))
    between = distances[labels == 0][:, labels == 1].min()
    assert between > within, (between, within)  # the closest pair across clusters is farther apart than any pair within one


def test_tsne_refuses_a_perplexity_above_the_number_of_points():
    with pytest.raises(ValueError, match="perplexity"):
        tsne(numpy.zeros((5, 3)), perplexity=10)


def test_pca_finds_the_direction_of_largest_variance():
    rng = numpy.random.default_rng(2)
    points = numpy.outer(rng.normal(size=200), [3.0, 4.0, 0.0]) + rng.normal(0, 0.01, size=(200, 3))
    coordinates = pca_coordinates(points)
    assert coordinates.shape == (200, 2)
    assert numpy.var(coordinates[:, 0]) / numpy.var(coordinates[:, 1]) > 1e4
    numpy.testing.assert_allclose(numpy.abs(coordinates[:, 0]), numpy.abs(points - points.mean(axis=0)) @ [0.6, 0.8, 0.0], atol=0.05)


def test_word_map_is_a_png():
    png = word_map_png(numpy.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]]), ["a", "b", "$c$"], ["x", "y", "x"], "map")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        word_map_png(numpy.zeros((3, 3)), ["a", "b", "c"], ["x", "x", "x"], "map")


@pytest.mark.data
def test_english_corpus_is_normalized_tokens_of_distinct_texts():
    require_data("text/sms-spam")
    token_lists = english_token_lists(data_root(), names=["sms-spam"])
    assert 4000 < len(token_lists) < 4475  # the collection repeats some messages: each kept once
    assert all(tokens and all(token == token.casefold() for token in tokens) for tokens in token_lists[:500])
    assert len({tuple(tokens) for tokens in token_lists}) > 0.95 * len(token_lists)
