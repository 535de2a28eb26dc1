"""The model registry: named models with versions, one of them in production and one candidate.

A registry is a directory (``--registry DIR``, else ``$SMARTMOD_MODELS``, else
``~/.smartmod/models``)::

    DIR/index.json                  {"stages": {"toxic": {"production": "2", "candidate": "3"}}}
    DIR/<name>/<version>/           a model bundle (config.json, weights.npz, vectorizer/, card.json)

The versions of a name are its bundle directories; ``index.json`` only records which version is
in which stage and is replaced atomically, so a reader never sees half of it. The first version
added under a name goes to production. A bundle is stored under its own name and version
(``config.json``) unless others are given, in which case the stored copy's config says them, so
a served model always reports the name and version it is registered under.

A model is named ``NAME`` (its production version), ``NAME:VERSION`` or ``NAME:STAGE``. The
bundled model is always there as ``default``, in production; it cannot be replaced.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from smartmod.moderation.bundle import BUNDLE_FORMAT
from smartmod.moderation.moderator import resolve_model
from smartmod.nn.serialize import SerializationError, atomic_write_bytes, read_json

__all__ = ["ModelRegistry", "RegisteredModel", "STAGES", "REGISTRY_ENVIRONMENT_VARIABLE", "default_registry_root"]

REGISTRY_ENVIRONMENT_VARIABLE = "SMARTMOD_MODELS"
STAGES = ("production", "candidate")
BUILT_IN = "default"
INDEX_FILE = "index.json"
INDEX_FORMAT = "smartmod.registry"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # a safe directory name, without ':'


def default_registry_root() -> Path:
    """``$SMARTMOD_MODELS`` when set, else ``~/.smartmod/models``."""
    return Path(os.environ.get(REGISTRY_ENVIRONMENT_VARIABLE) or Path.home() / ".smartmod" / "models")


def _version_order(version: str) -> tuple:
    """Numeric versions in numeric order (2 before 10), before any other, which sort by name."""
    return (0, int(version), "") if version.isdigit() else (1, 0, version)


def _check_name(value: str, what: str) -> str:
    if not _NAME.match(value) or value in STAGES:
        raise ValueError(f"{what} {value!r} is not usable: use 1 to 64 letters, digits, '.', '_' or '-' (starting with a letter "
                         f"or digit), and not a stage name ({', '.join(STAGES)})")
    return value


@dataclass(frozen=True)
class RegisteredModel:
    """One version of a registered model: where its bundle is and which stages it holds."""

    name: str
    version: str
    path: Path
    stages: tuple[str, ...]

    @property
    def qualified_name(self) -> str:
        return f"{self.name}:{self.version}"


class ModelRegistry:
    """A models directory: list, resolve, add and promote versions.

    Parameters
    ----------
    root : str or Path, optional
        The registry directory; :func:`default_registry_root` when omitted. It need not exist
        until a model is added.
    """

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_registry_root()

    # ------------------------------------------------------------------ reading

    def _stages(self) -> dict[str, dict[str, str]]:
        path = self.root / INDEX_FILE
        if not path.is_file():
            return {}
        document = read_json(path, "a smartmod model registry")
        if not isinstance(document, dict) or document.get("format") != INDEX_FORMAT or not isinstance(document.get("stages"), dict):
            raise SerializationError(f"{path} is not a smartmod registry index (expected format {INDEX_FORMAT!r}); move it away")
        return document["stages"]

    def names(self) -> list[str]:
        """Every model name, ``default`` first."""
        registered = sorted(p.name for p in self.root.iterdir() if p.is_dir() and _NAME.match(p.name)) if self.root.is_dir() else []
        return [BUILT_IN, *(name for name in registered if self.versions(name))]

    def versions(self, name: str) -> list[str]:
        """The versions of ``name``, oldest first (numeric versions in numeric order)."""
        if name == BUILT_IN:
            return [self._built_in_version()]
        folder = self.root / name
        if not _NAME.match(name) or not folder.is_dir():
            return []
        return sorted((p.name for p in folder.iterdir() if (p / "config.json").is_file() and _NAME.match(p.name)), key=_version_order)

    def entries(self, name: str | None = None) -> list[RegisteredModel]:
        """Every registered version (of ``name`` only, when given)."""
        return [self.get(model, version) for model in ([name] if name else self.names()) for version in self.versions(model)]

    def get(self, name: str, version: str) -> RegisteredModel:
        """One version, by name and exact version or stage name."""
        versions = self.versions(name)
        if not versions:
            raise FileNotFoundError(f"no model named {name!r} in the registry at {self.root}; models: {', '.join(self.names())}. "
                                    "Add one with 'smartmod models add BUNDLE_DIR --name NAME'")
        stages = {"production": versions[0]} if name == BUILT_IN else self._stages().get(name, {})
        if version in STAGES:
            if version not in stages:
                raise FileNotFoundError(f"{name} has no {version} version; promote one with 'smartmod models promote {name}:VERSION "
                                        f"--stage {version}' (versions: {', '.join(versions)})")
            version = stages[version]
        if version not in versions:
            raise FileNotFoundError(f"{name} has no version {version!r}; its versions: {', '.join(versions)}")
        path = resolve_model(BUILT_IN) if name == BUILT_IN else self.root / name / version
        return RegisteredModel(name, version, path, tuple(stage for stage in STAGES if stages.get(stage) == version))

    def lookup(self, model: str) -> RegisteredModel:
        """``NAME``, ``NAME:VERSION`` or ``NAME:STAGE`` to its registered version (``NAME`` is its production version)."""
        name, _, version = model.partition(":")
        return self.get(name, version or "production")

    def resolve(self, model: str) -> Path:
        """The bundle directory of ``model``: ``default``, a bundle directory, or a registered ``NAME[:VERSION]``.

        A bundle directory wins over a registered name; what cannot be a registered name (a
        path such as ``./models/a``) is read as a bundle directory.
        """
        if model == BUILT_IN or (Path(model) / "config.json").is_file() or not _NAME.match(model.partition(":")[0]):
            return resolve_model(model)
        return self.lookup(model).path

    def find(self, bundle_name: str, bundle_version: str) -> RegisteredModel | None:
        """The registered version whose bundle calls itself ``bundle_name`` ``bundle_version``, if any."""
        if bundle_name != BUILT_IN and bundle_version in self.versions(bundle_name):
            return self.get(bundle_name, bundle_version)
        built_in = read_json(resolve_model(BUILT_IN) / "config.json", "the bundled default model")
        if (built_in.get("name"), str(built_in.get("version"))) == (bundle_name, bundle_version):
            return self.get(BUILT_IN, self._built_in_version())
        return None

    @staticmethod
    def _built_in_version() -> str:
        return str(read_json(resolve_model(BUILT_IN) / "config.json", "the bundled default model").get("version", "1"))

    # ------------------------------------------------------------------ writing

    def _write_stages(self, stages: dict[str, dict[str, str]]) -> None:
        document = {"format": INDEX_FORMAT, "format_version": 1, "stages": stages}
        atomic_write_bytes(self.root / INDEX_FILE, json.dumps(document, indent=2, sort_keys=True).encode("utf-8"))

    def add(self, bundle_dir: str | os.PathLike, name: str | None = None, version: str | None = None) -> RegisteredModel:
        """Copy the bundle at ``bundle_dir`` into the registry as ``name:version``.

        ``name`` and ``version`` default to the bundle's own (its ``config.json``). The first
        version of a name goes to production.

        Raises
        ------
        FileNotFoundError
            When ``bundle_dir`` holds no model bundle.
        ValueError
            When the name is ``default`` or unusable, or the version already exists.
        """
        source = Path(bundle_dir)
        if not (source / "config.json").is_file():
            raise FileNotFoundError(f"no model bundle at {source}: it has no config.json (train one with 'smartmod train text --output DIR')")
        config = read_json(source / "config.json", "a smartmod model bundle")
        if not isinstance(config, dict) or config.get("format") != BUNDLE_FORMAT:
            raise SerializationError(f"{source / 'config.json'} is not a smartmod text model config (expected format {BUNDLE_FORMAT!r})")
        name = _check_name(name or str(config.get("name", "")), "the model name")
        version = _check_name(version or str(config.get("version", "")), "the version")
        if name == BUILT_IN:
            raise ValueError(f"the name {BUILT_IN!r} is the bundled model's; register this bundle under another name with --name")
        target = self.root / name / version
        if target.exists():
            raise ValueError(f"{name}:{version} is already registered at {target}; give another version with --version "
                             f"(versions: {', '.join(self.versions(name))})")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{version}."))
        try:
            shutil.copytree(source, staging, dirs_exist_ok=True)
            if (config.get("name"), str(config.get("version"))) != (name, version):
                atomic_write_bytes(staging / "config.json", json.dumps({**config, "name": name, "version": version}, indent=2).encode("utf-8"))
            os.rename(staging, target)  # the version appears complete or not at all
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        stages = self._stages()
        if "production" not in stages.get(name, {}):
            stages.setdefault(name, {})["production"] = version
            self._write_stages(stages)
        return self.get(name, version)

    def promote(self, name: str, version: str, stage: str = "production") -> RegisteredModel:
        """Put ``name:version`` in ``stage``; promoted to production, it stops being the candidate."""
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {', '.join(STAGES)}, got {stage!r}")
        if name == BUILT_IN:
            raise ValueError(f"{BUILT_IN!r} is the bundled model, always in production; register a copy with "
                             f"'smartmod models add {resolve_model(BUILT_IN)} --name NAME' to stage it")
        entry = self.get(name, version)
        stages = self._stages()
        model_stages = stages.setdefault(name, {})
        model_stages[stage] = entry.version
        if stage == "production" and model_stages.get("candidate") == entry.version:
            del model_stages["candidate"]
        self._write_stages(stages)
        return self.get(name, entry.version)
