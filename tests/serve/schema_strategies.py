"""Hypothesis strategies for the JSON values a JSON Schema accepts.

Covers the subset our OpenAPI request schemas use: ``$ref`` into the document's components,
``type`` (one name or a list), ``enum``, objects with ``properties`` / ``required`` /
``additionalProperties: false``, arrays with ``items`` / ``minItems`` / ``maxItems``, strings
with ``minLength`` / ``maxLength``, numbers and integers with ``minimum`` / ``maximum``. A schema
keyword outside it raises, so a schema that grows a new keyword cannot be fuzzed half-blind.
"""
from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

HANDLED = {"$ref", "type", "enum", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
           "minLength", "maxLength", "minimum", "maximum", "description", "example", "examples"}


def from_schema(schema: dict[str, Any], components: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid under ``schema``; ``components`` resolves ``#/components/schemas/NAME``."""
    unknown = set(schema) - HANDLED
    if unknown:
        raise NotImplementedError(f"schema keywords {sorted(unknown)} are not handled by this generator")
    if "$ref" in schema:
        return from_schema(components["schemas"][schema["$ref"].split("/")[-1]], components)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return st.one_of(*(_of_type(name, schema, components) for name in types))


def _of_type(name: str, schema: dict[str, Any], components: dict[str, Any]) -> st.SearchStrategy[Any]:
    if name == "null":
        return st.none()
    if name == "boolean":
        return st.booleans()
    if name == "string":
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 200), 2000))
    if name in ("integer", "number"):
        bounds = {"min_value": schema.get("minimum"), "max_value": schema.get("maximum")}
        return st.integers(**bounds) if name == "integer" else st.floats(**bounds, allow_nan=False, allow_infinity=False)
    if name == "array":
        return st.lists(from_schema(schema.get("items", {"type": "string"}), components),
                        min_size=schema.get("minItems", 0), max_size=schema.get("maxItems", 10))
    if name == "object":
        if schema.get("additionalProperties", True) is not False:
            raise NotImplementedError("objects that allow additional properties are not handled by this generator")
        properties = {key: from_schema(value, components) for key, value in schema.get("properties", {}).items()}
        required = set(schema.get("required", []))
        return st.fixed_dictionaries({key: value for key, value in properties.items() if key in required},
                                     optional={key: value for key, value in properties.items() if key not in required})
    raise NotImplementedError(f"schema type {name!r} is not handled by this generator")
