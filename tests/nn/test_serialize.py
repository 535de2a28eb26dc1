"""Model directories and checkpoints: round trips, and clear errors for foreign or damaged files."""
from __future__ import annotations

import json

import numpy
import pytest

from smartmod.nn import BatchNorm, Dense, Dropout, Embedding, LayerNorm, ReLU, Sequential, backend
from smartmod.nn.serialize import (
    SerializationError,
    load_arrays,
    load_checkpoint,
    load_model,
    save_arrays,
    save_checkpoint,
    save_model,
)


def small_model() -> Sequential:
    return Sequential(Dense(5, 7), BatchNorm(7), ReLU(), Dropout(0.1), LayerNorm(7), Dense(7, 3))


def test_model_round_trip_gives_identical_outputs(tmp_path):
    model = small_model()
    x = backend.rng().normal(size=(4, 5)).astype(numpy.float32)
    model.forward(x)  # moves BatchNorm's running statistics away from their initial values
    model.eval()
    expected = model.forward(x)
    save_model(model, tmp_path / "model", metadata={"note": "test"})
    loaded = load_model(tmp_path / "model").eval()
    numpy.testing.assert_array_equal(loaded.forward(x), expected)
    assert json.loads((tmp_path / "model" / "config.json").read_text())["metadata"] == {"note": "test"}


def test_embedding_model_round_trip(tmp_path):
    model = Sequential(Embedding(11, 4, padding_idx=0), Dense(4, 2))
    save_model(model, tmp_path)
    ids = numpy.array([[0, 3, 10]])
    numpy.testing.assert_array_equal(load_model(tmp_path).forward(ids), model.forward(ids))


def test_saving_leaves_no_temporary_files(tmp_path):
    save_model(small_model(), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "weights.npz"]


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(SerializationError, match="not a directory"):
        load_model(tmp_path / "nowhere")


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", bytes(range(256)) * 4])
def test_corrupted_weights_file_is_a_clear_error(tmp_path, content):
    save_model(small_model(), tmp_path)
    (tmp_path / "weights.npz").write_bytes(content)
    with pytest.raises(SerializationError, match="weights.npz"):
        load_model(tmp_path)


def test_truncated_weights_file_is_a_clear_error(tmp_path):
    save_model(small_model(), tmp_path)
    data = (tmp_path / "weights.npz").read_bytes()
    (tmp_path / "weights.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(SerializationError, match="weights.npz"):
        load_model(tmp_path)


def test_pickled_object_arrays_are_refused(tmp_path):
    numpy.savez(tmp_path / "evil.npz", payload=numpy.array([{"a": 1}], dtype=object))
    with pytest.raises(SerializationError, match="will not load"):
        load_arrays(tmp_path / "evil.npz")


def test_weights_of_another_architecture_are_a_clear_error(tmp_path):
    save_model(small_model(), tmp_path)
    save_arrays(tmp_path / "weights.npz", Sequential(Dense(5, 2)).state_dict())
    with pytest.raises(SerializationError, match="does not match config.json"):
        load_model(tmp_path)


@pytest.mark.parametrize(
    "config, message",
    [
        ("not json {", "not valid UTF-8 JSON"),
        (json.dumps({"hello": "world"}), "not a smartmod model config"),
        (json.dumps({"format": "smartmod.nn.model", "format_version": 99, "model": {}}), "newer smartmod"),
        (json.dumps({"format": "smartmod.nn.model", "format_version": 1, "model": {"class": "Nonexistent"}}), "cannot build"),
    ],
)
def test_foreign_or_damaged_config_is_a_clear_error(tmp_path, config, message):
    save_model(small_model(), tmp_path)
    (tmp_path / "config.json").write_text(config)
    with pytest.raises(SerializationError, match=message):
        load_model(tmp_path)


def test_checkpoint_round_trip_keeps_arrays_and_metadata(tmp_path):
    arrays = {"a": numpy.arange(6, dtype=numpy.float32).reshape(2, 3), "b/c": numpy.array([1, 2], dtype=numpy.int64)}
    meta = {"epoch": 3, "rng": backend.get_rng_state(), "history": {"loss": [0.5, 0.25]}}
    save_checkpoint(tmp_path / "ckpt.npz", arrays, meta)
    loaded_arrays, loaded_meta = load_checkpoint(tmp_path / "ckpt.npz")
    assert loaded_meta == json.loads(json.dumps(meta))
    for name, value in arrays.items():
        numpy.testing.assert_array_equal(loaded_arrays[name], value)


def test_plain_npz_is_not_mistaken_for_a_checkpoint(tmp_path):
    save_arrays(tmp_path / "plain.npz", {"x": numpy.zeros(3)})
    with pytest.raises(SerializationError, match="not a smartmod checkpoint"):
        load_checkpoint(tmp_path / "plain.npz")
