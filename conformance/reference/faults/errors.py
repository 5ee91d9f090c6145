"""Faults in error answers: the HTTP status, the error body's envelope, and errors hidden behind a 200."""

from __future__ import annotations

from conformance.reference.faults.fault import BOTH, Fault, at
from conformance.reference.faults.seams import ERROR, ERROR_BODY, STREAM_ERROR, Call, ErrorBody
from conformance.reference.protocols.errors import (
    CANONICAL_BY_HTTP,
    GoogleError,
    OpenAIError,
    OpenAIErrorType,
)


class ErrorsAs500(Fault):
    """Every error on either route is answered with HTTP 500 (native body: code 500, status INTERNAL;
    OpenAI body unchanged)."""

    name = "errors-as-500"
    bug_class = "F40"
    protocol = "gemini"
    feature = "error-status"
    affects = BOTH
    caught_by = (
        "gemini/errors/missing-contents",
        "gemini/errors/unknown-model",
        "openai/errors/missing-messages",
        "gemini/errors/rate-limit",
        "gemini/errors/overloaded",
        "gemini/streaming-sse/rate-limit",
        "openai/errors/rate-limit",
        "openai/errors/overloaded",
        "openai/errors/missing-model",
    )

    @at(ERROR)
    def as_500(self, error: GoogleError | OpenAIError, call: Call) -> GoogleError | OpenAIError:
        if isinstance(error, GoogleError):
            return GoogleError(500, error.message, error.details)
        return OpenAIError(500, error.message, error.type, error.param, error.code)


class ErrorsOpenAIEnvelope(Fault):
    """Native errors are returned in the OpenAI form {error: {message, type, param, code}} with the right
    HTTP status."""

    name = "errors-openai-envelope"
    bug_class = "F41"
    protocol = "gemini"
    feature = "error-envelope"
    caught_by = (
        "gemini/errors/bad-key",
        "gemini/errors/missing-contents",
        "gemini/errors/missing-key",
        "gemini/errors/rate-limit",
        "gemini/errors/server-error",
        "gemini/sdk/bad-key",
        "gemini/sdk/unknown-model",
    )

    @at(ERROR)
    def openai_envelope(self, error: GoogleError | OpenAIError, call: Call) -> GoogleError | OpenAIError:
        if call.protocol != "gemini" or not isinstance(error, GoogleError):
            return error
        kind: OpenAIErrorType = "server_error" if error.http_status >= 500 else "invalid_request_error"
        return OpenAIError(error.http_status, error.message, kind, None, error.status.lower())


class ErrorStatusOmitted(Fault):
    """Native error bodies carry code and message but no status ({"error": {"code": 400, "message": ...}}),
    so google-genai raises its ClientError with status None and code that branches on the status breaks."""

    name = "error-status-omitted"
    bug_class = "F41"
    protocol = "gemini"
    feature = "error-envelope"
    caught_by = (
        "gemini/errors/bad-key",
        "gemini/errors/unknown-model",
        "gemini/sdk/bad-key",
        "gemini/sdk/unknown-model",
    )

    @at(ERROR_BODY)
    def without_status(self, sent: ErrorBody, call: Call) -> ErrorBody:
        error = sent.body.get("error") if call.protocol == "gemini" and isinstance(sent.body, dict) else None
        if not isinstance(error, dict):
            return sent
        return ErrorBody(sent.http_status, {"error": {k: v for k, v in error.items() if k != "status"}})


class OpenAIErrorsInGoogleEnvelope(Fault):
    """OpenAI-route errors are passed through in Google's google.rpc form ({"error": {"code": 401,
    "message", "status": "UNAUTHENTICATED"}}) instead of OpenAI's {message, type, param, code}, so the
    openai SDK's exception has no type and a numeric code."""

    name = "openai-errors-google-envelope"
    bug_class = "F41"
    protocol = "openai"
    feature = "error-envelope"
    caught_by = (
        "openai/errors/bad-key",
        "openai/errors/unknown-model",
        "openai/sdk/bad-key",
        "openai/sdk/unknown-model",
    )

    @at(ERROR_BODY)
    def google_envelope(self, sent: ErrorBody, call: Call) -> ErrorBody:
        error = sent.body.get("error") if call.protocol == "openai" and isinstance(sent.body, dict) else None
        if not isinstance(error, dict):
            return sent
        status = sent.http_status
        google = {
            "code": status,
            "message": error.get("message", ""),
            "status": CANONICAL_BY_HTTP.get(status, "UNKNOWN"),
        }
        return ErrorBody(status, {"error": google})


class StreamErrorAs200(Fault):
    """An error on a streaming request of either protocol (unknown model, bad request) is answered HTTP
    200 with an empty stream."""

    name = "stream-error-as-200"
    bug_class = "F05"
    protocol = "gemini"
    feature = "streaming-errors"
    affects = BOTH
    caught_by = (
        "gemini/streaming-json-array/bad-request",
        "gemini/streaming-json-array/unknown-model",
        "gemini/streaming-sse/bad-request",
        "gemini/streaming-sse/unknown-model",
        "openai/streaming/bad-request",
        "openai/streaming/unknown-model",
        "gemini/streaming-sse/rate-limit",
    )

    @at(STREAM_ERROR)
    def hidden(self, error: GoogleError | OpenAIError | None, call: Call) -> GoogleError | OpenAIError | None:
        return None


class QuotaAnsweredAs503(Fault):
    """Upstream 429s are answered 503 (native UNAVAILABLE, OpenAI server_error), as cody-gateway proposed on
    purpose: clients cannot tell a quota from an outage."""

    name = "quota-answered-as-503"
    bug_class = "F40"
    protocol = "gemini"
    feature = "error-status"
    affects = BOTH
    caught_by = (
        "gemini/errors/rate-limit",
        "gemini/streaming-sse/rate-limit",
        "openai/errors/rate-limit",
    )

    @at(ERROR)
    def as_503(self, error: GoogleError | OpenAIError, call: Call) -> GoogleError | OpenAIError:
        if error.http_status != 429:
            return error
        if isinstance(error, GoogleError):
            return GoogleError(503, error.message, error.details, error.headers)
        return OpenAIError(503, error.message, "server_error", error.param, None, error.headers)


class UpstreamErrorsAs502(Fault):
    """Upstream 5xx errors are answered 502 Bad Gateway in the error form of the protocol (a proxy's
    rewrite), so clients cannot tell an overloaded model from a failing one."""

    name = "upstream-errors-as-502"
    bug_class = "F40"
    protocol = "gemini"
    feature = "error-status"
    affects = BOTH
    caught_by = (
        "gemini/errors/overloaded",
        "gemini/errors/server-error",
        "openai/errors/overloaded",
        "openai/errors/server-error",
    )

    @at(ERROR)
    def bad_gateway(self, error: GoogleError | OpenAIError, call: Call) -> GoogleError | OpenAIError:
        if error.http_status < 500:
            return error
        if isinstance(error, GoogleError):
            return GoogleError(502, error.message, error.details, error.headers)
        return OpenAIError(502, error.message, error.type, error.param, error.code, error.headers)


class ErrorDetailsStripped(Fault):
    """Native errors are re-wrapped with code, message and status only: their google.rpc details
    (RetryInfo, QuotaFailure, ErrorInfo) are lost, so clients cannot tell how long to wait."""

    name = "error-details-stripped"
    bug_class = "F41"
    protocol = "gemini"
    feature = "error-envelope"
    caught_by = (
        "gemini/errors/rate-limit",
        "gemini/errors/bad-key-as-google",
    )

    @at(ERROR)
    def no_details(self, error: GoogleError | OpenAIError, call: Call) -> GoogleError | OpenAIError:
        if not isinstance(error, GoogleError):
            return error
        return GoogleError(error.http_status, error.message, (), error.headers)
