"""JSON pointers (RFC 6901) with a ``*`` wildcard for every element or member."""

from __future__ import annotations

from typing import Any

_MISSING = object()


def split(pointer: str) -> list[str]:
    if pointer in ("", "/"):
        return [] if pointer == "" else [""]
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer must start with '/': {pointer!r}")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def resolve(document: Any, pointer: str) -> list[tuple[str, Any]]:
    """Every (concrete pointer, value) the pointer reaches; empty when nothing is there."""
    found: list[tuple[str, Any]] = [("", document)]
    for token in split(pointer):
        step: list[tuple[str, Any]] = []
        for where, value in found:
            if token == "*":
                if isinstance(value, list):
                    step.extend((f"{where}/{i}", item) for i, item in enumerate(value))
                elif isinstance(value, dict):
                    step.extend((f"{where}/{escape(k)}", item) for k, item in value.items())
                continue
            child = _child(value, token)
            if child is not _MISSING:
                step.append((f"{where}/{escape(token)}", child))
        found = step
    return found


def get(document: Any, pointer: str, default: Any = None) -> Any:
    """The single value at a pointer without wildcards, or ``default``."""
    matches = resolve(document, pointer)
    return matches[0][1] if matches else default


def _child(value: Any, token: str) -> Any:
    if isinstance(value, dict):
        return value.get(token, _MISSING)
    if isinstance(value, list) and token.isdigit():
        index = int(token)
        return value[index] if index < len(value) else _MISSING
    return _MISSING
