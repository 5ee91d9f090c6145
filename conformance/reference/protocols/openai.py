"""The OpenAI-compatible protocol handlers: ``POST {p}/chat/completions`` and ``GET {p}/models``.

System and developer messages play the system instruction, user and assistant messages are the
turns; the same engine answers. Validation errors are 400 invalid_request_error with ``param``
naming the field, in OpenAI's wording.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from conformance.reference.endpoints import Endpoint, Handler, guarded
from conformance.reference.faults.fault import ActiveFaults
from conformance.reference.faults.seams import (
    CREDENTIALS,
    DOCUMENT,
    ERROR,
    ERROR_BODY,
    FORWARDED,
    FRAMING,
    GENERATION,
    MODEL,
    PARSE_MODE,
    REQUEST,
    RESPONSE,
    STREAM_ERROR,
    USAGE,
    Call,
    ErrorBody,
    Forwarded,
    Framing,
    Method,
    Usage,
)
from conformance.reference.model.catalogue import ModelInfo
from conformance.reference.model.engine import (
    Completion,
    Generation,
    Media,
    Prompt,
    Role,
    Sampling,
    TokenLogprob,
    Turn,
)
from conformance.reference.model.features import Features, openai_features, unsupported
from conformance.reference.model.function_turns import check_function_turns, last_replies
from conformance.reference.model.ids import derive_id
from conformance.reference.model.responder import respond
from conformance.reference.model.triggers import Trouble
from conformance.reference.protocols.auth import presented
from conformance.reference.protocols.errors import (
    GoogleError,
    OpenAIError,
    ProtocolError,
    openai_bad_key,
    openai_internal,
    openai_invalid,
    openai_model_not_found,
    openai_overloaded,
    openai_rate_limited,
)
from conformance.reference.protocols.gemini_request import ParseMode
from conformance.reference.protocols.media_input import MediaError, read_openai_part
from conformance.reference.protocols.openai_tools import messages_to_contents, render_tool_calls
from conformance.reference.protocols.streaming import SSE_CONTENT_TYPE, empty_200, openai_stream
from conformance.reference.protocols.wire import openai_response
from conformance.reference.settings import settings_of

ROLES: tuple[str, ...] = ("system", "developer", "user", "assistant", "tool")
REASONING_EFFORTS: tuple[str, ...] = ("none", "minimal", "low", "medium", "high")
MAX_STOP = 4
MAX_N = 8
MEDIA_PART_TYPES: tuple[str, ...] = ("image_url", "input_audio", "file")
MODALITIES: tuple[str, ...] = ("text", "audio")
FINISH_REASONS: dict[str, str] = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter"}


@dataclass(frozen=True)
class ChatRequest:
    """A checked chat completion request: the model asked for and the engine's inputs."""

    model: str
    prompt: Prompt
    sampling: Sampling
    fingerprint: str
    stream: bool = False
    include_usage: bool = False
    features: Features = Features()
    contents: tuple[Mapping[str, Any], ...] = ()


def call_of(request: Request, method: Method | None = None) -> Call:
    """An OpenAI call of ``method`` on this request's gateway."""
    return Call("openai", settings_of(request).catalogue, method)


def render_error(error: OpenAIError | GoogleError, active: ActiveFaults, call: Call) -> Response:
    """An OpenAI error response, as the active faults leave it."""
    if isinstance(error, GoogleError):  # pragma: no cover - these handlers raise OpenAIErrors
        error = OpenAIError(error.http_status, error.message)
    shown = active.apply(ERROR, error, call)
    sent = active.apply(ERROR_BODY, ErrorBody(shown.http_status, shown.body()), call)
    response = openai_response(sent.body, sent.http_status)
    for name, value in shown.headers:
        response.headers[name] = value
    return response


def route_not_found(request: Request) -> OpenAIError:
    """The OpenAI 404 for a path or method the gateway does not serve."""
    return OpenAIError(404, f"Invalid URL ({request.method} {request.url.path})", "invalid_request_error")


def openai_endpoint(handler: Handler) -> Endpoint:
    """Wrap a OpenAI handler so that a ProtocolError becomes a OpenAI error response."""
    return guarded(handler, render_error, call_of)


def require_key(request: Request, active: ActiveFaults, call: Call) -> None:
    """Raise the OpenAI 401 unless the request carries the gateway's key."""
    credentials = active.apply(CREDENTIALS, presented(request), call)
    verdict = credentials.verdict(settings_of(request).api_key)
    if verdict != "ok":
        raise ProtocolError(openai_bad_key(provided=verdict == "invalid"))


def success(body: dict[str, Any], active: ActiveFaults, call: Call) -> Response:
    """An OpenAI 200 holding one JSON document (a body that already passed the ``response`` seam)."""
    framing = active.apply(FRAMING, Framing("json"), call)
    response = openai_response(active.apply(DOCUMENT, body, call))
    if framing.content_type is not None:
        response.headers["content-type"] = framing.content_type
    return response


# -- validation ----------------------------------------------------------------------------------

_JSON_TYPE_NAMES: dict[type, str] = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a decimal",
    list: "an array",
    dict: "an object",
}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return _JSON_TYPE_NAMES.get(type(value), "an unknown type")


def _invalid_type(param: str, expected: str, value: Any) -> ProtocolError:
    return ProtocolError(
        openai_invalid(
            f"Invalid type for '{param}': expected {expected}, but got {_type_name(value)} instead.",
            param,
            "invalid_type",
        )
    )


def _bounded(
    body: Mapping[str, Any], param: str, low: float, high: float | None, strict: bool, integer: bool
) -> Any:
    value = body.get(param)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or (integer and not isinstance(value, int))
    ):
        raise _invalid_type(param, "an integer" if integer else "a decimal", value)
    kind = "integer" if integer else "decimal"
    if strict and value < low:
        raise ProtocolError(
            openai_invalid(
                f"Invalid '{param}': {kind} below minimum value. "
                f"Expected a value >= {low:g}, but got {value} instead.",
                param,
                f"{kind}_below_min_value",
            )
        )
    if strict and high is not None and value > high:
        raise ProtocolError(
            openai_invalid(
                f"Invalid '{param}': {kind} above maximum value. "
                f"Expected a value <= {high:g}, but got {value} instead.",
                param,
                f"{kind}_above_max_value",
            )
        )
    return value


def _supported(values: tuple[str, ...]) -> str:
    quoted = [f"'{value}'" for value in values]
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def _content(content: Any, param: str) -> tuple[list[str], list[Media]]:
    if content is None:
        return [], []
    if isinstance(content, str):
        return [content], []
    if not isinstance(content, list):
        raise _invalid_type(param, "one of a string or array of objects", content)
    texts: list[str] = []
    media: list[Media] = []
    for index, part in enumerate(content):
        part_param = f"{param}[{index}]"
        if not isinstance(part, dict):
            raise _invalid_type(part_param, "an object", part)
        kind = part.get("type")
        if kind == "text":
            text = part.get("text")
            if not isinstance(text, str):
                raise _invalid_type(f"{part_param}.text", "a string", text)
            texts.append(text)
        elif kind in MEDIA_PART_TYPES:
            try:
                media.append(read_openai_part(part))
            except MediaError as error:
                raise ProtocolError(openai_invalid(str(error), f"{part_param}.{kind}")) from None
        else:
            raise ProtocolError(
                openai_invalid(
                    f"Invalid value: {json.dumps(kind)}. Supported values are: 'text', 'image_url', "
                    "'input_audio', and 'file'.",
                    f"{part_param}.type",
                )
            )
    return texts, media


def _stop(body: Mapping[str, Any], strict: bool) -> tuple[str, ...]:
    stop = body.get("stop")
    if stop is None:
        return ()
    if isinstance(stop, str):
        return (stop,)
    if not isinstance(stop, list) or not all(isinstance(item, str) for item in stop):
        raise _invalid_type("stop", "one of a string or array of strings", stop)
    if strict and len(stop) > MAX_STOP:
        raise ProtocolError(
            openai_invalid(
                f"Invalid 'stop': array too long. Expected an array with maximum length {MAX_STOP}, "
                f"but got an array with length {len(stop)} instead.",
                "stop",
                "array_above_max_length",
            )
        )
    return tuple(stop)


def _prompt(messages: Any, strict: bool) -> Prompt:
    if messages is None:
        raise ProtocolError(
            openai_invalid(
                "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"
            )
        )
    if not isinstance(messages, list):
        raise _invalid_type("messages", "an array", messages)
    if not messages:
        raise ProtocolError(
            openai_invalid(
                "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an "
                "empty array instead.",
                "messages",
                "empty_array",
            )
        )
    system_texts: list[str] = []
    turns: list[Turn] = []
    for index, message in enumerate(messages):
        param = f"messages[{index}]"
        if not isinstance(message, dict):
            raise _invalid_type(param, "an object", message)
        role = message.get("role")
        if role is None:
            raise ProtocolError(
                openai_invalid(
                    f"Missing required parameter: '{param}.role'.",
                    f"{param}.role",
                    "missing_required_parameter",
                )
            )
        if role not in ROLES and strict:
            raise ProtocolError(
                openai_invalid(
                    f"Invalid value: {json.dumps(role)}. Supported values are: {_supported(ROLES)}.",
                    f"{param}.role",
                )
            )
        if role == "tool":
            text = message.get("content")
            turns.append(Turn("user", (), (text if isinstance(text, str) else json.dumps(text),)))
            continue
        texts, media = _content(message.get("content"), f"{param}.content")
        if role in ("system", "developer"):
            system_texts.extend(texts)
            continue
        engine_role: Role = "model" if role == "assistant" else "user"
        structured: tuple[str, ...] = ()
        if engine_role == "model" and message.get("tool_calls"):
            structured = (json.dumps(message["tool_calls"], sort_keys=True, ensure_ascii=False),)
        turns.append(Turn(engine_role, tuple(texts), structured, tuple(media)))
    system = Turn("user", tuple(system_texts)) if system_texts else None
    return Prompt(turns=tuple(turns), system=system)


def parse_body(raw: bytes) -> Any:
    """A chat completion request's body as JSON, or OpenAI's 400 for a body that is not JSON."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ProtocolError(
            openai_invalid(
                "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
                "sent was not valid JSON.)",
                None,
                None,
            )
        ) from None


def read_chat_request(body: Any, mode: ParseMode) -> ChatRequest:
    """Check a chat completion body and translate it for the engine."""
    if not isinstance(body, dict):
        raise _invalid_type("body", "an object", body)
    model = body.get("model")
    if model is None:
        raise ProtocolError(
            openai_invalid("you must provide a model parameter", "model", "missing_required_parameter")
        )
    if not isinstance(model, str):
        raise _invalid_type("model", "a string", model)
    strict = mode.strict
    prompt = _prompt(body.get("messages"), strict)
    _bounded(body, "temperature", 0, 2, strict, integer=False)
    _bounded(body, "top_p", 0, 1, strict, integer=False)
    _bounded(body, "presence_penalty", -2, 2, strict, integer=False)
    _bounded(body, "frequency_penalty", -2, 2, strict, integer=False)
    n = _bounded(body, "n", 1, MAX_N, strict, integer=True)
    limits = [
        limit
        for limit in (
            _bounded(body, "max_tokens", 1, None, strict, integer=True),
            _bounded(body, "max_completion_tokens", 1, None, strict, integer=True),
        )
        if limit is not None
    ]
    effort = body.get("reasoning_effort")
    if effort is not None and (not isinstance(effort, str) or (strict and effort not in REASONING_EFFORTS)):
        raise ProtocolError(
            openai_invalid(
                f"Invalid value: {json.dumps(effort)}. "
                f"Supported values are: {_supported(REASONING_EFFORTS)}.",
                "reasoning_effort",
            )
        )
    _modalities(body, strict)
    sampling = Sampling(
        max_output_tokens=min(limits) if limits else None,
        stop_sequences=_stop(body, strict),
        candidate_count=max(1, n or 1),
    )
    stream, include_usage = _stream(body, strict)
    fingerprint = json.dumps(body, sort_keys=True, ensure_ascii=False)
    features = openai_features(body, unsanitized=not mode.sanitize_schemas)
    contents = tuple(messages_to_contents(body["messages"]))
    return ChatRequest(
        model=model,
        prompt=prompt,
        sampling=sampling,
        fingerprint=fingerprint,
        stream=stream,
        include_usage=include_usage,
        features=features,
        contents=contents,
    )


def _modalities(body: Mapping[str, Any], strict: bool) -> None:
    """``modalities`` (text, audio) and the ``audio`` output parameters they need, checked."""
    modalities = body.get("modalities")
    if modalities is None:
        return
    if not isinstance(modalities, list) or not all(isinstance(m, str) for m in modalities):
        raise _invalid_type("modalities", "an array of strings", modalities)
    for n, modality in enumerate(modalities):
        if strict and modality not in MODALITIES:
            raise ProtocolError(
                openai_invalid(
                    f"Invalid value: {json.dumps(modality)}. Supported values are: 'text' and 'audio'.",
                    f"modalities[{n}]",
                )
            )
    if "audio" in modalities and not isinstance(body.get("audio"), dict):
        raise ProtocolError(
            openai_invalid(
                "Missing required parameter: 'audio' (audio output needs its voice and format).",
                "audio",
                "missing_required_parameter",
            )
        )


def _stream(body: Mapping[str, Any], strict: bool) -> tuple[bool, bool]:
    """``stream`` and ``stream_options.include_usage``, checked."""
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _invalid_type("stream", "a boolean", stream)
    options = body.get("stream_options")
    if options is None:
        return bool(stream), False
    if not isinstance(options, dict):
        raise _invalid_type("stream_options", "an object", options)
    if strict and not stream:
        raise ProtocolError(
            openai_invalid(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                "stream_options",
                None,
            )
        )
    include_usage = options.get("include_usage")
    if include_usage is not None and not isinstance(include_usage, bool):
        raise _invalid_type("stream_options.include_usage", "a boolean", include_usage)
    return bool(stream), bool(include_usage)


# -- rendering -----------------------------------------------------------------------------------


def render_choice(completion: Completion, index: int, fingerprint: str = "") -> dict[str, Any]:
    """One choice of a chat completion (function calls as ``tool_calls``, finish ``tool_calls``; the
    tokens' ``logprobs`` when asked for)."""
    finish = "tool_calls" if completion.calls else FINISH_REASONS[completion.finish_reason]
    shown = (completion.text or not completion.calls) and not completion.blocked
    message: dict[str, Any] = {"role": "assistant", "content": completion.text if shown else None}
    if completion.calls:
        message["tool_calls"] = render_tool_calls(completion, fingerprint)
    choice: dict[str, Any] = {"index": index, "message": message, "finish_reason": finish}
    if completion.logprobs is not None:
        choice["logprobs"] = {
            "content": [render_logprob(item) for item in completion.logprobs],
            "refusal": None,
        }
    return choice


def render_logprob(item: TokenLogprob) -> dict[str, Any]:
    """One token of ``logprobs.content``: its log probability and the most likely tokens at its step."""

    def entry(token: str, logprob: float) -> dict[str, Any]:
        return {"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))}

    return {**entry(item.token, item.logprob), "top_logprobs": [entry(t, lp) for t, _, lp in item.top]}


def render_usage(generation: Generation, active: ActiveFaults, call: Call) -> dict[str, Any]:
    """``usage``: the prompt, completion and total tokens; the completion counts the reasoning tokens
    (shown in ``completion_tokens_details``), the prompt its cached part (``prompt_tokens_details``)."""
    prompt = generation.prompt.total + generation.tool_use_tokens
    output = generation.candidates_token_count
    thoughts = generation.thoughts_token_count
    cached = generation.cached.total if generation.cached is not None else 0
    usage = active.apply(USAGE, Usage(prompt, output, thoughts, prompt + output + thoughts, 0, cached), call)
    rendered: dict[str, Any] = {
        "prompt_tokens": usage.prompt,
        "completion_tokens": usage.output + usage.thoughts,
        "total_tokens": usage.total,
    }
    if usage.thoughts:
        rendered["completion_tokens_details"] = {"reasoning_tokens": usage.thoughts}
    if usage.cached:
        rendered["prompt_tokens_details"] = {"cached_tokens": usage.cached}
    return rendered


def trouble_error(trouble: Trouble, model: str, retry_after: float) -> OpenAIError:
    """The OpenAI error of the trouble a trigger prompt asked for."""
    if trouble.kind == "rate-limit":
        return openai_rate_limited(model, retry_after)
    if trouble.kind == "overloaded":
        return openai_overloaded(retry_after)
    return openai_internal()


def _refusal(field: str, message: str) -> ProtocolError:
    return ProtocolError(openai_invalid(message, "messages"))


# -- handlers ------------------------------------------------------------------------------------


def answer_chat(
    body: Any, active: ActiveFaults, call: Call, retry_after: float
) -> tuple[ChatRequest, ModelInfo, Generation, Call]:
    """Read, check and answer a chat completion body: the request, the model serving it, the answer as the
    active faults leave it, and the call (now knowing whether it streams)."""
    chat = read_chat_request(active.apply(REQUEST, body, call), active.apply(PARSE_MODE, ParseMode(), call))
    info = active.apply(MODEL, call.catalogue.get(chat.model.removeprefix("models/")), call)
    if info is None:
        raise ProtocolError(openai_model_not_found(chat.model))
    call = replace(call, stream=chat.stream, include_usage=chat.include_usage)
    forwarded = active.apply(
        FORWARDED, Forwarded(chat.prompt, chat.sampling, chat.features, chat.contents), call
    )
    refusal = unsupported(forwarded.features, info, "openai")
    if refusal is not None:
        raise ProtocolError(
            openai_invalid(refusal, "modalities" if forwarded.features.modalities else "model")
        )
    check_function_turns(forwarded.contents, _refusal, require_signatures=False)
    try:
        generation = respond(
            forwarded.prompt,
            forwarded.sampling,
            forwarded.features,
            last_replies(forwarded.contents),
            chat.fingerprint,
            info,
        )
    except Trouble as trouble:
        raise ProtocolError(trouble_error(trouble, info.id, retry_after)) from None
    return chat, info, active.apply(GENERATION, generation, call), call


@openai_endpoint
async def chat_completions(request: Request, active: ActiveFaults) -> Response:
    """``POST {p}/chat/completions``, streamed as chat.completion.chunk events when ``stream`` is true."""
    call = call_of(request, "chat.completions")
    require_key(request, active, call)
    body = parse_body(await request.body())
    try:
        chat, info, generation, call = answer_chat(body, active, call, settings_of(request).retry_after)
    except ProtocolError as raised:
        streamed = isinstance(body, dict) and body.get("stream") is True
        if streamed and active.apply(STREAM_ERROR, raised.error, replace(call, stream=True)) is None:
            return empty_200(SSE_CONTENT_TYPE)
        raise
    call = replace(call, generation=generation)
    result: dict[str, Any] = {
        "id": "chatcmpl-" + derive_id("chat.completion", info.id, chat.fingerprint, length=29),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": chat.model,
        "choices": [
            render_choice(choice, index, chat.fingerprint)
            for index, choice in enumerate(generation.candidates)
        ]
        or [
            {"index": 0, "message": {"role": "assistant", "content": None}, "finish_reason": "content_filter"}
        ],
        "usage": render_usage(generation, active, call),
    }
    result = active.apply(RESPONSE, result, call)
    if chat.stream:
        framing = active.apply(FRAMING, Framing("sse", eol=b"\n", done=True), call)
        return openai_stream(result, framing, request, active, call)
    return success(result, active, call)


@openai_endpoint
async def list_models(request: Request, active: ActiveFaults) -> Response:
    """``GET {p}/models``: the OpenAI model list."""
    call = call_of(request, "models.list")
    require_key(request, active, call)
    body = {"object": "list", "data": [model.openai_json() for model in call.catalogue.models]}
    return success(active.apply(RESPONSE, body, call), active, call)
