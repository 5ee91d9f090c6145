"""The forwarding reference's OpenAI route: a chat completion request translated into a native
GenerateContentRequest, and the native answer (whole or streamed) translated back, faithfully.

Requests (the body has been checked by ``openai.read_chat_request`` first):

* system and developer messages become ``systemInstruction`` parts, every one of them, in order; user and
  assistant messages become ``user`` and ``model`` contents; consecutive tool messages become one ``user``
  content of ``functionResponse`` parts, each named after the call its ``tool_call_id`` answers, its
  ``response`` the content decoded when it is a JSON object and ``{"content": <text>}`` otherwise;
* content parts: text as text; ``image_url`` and ``file`` data URIs and ``input_audio`` as ``inlineData``
  with the same bytes and MIME type; an http(s) image URL as ``fileData``;
* an assistant message's ``tool_calls`` become ``functionCall`` parts with their ids, and the thought
  signature the upstream gave each call (kept by id, since OpenAI clients do not carry it) is restored;
* ``max_tokens`` / ``max_completion_tokens`` (the smaller), ``stop``, ``n``, ``temperature``, ``top_p``,
  ``presence_penalty``, ``frequency_penalty``, ``seed``, ``logprobs`` and ``top_logprobs`` map to their
  ``generationConfig`` fields, ``modalities`` to ``responseModalities`` (upper case, so the upstream
  refuses what its model cannot give); ``reasoning_effort`` to a ``thinkingConfig`` budget (Google's OpenAI
  compatibility table); ``response_format`` to ``responseMimeType`` and ``responseJsonSchema``;
* ``tools`` become ``functionDeclarations`` whose JSON Schema goes to ``parametersJsonSchema`` (taken as it
  is, so nothing needs sanitizing); ``tool_choice`` becomes ``functionCallingConfig``: auto AUTO, none
  NONE, required ANY, a named function ANY with that one allowed name.

Answers: candidates become choices (thought parts left out: a chat completion has no place for them, and
the reference keeps to the spec, where a gateway may add the common ``reasoning_content`` extension;
function calls in ``tool_calls`` with the native call ids, only the first of each choice when
``parallel_tool_calls`` is false, which Gemini has no setting for), ``finishReason`` maps to
``finish_reason`` (``FINISH_REASONS``; a candidate with calls finishes ``tool_calls``), ``logprobsResult``
maps to the choice's ``logprobs`` (on the last chunk of a stream), a blocked prompt is one ``content_filter``
choice, and ``usageMetadata`` maps to ``usage`` with the thinking tokens inside
``completion_tokens`` (and ``completion_tokens_details.reasoning_tokens``) and cached tokens in
``prompt_tokens_details``. Upstream errors keep their HTTP status in OpenAI's error form.
"""

from __future__ import annotations

import json
import re
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.reference.model.ids import derive_id
from conformance.reference.protocols.errors import OpenAIError, OpenAIErrorType
from conformance.reference.protocols.media_input import INPUT_AUDIO_FORMATS

FINISH_REASONS: dict[str, str] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
    "MALFORMED_FUNCTION_CALL": "tool_calls",
    "UNEXPECTED_TOOL_CALL": "tool_calls",
    "TOO_MANY_TOOL_CALLS": "tool_calls",
}
"""Native finish reasons in OpenAI's words; anything else (``OTHER``, ``LANGUAGE``...) is ``stop``."""
THINKING_BUDGETS: dict[str, int] = {"none": 0, "minimal": 512, "low": 1024, "medium": 8192, "high": 24576}
"""``reasoning_effort`` as a ``thinkingBudget`` (Google's OpenAI compatibility page)."""
ERROR_TYPES: dict[int, OpenAIErrorType] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "authentication_error",
    404: "not_found_error",
}
_DATA_URI = re.compile(r"^data:(?P<type>[^;,]*)(?:;[^;,]*)*;base64,(?P<data>.*)$", re.DOTALL | re.IGNORECASE)
SIGNATURES_KEPT = 10_000


class Signatures:
    """The thought signatures of the function calls the route passed on, by call id (the newest kept)."""

    def __init__(self, limit: int = SIGNATURES_KEPT) -> None:
        self._by_id: OrderedDict[str, str] = OrderedDict()
        self._limit = limit

    def keep(self, call_id: str, signature: str) -> None:
        self._by_id[call_id] = signature
        self._by_id.move_to_end(call_id)
        while len(self._by_id) > self._limit:
            self._by_id.popitem(last=False)

    def get(self, call_id: str) -> str | None:
        return self._by_id.get(call_id)


# -- requests -------------------------------------------------------------------------------------


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p.get("text", "") for p in content if isinstance(p, Mapping) and p.get("type") == "text"
        )
    return ""


def _media_part(part: Mapping[str, Any]) -> dict[str, Any] | None:
    kind = part.get("type")
    value = part.get(kind) if isinstance(kind, str) else None
    if not isinstance(value, Mapping):
        return None
    url = value.get("url") if kind == "image_url" else value.get("file_data") if kind == "file" else None
    if isinstance(url, str):
        match = _DATA_URI.match(url)
        if match is not None:
            return {"inlineData": {"mimeType": match.group("type").lower(), "data": match.group("data")}}
        if re.match(r"https?://", url, re.IGNORECASE):
            return {"fileData": {"fileUri": url}}
    if kind == "input_audio" and value.get("format") in INPUT_AUDIO_FORMATS:
        return {
            "inlineData": {"mimeType": INPUT_AUDIO_FORMATS[value["format"]], "data": value.get("data", "")}
        }
    if kind == "file" and isinstance(value.get("file_id"), str):
        return {"fileData": {"fileUri": value["file_id"]}}
    return None


def _user_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}]
    parts: list[dict[str, Any]] = []
    for part in content if isinstance(content, list) else []:
        if not isinstance(part, Mapping):
            continue
        if part.get("type") == "text":
            parts.append({"text": part.get("text", "")})
        else:
            media = _media_part(part)
            if media is not None:
                parts.append(media)
    return parts or [{"text": ""}]


def _arguments(raw: Any) -> Any:
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _response(content: Any) -> dict[str, Any]:
    text = _text(content)
    try:
        decoded = json.loads(text)
    except json.JSONDecodeError:
        decoded = None
    return decoded if isinstance(decoded, dict) else {"content": text}


def native_contents(
    messages: list[Any], signatures: Signatures
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The system instruction and the contents of a conversation."""
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        role = message.get("role")
        if role in ("system", "developer"):
            system.append({"text": _text(message.get("content"))})
        elif role == "assistant":
            parts: list[dict[str, Any]] = []
            if _text(message.get("content")):
                parts.append({"text": _text(message.get("content"))})
            for call in message.get("tool_calls") or []:
                function = call.get("function") if isinstance(call, Mapping) else None
                if not isinstance(function, Mapping):
                    continue
                call_id = call.get("id")
                body: dict[str, Any] = {
                    "name": function.get("name"),
                    "args": _arguments(function.get("arguments")),
                }
                if isinstance(call_id, str) and call_id:
                    body = {"id": call_id, **body}
                    names[call_id] = str(function.get("name"))
                part: dict[str, Any] = {"functionCall": body}
                signature = signatures.get(call_id) if isinstance(call_id, str) else None
                if signature:
                    part["thoughtSignature"] = signature
                parts.append(part)
            contents.append({"role": "model", "parts": parts or [{"text": ""}]})
        elif role == "tool":
            call_id = message.get("tool_call_id")
            reply: dict[str, Any] = {
                "name": names.get(str(call_id), ""),
                "response": _response(message.get("content")),
            }
            if isinstance(call_id, str) and call_id:
                reply = {"id": call_id, **reply}
            last = contents[-1] if contents else None
            if (
                last is not None
                and last["role"] == "user"
                and all("functionResponse" in p for p in last["parts"])
            ):
                last["parts"].append({"functionResponse": reply})
            else:
                contents.append({"role": "user", "parts": [{"functionResponse": reply}]})
        else:
            contents.append({"role": "user", "parts": _user_parts(message.get("content"))})
    return ({"parts": system} if system else None), contents


def _generation_config(body: Mapping[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    limits = [body[k] for k in ("max_tokens", "max_completion_tokens") if isinstance(body.get(k), int)]
    if limits:
        config["maxOutputTokens"] = min(limits)
    stop = body.get("stop")
    if isinstance(stop, str):
        config["stopSequences"] = [stop]
    elif isinstance(stop, list) and stop:
        config["stopSequences"] = list(stop)
    for openai_name, native_name in (
        ("n", "candidateCount"),
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
        ("seed", "seed"),
        ("logprobs", "responseLogprobs"),
        ("top_logprobs", "logprobs"),
    ):
        if body.get(openai_name) is not None:
            config[native_name] = body[openai_name]
    modalities = body.get("modalities")
    if isinstance(modalities, list) and modalities:  # the upstream refuses what the model cannot give
        config["responseModalities"] = [str(m).upper() for m in modalities]
    effort = body.get("reasoning_effort")
    if isinstance(effort, str) and effort in THINKING_BUDGETS:
        config["thinkingConfig"] = {"thinkingBudget": THINKING_BUDGETS[effort]}
    response_format = body.get("response_format")
    if isinstance(response_format, Mapping):
        kind = response_format.get("type")
        if kind in ("json_object", "json_schema"):
            config["responseMimeType"] = "application/json"
        schema = (response_format.get("json_schema") or {}).get("schema") if kind == "json_schema" else None
        if isinstance(schema, Mapping):
            config["responseJsonSchema"] = schema
    return config


def _tools(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    declarations = []
    for tool in body.get("tools") or []:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(function, Mapping):
            continue
        declaration: dict[str, Any] = {"name": function.get("name")}
        if function.get("description"):
            declaration["description"] = function["description"]
        declaration["parametersJsonSchema"] = function.get("parameters") or {
            "type": "object",
            "properties": {},
        }
        declarations.append(declaration)
    choice = body.get("tool_choice")
    calling: dict[str, Any] | None = None
    if isinstance(choice, str) and choice in ("auto", "none", "required"):
        calling = {"mode": {"auto": "AUTO", "none": "NONE", "required": "ANY"}[choice]}
    elif isinstance(choice, Mapping) and isinstance(choice.get("function"), Mapping):
        calling = {"mode": "ANY", "allowedFunctionNames": [choice["function"].get("name")]}
    tools = [{"functionDeclarations": declarations}] if declarations else []
    return tools, ({"functionCallingConfig": calling} if calling is not None and declarations else None)


def native_request(body: Mapping[str, Any], signatures: Signatures) -> dict[str, Any]:
    """The GenerateContentRequest a checked chat completion body translates to."""
    system, contents = native_contents(list(body.get("messages") or []), signatures)
    request: dict[str, Any] = {"contents": contents}
    if system is not None:
        request["systemInstruction"] = system
    tools, tool_config = _tools(body)
    if tools:
        request["tools"] = tools
    if tool_config is not None:
        request["toolConfig"] = tool_config
    config = _generation_config(body)
    if config:
        request["generationConfig"] = config
    return request


# -- answers --------------------------------------------------------------------------------------


def openai_error(status: int, answer: Any) -> OpenAIError:
    """An upstream error in OpenAI's form, with the upstream's HTTP status."""
    error = answer.get("error") if isinstance(answer, Mapping) else None
    message = error.get("message") if isinstance(error, Mapping) else None
    code = error.get("status") if isinstance(error, Mapping) else None
    kind: OpenAIErrorType = ERROR_TYPES.get(
        status, "server_error" if status >= 500 else "invalid_request_error"
    )
    return OpenAIError(
        status,
        message if isinstance(message, str) else f"the upstream answered HTTP {status}",
        kind,
        None,
        code.lower() if isinstance(code, str) else None,
    )


def usage_of(metadata: Any) -> dict[str, Any]:
    """``usage`` from ``usageMetadata``: thinking counts as completion, cached tokens as a prompt detail."""
    metadata = metadata if isinstance(metadata, Mapping) else {}
    prompt = metadata.get("promptTokenCount", 0) + metadata.get("toolUsePromptTokenCount", 0)
    thoughts = metadata.get("thoughtsTokenCount", 0)
    completion = metadata.get("candidatesTokenCount", 0) + thoughts
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": metadata.get("totalTokenCount", prompt + completion),
    }
    if metadata.get("cachedContentTokenCount"):
        usage["prompt_tokens_details"] = {"cached_tokens": metadata["cachedContentTokenCount"]}
    if thoughts:
        usage["completion_tokens_details"] = {"reasoning_tokens": thoughts}
    return usage


def finish_reason(native: Any, has_calls: bool) -> str:
    if has_calls:
        return "tool_calls"
    return FINISH_REASONS.get(native, "stop") if isinstance(native, str) else "stop"


def _tool_call(
    call: Mapping[str, Any], signature: Any, signatures: Signatures, fallback: str
) -> dict[str, Any]:
    given = call.get("id")
    call_id = given if isinstance(given, str) and given else fallback
    if isinstance(signature, str):
        signatures.keep(call_id, signature)
    return {
        "id": call_id,
        "type": "function",
        "function": {
            "name": call.get("name"),
            "arguments": json.dumps(call.get("args") or {}, ensure_ascii=False),
        },
    }


def _call_id(answer_id: str, candidate: int, n: int) -> str:
    return "call_" + derive_id("tool_call", answer_id, str(candidate), str(n), length=24)


def _choice(
    candidate: Mapping[str, Any], position: int, answer_id: str, signatures: Signatures, parallel: bool
) -> dict[str, Any]:
    index = candidate.get("index", position)
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for part in (candidate.get("content") or {}).get("parts") or []:
        if isinstance(part.get("functionCall"), Mapping):
            if calls and not parallel:
                continue
            calls.append(
                _tool_call(
                    part["functionCall"],
                    part.get("thoughtSignature"),
                    signatures,
                    _call_id(answer_id, index, len(calls)),
                )
            )
        elif isinstance(part.get("text"), str) and not part.get("thought"):
            texts.append(part["text"])
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
    if calls:
        message["tool_calls"] = calls
    if candidate.get("finishReason") not in (None, "STOP", "MAX_TOKENS") and not texts and not calls:
        message["content"] = None
    choice: dict[str, Any] = {
        "index": index,
        "message": message,
        "finish_reason": finish_reason(candidate.get("finishReason"), bool(calls)),
    }
    logprobs = logprobs_of(candidate)
    if logprobs is not None:
        choice["logprobs"] = logprobs
    return choice


def logprobs_of(candidate: Mapping[str, Any]) -> dict[str, Any] | None:
    """A choice's ``logprobs`` from a candidate's ``logprobsResult``: each chosen token with its logprob,
    bytes and the top candidates of its step; None when the candidate has none."""
    result = candidate.get("logprobsResult")
    if not isinstance(result, Mapping):
        return None

    def entry(item: Any) -> dict[str, Any]:
        token = str(item.get("token", "")) if isinstance(item, Mapping) else ""
        logprob = item.get("logProbability", 0.0) if isinstance(item, Mapping) else 0.0
        return {"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))}

    chosen = result.get("chosenCandidates") or []
    tops = result.get("topCandidates") or []
    content = []
    for n, item in enumerate(chosen):
        step = tops[n].get("candidates", []) if n < len(tops) and isinstance(tops[n], Mapping) else []
        content.append({**entry(item), "top_logprobs": [entry(top) for top in step]})
    return {"content": content, "refusal": None}


def completion_id(answer: Mapping[str, Any]) -> str:
    return "chatcmpl-" + str(
        answer.get("responseId") or derive_id("chat.completion", json.dumps(answer)[:200], length=29)
    )


def chat_completion(answer: Any, model: str, signatures: Signatures, parallel: bool = True) -> dict[str, Any]:
    """The chat.completion of a native GenerateContentResponse (one call per choice unless ``parallel``)."""
    answer = answer if isinstance(answer, Mapping) else {}
    answer_id = completion_id(answer)
    candidates = [c for c in answer.get("candidates") or [] if isinstance(c, Mapping)]
    choices = [_choice(c, n, answer_id, signatures, parallel) for n, c in enumerate(candidates)] or [
        {"index": 0, "message": {"role": "assistant", "content": None}, "finish_reason": "content_filter"}
    ]
    return {
        "id": answer_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
        "usage": usage_of(answer.get("usageMetadata")),
    }


@dataclass
class ChunkTranslator:
    """Native stream events in, chat.completion.chunk objects out, as they come.

    Each choice gets its role first, then its text (``content``; thoughts are left out) and function calls
    (``tool_calls``, one delta each, with an ``index``), then one empty delta with its
    ``finish_reason``; with ``include_usage`` every chunk has ``usage: null`` and a last chunk
    ``choices: []`` carries the usage. An error event is passed on as ``{"error": ...}`` in OpenAI's form
    (the OpenAI SDKs raise on it), and no chunk follows it.
    """

    model: str
    include_usage: bool
    signatures: Signatures
    parallel: bool = True
    created: int = field(default_factory=lambda: int(time.time()))
    id: str = ""
    usage: Any = None
    started: set[int] = field(default_factory=set)
    finished: set[int] = field(default_factory=set)
    calls: dict[int, int] = field(default_factory=dict)
    logprobs: dict[int, Any] = field(default_factory=dict)
    failed: bool = False

    def _chunk(self, index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
        }
        if self.include_usage:
            chunk["usage"] = None
        return chunk

    def feed(self, event: Any) -> Iterator[dict[str, Any]]:
        """The chunks of one upstream event."""
        if not isinstance(event, Mapping):
            return
        if isinstance(event.get("error"), Mapping):
            status = event["error"].get("code")
            error = openai_error(status if isinstance(status, int) else 500, event)
            self.failed = True
            yield error.body()
            return
        if not self.id:
            self.id = completion_id(event)
        if event.get("usageMetadata") is not None:
            self.usage = event["usageMetadata"]
        candidates = [c for c in event.get("candidates") or [] if isinstance(c, Mapping)]
        if not candidates and isinstance(event.get("promptFeedback"), Mapping):
            yield from self._start(0)
            if 0 not in self.finished:
                self.finished.add(0)
                yield self._chunk(0, {}, "content_filter")
        for position, candidate in enumerate(candidates):
            index = candidate.get("index", position)
            yield from self._start(index)
            for part in (candidate.get("content") or {}).get("parts") or []:
                if isinstance(part.get("functionCall"), Mapping):
                    n = self.calls.get(index, 0)
                    if n and not self.parallel:
                        continue
                    self.calls[index] = n + 1
                    call = _tool_call(
                        part["functionCall"],
                        part.get("thoughtSignature"),
                        self.signatures,
                        _call_id(self.id, index, n),
                    )
                    yield self._chunk(index, {"tool_calls": [{"index": n, **call}]})
                elif isinstance(part.get("text"), str) and part["text"] and not part.get("thought"):
                    yield self._chunk(index, {"content": part["text"]})
            logprobs = logprobs_of(candidate)
            if logprobs is not None:
                self.logprobs[index] = logprobs
            if candidate.get("finishReason") and index not in self.finished:
                self.finished.add(index)
                chunk = self._chunk(
                    index, {}, finish_reason(candidate["finishReason"], bool(self.calls.get(index)))
                )
                if index in self.logprobs:  # the tokens' logprobs ride on the choice's last chunk
                    chunk["choices"][0]["logprobs"] = self.logprobs[index]
                yield chunk

    def _start(self, index: int) -> Iterator[dict[str, Any]]:
        if index not in self.started:
            self.started.add(index)
            yield self._chunk(index, {"role": "assistant", "content": ""})

    def close(self) -> Iterator[dict[str, Any]]:
        """What follows the last event: a finish for a choice the stream left open, then the usage chunk."""
        if self.failed:
            return
        for index in sorted(self.started - self.finished):
            self.finished.add(index)
            yield self._chunk(index, {}, "stop")
        if self.include_usage:
            yield {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "choices": [],
                "usage": usage_of(self.usage),
            }


class SSEDecoder:
    """Server-sent events from bytes as they arrive: each event's ``data`` (lines joined), as JSON."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> Iterator[Any]:
        self._buffer += data
        while True:
            match = re.search(rb"\r\n\r\n|\n\n|\r\r", self._buffer)
            if match is None:
                return
            block, self._buffer = self._buffer[: match.start()], self._buffer[match.end() :]
            yield from self._event(block)

    def close(self) -> Iterator[Any]:
        block, self._buffer = self._buffer, b""
        if block.strip():
            yield from self._event(block)

    @staticmethod
    def _event(block: bytes) -> Iterator[Any]:
        lines = [line for line in re.split(rb"\r\n|\n|\r", block) if line.startswith(b"data:")]
        if not lines:
            return
        data = b"\n".join(line[5:].removeprefix(b" ") for line in lines)
        try:
            yield json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return
