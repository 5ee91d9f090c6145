"""The calls probes make with each SDK, and how values cross between JSON and the SDK's own types.

Arguments: a case writes a call's keyword arguments as JSON. For ``google-genai``, ``contents`` (unless a
plain string) and ``config`` are read into the SDK's types from that JSON, as the SDK reads a response:
``inline_data.data`` in base64 becomes bytes, as ``Part.from_bytes`` gives, and a part replayed from an
earlier step's dump (``$from``) becomes the same ``Part``, thought signature included. ``openai`` takes
its JSON arguments as they are.

Results: what a call returned is dumped as the attributes user code reads, so that a JSON pointer is an
attribute path: ``/text`` is ``response.text``, ``/usage_metadata/prompt_token_count`` is
``response.usage_metadata.prompt_token_count``, ``/choices/0/message/content`` is
``completion.choices[0].message.content``. google-genai objects are dumped by field name with unset
fields left out, plus the accessors users call (``text``, ``function_calls``, ``parsed``); openai objects
with the fields the answer set. A stream is one dump per chunk; a listing one per item. An exception is
dumped as its class and the attributes the SDK documents (``code``, ``status``, ``message``, ``details``
for google-genai; ``status_code``, ``code``, ``type``, ``param``, ``message``, ``body`` for openai).
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from conformance.suite.model import SdkName

Shape = Literal["value", "stream", "items"]
"""What a call gives: one object, a stream iterator of chunks, or a listing of items."""

MAX_ITEMS = 500
"""Items of a listing read at most (a pager that never ends is cut here)."""
GENAI_ACCESSORS: tuple[str, ...] = ("text", "function_calls", "parsed")
"""Accessors of google-genai's GenerateContentResponse that user code calls, dumped beside its fields."""
GENAI_INTERNAL: frozenset[str] = frozenset({"sdk_http_response", "automatic_function_calling_history"})
"""Fields the SDK adds of its own (the raw HTTP headers, its own function-calling loop), left out."""
EXCEPTION_ATTRIBUTES: tuple[str, ...] = (
    "code",
    "status",
    "status_code",
    "type",
    "param",
    "message",
    "details",
    "body",
)
"""The attributes of an SDK exception that are dumped when it has them."""


@dataclass(frozen=True)
class CallSpec:
    """One call a probe may make: what it gives, and how to make it on a client."""

    shape: Shape
    make: Callable[[Any, dict[str, Any]], Awaitable[Any]]


def _genai(path: str) -> Callable[[Any, dict[str, Any]], Awaitable[Any]]:
    def make(client: Any, args: dict[str, Any]) -> Awaitable[Any]:
        method: Any = client.aio
        for name in path.split("."):
            method = getattr(method, name)
        result: Awaitable[Any] = method(**args)
        return result

    return make


def _openai(path: str) -> Callable[[Any, dict[str, Any]], Awaitable[Any]]:
    async def make(client: Any, args: dict[str, Any]) -> Any:
        method: Any = client
        for name in path.split("."):
            method = getattr(method, name)
        result = method(**args)
        # A paginator is iterated as it is; every other call returns an awaitable.
        return result if hasattr(result, "__aiter__") and not hasattr(result, "__await__") else await result

    return make


CALLS: dict[SdkName, dict[str, CallSpec]] = {
    "google-genai": {
        "models.generate_content": CallSpec("value", _genai("models.generate_content")),
        "models.generate_content_stream": CallSpec("stream", _genai("models.generate_content_stream")),
        "models.count_tokens": CallSpec("value", _genai("models.count_tokens")),
        "models.list": CallSpec("items", _genai("models.list")),
        "models.get": CallSpec("value", _genai("models.get")),
    },
    "openai": {
        "chat.completions.create": CallSpec("value", _openai("chat.completions.create")),
        "models.list": CallSpec("items", _openai("models.list")),
        "models.retrieve": CallSpec("value", _openai("models.retrieve")),
    },
}
"""Every call of ``suite.model.SDK_CALLS``; ``chat.completions.create`` streams with ``stream``."""

GENAI_CONFIGS: dict[str, str] = {
    "models.generate_content": "GenerateContentConfig",
    "models.generate_content_stream": "GenerateContentConfig",
    "models.count_tokens": "CountTokensConfig",
    "models.list": "ListModelsConfig",
    "models.get": "GetModelConfig",
}
"""The google-genai type each call's ``config`` argument is read into."""


def sdk_arguments(sdk: SdkName, call: str, args: dict[str, Any]) -> dict[str, Any]:
    """The call's keyword arguments in the SDK's own types (JSON read as the SDK reads JSON)."""
    if sdk != "google-genai":
        return dict(args)
    from google.genai import types

    out = dict(args)
    contents = out.get("contents")
    if isinstance(contents, (list, dict)):
        items = contents if isinstance(contents, list) else [contents]
        out["contents"] = [
            types.Content.model_validate_json(json.dumps(item)) if isinstance(item, dict) else item
            for item in items
        ]
    if isinstance(out.get("config"), dict):
        config_type = getattr(types, GENAI_CONFIGS[call])
        out["config"] = config_type.model_validate_json(json.dumps(out["config"]))
    return out


def qualified(cls: type) -> str:
    """A class's module-qualified name, e.g. ``google.genai.errors.ClientError``."""
    return f"{cls.__module__}.{cls.__qualname__}"


def class_names(value: Any) -> tuple[str, ...]:
    """The qualified names of a value's classes, most derived first (``object`` and below left out)."""
    return tuple(qualified(cls) for cls in type(value).__mro__ if cls.__module__ not in ("builtins",))


def dump(sdk: SdkName, value: Any) -> Any:
    """What user code reads of a returned object, as JSON values (see the module's docstring); pydantic's
    warnings about values that do not fit the SDK's declared types (a gateway's doing) are not printed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _dump(sdk, value)


def _dump(sdk: SdkName, value: Any) -> Any:
    if sdk == "google-genai" and hasattr(value, "model_dump"):
        out = value.model_dump(mode="json", exclude_none=True, exclude=set(GENAI_INTERNAL))
        for accessor in GENAI_ACCESSORS:
            if isinstance(getattr(type(value), accessor, None), property):
                shown = _quietly(value, accessor)
                if shown is not None:
                    out[accessor] = _json_value(shown, sdk)
        return out
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", exclude_unset=True)
    return _json_value(value, sdk)


def dump_exception(exc: BaseException) -> dict[str, Any]:
    """A raised exception: its class and the attributes the SDK documents on it."""
    out: dict[str, Any] = {"exception": qualified(type(exc))}
    for name in EXCEPTION_ATTRIBUTES:
        if hasattr(exc, name):
            out[name] = _json_value(getattr(exc, name, None))
    if "message" not in out:
        out["message"] = str(exc)
    return out


def _json_value(value: Any, sdk: SdkName = "openai") -> Any:
    """A value as JSON: SDK objects dumped, containers walked, anything else as its text."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "model_dump"):
        return _dump(sdk, value)
    if isinstance(value, dict):
        return {str(key): _json_value(item, sdk) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(item, sdk) for item in value]
    return json.loads(json.dumps(value, default=str))


def _quietly(value: Any, accessor: str) -> Any:
    """An accessor's value with the SDK's logged warnings silenced (``text`` warns on non-text parts)."""
    logger = logging.getLogger("google_genai")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return getattr(value, accessor)
    except Exception:  # an accessor that cannot answer is left out, as user code would see it fail
        return None
    finally:
        logger.setLevel(previous)


async def chunks_of(stream: Any) -> AsyncIterator[Any]:
    """The chunks of a stream iterator (closed when done, when it fails, or when the probe is cancelled)."""
    try:
        async for chunk in stream:
            yield chunk
    finally:
        close = getattr(stream, "close", None) or getattr(stream, "aclose", None)
        if close is not None:
            result = close()
            if hasattr(result, "__await__"):
                await result
