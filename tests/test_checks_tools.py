"""The tool, JSON-answer, parts and thought checks on a passing and a failing exchange, and real captures."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.checks import CheckContext, run_check
from conformance.suite.model import Case, Expectation, Policy, RequestSpec, Step
from conformance.validation.gemini_schema import to_json_schema
from conformance.wire.exchange import Exchange, SentRequest
from tests.fixtures import SHARED

WEATHER_GEMINI = {
    "type": "OBJECT",
    "properties": {"city": {"type": "STRING"}, "days": {"type": "INTEGER", "nullable": True}},
    "required": ["city"],
}
WEATHER_JSON = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}
GEMINI_REQUEST = {
    "contents": [],
    "tools": [
        {"functionDeclarations": [{"name": "get_weather", "parameters": WEATHER_GEMINI}]},
        {"function_declarations": [{"name": "get_time", "parameters_json_schema": WEATHER_JSON}]},
    ],
    "generationConfig": {"responseMimeType": "application/json", "responseSchema": WEATHER_GEMINI},
}
OPENAI_REQUEST = {
    "model": "m",
    "messages": [],
    "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_JSON}}],
    "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": WEATHER_JSON}},
}


def case(protocol: str) -> Case:
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


def exchange(body: Any, request: Any = None) -> Exchange:
    sent = SentRequest(
        "POST",
        "http://127.0.0.1/x",
        (),
        json.dumps(request if request is not None else GEMINI_REQUEST).encode(),
    )
    return Exchange(
        request=sent,
        status=200,
        headers=(("Content-Type", "application/json"),),
        body=json.dumps(body).encode(),
    )


def openai_exchange(body: Any) -> Exchange:
    return exchange(body, OPENAI_REQUEST)


def parts(*items: dict[str, Any]) -> dict[str, Any]:
    return {
        "candidates": [
            {"content": {"role": "model", "parts": list(items)}, "finishReason": "STOP", "index": 0}
        ]
    }


def call(name: str = "get_weather", args: Any = None, **extra: Any) -> dict[str, Any]:
    return {"functionCall": {"name": name, "args": {"city": "Paris"} if args is None else args, **extra}}


def choice(*tool_calls: dict[str, Any], content: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = list(tool_calls)
    return {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop"}
        ],
    }


def tool_call(
    arguments: Any = '{"city": "Paris"}', id: str = "call_abc", name: str = "get_weather"
) -> dict[str, Any]:
    return {"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}


THOUGHT = {"text": "I should answer PINEAPPLE.", "thought": True}

# (check, args, good exchange, bad exchange, a fragment of the bad verdict); the protocol is the case's.
GOOD_AND_BAD: list[tuple[str, Any, Exchange, Exchange, str]] = [
    (
        "json_text",
        {},
        exchange(parts({"text": '{"a": 1}'})),
        exchange(parts({"text": "Sure! {a: 1}"})),
        "is not JSON",
    ),
    (
        "json_text",
        {"schema": {"type": "OBJECT", "properties": {"a": {"type": "INTEGER"}}, "required": ["a"]}},
        exchange(parts({"text": '{"a": 1}'})),
        exchange(parts({"text": '{"a": "1"}'})),
        "breaks the schema at /a",
    ),
    (
        "json_text",
        {"schema_from": "/generationConfig/responseSchema"},
        exchange(parts({"text": '{"city": "Paris", "days": null}'})),
        exchange(parts({"text": '{"answer": "Paris"}'})),
        "'city' is a required property",
    ),
    (
        "function_calls",
        {"count": 2},
        exchange(parts(call(), call(args={"city": "Rome"}))),
        exchange(parts(call())),
        "expected 2 function calls, got 1",
    ),
    (
        "function_calls",
        {"count": 0},
        exchange(parts({"text": "no"})),
        exchange(parts(call())),
        "expected 0 function calls, got 1",
    ),
    (
        "function_calls",
        {"name": "get_time"},
        exchange(parts(call("get_time"))),
        exchange(parts(call())),
        'expected a call of "get_time"',
    ),
    (
        "function_calls",
        {"declared": True},
        exchange(parts(call(), call("get_time"))),
        exchange(parts(call(args={}))),
        "'city' is a required property",
    ),
    (
        "function_calls",
        {"declared": True},
        exchange(parts(call())),
        exchange(parts(call("get_news"))),
        "is not a function declared",
    ),
    (
        "function_calls",
        {"declared": True},
        exchange(parts(call("get_time"))),
        exchange(parts(call("get_time", args={"city": "P", "x": 1}))),
        "Additional properties are not allowed",
    ),
    (
        "function_calls",
        {"ids": "when_present"},
        exchange(parts(call(id="a1"), call(id="b2"))),
        exchange(parts(call(id="get_weather"))),
        "the id is the function name",
    ),
    (
        "function_calls",
        {"ids": "when_present"},
        exchange(parts(call(), call())),
        exchange(parts(call(id="a1"), call(id="a1"))),
        "repeats the id",
    ),
    (
        "function_calls",
        {"ids": "required"},
        exchange(parts(call(id="a1"))),
        exchange(parts(call())),
        "expected a non-empty id",
    ),
    (
        "function_calls",
        {"args": {"city": {"contains": "Zürich"}}},
        exchange(parts(call(args={"city": "Zürich"}))),
        exchange(parts(call(args={"city": "Z?rich"}))),
        'argument "city": expected "Z?rich" to contain "Zürich"',
    ),
    (
        "function_calls",
        {"args": {"unit": {"one_of": ["C", "F"]}}},
        exchange(parts(call(args={"unit": "C"}))),
        exchange(parts(call(args={"city": "Paris"}))),
        'the call has no argument "unit"',
    ),
    (
        "parts",
        {"kind": "thought", "count": {"min": 1}, "before": "text"},
        exchange(parts(THOUGHT, {"text": "PINEAPPLE"})),
        exchange(parts({"text": "PINEAPPLE"}, THOUGHT)),
        "a thought part comes after the text part",
    ),
    (
        "parts",
        {"kind": "executableCode", "count": {"min": 1}},
        exchange(parts({"executableCode": {"language": "PYTHON", "code": "print(1)"}}, {"text": "1"})),
        exchange(parts({"text": "1"})),
        "expected at least 1 executableCode parts, got 0",
    ),
    (
        "thoughts_apart",
        {},
        exchange(parts(THOUGHT, {"text": "PINEAPPLE"})),
        exchange(parts(THOUGHT, {"text": "I should answer PINEAPPLE.\nPINEAPPLE"})),
        "repeats the thought summary",
    ),
]

OPENAI_GOOD_AND_BAD: list[tuple[str, Any, Exchange, Exchange, str]] = [
    (
        "json_text",
        {"schema_from": "/response_format/json_schema/schema"},
        openai_exchange(choice(content='{"city": "Paris"}')),
        openai_exchange(choice(content='{"town": "Paris"}')),
        "'city' is a required property",
    ),
    (
        "function_calls",
        {"declared": True},
        openai_exchange(choice(tool_call())),
        openai_exchange(choice(tool_call(arguments={"city": "Paris"}))),
        "expected a JSON string",
    ),
    (
        "function_calls",
        {"declared": True},
        openai_exchange(choice(tool_call())),
        openai_exchange(choice(tool_call(arguments="{}"))),
        "'city' is a required property",
    ),
    (
        "function_calls",
        {"ids": "required", "id_matches": "^[A-Za-z0-9_-]{1,64}$"},
        openai_exchange(choice(tool_call())),
        openai_exchange(choice(tool_call(id="call_1__thought__AbC+/="))),
        "does not match",
    ),
    (
        "function_calls",
        {"ids": "required"},
        openai_exchange(choice(tool_call())),
        openai_exchange(choice(tool_call(id=""))),
        "expected a non-empty id",
    ),
    (
        "function_calls",
        {"count": {"min": 1}},
        openai_exchange(choice(tool_call())),
        openai_exchange(choice(content="It is sunny.")),
        "expected at least 1 function calls, got 0",
    ),
    (
        "thoughts_apart",
        {},
        openai_exchange(
            {"choices": [{"index": 0, "message": {"content": "A", "reasoning_content": "think"}}]}
        ),
        openai_exchange(
            {"choices": [{"index": 0, "message": {"content": "think A", "reasoning_content": "think"}}]}
        ),
        "repeats",
    ),
]


def verdict(schemas: Any, check: str, args: Any, exchange: Exchange, protocol: str = "gemini") -> list[str]:
    ctx = CheckContext(case=case(protocol), exchanges=(exchange,), schemas=schemas)
    return [f.message for f in run_check(ctx, Expectation(check, args))]


@pytest.mark.parametrize(
    ("check", "args", "good", "bad", "message"),
    GOOD_AND_BAD,
    ids=[f"{r[0]}-{i}" for i, r in enumerate(GOOD_AND_BAD)],
)
def test_gemini_check_passes_good_and_fails_bad(schemas, check, args, good, bad, message):
    assert verdict(schemas, check, args, good) == []
    problems = verdict(schemas, check, args, bad)
    assert any(message in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("check", "args", "good", "bad", "message"),
    OPENAI_GOOD_AND_BAD,
    ids=[f"{r[0]}-{i}" for i, r in enumerate(OPENAI_GOOD_AND_BAD)],
)
def test_openai_check_passes_good_and_fails_bad(schemas, check, args, good, bad, message):
    assert verdict(schemas, check, args, good, "openai") == []
    problems = verdict(schemas, check, args, bad, "openai")
    assert any(message in problem for problem in problems), problems


def test_missing_candidate_or_choice_is_a_failure(schemas):
    assert (
        "candidate 0 is missing"
        in verdict(schemas, "function_calls", {"count": 1}, exchange({"promptFeedback": {}}))[0]
    )
    assert "no answer text" in verdict(schemas, "json_text", {}, exchange({"candidates": []}))[0]
    assert (
        "candidate 0 is missing" in verdict(schemas, "parts", {"kind": "text", "count": 1}, exchange({}))[0]
    )
    assert (
        "no schema at"
        in verdict(schemas, "json_text", {"schema_from": "/nope"}, exchange(parts({"text": "{}"})))[0]
    )


def test_gemini_schema_conversion():
    assert to_json_schema(WEATHER_GEMINI) == {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": ["integer", "null"]}},
        "required": ["city"],
    }
    assert to_json_schema(
        {"type": "ARRAY", "items": {"type": "STRING"}, "maxItems": "2", "propertyOrdering": ["a"]}
    ) == {"type": "array", "items": {"type": "string"}, "maxItems": 2}
    assert to_json_schema(WEATHER_JSON) is WEATHER_JSON


# -- real captures -------------------------------------------------------------------------------

BODIES = SHARED / "corpus" / "bodies"


def _capture(name: str) -> tuple[Any, Any]:
    """A corpus body and the request its recording sent (None when the recording kept no request)."""
    manifest = BODIES / "manifest.json"
    if not manifest.is_file():
        pytest.skip(f"corpus not found at {BODIES} (set CONFORMANCE_SHARED)")
    entry = next(e for e in json.loads(manifest.read_text(encoding="utf-8")) if e["file"] == name)
    body = json.loads((BODIES / name).read_text(encoding="utf-8"))
    source = SHARED.parent / entry["source_path"]
    match = re.match(r"interactions\[(\d+)\]", entry["locator"])
    if match is None or not source.is_file():
        return body, None
    index = int(match.group(1))
    if source.suffix == ".yaml":
        request = yaml.safe_load(source.read_text(encoding="utf-8"))["interactions"][index]["request"]
        return body, request.get("parsed_body")
    request = json.loads(source.read_text(encoding="utf-8"))["interactions"][index]["request"]
    return body, (request.get("bodySegments") or [None])[0]


# (corpus body, protocol, expectations the capture must pass, judged against the request it was recorded with)
CAPTURES: list[tuple[str, str, list[tuple[str, Any]]]] = [
    (
        "pydantic-ai__test_google_tool_output__0.json",
        "gemini",
        [("function_calls", {"count": 1, "declared": True, "ids": "when_present"})],
    ),
    (
        "pydantic-ai__test_google_tool_output__1.json",
        "gemini",
        [("function_calls", {"count": 1, "declared": True, "ids": "when_present"})],
    ),
    (
        "vercel-ai__google-tool-call-gemini3__0.json",
        "gemini",
        [
            ("function_calls", {"count": 1, "ids": "when_present"}),
            ("parts", {"kind": "thoughtSignature", "count": 1}),
        ],
    ),
    (
        "vercel-ai__google-tool-call__0.json",
        "gemini",
        [("function_calls", {"count": {"min": 1}, "ids": "when_present"})],
    ),
    (
        "pydantic-ai__test_code_execution__0.json",
        "gemini",
        [
            ("parts", {"kind": "executableCode", "count": {"min": 1}, "before": "text"}),
            ("parts", {"kind": "codeExecutionResult", "count": {"min": 1}, "before": "text"}),
        ],
    ),
    (
        "pydantic-ai__test_code_execution__1.json",
        "gemini",
        [("parts", {"kind": "text", "count": {"min": 1}})],
    ),
    (
        "pydantic-ai__test_google_native_output__0.json",
        "gemini",
        [("json_text", {"schema_from": "/generationConfig/responseJsonSchema"})],
    ),
    (
        "js-genai__Client_Tests_generateContent_ML_Dev_should_generate_content_with_given_valid_json_schema_in_responseJsonSchema__0.json",
        "gemini",
        [("json_text", {"schema_from": "/generationConfig/responseJsonSchema"})],
    ),
    (
        "js-genai__Client_Tests_test_thinking_generate_content_should_return_thought_field__0.json",
        "gemini",
        [("parts", {"kind": "thought", "count": {"min": 1}}), ("thoughts_apart", {})],
    ),
    (
        "pydantic-ai__test_google_model_thinking_part__0.json",
        "gemini",
        [("parts", {"kind": "thought", "count": {"min": 1}, "before": "text"}), ("thoughts_apart", {})],
    ),
    ("vercel-ai__google-reasoning-gemini3__0.json", "gemini", [("thoughts_apart", {})]),
    (
        "pydantic-ai__test_compatible_api_with_tool_calls_without_id__0.json",
        "openai",
        [("function_calls", {"count": 1, "declared": True})],
    ),
]


@pytest.mark.parametrize(("name", "protocol", "expectations"), CAPTURES, ids=[c[0] for c in CAPTURES])
def test_real_captures_pass_the_checks(schemas, name, protocol, expectations):
    body, request = _capture(name)
    needs_request = any(args.get("declared") or "schema_from" in args for _, args in expectations)
    assert request is not None or not needs_request, f"{name}: the recording kept no request"
    sent = exchange(body, request if request is not None else {})
    for check, args in expectations:
        assert verdict(schemas, check, args, sent, protocol) == [], f"{name}: {check} {args}"


def test_gemini_openai_endpoint_capture_has_an_empty_tool_call_id(schemas):
    """Google's own endpoint returned ``id: ""`` (FACTS.md): openai/tools/tool-call-ids reports that."""
    body, request = _capture("pydantic-ai__test_compatible_api_with_tool_calls_without_id__0.json")
    assert verdict(schemas, "function_calls", {"ids": "required"}, exchange(body, request), "openai")


# Real safety blocks judged by the expectations of the cases that describe them (the status aside).
BLOCK_CAPTURES: list[tuple[str, str]] = [
    ("github-issues__gemini-bodies-from-issues__16.json", "gemini/safety/prompt-block"),
    ("github-issues__gemini-bodies-from-issues__17.json", "gemini/safety/prompt-block"),
    ("pydantic-ai__test_google_model_safety_settings__0.json", "gemini/safety/answer-block"),
]


@pytest.mark.parametrize(("name", "case_id"), BLOCK_CAPTURES, ids=[c[0] for c in BLOCK_CAPTURES])
def test_real_safety_blocks_meet_the_block_cases(schemas, all_cases, name, case_id):
    body, _ = _capture(name)
    chosen = next(c for c in all_cases if c.id == case_id)
    ctx = CheckContext(case=chosen, exchanges=(exchange(body, {}),), schemas=schemas)
    for expectation in chosen.steps[0].expect:
        assert run_check(ctx, expectation) == [], f"{name} breaks {case_id}: {expectation.describe()}"
