"""Where the shared datasets live: ``SMARTMOD_DATA``, defaulting to ``../shared/data``.

The default is resolved against the current directory first and then against the repository
this package was installed from, so both ``make`` in a checkout and an editable install find it.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DataMissingError", "data_root", "data_path"]


class DataMissingError(FileNotFoundError):
    """A dataset file is not where the data path setting says."""


def data_root() -> Path:
    """The folder holding the datasets (``SMARTMOD_DATA`` or ``../shared/data``)."""
    configured = os.environ.get("SMARTMOD_DATA")
    if configured:
        return Path(configured).expanduser()
    candidates = [Path.cwd().parent / "shared" / "data", Path(__file__).resolve().parents[3].parent / "shared" / "data"]
    return next((path for path in candidates if path.is_dir()), candidates[0])


def data_path(relative: str) -> Path:
    """The path of one dataset file, or a :class:`DataMissingError` that says how to point at it."""
    path = data_root() / relative
    if not path.exists():
        raise DataMissingError(
            f"dataset file {path} not found; set SMARTMOD_DATA to the folder that holds the shared "
            f"datasets (it must contain {relative})"
        )
    return path
