"""The OpenAI route's tool calling: messages translated to native contents (as a gateway does, so
the same function-turn rules apply), and tool calls rendered in OpenAI's shape.

An assistant message's ``tool_calls`` become ``functionCall`` parts (``function.arguments`` decoded,
``extra_content.google.thought_signature`` kept as the part's ``thoughtSignature``); consecutive
``tool`` messages become one user content of ``functionResponse`` parts, named after the call their
``tool_call_id`` answers, the response being the content decoded when it is a JSON object and
``{"content": <text>}`` otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from conformance.reference.model.engine import Completion, FunctionCall
from conformance.reference.model.ids import derive_id
from conformance.reference.protocols.errors import ProtocolError, openai_invalid

TOOL_CALL_ID_LENGTH = 24


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p.get("text", "") for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str)
        )
    return ""


def _call_part(call: Any, param: str) -> dict[str, Any]:
    function = call.get("function") if isinstance(call, Mapping) else None
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        raise ProtocolError(
            openai_invalid(
                f"Missing required parameter: '{param}.function.name'.",
                f"{param}.function.name",
                "missing_required_parameter",
            )
        )
    raw = function.get("arguments", "{}")
    try:
        args = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError:
        args = None
    if not isinstance(args, dict):
        raise ProtocolError(
            openai_invalid(
                f"Invalid '{param}.function.arguments': expected a string holding a JSON object.",
                f"{param}.function.arguments",
            )
        )
    part: dict[str, Any] = {"functionCall": {"name": function["name"], "args": args, "id": call.get("id")}}
    extra = call.get("extra_content")
    signature = extra.get("google", {}).get("thought_signature") if isinstance(extra, Mapping) else None
    if isinstance(signature, str):
        part["thoughtSignature"] = signature
    return part


def messages_to_contents(messages: Sequence[Any]) -> list[dict[str, Any]]:
    """The chat messages as native contents (system messages left out)."""
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for index, message in enumerate(messages):
        role = message.get("role")
        param = f"messages[{index}]"
        if role in ("system", "developer"):
            continue
        if role == "assistant":
            parts: list[dict[str, Any]] = (
                [{"text": _text(message.get("content"))}] if _text(message.get("content")) else []
            )
            for n, call in enumerate(message.get("tool_calls") or []):
                part = _call_part(call, f"{param}.tool_calls[{n}]")
                names[str(part["functionCall"]["id"])] = part["functionCall"]["name"]
                parts.append(part)
            contents.append({"role": "model", "parts": parts or [{"text": ""}]})
        elif role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str) or call_id not in names:
                raise ProtocolError(
                    openai_invalid(
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding"
                        " message with 'tool_calls'.",
                        f"{param}.role",
                    )
                )
            text = _text(message.get("content"))
            try:
                decoded = json.loads(text)
            except json.JSONDecodeError:
                decoded = None
            response = decoded if isinstance(decoded, dict) else {"content": text}
            part = {"functionResponse": {"name": names[call_id], "id": call_id, "response": response}}
            if (
                contents
                and contents[-1]["role"] == "user"
                and all("functionResponse" in p for p in contents[-1]["parts"])
            ):
                contents[-1]["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part]})
        else:
            contents.append({"role": "user", "parts": [{"text": _text(message.get("content"))}]})
    return contents


def tool_call_id(fingerprint: str, call: FunctionCall, index: int) -> str:
    """An OpenAI-style tool call id (``call_`` and 24 letters and digits)."""
    return "call_" + derive_id(
        "tool_call", fingerprint, str(index), call.id or "", length=TOOL_CALL_ID_LENGTH
    ).replace("-", "x").replace("_", "y")


def render_tool_calls(completion: Completion, fingerprint: str) -> list[dict[str, Any]]:
    """``message.tool_calls`` for a completion's function calls.

    Thought signatures are not sent on this route (the spec's tool call has no place for them; Google's
    ``extra_content`` extension is not modelled), and replayed calls are not required to carry one.
    """
    return [
        {
            "id": tool_call_id(fingerprint, call, index),
            "type": "function",
            "function": {"name": call.name, "arguments": json.dumps(call.args, ensure_ascii=False)},
        }
        for index, call in enumerate(completion.calls)
    ]
