"""The rules a conversation with function calls must follow, as Gemini 3 enforces them.

The conversation is a list of canonical (camelCase) Gemini contents; the OpenAI route translates its
messages to this form first, as a gateway does. Violations are 400 INVALID_ARGUMENT with Google's
wording:

* a turn of function responses comes right after a model turn of function calls, and answers every
  call: one ``functionResponse`` part per ``functionCall`` part, all in one content (F17);
* a response ``id``, when the calls carry ids, names one of them (F20);
* in the current turn (everything after the last user content that is not only function responses),
  the first ``functionCall`` part of each model content carries its ``thoughtSignature`` (F13). This
  rule applies on the native route only; the OpenAI route does not require signatures.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.reference.protocols.errors import ProtocolError

SIGNATURE_DOCS = "https://ai.google.dev/gemini-api/docs/thought-signatures"
Refuse = Callable[[str, str], ProtocolError]


@dataclass(frozen=True)
class Reply:
    """A function response of the last user turn: which function, which call id, what it returned."""

    name: str
    response: Any
    id: str | None = None


def _parts(content: Mapping[str, Any], kind: str) -> list[tuple[int, Mapping[str, Any]]]:
    return [
        (n, part) for n, part in enumerate(content.get("parts") or []) if isinstance(part.get(kind), Mapping)
    ]


def _only_responses(content: Mapping[str, Any]) -> bool:
    parts = content.get("parts") or []
    return bool(parts) and all("functionResponse" in part for part in parts)


def check_function_turns(
    contents: Sequence[Mapping[str, Any]], refuse: Refuse, *, require_signatures: bool
) -> None:
    """Raise (through ``refuse(field, message)``) on the first rule the conversation breaks."""
    current_start = 0
    for index, content in enumerate(contents):
        if content.get("role") != "model" and not _only_responses(content):
            current_start = index + 1
    for index, content in enumerate(contents):
        responses = _parts(content, "functionResponse")
        if not responses:
            continue
        previous = contents[index - 1] if index > 0 else {}
        calls = _parts(previous, "functionCall") if previous.get("role") == "model" else []
        if not calls:
            raise refuse(
                f"contents[{index}]",
                "Please ensure that function response turn comes immediately after a function call turn.",
            )
        if len(responses) != len(calls):
            raise refuse(
                f"contents[{index}]",
                "Please ensure that the number of function response parts is equal to the "
                "number of function call parts of the function call turn.",
            )
        ids = {call["functionCall"].get("id") for _, call in calls} - {None, ""}
        for n, part in responses:
            given = part["functionResponse"].get("id")
            if ids and given and given not in ids:
                raise refuse(
                    f"contents[{index}].parts[{n}].function_response.id",
                    f"functionResponse id {json.dumps(given)} does not match the id of any functionCall"
                    " of the function call turn.",
                )
    if not require_signatures:
        return
    for index in range(current_start, len(contents)):
        content = contents[index]
        calls = _parts(content, "functionCall") if content.get("role") == "model" else []
        if calls and not calls[0][1].get("thoughtSignature"):
            name = calls[0][1]["functionCall"].get("name")
            raise refuse(
                f"contents[{index}].parts[{calls[0][0]}]",
                "Function call is missing a thought_signature in functionCall parts. This is required for "
                "tools to work correctly, and missing thought_signature may lead to degraded model "
                f"performance. Additional data, function call `default_api:{name}` , position {index + 1}. "
                f"Please refer to {SIGNATURE_DOCS} for more details.",
            )


def last_replies(contents: Sequence[Mapping[str, Any]]) -> tuple[Reply, ...]:
    """The function responses of the last content when it is a user turn of responses."""
    if not contents or contents[-1].get("role") == "model":
        return ()
    replies = []
    for _, part in _parts(contents[-1], "functionResponse"):
        response = part["functionResponse"]
        replies.append(Reply(str(response.get("name", "")), response.get("response", {}), response.get("id")))
    return tuple(replies)
