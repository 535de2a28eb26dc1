"""Saving and loading without pickle.

A model is a directory: ``config.json`` (the architecture as data, from ``Module.to_config``)
and ``weights.npz`` (the state dict). A training checkpoint is one ``.npz`` file whose arrays
are the model, optimizer and trainer state and whose ``__meta__`` entry is UTF-8 JSON.

Every file is written to a temporary name in the same folder, flushed to disk, then renamed
over the destination, so a crash (even SIGKILL) leaves either the old file or the new one.
Files are read with ``allow_pickle=False``: loading never executes code. A file that is not
ours, or is damaged, raises :class:`SerializationError` saying which file and what to do.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy

from smartmod.nn.module import Module, layer_from_config

__all__ = [
    "SerializationError",
    "atomic_write_bytes",
    "save_arrays",
    "load_arrays",
    "read_json",
    "save_model",
    "load_model",
    "save_checkpoint",
    "load_checkpoint",
]

MODEL_FORMAT = "smartmod.nn.model"
FORMAT_VERSION = 1
CONFIG_FILE, WEIGHTS_FILE = "config.json", "weights.npz"
_META_KEY = "__meta__"


class SerializationError(ValueError):
    """A model or checkpoint file is missing, foreign or corrupted."""


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers only ever see the old or the complete new file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_arrays(path: str | os.PathLike, arrays: dict[str, numpy.ndarray]) -> None:
    """Save named arrays as an uncompressed ``.npz``, atomically."""
    buffer = io.BytesIO()
    numpy.savez(buffer, **{name: numpy.asarray(value) for name, value in arrays.items()})
    atomic_write_bytes(path, buffer.getvalue())


def load_arrays(path: str | os.PathLike) -> dict[str, numpy.ndarray]:
    """Load every array of an ``.npz`` written by :func:`save_arrays` (no pickle)."""
    path = Path(path)
    if not path.is_file():
        raise SerializationError(f"{path} does not exist")
    try:
        with numpy.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as error:
        raise SerializationError(f"{path} is not a readable .npz archive (truncated or corrupted: {error}); re-save it") from error
    except ValueError as error:  # object arrays (pickle) or a broken array header
        raise SerializationError(f"{path} holds data smartmod will not load ({error}); only plain numeric arrays are accepted") from error


def read_json(path: str | os.PathLike, holder: str) -> Any:
    """The JSON document at ``path``; a missing or damaged file raises :class:`SerializationError`
    naming ``holder``, what the file belongs to (e.g. "a smartmod model directory")."""
    path = Path(path)
    if not path.is_file():
        raise SerializationError(f"{path} does not exist: {holder} must hold it")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SerializationError(f"{path} is not valid UTF-8 JSON ({error}); {holder} is damaged") from error


def save_model(model: Module, directory: str | os.PathLike, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``model`` to ``directory`` (created if needed) as config.json + weights.npz."""
    directory = Path(directory)
    config = {"format": MODEL_FORMAT, "format_version": FORMAT_VERSION, "model": model.to_config(), "metadata": metadata or {}}
    save_arrays(directory / WEIGHTS_FILE, model.state_dict())
    atomic_write_bytes(directory / CONFIG_FILE, json.dumps(config, indent=2).encode("utf-8"))
    return directory


def load_model(directory: str | os.PathLike) -> Module:
    """Rebuild a model saved by :func:`save_model`; raises :class:`SerializationError` on bad files."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SerializationError(f"{directory} is not a directory; pass the folder that save_model wrote")
    config = read_json(directory / CONFIG_FILE, f"a smartmod model directory ({CONFIG_FILE} + {WEIGHTS_FILE})")
    if not isinstance(config, dict) or config.get("format") != MODEL_FORMAT:
        raise SerializationError(f"{directory / CONFIG_FILE} is not a smartmod model config (expected format {MODEL_FORMAT!r})")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise SerializationError(
            f"{directory} was written by a newer smartmod (format {config['format_version']}, this one reads {FORMAT_VERSION}); upgrade smartmod"
        )
    try:
        model = layer_from_config(config["model"])
    except (KeyError, TypeError, ValueError) as error:
        raise SerializationError(f"{directory / CONFIG_FILE} describes a model smartmod cannot build: {error}") from error
    try:
        model.load_state_dict(load_arrays(directory / WEIGHTS_FILE))
    except (KeyError, ValueError) as error:
        if isinstance(error, SerializationError):
            raise
        raise SerializationError(f"{directory / WEIGHTS_FILE} does not match {CONFIG_FILE}: {error}") from error
    return model


def save_checkpoint(path: str | os.PathLike, arrays: dict[str, numpy.ndarray], meta: dict[str, Any]) -> None:
    """One atomic ``.npz`` holding ``arrays`` and the JSON-ready ``meta``."""
    if _META_KEY in arrays:
        raise ValueError(f"array name {_META_KEY!r} is reserved for checkpoint metadata")
    encoded = numpy.frombuffer(json.dumps(meta).encode("utf-8"), dtype=numpy.uint8)
    save_arrays(path, {**arrays, _META_KEY: encoded})


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, numpy.ndarray], dict[str, Any]]:
    """The ``(arrays, meta)`` saved by :func:`save_checkpoint`."""
    arrays = load_arrays(path)
    if _META_KEY not in arrays:
        raise SerializationError(f"{path} is an .npz archive but not a smartmod checkpoint (no {_META_KEY} entry)")
    try:
        meta = json.loads(arrays.pop(_META_KEY).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SerializationError(f"{path} has damaged checkpoint metadata ({error})") from error
    return arrays, meta
