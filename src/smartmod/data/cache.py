"""Arrays derived from a dataset file (decoded images, say), cached on disk and rebuilt when the file changes.

The cache folder is the setting ``SMARTMOD_CACHE``, defaulting to ``~/.cache/smartmod``. A cache
file is an ``.npz`` (read with ``allow_pickle=False``) written atomically, so a reader sees either
no file or a complete one. Beside the arrays it stores a key: JSON naming the source file's name,
size and modification time plus whatever else the result depends on (the reader's format
version, its options). A cache file whose key differs from the one asked for, or that cannot be
read, counts as absent: the caller decodes the source again and overwrites it.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy

from smartmod.nn.serialize import SerializationError, load_arrays, save_arrays

__all__ = ["cache_root", "file_fingerprint", "read_cached_arrays", "write_cached_arrays"]

_KEY = "__cache_key__"


def cache_root() -> Path:
    """The folder for cached derived data: ``SMARTMOD_CACHE``, or ``~/.cache/smartmod``."""
    configured = os.environ.get("SMARTMOD_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "smartmod"


def file_fingerprint(path: str | os.PathLike) -> dict[str, Any]:
    """What identifies a version of ``path`` cheaply: its name, size in bytes and mtime in nanoseconds."""
    status = Path(path).stat()
    return {"source": Path(path).name, "bytes": status.st_size, "mtime_ns": status.st_mtime_ns}


def _encode_key(key: dict[str, Any]) -> numpy.ndarray:
    return numpy.frombuffer(json.dumps(key, sort_keys=True).encode("utf-8"), dtype=numpy.uint8)


def read_cached_arrays(path: str | os.PathLike, key: dict[str, Any]) -> dict[str, numpy.ndarray] | None:
    """The arrays cached at ``path`` under ``key``; None when the file is absent, unreadable or
    was written under another key (the source changed, or other options)."""
    if not Path(path).is_file():
        return None
    try:
        arrays = load_arrays(path)
    except SerializationError:
        return None
    stored = arrays.pop(_KEY, None)
    if stored is None or not numpy.array_equal(stored, _encode_key(key)):
        return None
    return arrays


def write_cached_arrays(path: str | os.PathLike, arrays: dict[str, numpy.ndarray], key: dict[str, Any]) -> None:
    """Cache ``arrays`` at ``path`` under ``key`` (JSON-ready data), atomically; folders are created."""
    if _KEY in arrays:
        raise ValueError(f"{_KEY!r} is reserved for the cache key; rename that array")
    save_arrays(path, {**arrays, _KEY: _encode_key(key)})
