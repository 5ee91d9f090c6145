"""Each check of the vocabulary on a passing and a failing exchange."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.checks import CHECKS, CheckContext, run_check
from conformance.errors import Undecodable
from conformance.suite.model import Case, Expectation, Policy, RequestSpec, Step
from conformance.wire.exchange import Exchange, SentRequest

REQUEST = SentRequest("POST", "http://127.0.0.1/v1beta/models/m:generateContent", (), b"{}")
GEMINI_OK = {
    "candidates": [
        {
            "content": {
                "parts": [{"text": "think", "thought": True}, {"text": "PINE"}, {"text": "APPLE"}],
                "role": "model",
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 5,
        "candidatesTokenCount": 2,
        "thoughtsTokenCount": 3,
        "totalTokenCount": 10,
    },
    "modelVersion": "gemini-2.5-flash",
    "responseId": "abc",
}
OPENAI_OK = {
    "id": "x",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "PINEAPPLE"}, "finish_reason": "stop"}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


def case(protocol: str = "gemini") -> Case:
    return Case(
        id=f"{protocol}/unit/case",
        protocol=protocol,
        feature="unit",
        level="MUST",
        title="t",
        reference="r",  # type: ignore[arg-type]
        steps=(Step(RequestSpec("POST", "/x"), ()),),
        policy=Policy(),
        source=Path("x.yaml"),
    )


def exchange(body: Any, status: int = 200, content_type: str = "application/json; charset=UTF-8") -> Exchange:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Exchange(request=REQUEST, status=status, headers=(("Content-Type", content_type),), body=raw)


def verdict(
    schemas, check: str, args: Any, *exchanges: Exchange, protocol: str = "gemini", model: str = "m"
) -> list[str]:
    ctx = CheckContext(case=case(protocol), exchanges=exchanges, schemas=schemas, model=model)
    return [f.message for f in run_check(ctx, Expectation(check, args))]


GOOD_AND_BAD: list[tuple[str, Any, Exchange, Exchange, str]] = [
    ("status", 200, exchange({}), exchange({}, 500), "expected HTTP 200, got 500"),
    ("status", [400, 401], exchange({}, 401), exchange({}, 200), "expected HTTP 400 or 401, got 200"),
    (
        "content_type",
        "application/json",
        exchange({}),
        exchange({}, content_type="text/plain"),
        "expected Content-Type application/json",
    ),
    (
        "header",
        {"name": "content-type", "matches": "json"},
        exchange({}),
        exchange({}, content_type="text/html"),
        "matching /json/",
    ),
    (
        "schema",
        "gemini/GenerateContentResponse",
        exchange(GEMINI_OK),
        exchange({**GEMINI_OK, "candidates": [{"finishReason": "stop"}]}),
        "gemini/GenerateContentResponse",
    ),
    (
        "json",
        {"at": "/candidates/0/finishReason", "equals": "STOP"},
        exchange(GEMINI_OK),
        exchange({"candidates": [{"finishReason": "MAX_TOKENS"}]}),
        'expected "STOP", got "MAX_TOKENS"',
    ),
    (
        "json",
        {"at": "/candidates/*/finishReason", "one_of": ["STOP", "MAX_TOKENS"]},
        exchange(GEMINI_OK),
        exchange({"candidates": [{"finishReason": "STOP"}, {"finishReason": "X"}]}),
        "/candidates/1/finishReason",
    ),
    (
        "json",
        {"at": "/responseId", "matches": "^(?!chatcmpl-)"},
        exchange(GEMINI_OK),
        exchange({"responseId": "chatcmpl-1"}),
        "expected a match",
    ),
    (
        "json",
        {"at": "/usageMetadata/totalTokenCount", "type": "integer"},
        exchange(GEMINI_OK),
        exchange({"usageMetadata": {"totalTokenCount": "10"}}),
        "expected type integer, got string",
    ),
    (
        "json",
        {"at": "/candidates", "length": {"min": 1}},
        exchange(GEMINI_OK),
        exchange({"candidates": []}),
        "expected length at least 1, got 0",
    ),
    (
        "json",
        {"at": "/choices", "exists": False},
        exchange(GEMINI_OK),
        exchange({"choices": []}),
        "expected nothing at /choices",
    ),
    ("json", {"at": "/x", "exists": True}, exchange({"x": None}), exchange({}), "expected a value at /x"),
    (
        "json",
        {"at": "/names", "contains": "a"},
        exchange({"names": ["a"]}),
        exchange({"names": ["b"]}),
        "to contain",
    ),
    ("json", {"at": "/n", "gt": 0}, exchange({"n": 1}), exchange({"n": 0}), "expected a value > 0, got 0"),
    ("json", {"at": "/n", "lte": 5}, exchange({"n": 5}), exchange({"n": 6}), "expected a value <= 5, got 6"),
    (
        "json",
        {"at": "/name", "equals": "models/{model}"},
        exchange({"name": "models/m"}),
        exchange({"name": "models/other"}),
        '"models/m"',
    ),
    (
        "text",
        {"contains": "PINEAPPLE"},
        exchange(GEMINI_OK),
        exchange({"candidates": [{"content": {"parts": [{"text": "no"}]}}]}),
        'to contain "PINEAPPLE"',
    ),
    (
        "text",
        {"not_contains": "think"},
        exchange(GEMINI_OK),
        exchange({"candidates": [{"content": {"parts": [{"text": "I think"}]}}]}),
        'not to contain "think"',
    ),
    (
        "text",
        {"length": {"min": 1}},
        exchange(GEMINI_OK),
        exchange({"candidates": []}),
        "no answer text: candidate 0 is missing",
    ),
    (
        "sum",
        {
            "total": "/usageMetadata/totalTokenCount",
            "of": [
                "/usageMetadata/promptTokenCount",
                "/usageMetadata/candidatesTokenCount",
                "/usageMetadata/thoughtsTokenCount",
                "/usageMetadata/toolUsePromptTokenCount",
            ],
        },
        exchange(GEMINI_OK),
        exchange({"usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 7}}),
        "expected the sum 5",
    ),
    (
        "sum",
        {
            "total": "/usage/total_tokens",
            "of": ["/usage/prompt_tokens", "/usage/completion_tokens"],
            "at_least": True,
        },
        exchange({"usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 9}}),
        exchange({"usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 3}}),
        "expected at least the sum 4",
    ),
    (
        "sum",
        {
            "total": "/usageMetadata/candidatesTokenCount",
            "of": ["/usageMetadata/candidatesTokensDetails/*/tokenCount"],
        },
        exchange(
            {
                "usageMetadata": {
                    "candidatesTokenCount": 1296,
                    "candidatesTokensDetails": [
                        {"modality": "TEXT", "tokenCount": 6},
                        {"modality": "IMAGE", "tokenCount": 1290},
                    ],
                }
            }
        ),
        exchange(
            {
                "usageMetadata": {
                    "candidatesTokenCount": 1296,
                    "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 6}],
                }
            }
        ),
        "expected the sum 6",
    ),
    (
        "error",
        {"status": "INVALID_ARGUMENT"},
        exchange({"error": {"code": 400, "message": "m", "status": "INVALID_ARGUMENT"}}, 400),
        exchange({"error": {"code": 500, "message": "m", "status": "INVALID_ARGUMENT"}}, 400),
        "error.code is 500",
    ),
    (
        "error",
        {},
        exchange({"error": {"code": 404, "message": "m", "status": "NOT_FOUND"}}, 404),
        exchange({"error": {"code": 404, "message": "m", "status": "INTERNAL"}}, 404),
        "error.status INTERNAL belongs with HTTP 500",
    ),
    (
        "error",
        {},
        exchange({"error": {"code": 400, "message": "m", "status": "INVALID_ARGUMENT"}}, 400),
        exchange(
            {"error": {"message": "m", "type": "invalid_request_error", "param": None, "code": None}}, 400
        ),
        "google.rpc error",
    ),
    (
        "camel_case_keys",
        True,
        exchange({**GEMINI_OK, "candidates": [{"functionCall": {"args": {"snake_key": 1}}}]}),
        exchange({"usage_metadata": {}}),
        "expected lowerCamelCase response keys, found /usage_metadata",
    ),
    (
        "any_of",
        [[{"status": 200}, {"json": {"at": "/candidates", "length": 2}}], [{"status": 400}]],
        exchange({"candidates": [1, 2]}),
        exchange({"candidates": [1]}),
        "no alternative held",
    ),
]


@pytest.mark.parametrize(
    ("check", "args", "good", "bad", "message"),
    GOOD_AND_BAD,
    ids=[f"{row[0]}-{i}" for i, row in enumerate(GOOD_AND_BAD)],
)
def test_check_passes_good_and_fails_bad(schemas, check, args, good, bad, message):
    assert verdict(schemas, check, args, good) == []
    problems = verdict(schemas, check, args, bad)
    assert problems, f"{check} accepted a bad exchange"
    assert any(message in problem for problem in problems), problems


def test_every_registered_check_is_unit_tested():
    """Each check appears in a GOOD_AND_BAD table of tests/test_checks*.py (one module per check family)."""
    import importlib

    covered: set[str] = set()
    for path in Path(__file__).parent.glob("test_checks*.py"):
        module = importlib.import_module(f"tests.{path.stem}")
        covered |= {row[0] for row in getattr(module, "GOOD_AND_BAD", [])}
    assert covered == set(CHECKS)


def test_openai_text_and_error(schemas):
    assert verdict(schemas, "text", {"contains": "PINEAPPLE"}, exchange(OPENAI_OK), protocol="openai") == []
    missing = {**OPENAI_OK, "choices": [{"index": 0, "finish_reason": "stop"}]}
    assert (
        "no answer text"
        in verdict(schemas, "text", {"contains": "X"}, exchange(missing), protocol="openai")[0]
    )
    good = exchange(
        {
            "error": {
                "message": "m",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        },
        401,
    )
    assert verdict(schemas, "error", {"code": "invalid_api_key"}, good, protocol="openai") == []
    assert verdict(schemas, "error", {"code": "other"}, good, protocol="openai")
    native = exchange({"error": {"code": 401, "message": "m", "status": "UNAUTHENTICATED"}}, 401)
    assert verdict(schemas, "error", {}, native, protocol="openai")


def test_cross_step_pointer(schemas):
    first = exchange({"totalTokens": 5})
    assert (
        verdict(
            schemas,
            "json",
            {"at": "/usageMetadata/promptTokenCount", "equals_at": "0#/totalTokens"},
            first,
            exchange(GEMINI_OK),
        )
        == []
    )
    assert verdict(
        schemas,
        "json",
        {"at": "/usageMetadata/promptTokenCount", "equals_at": "0#/totalTokens"},
        exchange({"totalTokens": 6}),
        exchange(GEMINI_OK),
    ) == ["/usageMetadata/promptTokenCount: expected 6, got 5"]


@pytest.mark.parametrize("body", [b"", b"<html>oops</html>", b"\xff\xfe", b'{"candidates": ['])
def test_body_checks_raise_undecodable_on_non_json(schemas, body):
    with pytest.raises(Undecodable):
        verdict(schemas, "json", {"at": "/x", "exists": True}, exchange(body))


def test_json_equality_does_not_confuse_booleans_and_numbers(schemas):
    assert verdict(schemas, "json", {"at": "/x", "equals": 1}, exchange({"x": True}))
    assert verdict(schemas, "json", {"at": "/x", "equals": 1}, exchange({"x": 1.0})) == []
