"""Checks on the HTTP envelope: status and headers."""

from __future__ import annotations

import re
from typing import Any

from conformance.checks.registry import CheckContext, Failure, check


@check("status")
def status(ctx: CheckContext, expected: int | list[int]) -> list[Failure]:
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


@check("content_type")
def content_type(ctx: CheckContext, expected: str) -> list[Failure]:
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


@check("header")
def header(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    name = args["name"]
    value = ctx.exchange.header(name)
    if "exists" in args:
        if args["exists"] and value is None:
            return [Failure(f"expected header {name}, absent")]
        if not args["exists"] and value is not None:
            return [Failure(f"expected no header {name}, got {value!r}")]
    if "equals" in args and value != args["equals"]:
        return [Failure(f"expected header {name}: {args['equals']!r}, got {value!r}")]
    if "matches" in args and (value is None or not re.search(args["matches"], value)):
        return [Failure(f"expected header {name} matching /{args['matches']}/, got {value!r}")]
    return []
