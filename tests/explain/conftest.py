"""Fixtures of the explanation tests: the tiny bundle of the moderation tests, and the shipped model."""
from __future__ import annotations

import pytest

from smartmod.moderation.moderator import Moderator
from tests.moderation.conftest import tiny_bundle_dir  # noqa: F401  (a fixture, used by name)


@pytest.fixture(scope="session")
def tiny_moderator(tiny_bundle_dir) -> Moderator:  # noqa: F811
    return Moderator.load(tiny_bundle_dir)


@pytest.fixture(scope="session")
def default_moderator() -> Moderator:
    return Moderator.load("default")
