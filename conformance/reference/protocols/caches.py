"""Context caching on the native route: ``POST {p}/cachedContents``, ``GET`` and ``DELETE
{p}/cachedContents/{id}``, and what a generateContent request naming a cache (``cachedContent``) reads.

A cache holds contents (and a system instruction) for one model; it must count at least
``MIN_CACHE_TOKENS`` tokens (Gemini 2.5 Flash's minimum), and lives ``ttl`` seconds (default one hour).
A request naming a cache that does not exist (or has expired) is 403 PERMISSION_DENIED, as Google
answers; naming another model's cache is 400. The caches live in memory, per gateway.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from conformance.reference.model.engine import Prompt, count_prompt
from conformance.reference.model.ids import derive_id
from conformance.reference.protocols.errors import GoogleError, ProtocolError, invalid_argument
from conformance.reference.protocols.gemini_request import (
    ParseMode,
    check_request,
    parse_message,
    to_prompt,
)

MIN_CACHE_TOKENS = 1024
DEFAULT_TTL = 3600.0
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")
NOT_FOUND_MESSAGE = "CachedContent not found (or permission denied)"


@dataclass(frozen=True)
class Cache:
    """One cache: its name, model, what it holds, when it was made and when it expires."""

    name: str
    model: str
    prompt: Prompt
    tokens: int
    created: float
    expires: float
    display_name: str = ""

    def resource(self) -> dict[str, Any]:
        """The CachedContent resource as Google renders it."""
        body: dict[str, Any] = {"name": self.name, "model": f"models/{self.model}"}
        if self.display_name:
            body["displayName"] = self.display_name
        body.update(
            createTime=_timestamp(self.created),
            updateTime=_timestamp(self.created),
            expireTime=_timestamp(self.expires),
            usageMetadata={"totalTokenCount": self.tokens},
        )
        return body


@dataclass
class CacheStore:
    """The caches of one reference gateway, by name."""

    caches: dict[str, Cache] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, cache: Cache) -> None:
        with self.lock:
            self.caches[cache.name] = cache

    def get(self, name: str) -> Cache | None:
        """The cache of that name, unless it is unknown or expired."""
        with self.lock:
            found = self.caches.get(name)
            if found is not None and found.expires <= time.time():
                del self.caches[name]
                found = None
        return found

    def delete(self, name: str) -> bool:
        with self.lock:
            return self.caches.pop(name, None) is not None


def _timestamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def not_found() -> GoogleError:
    """The native 403 for a cache that does not exist (Google does not tell missing from forbidden)."""
    return GoogleError(403, NOT_FOUND_MESSAGE)


def cache_name(value: str) -> str:
    """A cache's resource name, ``cachedContents/<id>``, however the request spelled it."""
    return value if value.startswith("cachedContents/") else f"cachedContents/{value}"


def read_cache(body: Any, mode: ParseMode, known_model: Mapping[str, Any], now: float) -> Cache:
    """A cache from a ``cachedContents.create`` body; raises a native 400 when Google would.

    ``known_model`` maps the catalogue's model ids to anything (a missing model is a 400 here).
    """
    request = parse_message(body, "CachedContent", mode)
    model = str(request.get("model", "")).removeprefix("models/")
    if not model:
        message = "* CachedContent.model: model is not specified"
        raise ProtocolError(invalid_argument(message, [("model", "model is not specified")]))
    if model not in known_model:
        message = (
            f"models/{model} is not found for API version v1beta, or is not supported for "
            "createCachedContent."
        )
        raise ProtocolError(GoogleError(404, message))
    check_request(
        {"contents": request.get("contents", []), "systemInstruction": request.get("systemInstruction")}
        if "systemInstruction" in request
        else {"contents": request.get("contents", [])},
        "CachedContent",
        mode.strict,
    )
    prompt = to_prompt(request["contents"], request.get("systemInstruction"))
    tokens = count_prompt(prompt).total
    if tokens < MIN_CACHE_TOKENS:
        message = (
            f"Cached content is too small. total_token_count={tokens}, "
            f"min_total_token_count={MIN_CACHE_TOKENS}"
        )
        raise ProtocolError(invalid_argument(message, [("contents", message)]))
    ttl = _seconds(request.get("ttl"))
    name = "cachedContents/" + derive_id("cachedContent", model, str(now), str(tokens), length=28).lower()
    name = name.replace("-", "0").replace("_", "1")
    return Cache(name, model, prompt, tokens, now, now + ttl, str(request.get("displayName", "")))


def _seconds(ttl: Any) -> float:
    if ttl is None:
        return DEFAULT_TTL
    match = _DURATION.match(str(ttl).strip())
    if match is None:
        message = (
            f"Invalid value at 'cached_content.ttl' (type.googleapis.com/google.protobuf.Duration), {ttl!r}"
        )
        raise ProtocolError(invalid_argument(message, [("ttl", message)]))
    return float(match.group(1))


def with_cache(prompt: Prompt, cache: Cache) -> Prompt:
    """The prompt a request naming ``cache`` asks: the cached turns first, the cached system instruction
    unless the request has its own."""
    return Prompt(turns=cache.prompt.turns + prompt.turns, system=prompt.system or cache.prompt.system)


def model_mismatch(request_model: str, cache: Cache) -> GoogleError:
    """The native 400 for a request whose model is not the cache's."""
    message = (
        f"Model used by GenerateContent request (models/{request_model}) and CachedContent "
        f"(models/{cache.model}) has to be the same."
    )
    return invalid_argument(message, [("cached_content", message)])
