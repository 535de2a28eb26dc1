"""The OpenAPI 3.1 description of the API, served at ``GET /openapi.json``.

Written by hand rather than generated, so it states exactly what the endpoints do. The limits
(``maxItems``, ``maxLength``) and the category names come from the running server's settings
and model, so the document never disagrees with the server that serves it.
"""
from __future__ import annotations

from typing import Any, Sequence

from smartmod import __version__
from smartmod.explain import DEFAULT_METHOD, EXPLANATION_METHODS
from smartmod.serve.ab import MAX_KEY_CHARS
from smartmod.serve.settings import ServerSettings

__all__ = ["openapi_document"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_response(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _error(description: str) -> dict[str, Any]:
    return _json_response(description, "Error")


def _schemas(settings: ServerSettings, categories: Sequence[str]) -> dict[str, Any]:
    probability = {"type": "number", "minimum": 0, "maximum": 1}
    model_reference = {"name": {"type": "string", "example": "text-tfidf-mlp"}, "version": {"type": "string", "example": "1"}}
    return {
        "ModerateRequest": {
            "type": "object", "required": ["texts"], "additionalProperties": False,
            "properties": {"texts": {"type": "array", "maxItems": settings.max_texts,
                                     "items": {"type": "string", "maxLength": settings.max_text_chars},
                                     "description": "The texts to score, in the order the results come back."},
                           "key": {"type": "string", "maxLength": MAX_KEY_CHARS,
                                   "description": "Routing key (a user or conversation id): under A/B the same key always gets the "
                                                  "same model. Wins over the X-Request-Key header; without either, the model is drawn at random."}},
            "example": {"texts": ["You are a worthless idiot, shut up.", "Thank you for the thoughtful review."]},
        },
        "ModelReference": {"type": "object", "required": ["name", "version"], "properties": model_reference},
        "ModerationResult": {
            "type": "object", "required": ["scores", "flagged", "categories"],
            "properties": {
                "scores": {"type": "object", "description": "Calibrated probability of each category.",
                           "required": list(categories), "properties": {category: probability for category in categories}},
                "flagged": {"type": "boolean", "description": "Whether any category reaches its threshold."},
                "categories": {"type": "array", "items": {"type": "string", "enum": list(categories)},
                               "description": "The categories that reach their threshold."},
            },
        },
        "ModerateResponse": {
            "type": "object", "required": ["model", "results"],
            "properties": {"model": _ref("ModelReference"), "results": {"type": "array", "items": _ref("ModerationResult")}},
        },
        "ExplainRequest": {
            "type": "object", "required": ["text"], "additionalProperties": False,
            "properties": {
                "text": {"type": "string", "maxLength": settings.max_text_chars, "description": "The text to explain."},
                "method": {"type": ["string", "null"], "enum": [*EXPLANATION_METHODS, None],
                           "description": f"How words get their importance (null or absent: {DEFAULT_METHOD}): leave the word out, "
                                          "gradient x input, or LIME."},
                "category": {"type": ["string", "null"], "enum": [*categories, None],
                             "description": "The category explained (null or absent: the highest-scoring one)."},
            },
            "example": {"text": "You are a worthless idiot, shut up.", "method": DEFAULT_METHOD},
        },
        "Explanation": {"allOf": [_ref("ModerationResult"), {
            "type": "object", "required": ["model", "text", "method", "category", "tokens", "spans"],
            "properties": {
                "model": _ref("ModelReference"),
                "text": {"type": "string", "description": "The text explained; every offset counts its Unicode code points."},
                "method": {"type": "string", "enum": list(EXPLANATION_METHODS)},
                "category": {"type": "string", "enum": list(categories), "description": "The category whose score is explained."},
                "tokens": {"type": "array", "description": "Every word of the text, in order.", "items": {
                    "type": "object", "required": ["text", "start", "end", "importance"],
                    "properties": {"text": {"type": "string"}, "start": {"type": "integer", "minimum": 0}, "end": {"type": "integer", "minimum": 0},
                                   "importance": {"type": "number",
                                                  "description": "Log-odds of the category the word adds (positive) or takes away (negative)."}}}},
                "spans": {"type": "array", "description": "The character spans judged harmful, in order; empty unless the text is flagged for the explained category.", "items": {
                    "type": "object", "required": ["start", "end", "text"],
                    "properties": {"start": {"type": "integer", "minimum": 0}, "end": {"type": "integer", "minimum": 0}, "text": {"type": "string"}}}},
            },
        }]},
        "Model": {
            "type": "object", "required": ["name", "version", "categories", "thresholds"],
            "properties": {**model_reference,
                           "categories": {"type": "array", "items": {"type": "string"}},
                           "thresholds": {"type": "object", "additionalProperties": probability,
                                          "description": "Score at or over which a category is flagged."},
                           "stage": {"type": "string", "enum": ["production", "candidate"], "description": "Under A/B only: the model's role."},
                           "share": {"type": "number", "minimum": 0, "maximum": 1,
                                     "description": "Under A/B only: the fraction of requests the model answers."}},
        },
        "ModelList": {"type": "object", "required": ["models"], "properties": {"models": {"type": "array", "items": _ref("Model")}}},
        "Health": {"type": "object", "required": ["status", "model"],
                   "properties": {"status": {"type": "string", "enum": ["ok"]}, "model": _ref("ModelReference")}},
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": "Stable name of the problem.",
                             "examples": ["invalid_json", "body_too_large", "unsupported_media_type", "missing_field", "invalid_field",
                                          "unknown_field", "invalid_body", "invalid_text", "too_many_texts", "text_too_long",
                                          "not_found", "method_not_allowed", "internal_error"]},
                    "message": {"type": "string", "description": "What was wrong and what was expected."},
                    "limit": {"type": "object", "required": ["name", "value"], "description": "The configured limit that was exceeded.",
                              "properties": {"name": {"type": "string", "enum": ["max_body_bytes", "max_texts", "max_text_chars"]},
                                             "value": {"type": "integer"}}},
                    "field": {"type": "string", "description": "Where in the body the problem is, e.g. texts[3].", "example": "texts[3]"},
                },
            }},
        },
    }


def openapi_document(settings: ServerSettings, categories: Sequence[str]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of a server with these settings and model categories."""
    not_found = _error("No such endpoint.")
    not_json = _error("The body is not UTF-8 JSON.")
    too_large = _error(f"The body is larger than max_body_bytes ({settings.max_body_bytes}).")
    not_json_type = _error("The Content-Type is not application/json.")
    internal = _error("The server failed; the body holds no internals and the error is logged.")
    return {
        "openapi": "3.1.0",
        "info": {"title": "smartmod moderation API", "version": __version__,
                 "description": "Scores texts for harm with a smartmod model. Every error is a JSON body with error.code and error.message."},
        "paths": {
            "/v1/moderate": {"post": {
                "summary": "Score texts and flag those over a category threshold",
                "operationId": "moderate",
                "parameters": [{"name": "X-Request-Key", "in": "header", "required": False,
                                "schema": {"type": "string", "maxLength": MAX_KEY_CHARS},
                                "description": "Routing key for A/B, used when the body has no 'key'."}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ModerateRequest")}}},
                "responses": {
                    "200": _json_response("One result per text, in order.", "ModerateResponse"),
                    "400": not_json,
                    "404": not_found,
                    "413": too_large,
                    "415": not_json_type,
                    "422": _error(f"The JSON is not {{\"texts\": [string, ...]}}, has more than max_texts ({settings.max_texts}) "
                                  f"texts, a text longer than max_text_chars ({settings.max_text_chars}), or a key that is not a string "
                                  f"of at most {MAX_KEY_CHARS} characters."),
                    "500": internal,
                },
            }},
            "/v1/explain": {"post": {
                "summary": "Explain one text's scores word by word, with the character spans judged harmful",
                "operationId": "explain",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ExplainRequest")}}},
                "responses": {
                    "200": _json_response("The scores and flag of the text, each word's importance and the harmful spans.", "Explanation"),
                    "400": not_json,
                    "404": not_found,
                    "413": too_large,
                    "415": not_json_type,
                    "422": _error(f"The JSON is not {{\"text\": string}}, the text is longer than max_text_chars ({settings.max_text_chars}), "
                                  "or the method or category is not one of the allowed values (the message lists them)."),
                    "500": internal,
                },
            }},
            "/v1/models": {"get": {"summary": "The models this server scores with", "operationId": "listModels",
                                   "responses": {"200": _json_response("The production model, then the A/B candidate if any.", "ModelList"),
                                                 "500": internal}}},
            "/healthz": {"get": {"summary": "Liveness: the server is up and its model is loaded", "operationId": "health",
                                 "responses": {"200": _json_response("The server is healthy.", "Health"), "500": internal}}},
            "/metrics": {"get": {"summary": "Metrics in the Prometheus text format 0.0.4", "operationId": "metrics",
                                 "responses": {"200": {"description": "Request counts, latency, errors, texts scored, flagged rate, scores; "
                                                                      "per model version: windows of prediction statistics and their drift "
                                                                      "(PSI, KS) against the training reference.",
                                                       "content": {"text/plain": {"schema": {"type": "string"}}}},
                                               "500": internal}}},
            "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi",
                                      "responses": {"200": {"description": "The OpenAPI 3.1 description of the API.",
                                                            "content": {"application/json": {"schema": {"type": "object"}}}},
                                                    "500": internal}}},
        },
        "components": {"schemas": _schemas(settings, categories)},
    }
