"""Checks on the HTTP envelope: status and headers."""

from __future__ import annotations

from typing import Any

from conformance.checks.predicates import named_value_args, named_value_problems
from conformance.checks.registry import CheckContext, Failure, check

HTTP_STATUS = {"type": "integer", "minimum": 100, "maximum": 599}


@check(
    "status",
    args={
        "oneOf": [HTTP_STATUS, {"type": "array", "minItems": 1, "items": HTTP_STATUS}],
        "examples": [200, [400, 404]],
    },
)
def status(ctx: CheckContext, expected: int | list[int]) -> list[Failure]:
    """The HTTP status: one code, or any code of a list.

    A redirect is not followed; the failure names where it pointed.
    """
    allowed = expected if isinstance(expected, list) else [expected]
    got = ctx.exchange.status
    if got in allowed:
        return []
    want = " or ".join(str(code) for code in allowed)
    location = ctx.exchange.header("location") if got is not None and 300 <= got < 400 else None
    note = (
        f" (a redirect to {location}, not followed: the key is sent to the configured base URL only)"
        if location
        else ""
    )
    return [Failure(f"expected HTTP {want}, got {got}{note}")]


@check(
    "content_type",
    args={"type": "string", "pattern": "^[a-z]+/[a-z0-9.+-]+$", "examples": ["application/json"]},
)
def content_type(ctx: CheckContext, expected: str) -> list[Failure]:
    """The media type of the response (parameters such as ``charset`` ignored)."""
    got = ctx.exchange.media_type
    if got == expected:
        return []
    raw = ctx.exchange.header("content-type")
    return [
        Failure(
            f"expected Content-Type {expected}, got {raw!r}"
            if raw
            else f"expected Content-Type {expected}, got none"
        )
    ]


@check(
    "header",
    args=named_value_args(
        "The header name (any case).",
        [{"name": "content-type", "matches": "(?i)^application/json; ?charset=utf-8$"}],
    ),
    sides=("response", "upstream"),
)
def header(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """A header: present or absent, equal to a value, or matching a regular expression.

    On the response side a header of the response; on the upstream side a header of the forwarded request.
    """
    name = args["name"]
    value = ctx.forwarded.header(name) if ctx.forwarded is not None else ctx.exchange.header(name)
    wanted = f"header {name}: {args.get('equals')!r}"
    problems = named_value_problems(f"header {name}", value, args, repr(value), wanted)
    return [Failure(problem) for problem in problems]
