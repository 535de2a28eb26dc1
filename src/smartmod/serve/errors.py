"""The API's error bodies: ``{"error": {"code", "message", "limit"?, "field"?}}`` for every failure.

Every error a client can cause is an ``APIError`` raised where it is detected; the handlers
below turn it (and Starlette's own 404 / 405) into the same JSON shape and count it in the
metrics. Messages name what was wrong and what was expected, never server internals.
"""
from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

__all__ = ["APIError", "ASCIIJSONResponse", "error_response", "api_error_handler", "http_exception_handler"]

_CODES_BY_STATUS = {404: "not_found", 405: "method_not_allowed"}


class ASCIIJSONResponse(JSONResponse):
    """JSON with non-ASCII characters escaped, so any string (even a lone surrogate) can be sent."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


class APIError(Exception):
    """A request the API refuses, with the HTTP status and the body the client gets.

    Parameters
    ----------
    status : int
        HTTP status code (400, 413, 415, 422, ...).
    code : str
        Stable machine-readable name of the problem, e.g. ``"too_many_texts"``.
    message : str
        What was wrong and what was expected, for a person.
    limit : tuple of (str, int), optional
        The configured limit that was exceeded, as ``(setting name, value)``.
    field : str, optional
        Where in the body the problem is, e.g. ``"texts[3]"``.
    """

    def __init__(self, status: int, code: str, message: str, *, limit: tuple[str, int] | None = None, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.limit = limit
        self.field = field


def error_response(status: int, code: str, message: str, *, limit: tuple[str, int] | None = None,
                   field: str | None = None, headers: dict[str, str] | None = None) -> ASCIIJSONResponse:
    """The JSON error response every failure uses."""
    error: dict[str, Any] = {"code": code, "message": message}
    if limit is not None:
        error["limit"] = {"name": limit[0], "value": limit[1]}
    if field is not None:
        error["field"] = field
    return ASCIIJSONResponse({"error": error}, status_code=status, headers=headers)


async def api_error_handler(request: Request, error: APIError) -> ASCIIJSONResponse:
    """Turn an ``APIError`` into its JSON response and count it."""
    request.app.state.metrics.record_error(error.code)
    return error_response(error.status, error.code, error.message, limit=error.limit, field=error.field)


async def http_exception_handler(request: Request, error: HTTPException) -> ASCIIJSONResponse:
    """Starlette's routing errors (unknown path, wrong method) in the API's JSON shape."""
    code = _CODES_BY_STATUS.get(error.status_code, "http_error")
    if error.status_code == 404:
        message = f"no endpoint at {request.url.path}; see /openapi.json for the API"
    elif error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "")
        message = f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}"
    else:
        message = str(error.detail)
    request.app.state.metrics.record_error(code)
    return error_response(error.status_code, code, message, headers=error.headers)
