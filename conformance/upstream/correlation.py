"""The correlation tag: how a request that reaches the upstream names the case attempt that caused it.

A tag is ``[conformance:<16 hex digits>]``, or ``[conformance:<16 hex digits>:<scenario>]`` when the step
asks the upstream to answer in a scenario's way. It is added on a line of its own at the end of the last
user text of a request (a Gemini text part, an OpenAI message's content), because that is content every
gateway must forward: a header may be dropped, field names rewritten between camelCase and snake_case,
OpenAI messages translated into native contents and optional fields left out, but the user's words reach the
model. The upstream finds the tag in any string of the forwarded body and removes it (with the line break
before it) before the model reads the request, so the answer, the token counts and everything a case judges
are what they would have been without it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

TAG = re.compile(r"(?:\r?\n)?\[conformance:(?P<nonce>[0-9a-f]{16})(?::(?P<scenario>[a-z0-9][a-z0-9-]*))?\]")
"""A tag as it appears in a forwarded text, with the line break the suite put before it."""
NONCE = re.compile(r"^[0-9a-f]{16}$")


@dataclass(frozen=True)
class Tag:
    """A tag's nonce (unique per request the suite sends) and the scenario it asks for, if any."""

    nonce: str
    scenario: str | None = None

    def __post_init__(self) -> None:
        if not NONCE.match(self.nonce):
            raise ValueError(f"a tag's nonce is 16 lowercase hex digits, not {self.nonce!r}")

    @property
    def text(self) -> str:
        """The tag as it is written into a prompt."""
        suffix = f":{self.scenario}" if self.scenario else ""
        return f"[conformance:{self.nonce}{suffix}]"


def tagged_text(text: str, tag: Tag) -> str:
    """``text`` with the tag on a line of its own after it."""
    return f"{text}\n{tag.text}"


def tag_request(protocol: str, body: Any, tag: Tag) -> tuple[Any, bool]:
    """The request body with the tag in its last user text, and whether there was a text to carry it.

    Gemini: the last text part (not a thought) of the last content that is not the model's, in
    ``contents`` or a countTokens ``generateContentRequest``, else of the system instruction. OpenAI: the
    content of the last user message (a string, or its last text part), else of a system message. The body
    given is not changed.
    """
    if not isinstance(body, Mapping):
        return body, False
    copied = copy.deepcopy(dict(body))
    placed = _tag_native(copied, tag) if protocol == "gemini" else _tag_openai(copied, tag)
    return (copied, True) if placed else (body, False)


def _first(mapping: Mapping[str, Any], *names: str) -> Any:
    for name in names:
        if name in mapping:
            return mapping[name]
    return None


def _tag_parts(content: Any, tag: Tag) -> bool:
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list):
        return False
    for part in reversed(parts):
        if isinstance(part, dict) and isinstance(part.get("text"), str) and not part.get("thought"):
            part["text"] = tagged_text(part["text"], tag)
            return True
    return False


def _tag_native(body: dict[str, Any], tag: Tag) -> bool:
    holder: Any = body
    inner = _first(body, "generateContentRequest", "generate_content_request")
    if isinstance(inner, dict) and "contents" not in body:
        holder = inner
    contents = holder.get("contents")
    if isinstance(contents, list):
        for content in reversed(contents):
            if isinstance(content, dict) and content.get("role") != "model" and _tag_parts(content, tag):
                return True
    return _tag_parts(_first(holder, "systemInstruction", "system_instruction"), tag)


def _tag_message(message: dict[str, Any], tag: Tag) -> bool:
    content = message.get("content")
    if isinstance(content, str):
        message["content"] = tagged_text(content, tag)
        return True
    if isinstance(content, list):
        for part in reversed(content):
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                part["text"] = tagged_text(part["text"], tag)
                return True
    return False


def _tag_openai(body: dict[str, Any], tag: Tag) -> bool:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return False
    for roles in (("user",), ("system", "developer")):
        for message in reversed(messages):
            if isinstance(message, dict) and message.get("role") in roles and _tag_message(message, tag):
                return True
    return False


def strip_tags(value: Any) -> tuple[Any, list[Tag]]:
    """``value`` with every tag removed from its strings, and the tags found, in document order."""
    found: list[Tag] = []

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            if "[conformance:" not in item:
                return item
            for match in TAG.finditer(item):
                found.append(Tag(match.group("nonce"), match.group("scenario")))
            return TAG.sub("", item)
        if isinstance(item, dict):
            return {key: walk(sub) for key, sub in item.items()}
        if isinstance(item, list):
            return [walk(sub) for sub in item]
        return item

    return walk(value), found
