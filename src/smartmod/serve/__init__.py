"""The HTTP API: ``smartmod serve`` runs ``create_app(ServerSettings(...))`` under uvicorn.

The names below are imported on first use (PEP 562), so ``smartmod.serve.settings`` is
light to import: the CLI reads it to build its options without loading the web stack.
"""
from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ServerSettings", "create_app", "run_server"]

_HOMES = {"ServerSettings": "smartmod.serve.settings", "create_app": "smartmod.serve.app", "run_server": "smartmod.serve.server"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'smartmod.serve' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
