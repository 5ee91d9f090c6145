"""The check of an SDK probe step: the official SDK returned what was expected, or raised the documented
exception."""

from __future__ import annotations

import json
from typing import Any

from conformance.checks.registry import CheckContext, Failure, check
from conformance.wire.exchange import ProbeExchange

CLASS_NAME = {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_.]*$"}


def names_match(name: str, classes: tuple[str, ...]) -> bool:
    """Whether ``name`` (``ClientError``, ``errors.ClientError`` or the qualified name) names one of the
    classes (qualified names, the class and its bases)."""
    return any(qualified == name or qualified.endswith("." + name) for qualified in classes)


@check(
    "sdk",
    args={
        "type": "object",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
        "properties": {
            "returns": {
                **CLASS_NAME,
                "description": "The class of the returned object (of each chunk of a stream, of each item of "
                "a listing), e.g. GenerateContentResponse.",
            },
            "raises": {
                **CLASS_NAME,
                "description": "The documented exception class (or a base of it), e.g. ClientError or "
                "AuthenticationError.",
            },
        },
        "examples": [{"returns": "GenerateContentResponse"}, {"raises": "AuthenticationError"}],
    },
)
def sdk(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """An SDK probe's call returned an object of a class, or raised an exception of a class.

    ``returns`` fails when the SDK raised, naming the exception and its message, or returned another
    class (a stream or listing that yielded nothing fails too). ``raises`` fails when it returned, or
    raised another class. The body the rest of the step's checks read is what the SDK returned (its
    attributes, one dump per chunk of a stream) or raised (the exception's attributes).
    """
    exchange = ctx.exchange
    if not isinstance(exchange, ProbeExchange):
        return [Failure("sdk judges an SDK probe step; this step sent a raw HTTP request")]
    if "returns" in args:
        wanted = args["returns"]
        if exchange.outcome == "raised":
            return [Failure(f"{exchange.sdk} raised {_raised(exchange)}; expected it to return {wanted}")]
        if not exchange.classes:
            return [Failure(f"{exchange.sdk} returned an empty stream or listing; expected {wanted} items")]
        if not names_match(wanted, exchange.classes):
            return [Failure(f"{exchange.sdk} returned {exchange.classes[0]}, expected {wanted}")]
        return []
    wanted = args["raises"]
    if exchange.outcome == "returned":
        got = exchange.classes[0] if exchange.classes else "nothing"
        return [Failure(f"{exchange.sdk} returned {got}; expected it to raise {wanted}")]
    if not names_match(wanted, exchange.classes):
        return [Failure(f"{exchange.sdk} raised {_raised(exchange)}; expected {wanted}")]
    return []


def _raised(exchange: ProbeExchange) -> str:
    """The exception a probe's SDK raised, the HTTP status it got and the exception's message:
    ``google.genai.errors.ClientError (HTTP 400): API key not valid ...``."""
    name = exchange.classes[0] if exchange.classes else "an exception"
    if exchange.status is not None:
        name += f" (HTTP {exchange.status})"
    try:
        message = json.loads(exchange.body).get("message")
    except (ValueError, AttributeError):
        message = None
    text = str(message) if message else ""
    if len(text) > 300:
        text = text[:297] + "..."
    return f"{name}: {text}" if text else name
