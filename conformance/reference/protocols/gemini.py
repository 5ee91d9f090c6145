"""The native protocol (Gemini v1beta) handlers: models, generateContent, countTokens.

All native routes live under one prefix: ``GET {p}/models`` and one catch-all ``{p}/models/{rest}``
whose ``rest`` is ``<model>`` (models.get) or ``<model>:<method>``. Bodies are rendered in
Google's layout; errors are google.rpc.Status. The renderers take the engine's Generation, so a
streaming renderer can reuse them chunk by chunk.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Set
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from conformance.reference.endpoints import Endpoint, Handler, guarded
from conformance.reference.faults.degrade import degrade_input
from conformance.reference.faults.media_faults import rewrite_gemini
from conformance.reference.faults.tool_faults import degrade_features, distort_generation, distort_native_body
from conformance.reference.model.catalogue import ModelInfo
from conformance.reference.model.engine import Completion, Generation, PromptCount, count_prompt
from conformance.reference.model.features import native_features
from conformance.reference.model.function_turns import check_function_turns, last_replies, split_responses
from conformance.reference.model.ids import derive_id
from conformance.reference.model.responder import respond
from conformance.reference.protocols.auth import authenticate
from conformance.reference.protocols.errors import (
    GoogleError,
    OpenAIError,
    ProtocolError,
    as_internal,
    google_as_openai,
    google_not_found,
    invalid_argument,
    invalid_key,
    missing_key,
    model_not_found,
    unauthenticated,
)
from conformance.reference.protocols.gemini_request import (
    NativeRequest,
    ParseMode,
    parse_json_body,
    read_count_tokens_request,
    read_generate_request,
)
from conformance.reference.protocols.native_parts import render_blocked_prompt, render_candidate_body
from conformance.reference.protocols.streaming import SSE_CONTENT_TYPE, NativeMode, empty_200, native_stream
from conformance.reference.protocols.wire import GEMINI_CONTENT_TYPE, gemini_response, snake_keys
from conformance.reference.settings import settings_of

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def render_error(error: GoogleError | OpenAIError, faults: Set[str]) -> Response:
    """A native error response, as the active faults would distort it."""
    if isinstance(error, OpenAIError):  # pragma: no cover - these handlers raise GoogleErrors
        error = GoogleError(error.http_status, error.message)
    if "errors-as-500" in faults:
        error = as_internal(error)
    if "errors-openai-envelope" in faults:
        wrapped: OpenAIError = google_as_openai(error)
        return gemini_response(wrapped.body(), wrapped.http_status)
    return gemini_response(error.body(), error.http_status)


def route_not_found(request: Request) -> GoogleError:
    """The native 404 for a path or method the gateway does not serve."""
    return google_not_found(f"The requested URL {request.url.path} was not found on this server.")


def native_endpoint(handler: Handler) -> Endpoint:
    """Wrap a native handler so that a ProtocolError becomes a native error response."""
    return guarded(handler, render_error)


def require_key(request: Request, faults: Set[str]) -> None:
    """Raise the native auth error unless the request carries the gateway's key."""
    ignore_header = "x-goog-api-key-rejected" in faults
    verdict = authenticate(request, settings_of(request).api_key, read_goog_header=not ignore_header)
    if verdict == "missing":
        if ignore_header and request.headers.get("x-goog-api-key", "").strip():
            raise ProtocolError(unauthenticated())
        raise ProtocolError(missing_key())
    if verdict == "invalid":
        raise ProtocolError(invalid_key())


def native_refusal(field: str, message: str) -> ProtocolError:
    """A native 400 naming the offending field of a GenerateContentRequest."""
    return ProtocolError(invalid_argument(f"* GenerateContentRequest.{field}: {message}", [(field, message)]))


def parse_mode(faults: Set[str]) -> ParseMode:
    """How requests are read under the active faults."""
    return ParseMode(
        accept_snake_case="snake-case-ignored" not in faults,
        strict="invalid-argument-unchecked" not in faults,
    )


def serving_model(request: Request, model_id: str, method: str, faults: Set[str]) -> ModelInfo:
    """The catalogue model serving a request, or the native 404."""
    catalogue = settings_of(request).catalogue
    info = catalogue.get(model_id)
    if info is not None:
        return info
    if "unknown-model-fallback" in faults:
        return catalogue.default
    raise ProtocolError(model_not_found(model_id, method))


def success(body: dict[str, Any], faults: Set[str]) -> Response:
    """A native 200, with keys snake_cased under the snake-case-output fault."""
    response = gemini_response(snake_keys(body) if "snake-case-output" in faults else body)
    if "json-served-as-text" in faults:
        response.headers["content-type"] = "text/plain; charset=utf-8"
    return response


# -- rendering -----------------------------------------------------------------------------------


def render_details(count: PromptCount) -> list[dict[str, Any]]:
    """``promptTokensDetails``: one ModalityTokenCount per modality."""
    return [{"modality": entry.modality, "tokenCount": entry.tokens} for entry in count.details]


def render_candidate(completion: Completion, index: int, faults: Set[str]) -> dict[str, Any]:
    """One candidate of a generateContent response (thoughts, code and calls are parts too)."""
    finish = "STOP" if "finish-reason-always-stop" in faults else completion.finish_reason
    return render_candidate_body(completion, index, finish, faults)


def render_usage(generation: Generation, faults: Set[str]) -> dict[str, Any]:
    """``usageMetadata``, with zero counts omitted as Google does."""
    prompt = generation.prompt.total
    output = generation.candidates_token_count
    thoughts = generation.thoughts_token_count
    total = prompt if "usage-misreported" in faults else prompt + output
    if "thoughts-left-out-of-total" not in faults:
        total += thoughts
    usage: dict[str, Any] = {}
    if prompt:
        usage["promptTokenCount"] = prompt
    if output:
        usage["candidatesTokenCount"] = output
    if total:
        usage["totalTokenCount"] = total
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    if generation.prompt.details:
        usage["promptTokensDetails"] = render_details(generation.prompt)
    return usage


def render_generate_response(
    generation: Generation, model_version: str, response_id: str, faults: Set[str]
) -> dict[str, Any]:
    """A whole GenerateContentResponse (before the response-casing fault)."""
    usage_key = "cpaUsageMetadata" if "usage-renamed" in faults else "usageMetadata"
    body: dict[str, Any]
    if generation.block_reason is not None:
        blocked = render_blocked_prompt(generation, render_usage(generation, faults), faults)
        body = {(usage_key if key == "usageMetadata" else key): value for key, value in blocked.items()}
        if "response-ids-dropped" not in faults:
            body.update(modelVersion=model_version, responseId=response_id)
        return body
    body = {
        "candidates": [
            render_candidate(candidate, index, faults)
            for index, candidate in enumerate(generation.candidates)
        ],
        ("cpaUsageMetadata" if "usage-renamed" in faults else "usageMetadata"): render_usage(
            generation, faults
        ),
    }
    if "response-ids-dropped" not in faults:
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


def _query(request: Request, camel: str, snake: str) -> str | None:
    return request.query_params.get(camel, request.query_params.get(snake))


def _page_size(request: Request) -> int:
    text = _query(request, "pageSize", "page_size")
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
async def list_models(request: Request, faults: frozenset[str]) -> Response:
    """``GET {p}/models``: models.list with pageSize and pageToken."""
    require_key(request, faults)
    models = settings_of(request).catalogue.models
    if "models-openai-shape" in faults:
        return gemini_response({"object": "list", "data": [model.openai_json() for model in models]})
    size = _page_size(request)
    start = 0
    token = _query(request, "pageToken", "page_token")
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
    return success(body, faults)


@native_endpoint
async def model_route(request: Request, faults: frozenset[str]) -> Response:
    """``{p}/models/{rest}``: models.get, or ``<model>:<method>`` for the generation methods."""
    model_id, colon, method = request.path_params["rest"].partition(":")
    if request.method == "GET" and not colon and model_id:
        require_key(request, faults)
        info = settings_of(request).catalogue.get(model_id)
        if info is None:
            raise ProtocolError(model_not_found(model_id, "get"))
        return success(info.gemini_json(), faults)
    if request.method != "POST" or method not in ("generateContent", "countTokens", "streamGenerateContent"):
        raise ProtocolError(route_not_found(request))
    if method == "streamGenerateContent":
        return await stream_generate_content(request, model_id, faults)
    require_key(request, faults)
    body = rewrite_gemini(parse_json_body(await request.body()), faults)
    if method == "countTokens":
        return count_tokens(request, body, model_id, faults)
    return generate_content(request, body, model_id, faults)


def answer_request(
    request: Request, body: Any, model_id: str, method: str, faults: frozenset[str]
) -> tuple[Generation, ModelInfo, NativeRequest]:
    """Read, check and answer a GenerateContentRequest (tools, JSON mode, safety and thinking included)."""
    native = read_generate_request(distort_native_body(body, faults), parse_mode(faults))
    info = serving_model(request, model_id, method, faults)
    features = native_features(native.canonical, unsanitized="tool-schema-unsanitized" in faults)
    features = degrade_features(features, faults)
    contents = native.canonical["contents"]
    if "parallel-responses-split" in faults:
        contents = split_responses(contents)
    check_function_turns(contents, native_refusal, require_signatures=True)
    prompt, sampling = degrade_input(native.prompt, native.sampling, faults)
    generation = respond(prompt, sampling, features, last_replies(contents), native.fingerprint())
    return distort_generation(generation, faults), info, native


def generate_content(request: Request, body: Any, model_id: str, faults: frozenset[str]) -> Response:
    """``:generateContent``."""
    generation, info, native = answer_request(request, body, model_id, "generateContent", faults)
    response_id = derive_id("generateContent", info.id, native.fingerprint())
    return success(render_generate_response(generation, info.id, response_id, faults), faults)


async def stream_generate_content(request: Request, model_id: str, faults: frozenset[str]) -> Response:
    """``:streamGenerateContent``: SSE with ``alt=sse``, else Google's JSON array; errors in the stream's form."""
    mode: NativeMode = "sse" if request.query_params.get("alt") == "sse" else "json-array"
    try:
        require_key(request, faults)
        body = rewrite_gemini(parse_json_body(await request.body()), faults)
        generation, info, native = answer_request(request, body, model_id, "streamGenerateContent", faults)
    except ProtocolError as raised:
        return stream_error(raised.error, mode, faults)
    response_id = derive_id("streamGenerateContent", info.id, native.fingerprint())
    full = render_generate_response(generation, info.id, response_id, faults)
    if mode == "json-array" and "stream-without-alt-sse-not-streamed" in faults:
        return success(full, faults)
    return native_stream(full, mode, request, faults)


def stream_error(error: GoogleError | OpenAIError, mode: NativeMode, faults: Set[str]) -> Response:
    """A native error on a streaming request: as Google sends it, labelled SSE or wrapped in the array."""
    if "stream-error-as-200" in faults:
        return empty_200(SSE_CONTENT_TYPE if mode == "sse" else GEMINI_CONTENT_TYPE)
    response = render_error(error, faults)
    if mode == "sse":
        response.headers["content-type"] = (
            SSE_CONTENT_TYPE  # FACTS.md: Google labels an SSE request's error so
        )
        return response
    wrapped = b"[" + bytes(response.body).rstrip(b"\n") + b"\n]"
    return Response(wrapped, status_code=response.status_code, media_type=GEMINI_CONTENT_TYPE)


def count_tokens(request: Request, body: Any, model_id: str, faults: frozenset[str]) -> Response:
    """``:countTokens``: the same count that generateContent reports as promptTokenCount."""
    native = read_count_tokens_request(body, parse_mode(faults))
    serving_model(request, model_id, "countTokens", faults)
    if "count-tokens-zero" in faults:
        return success({"totalTokens": 0}, faults)
    prompt, _ = degrade_input(native.prompt, native.sampling, faults)
    count = count_prompt(prompt)
    result: dict[str, Any] = {"totalTokens": count.total}
    if count.details:
        result["promptTokensDetails"] = render_details(count)
    return success(result, faults)
