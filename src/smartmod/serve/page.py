"""The web page at ``GET /``: plain HTML, CSS and JavaScript shipped in ``smartmod/serve/static``.

The page needs nothing from outside the server (no CDN, no web fonts), so it works offline.
Its script calls ``GET /v1/models`` and ``POST /v1/explain`` and inserts every string as text,
never as HTML. Each file is answered with a strict Content-Security-Policy that allows only
this server's own script, styles, images and API, and no inline script or style markup, so
even a mistake in the page could not run script that a comment smuggled in.
"""
from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["page_routes", "STATIC_DIRECTORY", "CONTENT_SECURITY_POLICY"]

STATIC_DIRECTORY = Path(__file__).resolve().parent / "static"

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

# URL path -> (file in STATIC_DIRECTORY, Content-Type). Only these files are served.
_PAGE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/page.js": ("page.js", "text/javascript; charset=utf-8"),
    "/static/page.css": ("page.css", "text/css; charset=utf-8"),
    "/static/favicon.svg": ("favicon.svg", "image/svg+xml"),
}


def _read_page_file(name: str) -> bytes:
    path = STATIC_DIRECTORY / name
    if not path.is_file():
        raise FileNotFoundError(f"the web page file {path} is missing; reinstall smartmod, whose package data holds serve/static/")
    return path.read_bytes()


def _file_endpoint(body: bytes, media_type: str):
    """An endpoint answering one file's bytes, read once when the app is built."""

    async def serve_file(request: Request) -> Response:
        return Response(body, media_type=media_type, headers=_SECURITY_HEADERS)

    return serve_file


def page_routes() -> list[Route]:
    """``GET`` (and ``HEAD``) routes for the page and its script, style sheet and icon.

    Raises
    ------
    FileNotFoundError
        When a file of the page is missing from the installed package.
    """
    return [Route(path, _file_endpoint(_read_page_file(name), media_type), methods=["GET"], name=name)
            for path, (name, media_type) in _PAGE_FILES.items()]
