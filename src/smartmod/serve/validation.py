"""Reading and checking a ``/v1/moderate`` or ``/v1/explain`` request: content type, size cap, JSON, fields.

The body is read chunk by chunk and refused as soon as it passes ``max_body_bytes``: a
``Content-Length`` header over the limit is refused before reading, but the header is not
trusted (a chunked body has none), so the count is kept while streaming too.
"""
from __future__ import annotations

import json
from typing import Any, Sequence

from starlette.requests import Request

from smartmod.serve.errors import APIError
from smartmod.serve.settings import ServerSettings

__all__ = ["read_texts", "read_json_body", "parse_texts", "parse_explain_request"]

_JSON_TYPE_NAMES = {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


def _json_type(value: Any) -> str:
    """The JSON name of a decoded value's type (``"array"``, not ``"list"``)."""
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _too_large(max_body_bytes: int) -> APIError:
    return APIError(413, "body_too_large", f"the request body is larger than the limit of {max_body_bytes} bytes (max_body_bytes); "
                    "send fewer or shorter texts per request", limit=("max_body_bytes", max_body_bytes))


async def read_json_body(request: Request, max_body_bytes: int) -> Any:
    """The request's JSON document, read with a size cap.

    Raises
    ------
    APIError
        415 when the Content-Type is not ``application/json``, 413 when the body passes
        ``max_body_bytes``, 400 when it is not UTF-8 JSON.
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise APIError(415, "unsupported_media_type",
                       f"send the body as JSON with 'Content-Type: application/json', got {media_type or 'no Content-Type'!r}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_body_bytes:
        raise _too_large(max_body_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body_bytes:
            raise _too_large(max_body_bytes)
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks).decode("utf-8"))
    except UnicodeDecodeError as error:
        raise APIError(400, "invalid_json", f"the body is not UTF-8 text: byte {error.start} cannot be decoded") from None
    except json.JSONDecodeError as error:
        raise APIError(400, "invalid_json", f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except RecursionError:
        raise APIError(400, "invalid_json", "the body is not valid JSON: it is nested too deeply") from None


def parse_texts(document: Any, max_texts: int, max_text_chars: int) -> list[str]:
    """The texts of a ``{"texts": [str, ...]}`` document, checked against the limits.

    Raises
    ------
    APIError
        422 naming the field (``texts[3]``) or the limit (``max_texts``, ``max_text_chars``)
        that the document breaks.
    """
    if not isinstance(document, dict):
        raise APIError(422, "invalid_body", f'the body must be a JSON object like {{"texts": ["..."]}}, got {_json_type(document)}')
    unknown = sorted(key for key in document if key != "texts")
    if unknown:
        raise APIError(422, "unknown_field", f"unknown field {unknown[0]!r}; the fields are 'texts' and, for A/B routing, 'key'", field=unknown[0])
    if "texts" not in document:
        raise APIError(422, "missing_field", "the field 'texts' (a list of strings) is missing", field="texts")
    texts = document["texts"]
    if not isinstance(texts, list):
        hint = ' (wrap a single text in a list: {"texts": ["..."]})' if isinstance(texts, str) else ""
        raise APIError(422, "invalid_field", f"'texts' must be an array of strings, got {_json_type(texts)}{hint}", field="texts")
    if len(texts) > max_texts:
        raise APIError(422, "too_many_texts", f"{len(texts)} texts is more than the limit of {max_texts} per request (max_texts); "
                       "split them over several requests", limit=("max_texts", max_texts), field="texts")
    return [_checked_text(text, f"texts[{index}]", max_text_chars) for index, text in enumerate(texts)]


def _checked_text(text: Any, field: str, max_text_chars: int) -> str:
    """``text`` when it is a string of at most ``max_text_chars`` characters; else the 422 naming ``field``."""
    if not isinstance(text, str):
        raise APIError(422, "invalid_text", f"{field} must be a string, got {_json_type(text)}", field=field)
    if len(text) > max_text_chars:
        raise APIError(422, "text_too_long", f"{field} has {len(text)} characters, more than the limit of {max_text_chars} "
                       "(max_text_chars); split it or shorten it", limit=("max_text_chars", max_text_chars), field=field)
    return text


def parse_explain_request(document: Any, max_text_chars: int, methods: Sequence[str], categories: Sequence[str]) -> tuple[str, dict[str, str]]:
    """The text of a ``{"text": str, "method"?: str, "category"?: str}`` document and the options given.

    Returns
    -------
    text : str
    options : dict
        ``method`` and ``category`` where the document names them (null counts as absent),
        for ``Moderator.explain(text, **options)``.

    Raises
    ------
    APIError
        422 naming the field that is missing, unknown or ill-typed, the allowed values of
        ``method`` and ``category``, or the limit ``max_text_chars``.
    """
    if not isinstance(document, dict):
        raise APIError(422, "invalid_body", f'the body must be a JSON object like {{"text": "..."}}, got {_json_type(document)}')
    allowed = {"method": tuple(methods), "category": tuple(categories)}
    unknown = sorted(key for key in document if key != "text" and key not in allowed)
    if unknown:
        raise APIError(422, "unknown_field", f"unknown field {unknown[0]!r}; the fields are 'text', 'method' and 'category'",
                       field=unknown[0])
    if "text" not in document:
        raise APIError(422, "missing_field", "the field 'text' (the string to explain) is missing", field="text")
    text = _checked_text(document["text"], "text", max_text_chars)
    options = {name: document[name] for name in allowed if document.get(name) is not None}
    for name, value in options.items():
        if not isinstance(value, str) or value not in allowed[name]:
            raise APIError(422, "invalid_field", f"{name} must be one of {', '.join(allowed[name])}, got {value!r}", field=name)
    return text, options


async def read_texts(request: Request, settings: ServerSettings) -> list[str]:
    """The texts of a ``/v1/moderate`` request, or the ``APIError`` that refuses it."""
    document = await read_json_body(request, settings.max_body_bytes)
    return parse_texts(document, settings.max_texts, settings.max_text_chars)
