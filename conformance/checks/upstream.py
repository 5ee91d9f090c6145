"""Checks of a two-sided run: on what the gateway forwarded (path, method, query, keys, values as sent), and
on the response (it does not reveal the upstream)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from conformance import pointer as jp
from conformance.checks.predicates import evaluate, named_value_args, named_value_problems, show
from conformance.checks.registry import CheckContext, Failure, check, ref
from conformance.errors import Undecodable
from conformance.suite.model import Side
from conformance.upstream.ledger import ForwardedRequest

UPSTREAM_ONLY: tuple[Side, ...] = ("upstream",)
_DATA_URI = re.compile(r"^data:(?P<type>[^;,]*)(?P<params>(?:;[^;,]*)*),(?P<data>.*)$", re.DOTALL)


def _forwarded(ctx: CheckContext) -> ForwardedRequest:
    if ctx.forwarded is None:
        raise Undecodable("no forwarded request to judge (an upstream check used on the response side)")
    return ctx.forwarded


@check(
    "path",
    args={
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {
            "equals": {"type": "string"},
            "matches": {"type": "string", "description": "A regular expression searched for in the path."},
        },
        "examples": [{"matches": "^/v1beta/models/[^/:]+:generateContent$"}],
    },
    sides=UPSTREAM_ONLY,
)
def path(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """The path the gateway forwarded to (``{model}`` is the model under test), without the query."""
    got = _forwarded(ctx).path
    return [Failure(f"forwarded to path {got!r}: {problem}") for problem in evaluate(got, args)]


@check(
    "method",
    args={"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"], "examples": ["POST"]},
    sides=UPSTREAM_ONLY,
)
def method(ctx: CheckContext, expected: str) -> list[Failure]:
    """The HTTP method of the forwarded request."""
    got = _forwarded(ctx).method
    return [] if got == expected else [Failure(f"expected a {expected} upstream, got {got}")]


@check(
    "query",
    args=named_value_args(
        "The query parameter's name.", [{"name": "alt", "equals": "sse"}, {"name": "key", "exists": False}]
    ),
    sides=UPSTREAM_ONLY,
)
def query(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """A query parameter of the forwarded URL: present or absent, equal to a value, or matching a pattern.

    A value is never shown when the parameter is ``key`` (it is a secret).
    """
    name = args["name"]
    values = _forwarded(ctx).query_values(name)
    value = values[0] if values else None
    shown = "[a value]" if name == "key" else (show(value) if value is not None else "none")
    label = f"query parameter {name} in the forwarded URL"
    wanted = f"query parameter {name}={args.get('equals')}"
    return [Failure(problem) for problem in named_value_problems(label, value, args, shown, wanted)]


def _presented(request: ForwardedRequest, key: str) -> list[str]:
    """Where a key is presented as a credential: ``query``, ``x-goog-api-key``, ``bearer``."""
    where = []
    if key in request.query_values("key"):
        where.append("query")
    if request.header("x-goog-api-key") == key:
        where.append("x-goog-api-key")
    scheme, _, token = (request.header("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip() == key:
        where.append("bearer")
    return where


def _mentions(request: ForwardedRequest, secret: str) -> list[str]:
    """Every place of a forwarded request whose text holds a secret (never the secret itself)."""
    places = [f"query parameter {name}" for name, value in request.query if secret in value]
    places += [f"header {name}" for name, value in request.headers if secret in value]
    if secret.encode("utf-8") in request.body:
        places.append("body")
    return places


@check(
    "credentials",
    args={
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {
            "upstream_key": {
                "enum": ["header", "x-goog-api-key", "bearer"],
                "description": "Where the upstream's key must be presented: header (x-goog-api-key or an "
                "Authorization Bearer), or that one header; never in the URL.",
            },
            "client_key": {
                "const": "absent",
                "description": "The key the client gave the gateway appears nowhere in the request.",
            },
        },
        "examples": [{"upstream_key": "header", "client_key": "absent"}],
    },
    sides=UPSTREAM_ONLY,
)
def credentials(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """The keys the forwarded request presents: the upstream's in a header (never the URL), the client's
    nowhere.

    A key in the URL lands in access logs and proxies on the way; the client's key belongs to the gateway,
    and forwarding it hands it to Google (and gives Google two credentials). No key is ever shown.
    """
    if ctx.upstream is None:
        raise Undecodable("the run has no upstream whose key could be looked for")
    request = _forwarded(ctx)
    failures: list[Failure] = []
    wanted = args.get("upstream_key")
    if wanted is not None:
        where = _presented(request, ctx.upstream.key)
        allowed = ("x-goog-api-key", "bearer") if wanted == "header" else (wanted,)
        if "query" in where:
            failures.append(Failure("the upstream key is sent in the URL (?key=), where logs keep it"))
        if not any(place in allowed for place in where):
            shown = " or ".join(allowed)
            failures.append(
                Failure(
                    f"the upstream key is not presented in {shown}"
                    + (f" (only in {', '.join(where)})" if where else "")
                )
            )
    if args.get("client_key") == "absent":
        for key in ctx.upstream.client_keys:
            places = _mentions(request, key)
            if places:
                failures.append(Failure(f"the client's key is forwarded upstream, in {', '.join(places)}"))
    return failures


def _bytes_of(value: Any) -> bytes | None:
    """The bytes a base64 string or a base64 data URI holds (standard or URL-safe), or None."""
    if not isinstance(value, str):
        return None
    match = _DATA_URI.match(value)
    text = match.group("data") if match is not None else value
    compact = "".join(text.split()).rstrip("=")
    try:
        return base64.b64decode(
            compact.replace("-", "+").replace("_", "/") + "=" * (-len(compact) % 4), validate=True
        )
    except (binascii.Error, ValueError):
        return None


def _describe_bytes(value: Any) -> str:
    data = _bytes_of(value)
    return f"{len(data)} bytes" if data is not None else f"not base64 ({show(value, 40)})"


@check(
    "same_as_sent",
    args={
        "type": "object",
        "required": ["at"],
        "additionalProperties": False,
        "properties": {
            "at": ref("pointer"),
            "sent": {**ref("pointer"), "description": "Where in the body the suite sent (default: at)."},
            "bytes": {
                "type": "boolean",
                "description": "Compare the bytes that base64 strings or data URIs hold, not the text.",
            },
        },
        "examples": [
            {"at": "/contents/1"},
            {
                "at": "/contents/0/parts/1/inlineData/data",
                "sent": "/messages/0/content/1/image_url/url",
                "bytes": True,
            },
        ],
    },
    sides=UPSTREAM_ONLY,
)
def same_as_sent(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """The value at a pointer of the forwarded request is the value the suite sent (at the same pointer, or
    at ``sent``).

    With ``bytes: true`` both are base64 (a data URI's payload counts) and must hold the same bytes. The
    suite's correlation tag is left out of both.
    """
    at, sent_at = args["at"], args.get("sent", args["at"])
    forwarded = [value for _, value in ctx.lookup(at)]
    sent = [value for _, value in jp.resolve(ctx.sent_body(), sent_at)]
    if not sent:
        raise Undecodable(f"the request sent has nothing at {sent_at} to compare with")
    if not forwarded:
        return [Failure(f"expected {at} to be forwarded as sent, found nothing", at)]
    if args.get("bytes"):
        if [_bytes_of(v) for v in forwarded] == [_bytes_of(v) for v in sent] and None not in map(
            _bytes_of, sent
        ):
            return []
        return [
            Failure(
                f"{at}: forwarded {', '.join(map(_describe_bytes, forwarded))}, sent "
                f"{', '.join(map(_describe_bytes, sent))} (different bytes)",
                at,
            )
        ]
    if not evaluate(forwarded, {"equals": sent}):
        return []
    return [
        Failure(
            f"{at}: forwarded {show(forwarded[0] if len(forwarded) == 1 else forwarded)}, "
            f"sent {show(sent[0] if len(sent) == 1 else sent)}",
            at,
        )
    ]


@check("upstream_hidden", args={"const": True, "examples": [True]})
def upstream_hidden(ctx: CheckContext, _: Any) -> list[Failure]:
    """No response header or body reveals the upstream: neither its address (host and port) nor its key.

    One real gateway sends its upstream base URL in a response header (``x-litellm-model-api-base``); an
    error message may quote the URL it failed to reach, key included.
    """
    if ctx.upstream is None:
        raise Undecodable("the run has no upstream whose address could be looked for")
    secrets = {"the upstream's address": ctx.upstream.address, "the upstream key": ctx.upstream.key}
    exchange = ctx.exchange
    failures: list[Failure] = []
    for what, secret in secrets.items():
        for name, value in exchange.headers:
            if secret in value or secret in name:
                failures.append(Failure(f"response header {name} reveals {what}"))
        if secret.encode("utf-8") in exchange.body:
            failures.append(Failure(f"the response body reveals {what}"))
    return failures
