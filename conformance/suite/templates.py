"""Request templates beyond ``$from``: replies to function calls, and provider trigger prompts.

* ``{$replies: {to: "N#/pointer", response: {...}}}`` as an element of a list is replaced by one
  reply per function call found at the pointer of step N's response: for a Gemini ``Content``, one
  ``{functionResponse: {name, id?, response}}`` part per ``functionCall`` part (the id only when the
  call has one); for an OpenAI assistant ``message``, one ``{role: tool, tool_call_id, content}``
  message per ``tool_calls`` entry, ``content`` being the response as a JSON string.
* ``{trigger:NAME}`` inside any string is replaced by the provider's trigger prompt ``NAME``
  (profile field ``triggers``); a case that needs a trigger the provider lacks is skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

REPLIES = "$replies"
TRIGGER = re.compile(r"\{trigger:(?P<name>[a-z0-9][a-z0-9-]*)\}")


class NoCallsError(Exception):
    """A ``$replies`` template points at a response part that holds no function call."""


def replies_to(turn: Any, response: Any) -> list[dict[str, Any]]:
    """The replies answering every function call of a Gemini Content or an OpenAI message."""
    if isinstance(turn, Mapping) and isinstance(turn.get("tool_calls"), list):
        replies = []
        for call in turn["tool_calls"]:
            if isinstance(call, Mapping):
                replies.append(
                    {"role": "tool", "tool_call_id": call.get("id", ""), "content": json.dumps(response)}
                )
        if replies:
            return replies
    parts = turn.get("parts") if isinstance(turn, Mapping) else None
    replies = []
    for part in parts if isinstance(parts, list) else []:
        call = part.get("functionCall", part.get("function_call")) if isinstance(part, Mapping) else None
        if isinstance(call, Mapping):
            reply: dict[str, Any] = {"name": call.get("name")}
            if call.get("id"):
                reply["id"] = call["id"]
            reply["response"] = response
            replies.append({"functionResponse": reply})
    if not replies:
        raise NoCallsError("holds no function call to reply to")
    return replies


def trigger_names(value: Any) -> Iterator[str]:
    """Every trigger name used in the strings of a template."""
    if isinstance(value, str):
        for match in TRIGGER.finditer(value):
            yield match.group("name")
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from trigger_names(item)
    elif isinstance(value, list):
        for item in value:
            yield from trigger_names(item)


def fill_triggers(value: Any, triggers: Mapping[str, str]) -> Any:
    """Replace every ``{trigger:NAME}`` with the provider's prompt (names must be known)."""
    if isinstance(value, str):
        return TRIGGER.sub(lambda m: triggers[m.group("name")], value)
    if isinstance(value, Mapping):
        return {key: fill_triggers(item, triggers) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_triggers(item, triggers) for item in value]
    return value


def fill_model(value: Any, model: str) -> Any:
    """Replace the ``{model}`` placeholder in every string of a request or expectation template."""
    if isinstance(value, str):
        return value.replace("{model}", model)
    if isinstance(value, list):
        return [fill_model(item, model) for item in value]
    if isinstance(value, dict):
        return {key: fill_model(item, model) for key, item in value.items()}
    return value
