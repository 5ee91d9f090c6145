"""Deterministic instances of a JSON Schema: what the reference answers in JSON mode and as arguments.

The instance is the simplest value the schema accepts for the keywords models are given in practice
(type, properties, items, enum, const, anyOf/oneOf/allOf, $ref into the same document, string
formats and length, numeric bounds and multiples, array sizes). Every declared property is filled.
A ``hint`` fills the first string met (a place named in the prompt, an enum answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance import pointer as jp

MAX_DEPTH = 12
_FORMATS: dict[str, str] = {
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "uri": "https://example.com/",
    "ipv4": "192.0.2.1",
}


class _Filler:
    def __init__(self, root: Any, hint: str | None) -> None:
        self.root = root
        self.hint = hint

    def take_hint(self) -> str | None:
        hint, self.hint = self.hint, None
        return hint

    def value(self, schema: Any, depth: int = 0, index: int = 0) -> Any:
        if schema is True or not isinstance(schema, Mapping) or depth > MAX_DEPTH:
            return None if depth > MAX_DEPTH else "example"
        if "$ref" in schema and isinstance(schema["$ref"], str) and schema["$ref"].startswith("#"):
            target = jp.get(self.root, schema["$ref"][1:])
            return self.value(target, depth + 1, index)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            hint = self.hint
            if hint is not None and hint in schema["enum"]:
                self.hint = None
                return hint
            return schema["enum"][min(index, len(schema["enum"]) - 1)]
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                options = [s for s in schema[key] if not (isinstance(s, Mapping) and s.get("type") == "null")]
                return self.value((options or schema[key])[0], depth + 1, index)
        if isinstance(schema.get("allOf"), list) and schema["allOf"]:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                if isinstance(part, Mapping):
                    merged.update(part)
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            return self.value({**merged, **rest}, depth + 1, index)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else "string"
        return getattr(self, f"_{kind}", self._string)(schema, depth, index)

    def _object(self, schema: Mapping[str, Any], depth: int, index: int) -> Any:
        given = schema.get("properties")
        properties: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
        return {name: self.value(sub, depth + 1) for name, sub in properties.items()}

    def _array(self, schema: Mapping[str, Any], depth: int, index: int) -> Any:
        low = int(schema.get("minItems", 1) or 0)
        high = schema.get("maxItems")
        size = max(low, 1) if high is None else min(max(low, 1), int(high))
        return [self.value(schema.get("items", {}), depth + 1, n) for n in range(size)]

    def _string(self, schema: Mapping[str, Any], depth: int, index: int) -> Any:
        text = self.take_hint() or _FORMATS.get(str(schema.get("format")), f"example{index or ''}")
        low = int(schema.get("minLength", 0) or 0)
        if len(text) < low:
            text += "x" * (low - len(text))
        if schema.get("maxLength") is not None:
            text = text[: int(schema["maxLength"])]
        return text

    def _number(self, schema: Mapping[str, Any], depth: int, index: int) -> Any:
        return self._integer(schema, depth, index)

    def _integer(self, schema: Mapping[str, Any], depth: int, index: int) -> Any:
        value = 1 + index
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        if isinstance(low, (int, float)) and not isinstance(low, bool) and value <= low:
            value = int(low) + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
            value = value if value >= low else value + 1
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        if isinstance(high, (int, float)) and not isinstance(high, bool) and value >= high:
            value = int(high) - (1 if "exclusiveMaximum" in schema and "maximum" not in schema else 0)
        step = schema.get("multipleOf")
        if isinstance(step, int) and step > 0 and value % step:
            value += step - value % step
        return value

    def _boolean(self, schema: Mapping[str, Any], depth: int, index: int) -> Any:
        return True

    def _null(self, schema: Mapping[str, Any], depth: int, index: int) -> Any:
        return None


def instance_of(schema: Any, hint: str | None = None) -> Any:
    """A deterministic value valid against ``schema`` (JSON Schema), the hint filling the first string."""
    return _Filler(schema, hint).value(schema)
