"""A trained text moderation model on disk, and the computation it performs.

A bundle is a directory::

    config.json      format, categories, thresholds, temperatures, window sizes, input encoding, network config
    weights.npz      the network's state dict (float32, float16 or int8, see quantize.py)
    vectorizer/      TF-IDF models: the n-gram vocabulary (JSON) and idf weights (.npz)
    sequence_encoder/  sequence models: the word vocabulary and maximum length (JSON)
    card.json        the model card: data and its hash, validation figures, limits
    reference.json   optional: score, length and out-of-vocabulary distributions on the
                     validation rows, the reference of drift monitoring (smartmod.eval.drift)

Nothing in it is pickled and loading executes no code from the files.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy

from smartmod.moderation import sequence_networks  # noqa: F401  (registers the sequence classifiers for layer_from_config)
from smartmod.moderation.quantize import dequantize_state, quantize_state
from smartmod.moderation.sequence_batches import predict_sequences
from smartmod.nn import init
from smartmod.nn.module import Module, layer_from_config
from smartmod.nn.serialize import SerializationError, atomic_write_bytes, load_arrays, read_json, save_arrays

__all__ = ["BUNDLE_FORMAT", "REFERENCE_FILE", "BundleConfig", "TextModelBundle"]

BUNDLE_FORMAT = "smartmod.moderation.text"
BUNDLE_VERSION = 2  # 2: input_encoding, and sequence models
REFERENCE_FILE = "reference.json"
#: How texts become network input, and the folder of the bundle that holds what does it.
INPUT_ENCODINGS = {"tfidf": "vectorizer", "token-ids": "sequence_encoder"}


@dataclass
class BundleConfig:
    categories: list[str]
    thresholds: dict[str, float]  # flag a category when its calibrated score reaches this
    temperatures: dict[str, float]  # logits are divided by these before the sigmoid
    network: dict[str, Any]  # Module.to_config() of the network
    name: str = "text-tfidf-mlp"
    version: str = "1"
    window_chars: int = 2000  # longer texts are scored in windows of this many characters...
    window_overlap: int = 200  # ...overlapping by this many, and each category takes its maximum
    weight_storage: str = "float32"
    input_encoding: str = "tfidf"  # "tfidf": TF-IDF features (N, F); "token-ids": padded token ids (N, L) of a sequence model
    extra: dict[str, Any] = field(default_factory=dict)


def _check_input_encoding(encoding: str) -> None:
    if encoding not in INPUT_ENCODINGS:
        raise ValueError(f"unknown input encoding {encoding!r}; expected one of {sorted(INPUT_ENCODINGS)}")


class TextModelBundle:
    """Encoder + network + calibration: texts in, calibrated probabilities out.

    ``vectorizer`` turns texts into the network's input: a
    :class:`~smartmod.text.vectorize.TfidfVectorizer` when ``config.input_encoding`` is
    ``"tfidf"``, a :class:`~smartmod.text.sequence_encoder.SequenceEncoder` for ``"token-ids"``.
    """

    def __init__(self, config: BundleConfig, vectorizer: Any, network: Module, card: dict[str, Any] | None = None,
                 reference: dict[str, Any] | None = None):
        _check_input_encoding(config.input_encoding)
        self.config, self.vectorizer, self.network, self.card = config, vectorizer, network.eval(), card or {}
        self.reference = reference  # DriftReference.to_dict() of the validation rows, or None
        self._inverse_temperature = numpy.array([1.0 / config.temperatures.get(c, 1.0) for c in config.categories], dtype=numpy.float32)

    def logits(self, texts: list[str]) -> numpy.ndarray:
        """Uncalibrated network outputs, shape ``(len(texts), C)``."""
        if not texts:
            return numpy.zeros((0, len(self.config.categories)), dtype=numpy.float32)
        if self.config.input_encoding == "token-ids":
            return predict_sequences(self.network, self.vectorizer.transform(texts))  # in length buckets
        # columns, the layout the wide first layer multiplies fastest
        return numpy.asarray(self.network.forward(self.vectorizer.transform(texts, layout="csc")), dtype=numpy.float32)

    def probabilities(self, texts: list[str]) -> numpy.ndarray:
        """Calibrated scores in [0, 1], shape ``(len(texts), C)``."""
        from smartmod.nn.layers.activations import sigmoid

        return sigmoid(self.logits(texts) * self._inverse_temperature)

    def use_stored_weights(self) -> bool:
        """Give the network the weights saving and loading it would give (int8 or float16
        storage rounds them), so scores computed before saving are the saved model's.
        Returns whether that changed them (False for float32 storage)."""
        if self.config.weight_storage == "float32":
            return False
        self.network.load_state_dict(dequantize_state(quantize_state(self.network.state_dict(), self.config.weight_storage)), copy=False)
        return True

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.vectorizer.save(directory / INPUT_ENCODINGS[self.config.input_encoding])
        save_arrays(directory / "weights.npz", quantize_state(self.network.state_dict(), self.config.weight_storage))
        document = {"format": BUNDLE_FORMAT, "format_version": BUNDLE_VERSION, **asdict(self.config)}
        atomic_write_bytes(directory / "card.json", json.dumps(self.card, indent=2, allow_nan=False).encode("utf-8"))
        if self.reference is not None:
            atomic_write_bytes(directory / REFERENCE_FILE, json.dumps(self.reference, allow_nan=False).encode("utf-8"))
        atomic_write_bytes(directory / "config.json", json.dumps(document, indent=2).encode("utf-8"))  # last: marks the bundle complete
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "TextModelBundle":
        from smartmod.text.sequence_encoder import SequenceEncoder
        from smartmod.text.vectorize import TfidfVectorizer

        directory = Path(directory)
        config_path = directory / "config.json"
        if not config_path.is_file():
            raise SerializationError(f"{directory} is not a smartmod text model: it has no config.json")
        document = read_json(config_path, "a smartmod text model")
        if not isinstance(document, dict) or document.get("format") != BUNDLE_FORMAT:
            raise SerializationError(f"{config_path} is not a smartmod text model config (expected format {BUNDLE_FORMAT!r})")
        if document.get("format_version", 0) > BUNDLE_VERSION:
            raise SerializationError(f"{directory} needs a newer smartmod (bundle format {document['format_version']})")
        try:
            config = BundleConfig(**{key: value for key, value in document.items() if key not in ("format", "format_version")})
            _check_input_encoding(config.input_encoding)
            with init.skipped():  # every weight is loaded next
                network = layer_from_config(config.network)
            network.load_state_dict(dequantize_state(load_arrays(directory / "weights.npz")), copy=False)  # arrays made for it
        except SerializationError:
            raise
        except (TypeError, KeyError, ValueError) as error:
            raise SerializationError(f"{directory} holds a damaged or mismatched model: {error}") from error
        encoder_class = TfidfVectorizer if config.input_encoding == "tfidf" else SequenceEncoder
        vectorizer = encoder_class.load(directory / INPUT_ENCODINGS[config.input_encoding])
        card_path = directory / "card.json"
        card = read_json(card_path, "a smartmod text model") if card_path.is_file() else {}
        reference_path = directory / REFERENCE_FILE
        reference = read_json(reference_path, "a smartmod text model") if reference_path.is_file() else None
        return cls(config, vectorizer, network, card, reference)
