"""The Python API: Moderator.load(...).predict / .moderate, and the bundle on disk."""
from __future__ import annotations

import json

import numpy
import pytest

from smartmod.data.categories import CATEGORIES
from smartmod.moderation import Moderator
from smartmod.moderation.quantize import dequantize_state, quantize_state
from smartmod.nn.serialize import SerializationError


def test_predict_returns_one_score_per_category_per_text(tiny_bundle_dir):
    moderator = Moderator.load(tiny_bundle_dir)
    results = moderator.predict(["you are an idiot", "have a nice day"])
    assert [set(r) for r in results] == [set(CATEGORIES)] * 2
    assert results[0]["toxicity"] > 0.5 > results[1]["toxicity"]


def test_moderate_adds_flagged_and_the_categories_over_threshold(tiny_bundle_dir):
    toxic, benign = Moderator.load(tiny_bundle_dir).moderate(["shut up you idiot", "see you tomorrow"])
    assert toxic["flagged"] and "toxicity" in toxic["categories"]
    assert not benign["flagged"] and benign["categories"] == []


def test_empty_and_whitespace_texts_get_scores(tiny_bundle_dir):
    results = Moderator.load(tiny_bundle_dir).predict(["", "   \n\t"])
    assert all(0 <= score <= 1 for result in results for score in result.values())


def test_long_text_is_scored_by_windows_taking_the_maximum(tiny_bundle_dir):
    moderator = Moderator.load(tiny_bundle_dir)  # the fixture's window is 50 characters, overlap 10
    long_text = "have a nice day. " * 5 + "idiot idiot idiot" + " thanks for the help." * 5
    windows = [long_text[start:start + 50] for start in range(0, len(long_text) - 10, 40)]
    assert "".join(w[:40] for w in windows)[: len(long_text)] == long_text[: 40 * len(windows)]
    expected = moderator.bundle.probabilities(windows).max(axis=0)
    numpy.testing.assert_allclose(moderator.scores([long_text])[0], expected, rtol=1e-6)
    assert expected[CATEGORIES.index("toxicity")] > moderator.scores([long_text[:50]])[0][CATEGORIES.index("toxicity")]


def test_non_text_inputs_are_type_errors_naming_the_index(tiny_bundle_dir):
    moderator = Moderator.load(tiny_bundle_dir)
    with pytest.raises(TypeError, match="text 1 is a int"):
        moderator.predict(["fine", 3])
    with pytest.raises(TypeError, match="list of texts"):
        moderator.predict("a single string")


def test_missing_or_foreign_model_directories_are_clear_errors(tmp_path, tiny_bundle_dir):
    with pytest.raises(FileNotFoundError, match="no model directory"):
        Moderator.load(tmp_path / "absent")
    (tmp_path / "config.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(SerializationError, match="not a smartmod text model"):
        Moderator.load(tmp_path)


@pytest.mark.parametrize("storage, tolerance", [("float32", 0.0), ("float16", 1e-3), ("int8", 1 / 127)])
def test_weight_storage_round_trip_error_is_bounded(storage, tolerance):
    rng = numpy.random.default_rng(0)
    state = {"w": rng.normal(size=(50, 8)).astype(numpy.float32), "b": rng.normal(size=8).astype(numpy.float32)}
    restored = dequantize_state(quantize_state(state, storage))
    for name, value in state.items():
        scale = numpy.abs(value).max(axis=0) if value.ndim == 2 else 1.0
        assert restored[name].dtype == numpy.float32
        assert numpy.all(numpy.abs(restored[name] - value) <= tolerance * scale + 1e-7), name


def test_bundled_default_model_loads_and_flags_an_insult():
    moderator = Moderator.load("default")
    clean, insult = moderator.moderate(["Thank you for the thoughtful review.", "You are a worthless idiot, shut up."])
    assert not clean["flagged"] and insult["flagged"]


def test_parallel_batches_give_the_same_scores_as_serial(tiny_bundle_dir, monkeypatch):
    from smartmod.moderation import batch

    moderator = Moderator.load(tiny_bundle_dir)
    texts = [f"you are idiot number {i}" if i % 3 else f"have a nice day {i}" for i in range(200)]
    monkeypatch.setattr(batch, "PARALLEL_MINIMUM", 10)
    parallel = numpy.vstack([scores for _, scores in batch.score_in_batches(moderator, texts, batch_size=32, workers=2)])
    numpy.testing.assert_array_equal(parallel, moderator.scores(texts))


def test_damaged_card_is_a_clear_error(tmp_path, tiny_bundle_dir):
    import shutil

    copy = tmp_path / "bundle"
    shutil.copytree(tiny_bundle_dir, copy)
    (copy / "card.json").write_text("{ not json")
    with pytest.raises(SerializationError, match="card.json is not valid UTF-8 JSON"):
        Moderator.load(copy)
