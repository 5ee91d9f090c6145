"""API-key authentication, shared by both protocols: ``?key=``, ``x-goog-api-key`` or Bearer."""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request

Verdict = Literal["ok", "missing", "invalid"]


def presented_keys(request: Request, *, read_goog_header: bool = True) -> list[str]:
    """The non-empty keys a request presents, in the order query, x-goog-api-key, Bearer."""
    keys: list[str] = []
    query_key = request.query_params.get("key", "").strip()
    if query_key:
        keys.append(query_key)
    if read_goog_header:
        header_key = request.headers.get("x-goog-api-key", "").strip()
        if header_key:
            keys.append(header_key)
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        keys.append(token.strip())
    return keys


def authenticate(request: Request, api_key: str, *, read_goog_header: bool = True) -> Verdict:
    """Whether the request carries the gateway's key: ok, missing, or invalid (a wrong key)."""
    keys = presented_keys(request, read_goog_header=read_goog_header)
    if not keys:
        return "missing"
    return "ok" if api_key in keys else "invalid"
