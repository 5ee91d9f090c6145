"""Faults in how the gateway routes a request: the API key it reads, the model it serves, and its
model list and token count endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from conformance.reference.faults.fault import BOTH, Fault, at
from conformance.reference.faults.seams import CREDENTIALS, MODEL, REQUEST, RESPONSE, Call

if TYPE_CHECKING:
    from conformance.reference.model.catalogue import ModelInfo
    from conformance.reference.protocols.auth import Credentials


class XGoogApiKeyRejected(Fault):
    """The x-goog-api-key header is not read: a request authenticated only by it is treated as having no
    key (native: 401 UNAUTHENTICATED; OpenAI: 401 invalid_api_key)."""

    name = "x-goog-api-key-rejected"
    bug_class = "F42"
    protocol = "gemini"
    feature = "auth"
    affects = BOTH
    caught_by = ("gemini/auth/x-goog-api-key",)

    level = "SHOULD"
    level_reason = (
        "accepting the key in x-goog-api-key is a SHOULD (gemini/auth/x-goog-api-key): the query key and"
        " Bearer still work"
    )

    @at(CREDENTIALS)
    def header_unread(self, credentials: Credentials, call: Call) -> Credentials:
        return credentials.ignoring("x-goog-api-key")


class UnknownModelFallback(Fault):
    """An unknown model is silently served by the default model with 200 on both routes."""

    name = "unknown-model-fallback"
    bug_class = "F44"
    protocol = "gemini"
    feature = "model-routing"
    affects = BOTH
    caught_by = (
        "gemini/count-tokens/unknown-model",
        "gemini/errors/unknown-model",
        "gemini/streaming-json-array/unknown-model",
        "gemini/streaming-sse/unknown-model",
        "openai/errors/unknown-model",
        "openai/streaming/unknown-model",
        "gemini/sdk/unknown-model",
        "openai/sdk/unknown-model",
    )

    @at(MODEL)
    def default_model(self, found: ModelInfo | None, call: Call) -> ModelInfo | None:
        return found if found is not None else call.catalogue.default


class ModelsOpenAIShape(Fault):
    """The native GET models returns the OpenAI list shape {object: list, data: [...]}."""

    name = "models-openai-shape"
    bug_class = "F44"
    protocol = "gemini"
    feature = "models-list"
    caught_by = (
        "gemini/models/list",
        "gemini/sdk/models-list",
    )

    @at(REQUEST)
    def paging_unread(self, query: Any, call: Call) -> Any:
        """The OpenAI list handler reads no pageSize or pageToken."""
        return {} if _native_models_list(call) else query

    @at(RESPONSE)
    def openai_list(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        if not _native_models_list(call):
            return body
        return {"object": "list", "data": [model.openai_json() for model in call.catalogue.models]}


def _native_models_list(call: Call) -> bool:
    return call.protocol == "gemini" and call.method == "models.list"


class CountTokensZero(Fault):
    """countTokens answers {"totalTokens": 0}."""

    name = "count-tokens-zero"
    bug_class = "F43"
    protocol = "gemini"
    feature = "count-tokens"
    caught_by = (
        "gemini/count-tokens/contents",
        "gemini/count-tokens/generate-content-request",
        "gemini/sdk/count-tokens",
    )

    @at(RESPONSE)
    def zero(self, body: dict[str, Any], call: Call) -> dict[str, Any]:
        return {"totalTokens": 0} if call.method == "countTokens" else body


class MissingModelDefaulted(Fault):
    """An OpenAI request without model is served by the gateway's default model with 200, instead of the
    400 a request missing a required parameter gets."""

    name = "missing-model-defaulted"
    bug_class = "F44"
    protocol = "openai"
    feature = "model-routing"
    caught_by = ("openai/errors/missing-model",)

    @at(REQUEST)
    def default_model(self, body: Any, call: Call) -> Any:
        if call.protocol != "openai" or not isinstance(body, dict) or "model" in body:
            return body
        return {**body, "model": call.catalogue.default.id}
