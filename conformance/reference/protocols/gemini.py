"""The native protocol (Gemini v1beta) handlers: models, generateContent, countTokens, cachedContents.

All native routes live under one prefix: ``GET {p}/models`` and one catch-all ``{p}/models/{rest}``
whose ``rest`` is ``<model>`` (models.get) or ``<model>:<method>``; and ``{p}/cachedContents[/{id}]``.
Bodies are rendered in Google's layout; errors are google.rpc.Status. The renderers take the engine's
Generation, so a streaming renderer can reuse them chunk by chunk.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Mapping
from dataclasses import replace
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
from conformance.reference.model.engine import Generation, Prompt, PromptCount, count_prompt
from conformance.reference.model.features import Features, native_features, unsupported
from conformance.reference.model.function_turns import check_function_turns, last_replies
from conformance.reference.model.ids import derive_id
from conformance.reference.model.responder import respond
from conformance.reference.model.triggers import Trouble
from conformance.reference.protocols.auth import presented
from conformance.reference.protocols.caches import (
    CacheStore,
    cache_name,
    model_mismatch,
    not_found,
    read_cache,
    with_cache,
)
from conformance.reference.protocols.errors import (
    GoogleError,
    OpenAIError,
    ProtocolError,
    google_not_found,
    internal,
    invalid_argument,
    invalid_key,
    missing_key,
    model_not_found,
    overloaded,
    rate_limited,
    unauthenticated,
)
from conformance.reference.protocols.gemini_request import (
    NativeRequest,
    ParseMode,
    parse_json_body,
    read_count_tokens_request,
    read_generate_request,
)
from conformance.reference.protocols.native_parts import render_blocked_prompt, render_candidate
from conformance.reference.protocols.streaming import SSE_CONTENT_TYPE, empty_200, native_stream
from conformance.reference.protocols.wire import GEMINI_CONTENT_TYPE, gemini_response
from conformance.reference.settings import settings_of

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def call_of(request: Request, method: Method | None = None) -> Call:
    """A native call of ``method`` on this request's gateway."""
    return Call("gemini", settings_of(request).catalogue, method)


def render_error(error: GoogleError | OpenAIError, active: ActiveFaults, call: Call) -> Response:
    """A native error response, as the active faults leave it."""
    if isinstance(error, OpenAIError):  # pragma: no cover - these handlers raise GoogleErrors
        error = GoogleError(error.http_status, error.message)
    shown = active.apply(ERROR, error, call)
    sent = active.apply(ERROR_BODY, ErrorBody(shown.http_status, shown.body()), call)
    response = gemini_response(sent.body, sent.http_status)
    for name, value in shown.headers:
        response.headers[name] = value
    return response


def route_not_found(request: Request) -> GoogleError:
    """The native 404 for a path or method the gateway does not serve."""
    return google_not_found(f"The requested URL {request.url.path} was not found on this server.")


def native_endpoint(handler: Handler) -> Endpoint:
    """Wrap a native handler so that a ProtocolError becomes a native error response."""
    return guarded(handler, render_error, call_of)


def require_key(request: Request, active: ActiveFaults, call: Call) -> None:
    """Raise the native auth error unless the request carries the gateway's key.

    A key the gateway was given but did not read gets 401 UNAUTHENTICATED, as a gateway's own auth
    layer answers, instead of Google's 403 for a request with no key.
    """
    credentials = active.apply(CREDENTIALS, presented(request), call)
    verdict = credentials.verdict(settings_of(request).api_key)
    if verdict == "missing":
        raise ProtocolError(unauthenticated() if credentials.ignored else missing_key())
    if verdict == "invalid":
        raise ProtocolError(invalid_key())


def native_refusal(field: str, message: str) -> ProtocolError:
    """A native 400 naming the offending field of a GenerateContentRequest."""
    return ProtocolError(invalid_argument(f"* GenerateContentRequest.{field}: {message}", [(field, message)]))


def parse_mode(active: ActiveFaults, call: Call) -> ParseMode:
    """How requests are read under the active faults."""
    return active.apply(PARSE_MODE, ParseMode(), call)


def serving_model(model_id: str, active: ActiveFaults, call: Call) -> ModelInfo:
    """The catalogue model serving a request, or the native 404."""
    info = active.apply(MODEL, call.catalogue.get(model_id), call)
    if info is None:
        raise ProtocolError(model_not_found(model_id, call.method or ""))
    return info


def success(body: dict[str, Any], active: ActiveFaults, call: Call) -> Response:
    """A native 200 holding one JSON document (a body that already passed the ``response`` seam)."""
    framing = active.apply(FRAMING, Framing("json"), call)
    response = gemini_response(active.apply(DOCUMENT, body, call))
    if framing.content_type is not None:
        response.headers["content-type"] = framing.content_type
    return response


# -- rendering -----------------------------------------------------------------------------------


def render_details(count: PromptCount) -> list[dict[str, Any]]:
    """``promptTokensDetails`` (or another ``*TokensDetails``): one ModalityTokenCount per modality."""
    return [{"modality": entry.modality, "tokenCount": entry.tokens} for entry in count.details]


def render_usage(generation: Generation, active: ActiveFaults, call: Call) -> dict[str, Any]:
    """``usageMetadata``, with zero counts omitted as Google does; the details by modality of the prompt,
    of its cached part and of the candidates."""
    prompt = generation.prompt.total
    output = generation.candidates_token_count
    thoughts = generation.thoughts_token_count
    tool_use = generation.tool_use_tokens
    cached = generation.cached.total if generation.cached is not None else 0
    total = prompt + output + thoughts + tool_use
    usage = active.apply(USAGE, Usage(prompt, output, thoughts, total, tool_use, cached), call)
    rendered: dict[str, Any] = {}
    if usage.prompt:
        rendered["promptTokenCount"] = usage.prompt
    if usage.cached:
        rendered["cachedContentTokenCount"] = usage.cached
    if usage.output:
        rendered["candidatesTokenCount"] = usage.output
    if usage.tool_use:
        rendered["toolUsePromptTokenCount"] = usage.tool_use
    if usage.total:
        rendered["totalTokenCount"] = usage.total
    if usage.thoughts:
        rendered["thoughtsTokenCount"] = usage.thoughts
    if generation.prompt.details:
        rendered["promptTokensDetails"] = render_details(generation.prompt)
    if usage.cached and generation.cached is not None:
        rendered["cacheTokensDetails"] = render_details(generation.cached)
    details = generation.candidates_details()
    if usage.output and details:
        rendered["candidatesTokensDetails"] = render_details(PromptCount(details))
    return rendered


def render_generate_response(
    generation: Generation, model_version: str, response_id: str, active: ActiveFaults, call: Call
) -> dict[str, Any]:
    """A whole GenerateContentResponse, before the ``response`` seam."""
    body: dict[str, Any]
    if generation.block_reason is not None:
        body = render_blocked_prompt(generation, render_usage(generation, active, call))
    else:
        body = {
            "candidates": [
                render_candidate(candidate, index) for index, candidate in enumerate(generation.candidates)
            ],
            "usageMetadata": render_usage(generation, active, call),
        }
    body["modelVersion"] = model_version
    body["responseId"] = response_id
    return body


# -- page tokens ---------------------------------------------------------------------------------


def encode_page_token(name: str) -> str:
    """An opaque token naming the first model of the next page (a tiny protobuf, base64url)."""
    raw = name.encode("utf-8")
    return base64.urlsafe_b64encode(b"\n" + bytes([len(raw)]) + raw).decode("ascii").rstrip("=")


def decode_page_token(token: str) -> str | None:
    """The model name inside a page token, or None when the token is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 2 or raw[0] != 0x0A or raw[1] != len(raw) - 2:
        return None
    try:
        return raw[2:].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _query(query: Mapping[str, str], camel: str, snake: str) -> str | None:
    return query.get(camel, query.get(snake))


def _page_size(query: Mapping[str, str]) -> int:
    text = _query(query, "pageSize", "page_size")
    if text is None or not text.strip():
        return DEFAULT_PAGE_SIZE
    try:
        size = int(text)
    except ValueError:
        message = f"Invalid value at 'page_size' (TYPE_INT32), \"{text}\""
        raise ProtocolError(invalid_argument(message, [("page_size", message)])) from None
    if size <= 0:
        return DEFAULT_PAGE_SIZE
    return min(size, MAX_PAGE_SIZE)


# -- handlers ------------------------------------------------------------------------------------


@native_endpoint
async def list_models(request: Request, active: ActiveFaults) -> Response:
    """``GET {p}/models``: models.list with pageSize and pageToken."""
    call = call_of(request, "models.list")
    require_key(request, active, call)
    query = active.apply(REQUEST, dict(request.query_params), call)
    models = call.catalogue.models
    size = _page_size(query)
    start = 0
    token = _query(query, "pageToken", "page_token")
    if token:
        name = decode_page_token(token)
        names = [f"models/{model.id}" for model in models]
        if name not in names:
            message = "Invalid page token."
            raise ProtocolError(invalid_argument(message, [("page_token", message)]))
        start = names.index(name)
    page = models[start : start + size]
    body: dict[str, Any] = {"models": [model.gemini_json() for model in page]}
    if start + size < len(models):
        body["nextPageToken"] = encode_page_token(f"models/{models[start + size].id}")
    return success(active.apply(RESPONSE, body, call), active, call)


@native_endpoint
async def model_route(request: Request, active: ActiveFaults) -> Response:
    """``{p}/models/{rest}``: models.get, or ``<model>:<method>`` for the generation methods."""
    model_id, colon, method = request.path_params["rest"].partition(":")
    if request.method == "GET" and not colon and model_id:
        call = call_of(request, "models.get")
        require_key(request, active, call)
        info = call.catalogue.get(model_id)
        if info is None:
            raise ProtocolError(model_not_found(model_id, "get"))
        return success(active.apply(RESPONSE, info.gemini_json(), call), active, call)
    if request.method != "POST" or method not in ("generateContent", "countTokens", "streamGenerateContent"):
        raise ProtocolError(route_not_found(request))
    if method == "streamGenerateContent":
        return await stream_generate_content(request, model_id, active)
    call = call_of(request, "countTokens" if method == "countTokens" else "generateContent")
    require_key(request, active, call)
    body = active.apply(REQUEST, parse_json_body(await request.body()), call)
    if method == "countTokens":
        return count_tokens(body, model_id, active, call)
    settings = settings_of(request)
    return generate_content(body, model_id, active, call, settings.caches, settings.retry_after)


def trouble_error(trouble: Trouble, model_id: str, retry_after: float) -> GoogleError:
    """The native error of the trouble a trigger prompt asked for."""
    if trouble.kind == "rate-limit":
        return rate_limited(model_id, retry_after)
    if trouble.kind == "overloaded":
        return overloaded(retry_after)
    return internal()


def answer_request(
    body: Any, model_id: str, active: ActiveFaults, call: Call, caches: CacheStore, retry_after: float = 1.0
) -> tuple[Generation, ModelInfo, NativeRequest]:
    """Read, check and answer a GenerateContentRequest (tools, JSON mode, safety, thinking, caches and the
    other features included)."""
    mode = parse_mode(active, call)
    native = read_generate_request(body, mode)
    info = serving_model(model_id, active, call)
    features = native_features(native.canonical, unsanitized=not mode.sanitize_schemas)
    prompt, cached = native.prompt, None
    if native.canonical.get("cachedContent"):
        cache = caches.get(cache_name(str(native.canonical["cachedContent"])))
        if cache is None:
            raise ProtocolError(not_found())
        if cache.model != info.id:
            raise ProtocolError(model_mismatch(info.id, cache))
        prompt, cached = with_cache(prompt, cache), cache.prompt
    contents = tuple(native.canonical["contents"])
    forwarded = active.apply(FORWARDED, Forwarded(prompt, native.sampling, features, contents), call)
    refusal = unsupported(forwarded.features, info)
    if refusal is not None:
        raise ProtocolError(invalid_argument(refusal, [("generation_config", refusal)]))
    check_function_turns(forwarded.contents, native_refusal, require_signatures=True)
    try:
        generation = respond(
            forwarded.prompt,
            forwarded.sampling,
            forwarded.features,
            last_replies(forwarded.contents),
            native.fingerprint,
            info,
            cached if forwarded.prompt is prompt else _cached_part(forwarded.prompt, cached),
        )
    except Trouble as trouble:
        raise ProtocolError(trouble_error(trouble, info.id, retry_after)) from None
    return active.apply(GENERATION, generation, call), info, native


def _cached_part(prompt: Prompt, cached: Prompt | None) -> Prompt | None:
    """The cached part still leading a prompt a fault changed (None when it no longer leads it)."""
    if cached is None or prompt.turns[: len(cached.turns)] != cached.turns:
        return None
    return cached


def generate_content(
    body: Any, model_id: str, active: ActiveFaults, call: Call, caches: CacheStore, retry_after: float = 1.0
) -> Response:
    """``:generateContent``."""
    generation, info, native = answer_request(body, model_id, active, call, caches, retry_after)
    call = replace(call, generation=generation)
    response_id = derive_id("generateContent", info.id, native.fingerprint)
    full = render_generate_response(generation, info.id, response_id, active, call)
    return success(active.apply(RESPONSE, full, call), active, call)


async def stream_generate_content(request: Request, model_id: str, active: ActiveFaults) -> Response:
    """``:streamGenerateContent``: SSE with ``alt=sse``, else Google's JSON array; errors in the stream's
    form."""
    sse = request.query_params.get("alt") == "sse"
    call = replace(call_of(request, "streamGenerateContent"), stream=True)
    settings = settings_of(request)
    try:
        require_key(request, active, call)
        body = active.apply(REQUEST, parse_json_body(await request.body()), call)
        generation, info, native = answer_request(
            body, model_id, active, call, settings.caches, settings.retry_after
        )
    except ProtocolError as raised:
        return stream_error(raised.error, sse, active, call)
    call = replace(call, generation=generation)
    response_id = derive_id("streamGenerateContent", info.id, native.fingerprint)
    full = active.apply(
        RESPONSE, render_generate_response(generation, info.id, response_id, active, call), call
    )
    framing = active.apply(FRAMING, Framing("sse" if sse else "json-array"), call)
    if framing.mode == "json":  # not streamed after all: answered as a non-streaming success
        return success(full, active, call)
    return native_stream(full, framing, request, active, call)


def stream_error(error: GoogleError | OpenAIError, sse: bool, active: ActiveFaults, call: Call) -> Response:
    """A native error on a streaming request: as Google sends it, labelled SSE or wrapped in the array."""
    shown = active.apply(STREAM_ERROR, error, call)
    if shown is None:
        return empty_200(SSE_CONTENT_TYPE if sse else GEMINI_CONTENT_TYPE)
    response = render_error(shown, active, call)
    if sse:  # FACTS.md: Google labels an SSE request's error so
        response.headers["content-type"] = SSE_CONTENT_TYPE
        return response
    wrapped = b"[" + bytes(response.body).rstrip(b"\n") + b"\n]"
    array = Response(wrapped, status_code=response.status_code, media_type=GEMINI_CONTENT_TYPE)
    for name, value in response.headers.items():  # the error's own headers (Retry-After) go along
        if name not in ("content-length", "content-type"):
            array.headers[name] = value
    return array


def count_tokens(body: Any, model_id: str, active: ActiveFaults, call: Call) -> Response:
    """``:countTokens``: the same count that generateContent reports as promptTokenCount."""
    native = read_count_tokens_request(body, parse_mode(active, call))
    serving_model(model_id, active, call)
    forwarded = active.apply(FORWARDED, Forwarded(native.prompt, native.sampling, Features()), call)
    count = count_prompt(forwarded.prompt)
    result: dict[str, Any] = {"totalTokens": count.total}
    if count.details:
        result["promptTokensDetails"] = render_details(count)
    return success(active.apply(RESPONSE, result, call), active, call)


# -- context caches ------------------------------------------------------------------------------


@native_endpoint
async def create_cache(request: Request, active: ActiveFaults) -> Response:
    """``POST {p}/cachedContents``: cachedContents.create."""
    call = call_of(request, "cachedContents.create")
    require_key(request, active, call)
    body = active.apply(REQUEST, parse_json_body(await request.body()), call)
    catalogue = {model.id: model for model in call.catalogue.models}
    cache = read_cache(body, parse_mode(active, call), catalogue, time.time())
    settings_of(request).caches.add(cache)
    return success(active.apply(RESPONSE, cache.resource(), call), active, call)


@native_endpoint
async def cache_route(request: Request, active: ActiveFaults) -> Response:
    """``GET`` and ``DELETE {p}/cachedContents/{id}``: cachedContents.get and cachedContents.delete."""
    name = cache_name(request.path_params["id"])
    caches = settings_of(request).caches
    if request.method == "DELETE":
        call = call_of(request, "cachedContents.delete")
        require_key(request, active, call)
        if not caches.delete(name):
            raise ProtocolError(not_found())
        return success(active.apply(RESPONSE, {}, call), active, call)
    call = call_of(request, "cachedContents.get")
    require_key(request, active, call)
    cache = caches.get(name)
    if cache is None:
        raise ProtocolError(not_found())
    return success(active.apply(RESPONSE, cache.resource(), call), active, call)
