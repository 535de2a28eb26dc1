"""``run_server(settings)``: the API under uvicorn, with the ``smartmod.serve`` log on stderr.

Uvicorn handles SIGINT and SIGTERM gracefully: it stops accepting connections and lets the
requests in flight finish. It then raises the signal again for the handler that was there
before it; ``run_server`` puts one there that exits with status 0, so a server stopped on
purpose reports success (and Ctrl-C prints no traceback). With ``workers > 1`` uvicorn starts
that many processes, which rebuild the app from the settings it passes them as JSON in the
``SMARTMOD_SERVE_SETTINGS`` environment variable (``app_from_environment``).
"""
from __future__ import annotations

import copy
import os
import signal
import threading
from types import FrameType

import uvicorn
from starlette.applications import Starlette
from uvicorn.config import LOGGING_CONFIG

from smartmod.moderation.registry import ModelRegistry
from smartmod.serve.app import create_app
from smartmod.serve.settings import ServerSettings

__all__ = ["run_server", "app_from_environment", "SETTINGS_ENVIRONMENT_VARIABLE"]

SETTINGS_ENVIRONMENT_VARIABLE = "SMARTMOD_SERVE_SETTINGS"


def app_from_environment() -> Starlette:
    """The app of one worker process, built from the settings ``run_server`` left in the environment."""
    encoded = os.environ.get(SETTINGS_ENVIRONMENT_VARIABLE)
    if encoded is None:
        raise RuntimeError(f"{SETTINGS_ENVIRONMENT_VARIABLE} is not set; start the server with 'smartmod serve'")
    return create_app(ServerSettings.from_json(encoded))


def _logging_config() -> dict:
    """Uvicorn's logging setup plus the ``smartmod.serve`` logger (predictions, errors) on its handler."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["smartmod.serve"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def _exit_successfully(signal_number: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def run_server(settings: ServerSettings) -> None:
    """Serve the API until SIGINT or SIGTERM, then exit with status 0 (from the main thread).

    Raises
    ------
    FileNotFoundError
        When ``settings.model`` or ``settings.candidate`` names no model, before anything listens.
    """
    registry = ModelRegistry(settings.registry)
    for model in (settings.model, settings.candidate):
        if model is not None:
            registry.resolve(model)
    if threading.current_thread() is threading.main_thread():
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, _exit_successfully)
    common = {"host": settings.host, "port": settings.port, "log_config": _logging_config()}
    if settings.workers == 1:
        uvicorn.run(create_app(settings), **common)
        return
    os.environ[SETTINGS_ENVIRONMENT_VARIABLE] = settings.to_json()
    uvicorn.run("smartmod.serve.server:app_from_environment", factory=True, workers=settings.workers, **common)
