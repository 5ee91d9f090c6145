"""Request templates: values of earlier responses, replies to function calls, trigger prompts, the model.

* ``{$from: "N#/pointer"}`` is the value at that pointer of step N's response (a later step replays
  part of an earlier answer, e.g. the model turn with its thoughtSignature and functionCall ids).
* ``{$text_of: N}`` is the answer text of step N's response (the text parts of its first candidate or
  choice joined, thought parts left out): what a billing case counts with ``countTokens``.
* ``{$replies: {to: "N#/pointer", response: {...}}}`` as an element of a list is replaced by one
  reply per function call found at the pointer of step N's response: for a Gemini ``Content``, one
  ``{functionResponse: {name, id?, response}}`` part per ``functionCall`` part (the id only when the
  call has one); for an OpenAI assistant ``message``, one ``{role: tool, tool_call_id, content}``
  message per ``tool_calls`` entry, ``content`` being the response as a JSON string.
* ``{trigger:NAME}`` inside any string is replaced by the provider's trigger prompt ``NAME``
  (profile field ``triggers``); a case that needs a trigger the provider lacks is skipped.
* ``{model}`` inside any string of a request or an expectation is the model under test.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from conformance import pointer as jp

FROM = "$from"
TEXT_OF = "$text_of"
REPLIES = "$replies"
TRIGGER = re.compile(r"\{trigger:(?P<name>[a-z0-9][a-z0-9-]*)\}")


class NoCallsError(Exception):
    """A ``$replies`` template points at a response part that holds no function call."""


class StepReferenceError(Exception):
    """A later step needs a value that an earlier response did not have."""


StepBody = Callable[[int], Any]
"""The JSON body of step N's response (raises ``conformance.errors.Undecodable`` when it is not JSON)."""
StepText = Callable[[int], "str | None"]
"""The answer text of step N's response (None when it has none)."""


def fill_from(template: Any, body_of: StepBody, text_of: StepText | None = None) -> Any:
    """Replace every ``$from``, ``$text_of`` and ``$replies`` of a request template with values of earlier
    responses."""
    if isinstance(template, dict):
        if set(template) == {FROM}:
            step_text, _, pointer = template[FROM].partition("#")
            step = int(step_text)
            found = jp.resolve(body_of(step), pointer)
            if not found:
                raise StepReferenceError(f"step {step} response has nothing at {pointer} to send on")
            return found[0][1]
        if set(template) == {TEXT_OF}:
            step = int(template[TEXT_OF])
            text = text_of(step) if text_of is not None else None
            if not text:
                raise StepReferenceError(f"step {step} response has no answer text to send on")
            return text
        return {key: fill_from(value, body_of, text_of) for key, value in template.items()}
    if isinstance(template, list):
        filled: list[Any] = []
        for item in template:
            if isinstance(item, dict) and set(item) == {REPLIES}:
                filled.extend(_replies(item[REPLIES], body_of))
            else:
                filled.append(fill_from(item, body_of, text_of))
        return filled
    return template


def _replies(spec: dict[str, Any], body_of: StepBody) -> list[dict[str, Any]]:
    """The ``$replies`` of a list: one reply per function call of an earlier response."""
    ref = spec["to"]
    turn = fill_from({FROM: ref}, body_of)
    try:
        return replies_to(turn, fill_from(spec.get("response", {}), body_of))
    except NoCallsError as exc:
        step, _, pointer = ref.partition("#")
        raise StepReferenceError(f"step {step} response at {pointer} {exc}") from None


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
