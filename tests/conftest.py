"""Test-wide settings: seeded hypothesis profile and the shared-data location."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from smartmod.nn import backend

settings.register_profile("smartmod", deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("smartmod")


def data_root() -> Path:
    """``SMARTMOD_DATA``, defaulting to ``../shared/data`` beside the repository."""
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    return Path(os.environ.get("SMARTMOD_DATA", default))


def require_data(relative: str) -> Path:
    """The path of a shared dataset file; skip the test when it is absent (fail under CI=true)."""
    path = data_root() / relative
    if not path.exists():
        message = f"shared dataset {path} is absent; set SMARTMOD_DATA to the folder holding ../shared/data"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def _reset_backend():
    """Every test starts on numpy, float32, seed 0."""
    backend.set_backend("numpy")
    backend.set_default_dtype("float32")
    backend.seed(0)
    yield
    backend.set_default_dtype("float32")
