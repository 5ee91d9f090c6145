"""Error bodies of both protocols: google.rpc.Status (native) and OpenAI's ErrorResponse."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Canonical = Literal[
    "INVALID_ARGUMENT",
    "FAILED_PRECONDITION",
    "UNAUTHENTICATED",
    "PERMISSION_DENIED",
    "NOT_FOUND",
    "RESOURCE_EXHAUSTED",
    "INTERNAL",
    "UNIMPLEMENTED",
    "UNAVAILABLE",
    "DEADLINE_EXCEEDED",
    "UNKNOWN",
]

CANONICAL_BY_HTTP: dict[int, Canonical] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

OpenAIErrorType = Literal[
    "invalid_request_error", "authentication_error", "not_found_error", "server_error", "requests"
]

TYPE_PREFIX = "type.googleapis.com/google.rpc."
NO_KEY_MESSAGE = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)
BAD_KEY_MESSAGE = "API key not valid. Please pass a valid API key."
UNAUTHENTICATED_MESSAGE = (
    "Request is missing required authentication credential. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. "
    "See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
INTERNAL_MESSAGE = (
    "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting"
)
QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more information on "
    "this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits."
)
OVERLOADED_MESSAGE = "The model is overloaded. Please try again later."
QUOTA_METRIC = "generativelanguage.googleapis.com/generate_content_free_tier_requests"


@dataclass(frozen=True)
class GoogleError:
    """A native error: google.rpc.Status with the HTTP status it is sent with."""

    http_status: int
    message: str
    details: tuple[Mapping[str, Any], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def status(self) -> Canonical:
        """The canonical code name for the HTTP status."""
        return CANONICAL_BY_HTTP.get(self.http_status, "UNKNOWN")

    def body(self) -> dict[str, Any]:
        """The JSON body: ``{"error": {"code", "message", "status", "details"?}}``."""
        error: dict[str, Any] = {"code": self.http_status, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = [dict(detail) for detail in self.details]
        return {"error": error}


@dataclass(frozen=True)
class OpenAIError:
    """An OpenAI-compatible error: ErrorResponse with the HTTP status it is sent with."""

    http_status: int
    message: str
    type: OpenAIErrorType = "invalid_request_error"
    param: str | None = None
    code: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def body(self) -> dict[str, Any]:
        """The JSON body: ``{"error": {"message", "type", "param", "code"}}``."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class ProtocolError(Exception):
    """Raised by handlers to answer with an error body of their protocol."""

    def __init__(self, error: GoogleError | OpenAIError) -> None:
        super().__init__(error.message)
        self.error = error


def bad_request_detail(violations: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """A google.rpc.BadRequest detail listing (field, description) violations."""
    return {
        "@type": TYPE_PREFIX + "BadRequest",
        "fieldViolations": [
            {"field": field, "description": description} for field, description in violations
        ],
    }


def invalid_argument(message: str, violations: Sequence[tuple[str, str]] = ()) -> GoogleError:
    """A native 400 INVALID_ARGUMENT, with a BadRequest detail when fields are named."""
    details = (bad_request_detail(violations),) if violations else ()
    return GoogleError(400, message, details)


def google_not_found(message: str) -> GoogleError:
    """A native 404 NOT_FOUND."""
    return GoogleError(404, message)


def model_not_found(model: str, method: str) -> GoogleError:
    """The native 404 for a model that is not in the catalogue."""
    return google_not_found(
        f"models/{model} is not found for API version v1beta, or is not supported for {method}. "
        "Call ModelService.ListModels to see the list of available models and their supported methods."
    )


def missing_key() -> GoogleError:
    """The native 403 for a request with no API key (Google sends no details)."""
    return GoogleError(403, NO_KEY_MESSAGE)


def unauthenticated() -> GoogleError:
    """The native 401 UNAUTHENTICATED that a gateway gives when it did not read the key."""
    return GoogleError(401, UNAUTHENTICATED_MESSAGE)


def invalid_key() -> GoogleError:
    """The native 400 for a wrong API key, exactly as Google sends it."""
    return GoogleError(
        400,
        BAD_KEY_MESSAGE,
        (
            {
                "@type": TYPE_PREFIX + "ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {"@type": TYPE_PREFIX + "LocalizedMessage", "locale": "en-US", "message": BAD_KEY_MESSAGE},
        ),
    )


def openai_invalid(message: str, param: str | None, code: str | None = "invalid_value") -> OpenAIError:
    """An OpenAI 400 invalid_request_error naming the parameter."""
    return OpenAIError(400, message, "invalid_request_error", param, code)


def openai_bad_key(provided: bool) -> OpenAIError:
    """The OpenAI 401 for a missing or wrong key."""
    if provided:
        message = "Incorrect API key provided. You can find your API key in your account settings."
    else:
        message = (
            "You didn't provide an API key. You need to provide your API key in an Authorization "
            "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
        )
    return OpenAIError(401, message, "invalid_request_error", None, "invalid_api_key")


def openai_model_not_found(model: str) -> OpenAIError:
    """The OpenAI 404 for a model that is not in the catalogue."""
    return OpenAIError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        "invalid_request_error",
        None,
        "model_not_found",
    )


def _retry_after(seconds: float) -> tuple[tuple[str, str], ...]:
    return (("retry-after", str(max(0, round(seconds)))),)


def rate_limited(model: str, retry_after: float) -> GoogleError:
    """The native 429 RESOURCE_EXHAUSTED of a quota, with QuotaFailure, Help and RetryInfo, as Google sends
    it (plus ``Retry-After``)."""
    delay = max(0, round(retry_after))
    return GoogleError(
        429,
        QUOTA_MESSAGE,
        (
            {
                "@type": TYPE_PREFIX + "QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": QUOTA_METRIC,
                        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        "quotaDimensions": {"location": "global", "model": model},
                        "quotaValue": "10",
                    }
                ],
            },
            {
                "@type": TYPE_PREFIX + "Help",
                "links": [
                    {
                        "description": "Learn more about Gemini API quotas",
                        "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                    }
                ],
            },
            {"@type": TYPE_PREFIX + "RetryInfo", "retryDelay": f"{delay}s"},
        ),
        _retry_after(retry_after),
    )


def overloaded(retry_after: float) -> GoogleError:
    """The native 503 UNAVAILABLE of an overloaded model (plus ``Retry-After``)."""
    return GoogleError(503, OVERLOADED_MESSAGE, (), _retry_after(retry_after))


def internal() -> GoogleError:
    """The native 500 INTERNAL."""
    return GoogleError(500, INTERNAL_MESSAGE)


def openai_rate_limited(model: str, retry_after: float) -> OpenAIError:
    """The OpenAI 429 of a rate limit (type ``requests``, code ``rate_limit_exceeded``), with
    ``Retry-After``."""
    return OpenAIError(
        429,
        f"Rate limit reached for {model}: {QUOTA_MESSAGE}",
        "requests",
        None,
        "rate_limit_exceeded",
        _retry_after(retry_after),
    )


def openai_overloaded(retry_after: float) -> OpenAIError:
    """The OpenAI 503 of an overloaded model, with ``Retry-After``."""
    return OpenAIError(503, OVERLOADED_MESSAGE, "server_error", None, None, _retry_after(retry_after))


def openai_internal() -> OpenAIError:
    """The OpenAI 500."""
    return OpenAIError(500, "The server had an error while processing your request.", "server_error")
