"""The whole answer of a stream: its events merged into the one response a client library builds from them.

A Gemini stream becomes a GenerateContentResponse: each candidate's parts in the order they came, where
consecutive text parts of the same kind (answer or thought) are joined into one (a thoughtSignature riding
on one of them stays on the joined part); every other member is the last value the stream sent (the last
event's usage is the authoritative one). An OpenAI stream becomes a chat.completion: each choice's content
deltas joined, its tool calls rebuilt by index (id and name from their first delta, the argument pieces
joined), its finish_reason the one it ended with; the usage is the usage chunk's.

Templates read a streamed step's response through this (``$from``, ``$replies``), and ``events: {which:
whole}`` judges it with body checks.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from conformance.errors import Undecodable
from conformance.streams.view import StreamKind, view_of
from conformance.wire.exchange import Exchange

_TEXT_KEYS = frozenset({"text", "thought", "thoughtSignature"})


def _text_part(part: Any) -> bool:
    return isinstance(part, dict) and isinstance(part.get("text"), str) and set(part) <= _TEXT_KEYS


def _append_part(parts: list[dict[str, Any]], part: Any) -> None:
    if not isinstance(part, dict):
        return
    last = parts[-1] if parts else None
    if (
        last is not None
        and _text_part(last)
        and _text_part(part)
        and bool(last.get("thought")) == bool(part.get("thought"))
    ):
        last["text"] += part["text"]
        if "thoughtSignature" in part:
            last["thoughtSignature"] = part["thoughtSignature"]
        return
    parts.append(copy.deepcopy(part))


def merge_gemini(events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The GenerateContentResponse a native stream's events add up to."""
    whole: dict[str, Any] = {}
    candidates: dict[int, dict[str, Any]] = {}
    for event in events:
        for key, value in event.items():
            if key != "candidates":
                whole[key] = copy.deepcopy(value)
        for position, candidate in enumerate(event.get("candidates") or []):
            if not isinstance(candidate, Mapping):
                continue
            index = candidate.get("index", position)
            merged = candidates.setdefault(index if isinstance(index, int) else position, {})
            for key, value in candidate.items():
                if key != "content":
                    merged[key] = copy.deepcopy(value)
            content = candidate.get("content")
            if isinstance(content, Mapping):
                target = merged.setdefault("content", {})
                if "role" in content:
                    target["role"] = content["role"]
                parts = content.get("parts")
                if isinstance(parts, list):
                    collected = target.setdefault("parts", [])
                    for part in parts:
                        _append_part(collected, part)
    if candidates:
        whole = {"candidates": [candidates[n] for n in sorted(candidates)], **whole}
    return whole


def merge_openai(chunks: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The chat.completion an OpenAI stream's chunks add up to."""
    whole: dict[str, Any] = {}
    choices: dict[int, dict[str, Any]] = {}
    calls: dict[int, dict[int, dict[str, Any]]] = {}
    for chunk in chunks:
        for key in ("id", "created", "model", "system_fingerprint", "service_tier"):
            if key in chunk and key not in whole:
                whole[key] = chunk[key]
        if chunk.get("usage") is not None:
            whole["usage"] = copy.deepcopy(chunk["usage"])
        for position, choice in enumerate(chunk.get("choices") or []):
            if not isinstance(choice, Mapping):
                continue
            index = choice.get("index", position)
            index = index if isinstance(index, int) else position
            merged = choices.setdefault(index, {"index": index, "message": {"role": "assistant"}})
            message = merged["message"]
            raw_delta = choice.get("delta")
            delta: Mapping[str, Any] = raw_delta if isinstance(raw_delta, Mapping) else {}
            for key, value in delta.items():
                if key == "content" and isinstance(value, str):
                    message["content"] = (message.get("content") or "") + value
                elif key == "tool_calls" and isinstance(value, list):
                    _add_tool_call_deltas(calls.setdefault(index, {}), value)
                elif key not in ("role", "content", "tool_calls") and value is not None:
                    message[key] = copy.deepcopy(value)
            if choice.get("finish_reason") is not None:
                merged["finish_reason"] = choice["finish_reason"]
            if choice.get("logprobs") is not None:
                merged["logprobs"] = copy.deepcopy(choice["logprobs"])
    for index, found in calls.items():
        choices[index]["message"]["tool_calls"] = [found[n] for n in sorted(found)]
    for choice in choices.values():
        choice["message"].setdefault("content", None)
        choice.setdefault("finish_reason", None)
    return {"object": "chat.completion", **whole, "choices": [choices[n] for n in sorted(choices)]}


def _add_tool_call_deltas(calls: dict[int, dict[str, Any]], deltas: list[Any]) -> None:
    for position, delta in enumerate(deltas):
        if not isinstance(delta, Mapping):
            continue
        index = delta.get("index", position)
        call = calls.setdefault(
            index if isinstance(index, int) else position,
            {"id": None, "type": "function", "function": {"name": None, "arguments": ""}},
        )
        if delta.get("id") is not None:
            call["id"] = delta["id"]
        raw_function = delta.get("function")
        function: Mapping[str, Any] = raw_function if isinstance(raw_function, Mapping) else {}
        if function.get("name") is not None:
            call["function"]["name"] = function["name"]
        if isinstance(function.get("arguments"), str):
            call["function"]["arguments"] += function["arguments"]
        for key, value in delta.items():
            if key not in ("index", "id", "type", "function"):
                call[key] = copy.deepcopy(value)


def merge(protocol: str, events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The whole answer of a stream of ``protocol`` (``gemini`` or ``openai``)."""
    return merge_gemini(events) if protocol == "gemini" else merge_openai(events)


def whole_of(exchange: Exchange, kind: StreamKind, protocol: str) -> dict[str, Any]:
    """The whole answer of a streamed exchange; raises ``Undecodable`` when no event holds a JSON object."""
    values = [item.value for item in view_of(exchange, kind).json_items if isinstance(item.value, dict)]
    if not values:
        raise Undecodable(f"no event of the {kind} stream holds a JSON object")
    return merge(protocol, values)
