"""Predicates over one JSON value: equals, one_of, matches, type, length, contains and comparisons."""

from __future__ import annotations

import json
import re
from typing import Any

_TYPES: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}
VALUE_PREDICATES = (
    "equals",
    "one_of",
    "matches",
    "type",
    "length",
    "contains",
    "not_contains",
    "gte",
    "lte",
    "gt",
    "lt",
)


def show(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def type_name(value: Any) -> str:
    for name, test in _TYPES.items():
        if name != "number" and test(value):
            return name
    return "number"


def evaluate(value: Any, predicates: dict[str, Any]) -> list[str]:
    """Every predicate of ``predicates`` that ``value`` breaks, as a sentence."""
    problems: list[str] = []
    for name, want in predicates.items():
        if name not in VALUE_PREDICATES:
            continue
        problem = _one(name, want, value)
        if problem:
            problems.append(problem)
    return problems


def _one(name: str, want: Any, value: Any) -> str | None:
    if name == "equals":
        return None if _same(value, want) else f"expected {show(want)}, got {show(value)}"
    if name == "one_of":
        return (
            None if any(_same(value, w) for w in want) else f"expected one of {show(want)}, got {show(value)}"
        )
    if name == "matches":
        if not isinstance(value, str):
            return f"expected a string matching /{want}/, got {type_name(value)} {show(value)}"
        return None if re.search(want, value) else f"expected a match for /{want}/, got {show(value)}"
    if name == "type":
        return None if _TYPES[want](value) else f"expected type {want}, got {type_name(value)} {show(value)}"
    if name == "length":
        if not isinstance(value, (str, list, dict)):
            return f"expected something with a length, got {type_name(value)} {show(value)}"
        size = len(value)
        low, high = (want, want) if isinstance(want, int) else (want.get("min"), want.get("max"))
        if (low is not None and size < low) or (high is not None and size > high):
            bound = (
                str(want)
                if isinstance(want, int)
                else " and ".join(f"{'at least' if k == 'min' else 'at most'} {v}" for k, v in want.items())
            )
            return f"expected length {bound}, got {size}"
        return None
    if name in ("contains", "not_contains"):
        if isinstance(value, str):
            present = isinstance(want, str) and want in value
        elif isinstance(value, list):
            present = any(_same(item, want) for item in value)
        elif isinstance(value, dict):
            present = want in value
        else:
            return f"expected a string, array or object, got {type_name(value)} {show(value)}"
        if name == "contains" and not present:
            return f"expected {show(value)} to contain {show(want)}"
        if name == "not_contains" and present:
            return f"expected {show(value)} not to contain {show(want)}"
        return None
    if not _TYPES["number"](value):
        return f"expected a number, got {type_name(value)} {show(value)}"
    ok = {"gte": value >= want, "lte": value <= want, "gt": value > want, "lt": value < want}[name]
    symbol = {"gte": ">=", "lte": "<=", "gt": ">", "lt": "<"}[name]
    return None if ok else f"expected a value {symbol} {want}, got {show(value)}"


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but True != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def named_value_args(what: str, examples: list[dict[str, Any]]) -> dict[str, Any]:
    """The arguments of a check on one named value of a message (a header, a query parameter): its
    ``name`` and at least one of ``exists``, ``equals`` and ``matches``."""
    return {
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "minProperties": 2,
        "properties": {
            "name": {"type": "string", "description": what},
            "equals": {"type": "string"},
            "matches": {"type": "string", "description": "A regular expression searched for in the value."},
            "exists": {"type": "boolean"},
        },
        "examples": examples,
    }


def named_value_problems(
    label: str, value: str | None, args: dict[str, Any], shown: str, wanted: str
) -> list[str]:
    """What a named value (``None`` when absent) breaks among ``exists``, ``equals`` and ``matches``, as
    sentences naming it by ``label``, showing it as ``shown`` (a secret is never shown) and the value
    ``equals`` asks for as ``wanted``."""
    if "exists" in args:
        if args["exists"] and value is None:
            return [f"expected {label}, absent"]
        if not args["exists"] and value is not None:
            return [f"expected no {label}, got {shown}"]
    if "equals" in args and value != args["equals"]:
        return [f"expected {wanted}, got {shown}"]
    if "matches" in args and (value is None or not re.search(args["matches"], value)):
        return [f"expected {label} matching /{args['matches']}/, got {shown}"]
    return []
