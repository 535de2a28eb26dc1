"""The HTTP API: ``smartmod serve`` runs ``create_app(ServerSettings(...))`` under uvicorn."""
from smartmod.serve.app import create_app
from smartmod.serve.server import run_server
from smartmod.serve.settings import ServerSettings

__all__ = ["ServerSettings", "create_app", "run_server"]
