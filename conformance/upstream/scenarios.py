"""Upstream scenarios: how the upstream answers a request whose tag names one, instead of answering plainly.

A case step asks for a scenario (``upstream: {scenario: rate-limited}``); the runner writes its name into the
request's tag and the upstream answers that request so. The client side of the case then judges how the
gateway passed the answer on. A scenario is one class here, its docstring the description: an error it
answers with instead of generating (``error``), a change to the whole GenerateContentResponse the reference
rendered (``answer``), a change to the events a streamed answer is cut into (``events``), or a pace between
streamed events (``delay``). Everything else is the reference's own answer to the request.

The values cases compare against are constants of this module (``THOUGHT_SIGNATURE``, ``UNICODE_TEXT``,
``THOUGHTS_TOKENS``...), documented in the README with the scenarios.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator
from typing import Any, ClassVar

from conformance.reference.model.engine import split_pieces, tokenize
from conformance.reference.protocols.errors import (
    INTERNAL_MESSAGE,
    TYPE_PREFIX,
    GoogleError,
    invalid_argument,
)

THOUGHT_SIGNATURE = base64.b64encode(b"conformance-thought-signature-0001").decode("ascii")
"""The signature the ``thoughts`` scenario puts on its thought part."""
ANSWER_SIGNATURE = base64.b64encode(b"conformance-answer-signature-0002").decode("ascii")
"""The signature the ``thoughts`` scenario puts on the last part of the answer."""
THOUGHT_TEXT = "Thinking it over before answering."
"""The thought summary of the ``thoughts`` scenario."""
THOUGHTS_TOKENS = 12
"""The ``thoughtsTokenCount`` the ``usage-details`` scenario reports."""
UNICODE_TEXT = "Grüße, naïve café: 東京 🍍 one\u2028two\u2029three — done."
"""The answer text of the ``unicode-text`` scenario: non-ASCII letters, CJK, an emoji and U+2028/U+2029."""
MAX_TOKENS_KEPT = 3
"""Tokens of the answer the ``max-tokens`` scenario keeps."""
EVENTS_BEFORE_ERROR = 2
"""Events the ``error-mid-stream`` scenario sends before its error."""
SLOW_STREAM_DELAY = 0.15
"""Seconds between the events of the ``slow-stream`` scenario."""
RETRY_DELAY = "1s"
"""The ``retryDelay`` of the ``rate-limited`` scenario's RetryInfo."""
BAD_FIELD = "generation_config.temperature"
"""The field the ``bad-request`` scenario's fieldViolations name."""


class Scenario:
    """How the upstream answers a request that names this scenario (the default: as the reference does)."""

    name: ClassVar[str]
    delay: ClassVar[float | None] = None
    """Seconds between streamed events (None: the upstream's own pace)."""

    def error(self) -> GoogleError | None:
        """The error answered instead of generating, or None to generate."""
        return None

    def answer(self, full: dict[str, Any]) -> dict[str, Any]:
        """The whole GenerateContentResponse as the scenario has it (``full`` is a copy it may change)."""
        return full

    def events(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The events a streamed answer is sent as (an event may be an error body)."""
        return events

    @property
    def description(self) -> str:
        return " ".join((type(self).__doc__ or "").split())


def _candidates(full: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for candidate in full.get("candidates") or []:
        if isinstance(candidate, dict):
            yield candidate


def _answer_tokens(full: dict[str, Any]) -> int:
    return sum(
        len(tokenize(part["text"]))
        for candidate in _candidates(full)
        for part in (candidate.get("content") or {}).get("parts", [])
        if isinstance(part.get("text"), str) and not part.get("thought")
    )


def _recount(full: dict[str, Any], output: int, thoughts: int | None = None) -> None:
    """Set the usage's output tokens (and thoughts), the total following."""
    usage = full.get("usageMetadata")
    if not isinstance(usage, dict):
        return
    if thoughts is not None:
        usage["thoughtsTokenCount"] = thoughts
    if output:
        usage["candidatesTokenCount"] = output
    else:
        usage.pop("candidatesTokenCount", None)
    usage["totalTokenCount"] = usage.get("promptTokenCount", 0) + output + usage.get("thoughtsTokenCount", 0)


def _withheld(full: dict[str, Any], finish: str, **extra: Any) -> dict[str, Any]:
    """Every candidate without content, ended by ``finish``."""
    full["candidates"] = [
        {"finishReason": finish, "index": candidate.get("index", n), **extra}
        for n, candidate in enumerate(_candidates(full))
    ]
    _recount(full, 0)
    return full


def _ratings(blocked: bool) -> list[dict[str, Any]]:
    ratings: list[dict[str, Any]] = []
    for category in (
        "HARM_CATEGORY_HATE_SPEECH",
        "HARM_CATEGORY_DANGEROUS_CONTENT",
        "HARM_CATEGORY_HARASSMENT",
        "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    ):
        rating: dict[str, Any] = {"category": category, "probability": "NEGLIGIBLE"}
        if category == "HARM_CATEGORY_HARASSMENT":
            rating["probability"] = "HIGH"
            if blocked:
                rating["blocked"] = True
        ratings.append(rating)
    return ratings


class RateLimited(Scenario):
    """429 RESOURCE_EXHAUSTED, as Google answers an exhausted quota: QuotaFailure, Help and RetryInfo
    (``retryDelay`` 1s) details."""

    name = "rate-limited"

    def error(self) -> GoogleError:
        return GoogleError(
            429,
            "You exceeded your current quota, please check your plan and billing details. For more "
            "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
            (
                {
                    "@type": TYPE_PREFIX + "QuotaFailure",
                    "violations": [
                        {
                            "quotaMetric": "generativelanguage.googleapis.com/generate_content_requests",
                            "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
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
                {"@type": TYPE_PREFIX + "RetryInfo", "retryDelay": RETRY_DELAY},
            ),
        )


class Unavailable(Scenario):
    """503 UNAVAILABLE: "The model is overloaded. Please try again later." """

    name = "unavailable"

    def error(self) -> GoogleError:
        return GoogleError(503, "The model is overloaded. Please try again later.")


class Internal(Scenario):
    """500 INTERNAL, Google's "An internal error has occurred" message."""

    name = "internal"

    def error(self) -> GoogleError:
        return GoogleError(500, INTERNAL_MESSAGE)


class BadRequest(Scenario):
    """400 INVALID_ARGUMENT with a BadRequest detail whose fieldViolations name
    ``generation_config.temperature``."""

    name = "bad-request"

    def error(self) -> GoogleError:
        message = "temperature must be in the range [0.0, 2.0], got 7."
        return invalid_argument(f"* GenerateContentRequest.{BAD_FIELD}: {message}", [(BAD_FIELD, message)])


class PromptBlocked(Scenario):
    """The prompt is blocked: HTTP 200 with no candidates, ``promptFeedback.blockReason: SAFETY`` and its
    ratings, usage with the prompt's tokens only."""

    name = "prompt-blocked"

    def answer(self, full: dict[str, Any]) -> dict[str, Any]:
        usage = full.get("usageMetadata") or {}
        prompt = usage.get("promptTokenCount", 0)
        blocked: dict[str, Any] = {
            "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": _ratings(blocked=True)},
            "usageMetadata": {"promptTokenCount": prompt, "totalTokenCount": prompt},
        }
        blocked.update({k: v for k, v in full.items() if k in ("modelVersion", "responseId")})
        return blocked


class Safety(Scenario):
    """The answer is blocked: each candidate has ``finishReason: SAFETY``, ``content: {}`` and its safety
    ratings (HARASSMENT HIGH, blocked)."""

    name = "safety"

    def answer(self, full: dict[str, Any]) -> dict[str, Any]:
        full["candidates"] = [
            {
                "content": {},
                "finishReason": "SAFETY",
                "index": c.get("index", n),
                "safetyRatings": _ratings(True),
            }
            for n, c in enumerate(_candidates(full))
        ]
        _recount(full, 0)
        return full


class MaxTokens(Scenario):
    """The answer is cut after its first three tokens with ``finishReason: MAX_TOKENS``."""

    name = "max-tokens"

    def answer(self, full: dict[str, Any]) -> dict[str, Any]:
        for candidate in _candidates(full):
            parts = (candidate.get("content") or {}).get("parts") or []
            texts = [p for p in parts if isinstance(p.get("text"), str) and not p.get("thought")]
            if texts:
                kept = "".join(split_pieces(texts[0]["text"])[:MAX_TOKENS_KEPT])
                candidate["content"]["parts"] = [p for p in parts if p.get("thought")] + [{"text": kept}]
            candidate["finishReason"] = "MAX_TOKENS"
        _recount(full, _answer_tokens(full))
        return full


class MalformedFunctionCall(Scenario):
    """The model's function call was malformed: no content, ``finishReason: MALFORMED_FUNCTION_CALL`` and a
    ``finishMessage``."""

    name = "malformed-function-call"

    def answer(self, full: dict[str, Any]) -> dict[str, Any]:
        return _withheld(
            full,
            "MALFORMED_FUNCTION_CALL",
            finishMessage="Malformed function call: print(default_api.get_weather(city=Paris",
        )


class Recitation(Scenario):
    """The answer recites a source: no content, ``finishReason: RECITATION``."""

    name = "recitation"

    def answer(self, full: dict[str, Any]) -> dict[str, Any]:
        return _withheld(full, "RECITATION")


class Thoughts(Scenario):
    """The answer thinks first: a thought part (``thought: true``, a ``thoughtSignature``) before the
    answer, another signature on the answer's last part, and ``thoughtsTokenCount`` in the usage."""

    name = "thoughts"

    def answer(self, full: dict[str, Any]) -> dict[str, Any]:
        for candidate in _candidates(full):
            content = candidate.setdefault("content", {"role": "model"})
            parts = [p for p in content.get("parts", []) if not p.get("thought")] or [{"text": ""}]
            parts[-1] = {**parts[-1], "thoughtSignature": ANSWER_SIGNATURE}
            thought = {"text": THOUGHT_TEXT, "thought": True, "thoughtSignature": THOUGHT_SIGNATURE}
            content["parts"] = [thought, *parts]
        _recount(full, _answer_tokens(full), len(tokenize(THOUGHT_TEXT)) * len(full.get("candidates") or []))
        return full


class UsageDetails(Scenario):
    """The usage holds thinking and cached tokens: ``thoughtsTokenCount`` 12 and a
    ``cachedContentTokenCount`` of half the prompt (at least 1), with ``cacheTokensDetails``; the total
    is prompt + candidates + thoughts."""

    name = "usage-details"

    def answer(self, full: dict[str, Any]) -> dict[str, Any]:
        usage = full.setdefault("usageMetadata", {})
        cached = max(1, usage.get("promptTokenCount", 0) // 2)
        usage["cachedContentTokenCount"] = cached
        usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
        _recount(full, usage.get("candidatesTokenCount", 0), THOUGHTS_TOKENS)
        return full


class UnicodeText(Scenario):
    """The answer text is ``UNICODE_TEXT``: non-ASCII letters, CJK, an emoji, and the line and paragraph
    separators U+2028 and U+2029, which JSON carries raw and some line splitters cut at."""

    name = "unicode-text"

    def answer(self, full: dict[str, Any]) -> dict[str, Any]:
        for candidate in _candidates(full):
            content = candidate.setdefault("content", {"role": "model"})
            content["parts"] = [p for p in content.get("parts", []) if p.get("thought")] + [
                {"text": UNICODE_TEXT}
            ]
        _recount(full, _answer_tokens(full))
        return full


class ErrorMidStream(Scenario):
    """A stream breaks off: the first two events, then an error event (500 INTERNAL, google.rpc.Status)
    where the rest of the answer would have been; a request that is not streamed is answered plainly."""

    name = "error-mid-stream"

    def events(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [*events[:EVENTS_BEFORE_ERROR], GoogleError(500, INTERNAL_MESSAGE).body()]


class SlowStream(Scenario):
    """The stream is slow: 0.15 s between events, so a gateway that holds the stream back until it ends is
    seen doing so."""

    name = "slow-stream"
    delay = SLOW_STREAM_DELAY


SCENARIOS: dict[str, Scenario] = {
    cls.name: cls()
    for cls in (
        RateLimited,
        Unavailable,
        Internal,
        BadRequest,
        PromptBlocked,
        Safety,
        MaxTokens,
        MalformedFunctionCall,
        Recitation,
        Thoughts,
        UsageDetails,
        UnicodeText,
        ErrorMidStream,
        SlowStream,
    )
}
"""Every scenario by name, in the order the documents list them."""


def scenario_answer(scenario: Scenario, full: dict[str, Any]) -> dict[str, Any]:
    """A scenario's whole answer, from a copy of the reference's."""
    return scenario.answer(copy.deepcopy(full))
