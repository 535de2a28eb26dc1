"""Sequence models in the moderation recipe: bucketed batches, the training loop, bundles and Moderator."""
from __future__ import annotations

import numpy
import pytest

from smartmod.data.categories import CATEGORIES
from smartmod.moderation import Moderator
from smartmod.moderation.bundle import BundleConfig, TextModelBundle
from smartmod.moderation.sequence_batches import bucketed_batches, predict_sequences
from smartmod.moderation.sequence_networks import sequence_network
from smartmod.moderation.sequence_training import fit_sequence_network, pretrained_embedding
from smartmod.moderation.training import TextTrainingConfig, fit_text_model, train_text_model
from smartmod.nn.losses import BCEWithLogitsLoss
from smartmod.text.normalize import normalize
from smartmod.text.sequence_encoder import SequenceEncoder
from smartmod.text.tokenize import word_tokens
from smartmod.text.word2vec import Word2Vec, Word2VecConfig
from tests.conftest import require_data
from tests.moderation.conftest import BENIGN, TOXIC

TOXICITY = CATEGORIES.index("toxicity")


def random_ids(rows: int, steps: int, seed: int) -> numpy.ndarray:
    """Post-padded ids (rows, steps) with 0 to ``steps`` real tokens per row."""
    rng = numpy.random.default_rng(seed)
    lengths = rng.integers(0, steps + 1, size=rows)
    return numpy.where(numpy.arange(steps)[None, :] < lengths[:, None], rng.integers(1, 50, size=(rows, steps)), 0)


def test_bucketed_batches_cover_every_row_once_and_pad_only_to_their_longest_row():
    ids = random_ids(103, steps=12, seed=0)
    seen = []
    for rows, batch in bucketed_batches(ids, batch_size=10, shuffle=True, seed=1):
        lengths = (ids[rows] != 0).sum(axis=1)
        assert batch.shape == (len(rows), max(lengths.max(), 1))
        assert numpy.array_equal(batch, ids[rows][:, :batch.shape[1]]) and not ids[rows][:, batch.shape[1]:].any()
        seen.extend(rows.tolist())
    assert sorted(seen) == list(range(103))


def test_predictions_come_back_in_the_rows_order():
    ids = random_ids(40, steps=7, seed=2)
    network = sequence_network("bigru-attention", 50, 3, embedding_dim=4, hidden=3).eval()
    one_by_one = numpy.vstack([network.forward(ids[row:row + 1, :max((ids[row] != 0).sum(), 1)]) for row in range(40)])
    assert numpy.allclose(predict_sequences(network, ids, batch_size=8), one_by_one, atol=1e-5)


def test_training_lowers_the_loss_and_keeps_the_best_epoch():
    encoder = SequenceEncoder(min_count=1).fit(TOXIC + BENIGN)
    ids = encoder.transform(TOXIC + BENIGN)
    labels = numpy.full((len(ids), len(CATEGORIES)), numpy.nan, dtype=numpy.float32)
    labels[:, TOXICITY] = [1] * len(TOXIC) + [0] * len(BENIGN)
    network = sequence_network("lstm-attention", len(encoder.vocabulary_), len(CATEGORIES), embedding_dim=8, hidden=8, dropout=0.0)
    loss = BCEWithLogitsLoss()
    history = fit_sequence_network(network, loss, ids, labels, ids, labels, lr=0.02, batch_size=4, epochs=12, patience=20, seed=0)
    assert history["val_loss"][-1] < 0.5 * history["val_loss"][0], history["val_loss"]
    assert len(history["seconds"]) == 12
    assert loss.forward(predict_sequences(network, ids), labels) == pytest.approx(min(history["val_loss"]), rel=1e-5)


@pytest.fixture(scope="module")
def sequence_bundle(tmp_path_factory):
    """A BiGRU with attention trained on the interface fixture's twelve sentences, saved in float32."""
    texts = TOXIC + BENIGN
    labels = numpy.full((len(texts), len(CATEGORIES)), numpy.nan, dtype=numpy.float32)
    labels[:, TOXICITY] = [1] * len(TOXIC) + [0] * len(BENIGN)
    config = TextTrainingConfig(architecture="bigru-attention", embedding_dim=8, hidden=8, min_df=1, lr=0.02, batch_size=4, epochs=10,
                                patience=10, dropout=0.0, identity_negatives=0, weight_storage="float32", name="tiny-sequence", progress=False)
    rows = numpy.arange(len(texts))
    fitted = fit_text_model(config, texts, labels, rows, rows)
    return fitted.bundle, fitted.bundle.save(tmp_path_factory.mktemp("bundle") / "tiny-sequence")


def test_a_sequence_bundle_round_trips_through_moderator_load(sequence_bundle):
    bundle, directory = sequence_bundle
    moderator = Moderator.load(directory)
    texts = ["you stupid idiot", "have a lovely day", "", "idiot " * 200]
    assert moderator.bundle.config.input_encoding == "token-ids"
    assert numpy.array_equal(moderator.bundle.probabilities(texts), bundle.probabilities(texts))
    assert numpy.array_equal(moderator.scores(texts), Moderator(bundle).scores(texts))
    toxic, benign = moderator.predict(texts[:2])
    assert toxic["toxicity"] > benign["toxicity"]


def test_a_sequence_bundle_scores_long_texts_in_windows_of_its_length(sequence_bundle):
    bundle, _ = sequence_bundle
    assert bundle.config.window_chars == 6 * 64 and bundle.config.window_overlap == 64
    moderator = Moderator(bundle)
    long_text = "have a nice day " * 60 + "you stupid idiot"  # the insult lies beyond the first 64 words
    assert len(moderator.windows(long_text)) > 1
    assert moderator.scores([long_text])[0, TOXICITY] == pytest.approx(moderator.scores([long_text[-200:]])[0, TOXICITY], abs=0.05)


def test_int8_storage_keeps_the_scores_close(sequence_bundle, tmp_path):
    bundle, _ = sequence_bundle
    bundle.config.weight_storage = "int8"
    try:
        loaded = TextModelBundle.load(bundle.save(tmp_path / "int8"))
    finally:
        bundle.config.weight_storage = "float32"
    texts = TOXIC + BENIGN
    assert numpy.abs(loaded.probabilities(texts) - bundle.probabilities(texts)).max() < 0.05


def test_explanations_of_a_sequence_model_use_occlusion_or_lime(sequence_bundle):
    moderator = Moderator(sequence_bundle[0])
    explanation = moderator.explain("you stupid idiot", method="occlusion", category="toxicity")
    importance = {token["text"]: token["importance"] for token in explanation["tokens"]}
    assert list(importance) == ["you", "stupid", "idiot"] and importance["idiot"] > importance["you"]
    with pytest.raises(ValueError, match="explains TF-IDF models only"):
        moderator.explain("you stupid idiot", method="gradient_x_input")


@pytest.fixture(scope="module")
def word2vec_directory(tmp_path_factory):
    """Word vectors (8 dimensions) of the fixture's sentences, tokenized as the sequence encoder tokenizes."""
    model = Word2Vec(Word2VecConfig(dim=8, min_count=1, epochs=2, window=2)).fit([word_tokens(normalize(text)) for text in TOXIC + BENIGN])
    return model.save(tmp_path_factory.mktemp("word2vec"))


def test_pretrained_embeddings_start_from_the_word2vec_vectors(word2vec_directory):
    model = Word2Vec.load(word2vec_directory)
    vocabulary = SequenceEncoder(min_count=1).fit(TOXIC + BENIGN + ["unseen words"]).vocabulary_
    table, coverage = pretrained_embedding(word2vec_directory, vocabulary, 8, seed=0)
    assert table.shape == (len(vocabulary), 8) and not table[0].any()
    assert numpy.array_equal(table[vocabulary.tokens_.index("idiot")], model["idiot"])
    assert coverage["found"] == len(model.words) and set(coverage["missing"]) == {"unseen", "words"}
    with pytest.raises(ValueError, match="set embedding_dim to 8"):
        pretrained_embedding(word2vec_directory, vocabulary, 16, seed=0)


def test_training_with_pretrained_embeddings_records_their_coverage(word2vec_directory):
    texts = TOXIC + BENIGN
    labels = numpy.full((len(texts), len(CATEGORIES)), numpy.nan, dtype=numpy.float32)
    labels[:, TOXICITY] = [1] * len(TOXIC) + [0] * len(BENIGN)
    config = TextTrainingConfig(architecture="mean-embedding", embeddings=str(word2vec_directory), embedding_dim=8, hidden=8, min_df=1,
                                epochs=2, identity_negatives=0, progress=False)
    rows = numpy.arange(len(texts))
    fitted = fit_text_model(config, texts, labels, rows, rows)
    assert fitted.embedding_coverage["path"] == str(word2vec_directory) and fitted.embedding_coverage["coverage"] == 1.0


def test_a_bundle_with_an_unknown_input_encoding_is_refused():
    network = sequence_network("mean-embedding", 5, len(CATEGORIES), embedding_dim=2, hidden=2)
    config = BundleConfig(categories=list(CATEGORIES), thresholds={}, temperatures={}, network=network.to_config(), input_encoding="pixels")
    with pytest.raises(ValueError, match="unknown input encoding 'pixels'"):
        TextModelBundle(config, None, network)


@pytest.mark.parametrize("changes, message", [
    ({"architecture": "gpt"}, "unknown architecture 'gpt'"),
    ({"architecture": "lstm", "imbalance": "smote"}, "'smote' interpolates TF-IDF vectors"),
])
def test_impossible_training_configs_are_clear_errors(changes, message):
    texts = TOXIC + BENIGN
    labels = numpy.zeros((len(texts), len(CATEGORIES)), dtype=numpy.float32)
    rows = numpy.arange(len(texts))
    with pytest.raises(ValueError, match=message):
        fit_text_model(TextTrainingConfig(**changes, identity_negatives=0, progress=False), texts, labels, rows, rows)


def test_training_a_sequence_model_on_a_slice_of_the_shared_data(tmp_path):
    require_data("text/sms-spam/train.csv.gz")
    config = TextTrainingConfig(datasets=["sms-spam"], max_records_per_dataset=800, architecture="mean-embedding", embedding_dim=16, hidden=16,
                                lr=0.01, batch_size=32, epochs=4, identity_negatives=1, progress=False)
    card = train_text_model(config, tmp_path / "model")
    assert card["model"]["architecture"].startswith("token ids (first 64 words)") and card["model"]["vocabulary"] > 100
    assert card["holdout_figures"]["sms_spam_f1"] > 0.6, card["holdout_figures"]
    moderator = Moderator.load(tmp_path / "model")
    spam, ham = moderator.predict(["WINNER!! Claim your free prize now, call 09061701461", "ok see you at lunch"])
    assert spam["spam"] > ham["spam"]
    assert moderator.bundle.reference["rows"] == card["data"]["split_sizes"]["validation"]
