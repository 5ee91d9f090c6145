"""API-key authentication, shared by both protocols: ``?key=``, ``x-goog-api-key`` or Bearer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request

Verdict = Literal["ok", "missing", "invalid"]
KeySource = Literal["query", "x-goog-api-key", "bearer"]
Key = tuple[KeySource, str]


@dataclass(frozen=True)
class Credentials:
    """The non-empty keys a request presents, each with where it came from, in the order query,
    x-goog-api-key, Bearer; ``ignored`` holds keys the gateway was given but did not read."""

    keys: tuple[Key, ...]
    ignored: tuple[Key, ...] = ()

    def ignoring(self, source: KeySource) -> Credentials:
        """The same credentials with the keys from ``source`` left unread."""
        dropped = tuple(key for key in self.keys if key[0] == source)
        return Credentials(tuple(key for key in self.keys if key[0] != source), self.ignored + dropped)

    def verdict(self, api_key: str) -> Verdict:
        """Whether the keys read include the gateway's key: ok, missing, or invalid (a wrong key)."""
        if not self.keys:
            return "missing"
        return "ok" if api_key in (key for _, key in self.keys) else "invalid"


def presented(request: Request) -> Credentials:
    """The keys a request presents."""
    keys: list[Key] = []
    query_key = request.query_params.get("key", "").strip()
    if query_key:
        keys.append(("query", query_key))
    header_key = request.headers.get("x-goog-api-key", "").strip()
    if header_key:
        keys.append(("x-goog-api-key", header_key))
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        keys.append(("bearer", token.strip()))
    return Credentials(tuple(keys))
