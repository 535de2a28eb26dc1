"""The model registry: the real ``smartmod models`` command, its errors, and ``smartmod serve --model NAME:VERSION``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smartmod.moderation.moderator import Moderator
from smartmod.moderation.registry import ModelRegistry
from tests.moderation.conftest import tiny_bundle_dir  # noqa: F401  (the fixture)
from tests.serve.conftest import RunningServer


def smartmod(*args: str, registry: Path) -> subprocess.CompletedProcess:
    """The CLI as a subprocess, with the registry given by ``$SMARTMOD_MODELS``."""
    return subprocess.run([sys.executable, "-m", "smartmod.cli", *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "SMARTMOD_MODELS": str(registry)})


def succeeded(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def registry(tmp_path_factory, tiny_bundle_dir):  # noqa: F811
    """A registry holding the tiny bundle as tiny:0 (production) and tiny:1, added through the CLI."""
    root = tmp_path_factory.mktemp("registry") / "models"
    assert "registered tiny:0" in succeeded(smartmod("models", "add", tiny_bundle_dir, registry=root))
    succeeded(smartmod("models", "add", tiny_bundle_dir, "--version", "1", registry=root))
    return root


@pytest.fixture
def writable_registry(tmp_path, tiny_bundle_dir) -> ModelRegistry:  # noqa: F811
    registry = ModelRegistry(tmp_path / "models")
    registry.add(tiny_bundle_dir)
    registry.add(tiny_bundle_dir, version="1")
    return registry


def test_list_shows_the_bundled_default_and_every_added_version_with_its_stage(registry):
    listed = succeeded(subprocess.run([sys.executable, "-m", "smartmod.cli", "models", "list", "--registry", str(registry)],
                                      capture_output=True, text=True, timeout=60))
    rows = [line.split()[:3] for line in listed.splitlines()[1:]]
    assert rows == [["default", str(Moderator.load("default").version), "production"], ["tiny", "0", "production"], ["tiny", "1", "-"]]


def test_show_names_the_production_version_its_path_and_categories(registry):
    shown = json.loads(succeeded(smartmod("models", "show", "tiny", registry=registry)))
    assert (shown["name"], shown["version"], shown["stages"], shown["path"]) == ("tiny", "0", ["production"], str(registry / "tiny" / "0"))
    assert shown["categories"] == list(Moderator.load("default").categories) and shown["card"] == {"note": "test fixture"}


def test_promote_through_the_cli_moves_the_stages_in_the_index(writable_registry):
    root = writable_registry.root
    assert "tiny:1 is now candidate" in succeeded(smartmod("models", "promote", "tiny:1", "--stage", "candidate", registry=root))
    assert writable_registry.lookup("tiny:candidate").version == "1"
    succeeded(smartmod("models", "promote", "tiny:1", registry=root))
    assert json.loads((root / "index.json").read_text())["stages"] == {"tiny": {"production": "1"}}, "promoted, it is no longer candidate"


def test_an_unknown_version_is_exit_status_2_listing_the_versions(registry):
    result = smartmod("models", "show", "tiny:9", registry=registry)
    assert result.returncode == 2 and "tiny has no version '9'; its versions: 0, 1" in result.stderr and "Traceback" not in result.stderr


def test_add_under_another_name_rewrites_only_the_stored_copy(writable_registry, tiny_bundle_dir):  # noqa: F811
    entry = writable_registry.add(tiny_bundle_dir, name="toxic-small", version="7")
    stored = json.loads((entry.path / "config.json").read_text())
    assert (stored["name"], stored["version"], entry.stages) == ("toxic-small", "7", ("production",))
    assert json.loads((Path(tiny_bundle_dir) / "config.json").read_text())["name"] == "tiny"
    assert Moderator.load(writable_registry.resolve("toxic-small")).version == "7"


@pytest.mark.parametrize("model, message", [
    ("nothing", "no model named 'nothing' in the registry"),
    ("tiny:candidate", "tiny has no candidate version"),
    ("default:9", "default has no version '9'"),
])
def test_unknown_names_and_stages_are_clear_errors(writable_registry, model, message):
    with pytest.raises(FileNotFoundError, match=message):
        writable_registry.resolve(model)


def test_a_path_that_is_no_bundle_keeps_the_directory_error(writable_registry, tmp_path):
    with pytest.raises(FileNotFoundError, match="no model directory"):
        writable_registry.resolve(str(tmp_path / "missing"))


def test_adding_a_version_twice_or_under_the_reserved_name_is_refused(writable_registry, tiny_bundle_dir, tmp_path):  # noqa: F811
    with pytest.raises(ValueError, match="tiny:0 is already registered"):
        writable_registry.add(tiny_bundle_dir)
    with pytest.raises(ValueError, match="'default' is the bundled model's"):
        writable_registry.add(tiny_bundle_dir, name="default")
    with pytest.raises(ValueError, match="not usable"):
        writable_registry.add(tiny_bundle_dir, name="../escape")
    with pytest.raises(FileNotFoundError, match="no model bundle at"):
        writable_registry.add(tmp_path)


def test_the_bundled_default_cannot_be_promoted(writable_registry):
    with pytest.raises(ValueError, match="always in production"):
        writable_registry.promote("default", "1")


def test_serve_loads_a_registered_version_by_name(registry, tmp_path):
    server = RunningServer(tmp_path / "server.log", "--model", "tiny:1", "--registry", str(registry))
    try:
        assert server.get("/healthz").json()["model"] == {"name": "tiny", "version": "1"}
        assert server.post_json("/v1/moderate", {"texts": ["you stupid idiot"]}).json()["model"] == {"name": "tiny", "version": "1"}
    finally:
        assert server.stop() == 0, server.log()
