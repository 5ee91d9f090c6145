"""The error envelope check: google.rpc Status on the native protocol, OpenAI's error object on the other."""

from __future__ import annotations

from typing import Any

from conformance.checks.predicates import show
from conformance.checks.registry import CheckContext, Failure, check

# google.rpc.Code name -> the HTTP status it maps to (google/rpc/code.proto).
RPC_HTTP_STATUS: dict[str, int] = {
    "OK": 200,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "UNAUTHENTICATED": 401,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
}


@check(
    "error",
    args={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "status": {
                "type": "string",
                "pattern": "^[A-Z_]+$",
                "description": "Gemini: the expected error.status (a google.rpc.Code name).",
            },
            "type": {"type": "string", "description": "OpenAI: the expected error.type."},
            "code": {"type": ["string", "integer"], "description": "OpenAI: the expected error.code."},
        },
        "examples": [{}, {"status": "INVALID_ARGUMENT"}],
    },
)
def error_envelope(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """The protocol's error envelope, consistent with the HTTP status; optionally its status, type or code.

    Gemini: a google.rpc Status whose ``code`` is the HTTP status and whose ``status`` is the canonical
    code for it. OpenAI: an ``error`` object. On a streaming request Google's array-wrapped
    ``[{"error": ...}]`` counts too.
    """
    body = ctx.body()
    http_status = ctx.exchange.status
    if isinstance(body, list) and len(body) == 1 and _streamed(ctx):
        body = body[0]  # Google wraps errors of the JSON-array stream in the array: [{"error": ...}]
    if ctx.protocol == "gemini":
        return _gemini(ctx, body, http_status, args)
    return _openai(ctx, body, args)


def _streamed(ctx: CheckContext) -> bool:
    steps = ctx.case.steps
    index = len(ctx.exchanges) - 1
    return index < len(steps) and steps[index].request.stream != "none"


def _gemini(ctx: CheckContext, body: Any, http_status: int | None, args: dict[str, Any]) -> list[Failure]:
    failures = [
        Failure(f"google.rpc error: {v.message}", v.pointer)
        for v in ctx.schemas.validate("gemini/Error", body)
    ]
    if failures:
        return failures
    error = body["error"]
    if error["code"] != http_status:
        failures.append(
            Failure(f"error.code is {error['code']}, expected the HTTP status {http_status}", "/error/code")
        )
    status = error["status"]
    mapped = RPC_HTTP_STATUS.get(status)
    if mapped is not None and mapped != http_status:
        failures.append(
            Failure(
                f"error.status {status} belongs with HTTP {mapped}, but the HTTP status is {http_status}",
                "/error/status",
            )
        )
    if "status" in args and status != args["status"]:
        failures.append(Failure(f"expected error.status {args['status']}, got {status}", "/error/status"))
    return failures


def _openai(ctx: CheckContext, body: Any, args: dict[str, Any]) -> list[Failure]:
    failures = [
        Failure(f"OpenAI error: {v.message}", v.pointer) for v in ctx.schemas.validate("openai/Error", body)
    ]
    if failures:
        return failures
    error = body["error"]
    for field in ("type", "code"):
        if field in args and error.get(field) != args[field]:
            failures.append(
                Failure(
                    f"expected error.{field} {show(args[field])}, got {show(error.get(field))}",
                    f"/error/{field}",
                )
            )
    return failures
