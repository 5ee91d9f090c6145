"""Gemini ``Schema`` objects (OpenAPI 3.0 subset, uppercase types) read as JSON Schema.

Gemini's ``responseSchema`` and ``FunctionDeclaration.parameters`` use ``type: STRING`` and friends,
``nullable``, and int64 limits written as strings (``maxItems: "3"``). ``to_json_schema`` turns such
a schema into the JSON Schema that validates the same instances; a schema that is JSON Schema already
(``responseJsonSchema``, ``parametersJsonSchema``, OpenAI ``parameters``) is returned unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GEMINI_TYPES: dict[str, str] = {
    "STRING": "string",
    "NUMBER": "number",
    "INTEGER": "integer",
    "BOOLEAN": "boolean",
    "ARRAY": "array",
    "OBJECT": "object",
    "NULL": "null",
}
# Fields of Gemini's Schema message (schemas/gemini.schema.json: Schema), camelCase and snake_case.
SCHEMA_FIELDS: frozenset[str] = frozenset(
    {
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "maxItems",
        "minItems",
        "properties",
        "required",
        "minProperties",
        "maxProperties",
        "minLength",
        "maxLength",
        "pattern",
        "example",
        "anyOf",
        "propertyOrdering",
        "default",
        "items",
        "minimum",
        "maximum",
        "max_items",
        "min_items",
        "min_properties",
        "max_properties",
        "min_length",
        "max_length",
        "any_of",
        "property_ordering",
    }
)
_SNAKE = {
    "max_items": "maxItems",
    "min_items": "minItems",
    "min_properties": "minProperties",
    "max_properties": "maxProperties",
    "min_length": "minLength",
    "max_length": "maxLength",
    "any_of": "anyOf",
    "property_ordering": "propertyOrdering",
}
_INT64_FIELDS = frozenset(
    {"maxItems", "minItems", "minProperties", "maxProperties", "minLength", "maxLength"}
)
_DROPPED = frozenset({"propertyOrdering", "example", "nullable"})


def is_gemini_schema(schema: Any) -> bool:
    """Whether a schema uses Gemini's uppercase type names anywhere."""
    if isinstance(schema, Mapping):
        if isinstance(schema.get("type"), str) and schema["type"] in GEMINI_TYPES:
            return True
        return any(is_gemini_schema(value) for key, value in schema.items() if key != "enum")
    if isinstance(schema, list):
        return any(is_gemini_schema(item) for item in schema)
    return False


def to_json_schema(schema: Any) -> Any:
    """The JSON Schema equivalent of a Gemini Schema; JSON Schema comes back unchanged."""
    if not is_gemini_schema(schema):
        return schema
    return _convert(schema)


def _convert(schema: Any) -> Any:
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for raw_key, value in schema.items():
        key = str(_SNAKE.get(raw_key, raw_key))
        if key in _DROPPED:
            continue
        if key == "type":
            kind = GEMINI_TYPES.get(str(value).upper()) if isinstance(value, str) else None
            if kind is not None:
                out["type"] = kind
        elif key == "properties" and isinstance(value, Mapping):
            out["properties"] = {name: _convert(sub) for name, sub in value.items()}
        elif key == "items":
            out["items"] = _convert(value)
        elif key == "anyOf" and isinstance(value, list):
            out["anyOf"] = [_convert(sub) for sub in value]
        elif key in _INT64_FIELDS and isinstance(value, str) and value.strip().lstrip("-").isdigit():
            out[key] = int(value)
        else:
            out[key] = value
    if schema.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out
