"""The reference's tools, JSON mode, safety and thinking: rules, validation, and what each fault changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from conformance.reference import FAULTS, ReferenceServer
from conformance.reference.model.engine import answer, evaluate
from conformance.reference.model.instances import instance_of
from conformance.validation.gemini_schema import to_json_schema
from tests.test_reference import (
    PROBES,
    assert_google_error,
    assert_openai_error,
    chat,
    chat_body,
    gen,
    gen_ok,
    msg,
    prompt_of,
    text_of,
    user,
)

Json = dict[str, Any]
WEATHER = {
    "name": "get_weather",
    "description": "Weather.",
    "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]},
}
TIME = {
    "name": "get_time",
    "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}},
}
ASK = user("What is the weather in Paris? Use the get_weather tool.")
ASK_TWO = user("What is the weather in Paris and in London? Use the get_weather tool.")
OPENAI_WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
OPENAI_ASK = msg("user", "What is the weather in Paris? Use the get_weather tool.")


def parts_of(body: Json) -> list[Json]:
    return list(body["candidates"][0]["content"].get("parts", []))


def calls_of(body: Json) -> list[Json]:
    return [part["functionCall"] for part in parts_of(body) if "functionCall" in part]


def tools(*declarations: Json, **extra: Any) -> Json:
    return {"tools": [{"functionDeclarations": list(declarations)}], **extra}


def replies(content: Json, response: Any) -> Json:
    return {
        "role": "user",
        "parts": [
            {
                "functionResponse": {
                    "name": p["functionCall"]["name"],
                    "id": p["functionCall"]["id"],
                    "response": response,
                }
            }
            for p in content["parts"]
            if "functionCall" in p
        ],
    }


# -- function calling ----------------------------------------------------------------------------


def test_modes_and_allowed_names(client: httpx.Client) -> None:
    auto = gen_ok(client, {"contents": [ASK], **tools(WEATHER)})
    assert [c["name"] for c in calls_of(auto)] == ["get_weather"] and calls_of(auto)[0]["args"] == {
        "city": "Paris"
    }
    assert parts_of(auto)[0]["thoughtSignature"] and auto["candidates"][0]["finishReason"] == "STOP"
    plain = gen_ok(client, {"contents": [user("Tell me about Paris.")], **tools(WEATHER)})
    assert calls_of(plain) == []
    forced = gen_ok(
        client,
        {
            "contents": [user("Tell me about Paris.")],
            **tools(WEATHER),
            "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
        },
    )
    assert [c["name"] for c in calls_of(forced)] == ["get_weather"]
    none = gen_ok(
        client,
        {"contents": [ASK], **tools(WEATHER), "toolConfig": {"functionCallingConfig": {"mode": "NONE"}}},
    )
    assert calls_of(none) == [] and text_of(none)
    allowed = gen_ok(
        client,
        {
            "contents": [ASK],
            **tools(WEATHER, TIME),
            "toolConfig": {
                "function_calling_config": {"mode": "ANY", "allowed_function_names": ["get_time"]}
            },
        },
    )
    assert [c["name"] for c in calls_of(allowed)] == ["get_time"]


def test_parallel_calls_ids_and_signature_on_the_first(client: httpx.Client) -> None:
    body = gen_ok(client, {"contents": [ASK_TWO], **tools(WEATHER)})
    calls = calls_of(body)
    assert [c["args"]["city"] for c in calls] == ["Paris", "London"]
    assert len({c["id"] for c in calls}) == 2 and all(len(c["id"]) == 8 for c in calls)
    assert ["thoughtSignature" in p for p in parts_of(body)] == [True, False]
    assert body["usageMetadata"]["candidatesTokenCount"] > 0


def test_round_trip_rules(client: httpx.Client) -> None:
    first = gen_ok(client, {"contents": [ASK_TWO], **tools(WEATHER)})
    content = first["candidates"][0]["content"]
    answered = gen_ok(client, {"contents": [ASK_TWO, content, replies(content, {"t": 17})], **tools(WEATHER)})
    assert text_of(answered) == 'get_weather returned {"t":17}; get_weather returned {"t":17}'
    unsigned = json.loads(json.dumps(content))
    del unsigned["parts"][0]["thoughtSignature"]
    refused = gen(client, {"contents": [ASK_TWO, unsigned, replies(content, {"t": 17})], **tools(WEATHER)})
    assert_google_error(
        refused, 400, "INVALID_ARGUMENT", "Function call is missing a thought_signature in functionCall parts"
    )
    reply = replies(content, {"t": 17})
    split = [{"role": "user", "parts": [part]} for part in reply["parts"]]
    assert_google_error(
        gen(client, {"contents": [ASK_TWO, content, *split], **tools(WEATHER)}),
        400,
        "INVALID_ARGUMENT",
        "number of function response parts is equal to the number of function call parts",
    )
    wrong = json.loads(json.dumps(reply))
    wrong["parts"][0]["functionResponse"]["id"] = "nope"
    assert_google_error(
        gen(client, {"contents": [ASK_TWO, content, wrong], **tools(WEATHER)}),
        400,
        "INVALID_ARGUMENT",
        "does not match",
    )
    assert_google_error(
        gen(client, {"contents": [reply]}), 400, "INVALID_ARGUMENT", "immediately after a function call turn"
    )
    # A signature is needed in the current turn only: an older, answered call may lack it.
    later = gen_ok(
        client,
        {
            "contents": [
                ASK_TWO,
                unsigned,
                reply,
                {"role": "model", "parts": [{"text": "ok"}]},
                user("Reply with exactly: OK"),
            ]
        },
    )
    assert text_of(later) == "OK"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (
            tools({**WEATHER, "parameters": {**WEATHER["parameters"], "$schema": "x"}}),
            'Unknown name "$schema"',
        ),
        (
            tools({**WEATHER, "parameters": {**WEATHER["parameters"], "additionalProperties": False}}),
            'Unknown name "additionalProperties"',
        ),
        (tools({**WEATHER, "parametersJsonSchema": {"type": "object"}}), "mutually exclusive"),
        (tools({**WEATHER, "name": "has space"}), "Invalid function name"),
        (tools(WEATHER, WEATHER), "Duplicate function declaration"),
        ({"tools": [{"bogusTool": {}}]}, 'Unknown name "bogusTool"'),
        (tools(WEATHER, toolConfig={"functionCallingConfig": {"mode": "SOMETIMES"}}), "SOMETIMES"),
        (
            {
                "generationConfig": {
                    "responseMimeType": "application/json",
                    "responseSchema": {"type": "OBJECT"},
                    "responseJsonSchema": {},
                }
            },
            "cannot both be set",
        ),
        ({"generationConfig": {"responseSchema": {"type": "OBJECT"}}}, "needs response_mime_type"),
        ({"generationConfig": {"responseMimeType": "text/x.enum"}}, "needs a response schema"),
        (
            {"safetySettings": [{"category": "HARM_CATEGORY_NOPE", "threshold": "BLOCK_NONE"}]},
            "HARM_CATEGORY_NOPE",
        ),
    ],
)
def test_native_tool_and_config_validation(client: httpx.Client, body: Json, fragment: str) -> None:
    assert_google_error(gen(client, {"contents": [ASK], **body}), 400, "INVALID_ARGUMENT", fragment)


def test_json_schema_keywords_are_fine_in_parameters_json_schema(client: httpx.Client) -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    }
    body = gen_ok(
        client, {"contents": [ASK], **tools({"name": "get_weather", "parametersJsonSchema": schema})}
    )
    assert calls_of(body)[0]["args"] == {"city": "Paris"}


# -- code execution, JSON mode, safety, thinking -------------------------------------------------


def test_code_execution(client: httpx.Client) -> None:
    body = gen_ok(client, {"contents": [user("Calculate (2 + 3) * 7")], "tools": [{"codeExecution": {}}]})
    kinds = [next(iter(part)) for part in parts_of(body)]
    assert kinds == ["executableCode", "codeExecutionResult", "text"]
    code, result = parts_of(body)[0]["executableCode"], parts_of(body)[1]["codeExecutionResult"]
    assert (
        code["language"] == "PYTHON" and code["code"] == "print((2 + 3) * 7)\n" and code["id"] == result["id"]
    )
    assert result == {"outcome": "OUTCOME_OK", "output": "35\n", "id": code["id"]}
    assert text_of(gen_ok(client, {"contents": [user("Calculate (2 + 3) * 7")]})) == "35"


def test_calculation_rule() -> None:
    assert answer(prompt_of("Calculate 2 ** 10 - 24 // 5")) == "1020"
    assert (
        evaluate("2 ** 1000000") is None
        and evaluate("1 / 0") is None
        and evaluate("__import__('os')") is None
    )


def test_json_mode(client: httpx.Client) -> None:
    schema = {
        "type": "OBJECT",
        "properties": {"city": {"type": "STRING"}, "n": {"type": "INTEGER", "minimum": 5}},
        "required": ["city"],
    }
    body = gen_ok(
        client,
        {
            "contents": [user("hi")],
            "generationConfig": {"responseMimeType": "application/json", "responseSchema": schema},
        },
    )
    assert json.loads(text_of(body)) == {"city": "example", "n": 5}
    bare = gen_ok(
        client,
        {
            "contents": [user("Reply with exactly: X")],
            "generationConfig": {"responseMimeType": "application/json"},
        },
    )
    assert json.loads(text_of(bare)) == {"answer": "X"}
    enum = {"responseMimeType": "text/x.enum", "responseSchema": {"type": "STRING", "enum": ["A", "B"]}}
    assert (
        text_of(gen_ok(client, {"contents": [user("Reply with exactly: B")], "generationConfig": enum}))
        == "B"
    )
    assert text_of(gen_ok(client, {"contents": [user("Which?")], "generationConfig": enum})) == "A"


@pytest.mark.parametrize(
    "schema",
    [
        {
            "type": "object",
            "properties": {
                "a": {"type": "string", "format": "date-time"},
                "b": {"type": ["integer", "null"], "exclusiveMinimum": 3},
            },
            "required": ["a", "b"],
            "additionalProperties": False,
        },
        {"type": "array", "items": {"type": "string", "enum": ["x", "y"]}, "minItems": 2, "maxItems": 3},
        {
            "$defs": {"p": {"type": "object", "properties": {"q": {"const": 4}}}},
            "type": "object",
            "properties": {"r": {"$ref": "#/$defs/p"}},
        },
        {"anyOf": [{"type": "null"}, {"type": "number", "minimum": 2.5, "maximum": 9}]},
        {
            "allOf": [
                {"type": "object", "properties": {"s": {"type": "string", "minLength": 12, "maxLength": 12}}}
            ],
            "required": ["s"],
        },
        {"type": "integer", "multipleOf": 7, "minimum": 10},
        to_json_schema(
            {
                "type": "OBJECT",
                "properties": {
                    "t": {"type": "ARRAY", "items": {"type": "BOOLEAN"}, "maxItems": "1"},
                    "u": {"type": "STRING", "nullable": True},
                },
            }
        ),
    ],
)
def test_instances_are_valid(schema: Json) -> None:
    value = instance_of(schema, hint="Paris")
    assert not list(Draft202012Validator(schema).iter_errors(value)), value


def test_safety_blocks_and_thresholds(client: httpx.Client) -> None:
    blocked = gen_ok(client, {"contents": [user("CONFORMANCE-TRIGGER-PROMPT-BLOCK please")]})
    assert "candidates" not in blocked and blocked["promptFeedback"] == {"blockReason": "PROHIBITED_CONTENT"}
    assert set(blocked["usageMetadata"]) == {"promptTokenCount", "totalTokenCount", "promptTokensDetails"}
    trigger = [user("CONFORMANCE-TRIGGER-ANSWER-BLOCK")]
    answer_blocked = gen_ok(client, {"contents": trigger})["candidates"][0]
    assert answer_blocked["content"] == {} and answer_blocked["finishReason"] == "SAFETY"
    assert [r for r in answer_blocked["safetyRatings"] if r.get("blocked")] == [
        {"category": "HARM_CATEGORY_HARASSMENT", "probability": "MEDIUM", "blocked": True}
    ]
    for threshold, is_blocked in [
        ("BLOCK_LOW_AND_ABOVE", True),
        ("BLOCK_MEDIUM_AND_ABOVE", True),
        ("BLOCK_ONLY_HIGH", False),
        ("BLOCK_NONE", False),
        ("OFF", False),
    ]:
        body = gen_ok(
            client,
            {
                "contents": trigger,
                "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": threshold}],
            },
        )
        assert (body["candidates"][0]["finishReason"] == "SAFETY") is is_blocked, threshold
        assert all("blocked" not in r for r in body["candidates"][0]["safetyRatings"]) is not is_blocked
    openai = chat(client, chat_body(msg("user", "CONFORMANCE-TRIGGER-ANSWER-BLOCK"))).json()["choices"][0]
    assert openai["finish_reason"] == "content_filter" and openai["message"]["content"] is None


def test_thinking(client: httpx.Client) -> None:
    shown = gen_ok(
        client,
        {
            "contents": [user("Reply with exactly: PINEAPPLE")],
            "generationConfig": {"thinking_config": {"include_thoughts": True}},
        },
    )
    assert parts_of(shown)[0] == {
        "text": "Thinking about the request: Reply with exactly: PINEAPPLE",
        "thought": True,
    }
    assert parts_of(shown)[1] == {"text": "PINEAPPLE"}
    usage = shown["usageMetadata"]
    assert usage["thoughtsTokenCount"] > 0
    assert (
        usage["totalTokenCount"]
        == usage["promptTokenCount"] + usage["candidatesTokenCount"] + usage["thoughtsTokenCount"]
    )
    ask = {"contents": [user("Reply with exactly: PINEAPPLE")]}
    level = {**ask, "generationConfig": {"thinkingConfig": {"thinkingLevel": "LOW"}}}
    hidden = gen_ok(client, level, model="gemini-3-flash-preview")
    assert (
        len(parts_of(hidden)) == 1
        and hidden["usageMetadata"]["thoughtsTokenCount"] == usage["thoughtsTokenCount"]
    )
    # gemini-2.5-flash thinks by default and takes no thinkingLevel; gemini-2.0-flash does not think
    assert gen_ok(client, ask)["usageMetadata"]["thoughtsTokenCount"] == usage["thoughtsTokenCount"]
    assert "thoughtsTokenCount" not in gen_ok(client, ask, model="gemini-2.0-flash")["usageMetadata"]
    assert gen(client, level).status_code == 400
    both = {**ask, "generationConfig": {"thinkingConfig": {"thinkingLevel": "LOW", "thinkingBudget": 9}}}
    assert gen(client, both, model="gemini-3-flash-preview").status_code == 400
    off = gen_ok(client, {**ask, "generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}})
    assert "thoughtsTokenCount" not in off["usageMetadata"]
    pro_off = gen(
        client, {**ask, "generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}}, model="gemini-2.5-pro"
    )
    assert pro_off.status_code == 400 and "only works in thinking mode" in pro_off.text


# -- OpenAI route --------------------------------------------------------------------------------


def test_openai_tool_calls_and_round_trip(client: httpx.Client) -> None:
    first = chat(client, chat_body(OPENAI_ASK, tools=[OPENAI_WEATHER])).json()
    choice = first["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert (
        call["type"] == "function"
        and call["id"].startswith("call_")
        and json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    )
    tool_message = {"role": "tool", "tool_call_id": call["id"], "content": '{"t": 17}'}
    second = chat(
        client, chat_body(OPENAI_ASK, choice["message"], tool_message, tools=[OPENAI_WEATHER])
    ).json()["choices"][0]
    assert (
        second["message"]["content"] == 'get_weather returned {"t":17}' and second["finish_reason"] == "stop"
    )
    orphan = chat(client, chat_body(OPENAI_ASK, {"role": "tool", "tool_call_id": "x", "content": "1"}))
    assert_openai_error(orphan, 400, "messages[1].role", "invalid_value")


def test_openai_tool_choice_and_parallel(client: httpx.Client) -> None:
    def calls(**extra: Any) -> list[str]:
        message = chat(
            client, chat_body(msg("user", "Weather in Paris and in Rome?"), tools=[OPENAI_WEATHER], **extra)
        ).json()["choices"][0]["message"]
        return [c["function"]["name"] for c in message.get("tool_calls", [])]

    assert calls() == []
    assert calls(tool_choice="required") == ["get_weather", "get_weather"]
    assert calls(tool_choice="required", parallel_tool_calls=False) == ["get_weather"]
    assert calls(tool_choice={"type": "function", "function": {"name": "get_weather"}}) == [
        "get_weather",
        "get_weather",
    ]
    assert calls(tool_choice="none") == []


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"tool_choice": "sometimes", "tools": [OPENAI_WEATHER]}, "tool_choice"),
        ({"tool_choice": "auto"}, "tool_choice"),
        (
            {"tool_choice": {"type": "function", "function": {"name": "nope"}}, "tools": [OPENAI_WEATHER]},
            "tool_choice.function.name",
        ),
        ({"tools": [{"type": "retrieval"}]}, "tools[0]"),
        ({"tools": [{"type": "function", "function": {"name": "bad name"}}]}, "tools[0].function.name"),
        ({"response_format": {"type": "xml"}}, "response_format.type"),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
            "response_format.json_schema.name",
        ),
    ],
)
def test_openai_tool_validation(client: httpx.Client, extra: Json, param: str) -> None:
    assert_openai_error(chat(client, chat_body(OPENAI_ASK, **extra)), 400, param, "invalid_value")


def test_openai_json_modes(client: httpx.Client) -> None:
    obj = chat(
        client, chat_body(msg("user", "Reply with exactly: X"), response_format={"type": "json_object"})
    ).json()
    assert json.loads(obj["choices"][0]["message"]["content"]) == {"answer": "X"}
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    typed = chat(
        client,
        chat_body(
            msg("user", "hi"),
            response_format={"type": "json_schema", "json_schema": {"name": "n", "schema": schema}},
        ),
    ).json()
    assert json.loads(typed["choices"][0]["message"]["content"]) == {"n": 1}


# -- faults: each changes only what it names -----------------------------------------------------

Probe = Callable[[httpx.Client], Any]


def _native_obs(client: httpx.Client, body: Json) -> Any:
    response = gen(client, body)
    return response.status_code, response.json()


def _native_round_trip(client: httpx.Client, ask: Json) -> Any:
    first = gen(client, {"contents": [ask], **tools(WEATHER)}).json()
    content = first["candidates"][0]["content"]
    if not any("functionCall" in part for part in content.get("parts", [])):
        return "no call"
    return _native_obs(client, {"contents": [ask, content, replies(content, {"t": 17})], **tools(WEATHER)})


def _speech_obs(client: httpx.Client, speech: Json) -> Any:
    body = {
        "contents": [user("Say: hi")],
        "generationConfig": {"responseModalities": ["AUDIO"], "speechConfig": speech},
    }
    response = gen(client, body, model="gemini-2.5-flash-preview-tts")
    return response.status_code, response.json()


def _chat_obs(client: httpx.Client, body: Json) -> Any:
    response = chat(client, body)
    return response.status_code, response.json()[
        "choices"
    ] if response.status_code == 200 else response.json()


def _chat_round_trip(client: httpx.Client) -> Any:
    ask = msg("user", "What is the weather in Paris and in London? Use the get_weather tool.")
    message = chat(client, chat_body(ask, tools=[OPENAI_WEATHER])).json()["choices"][0]["message"]
    answers = [
        {"role": "tool", "tool_call_id": c["id"], "content": "{}"} for c in message.get("tool_calls") or []
    ]
    return _chat_obs(client, chat_body(ask, message, *answers, tools=[OPENAI_WEATHER]))


_SCHEMA_KEYWORDS = {
    "$schema": "x",
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "additionalProperties": False,
}
TOOL_PROBES: dict[str, Probe] = {
    "native-call": lambda c: _native_obs(c, {"contents": [ASK_TWO], **tools(WEATHER)}),
    "native-round-trip": lambda c: _native_round_trip(c, ASK_TWO),
    "native-modes": lambda c: _native_obs(
        c, {"contents": [ASK], **tools(WEATHER), "toolConfig": {"functionCallingConfig": {"mode": "NONE"}}}
    ),
    "native-json-schema-keywords": lambda c: _native_obs(
        c, {"contents": [ASK], **tools({"name": "get_weather", "parametersJsonSchema": _SCHEMA_KEYWORDS})}
    ),
    "native-code": lambda c: _native_obs(
        c, {"contents": [user("Calculate 6 * 7")], "tools": [{"codeExecution": {}}]}
    ),
    "native-json": lambda c: _native_obs(
        c,
        {
            "contents": [user("hi")],
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseJsonSchema": {"type": "object", "properties": {"a": {"type": "integer"}}},
            },
        },
    ),
    "native-answer-block": lambda c: _native_obs(c, {"contents": [user("CONFORMANCE-TRIGGER-ANSWER-BLOCK")]}),
    "native-prompt-block": lambda c: _native_obs(c, {"contents": [user("CONFORMANCE-TRIGGER-PROMPT-BLOCK")]}),
    "native-thoughts": lambda c: _native_obs(
        c,
        {
            "contents": [user("Reply with exactly: P")],
            "generationConfig": {"thinkingConfig": {"includeThoughts": True}},
        },
    ),
    "native-thoughts-snake": lambda c: _native_obs(
        c,
        {
            "contents": [user("Reply with exactly: P")],
            "generation_config": {"thinking_config": {"include_thoughts": True}},
        },
    ),
    "openai-call": lambda c: _chat_obs(
        c,
        chat_body(
            msg("user", "Weather in Paris and in Rome? Use the get_weather tool."), tools=[OPENAI_WEATHER]
        ),
    ),
    "openai-round-trip": _chat_round_trip,
    "openai-choice": lambda c: _chat_obs(
        c, chat_body(OPENAI_ASK, tools=[OPENAI_WEATHER], tool_choice="none")
    ),
    "openai-schema-keywords": lambda c: _chat_obs(
        c,
        chat_body(
            OPENAI_ASK,
            tools=[{"type": "function", "function": {"name": "get_weather", "parameters": _SCHEMA_KEYWORDS}}],
        ),
    ),
    "native-no-args": lambda c: _native_obs(
        c,
        {
            "contents": [user("What time is it? Use the now tool.")],
            "tools": [{"functionDeclarations": [{"name": "now"}]}],
            "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
        },
    ),
    "native-enum": lambda c: _native_obs(
        c,
        {
            "contents": [ASK],
            **tools(
                {
                    "name": "get_weather",
                    "parameters": {
                        "type": "OBJECT",
                        "properties": {
                            "unit": {"type": "STRING", "enum": ["C", "F"]},
                            "city": {"type": "STRING"},
                        },
                    },
                }
            ),
        },
    ),
    "native-code-failure": lambda c: _native_obs(
        c, {"contents": [user("Calculate 1 // 0")], "tools": [{"codeExecution": {}}]}
    ),
    "native-thinking-level": lambda c: _native_obs(
        c, {"contents": [user("hi")], "generationConfig": {"thinkingConfig": {"thinkingLevel": "EXTREME"}}}
    ),
    "native-thinking-off": lambda c: _native_obs(
        c, {"contents": [user("hi")], "generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}}
    ),
    "native-logprobs": lambda c: _native_obs(
        c, {"contents": [user("Reply with exactly: A B")], "generationConfig": {"responseLogprobs": True}}
    ),
    "native-voice": lambda c: _speech_obs(
        c, {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Nobody"}}}
    ),
    "native-modalities": lambda c: _native_obs(
        c, {"contents": [user("hi")], "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]}}
    ),
    "openai-effort-none": lambda c: chat(c, chat_body(msg("user", "hi"), reasoning_effort="none")).json()[
        "usage"
    ],
    "openai-json": lambda c: _chat_obs(
        c,
        chat_body(
            msg("user", "hi"),
            response_format={
                "type": "json_schema",
                "json_schema": {
                    "name": "a",
                    "schema": {"type": "object", "properties": {"a": {"type": "integer"}}},
                },
            },
        ),
    ),
}
_CALLS = {"native-call", "native-round-trip", "openai-call", "openai-round-trip"}
_FORCED = {"native-enum", "native-no-args"}  # native calls in mode ANY
EXPECTED_CHANGES: dict[str, set[str]] = {
    "thought-signature-dropped": {"native-call", "native-round-trip", "native-json-schema-keywords"}
    | _FORCED,
    "thought-signature-in-call-id": {"openai-call", "openai-schema-keywords"},
    "thought-parts-merged": {"native-thoughts", "native-thoughts-snake"},
    "thinking-config-snake-case-ignored": {"native-thoughts-snake"},
    "parallel-responses-split": {"native-round-trip", "openai-round-trip"},
    "parallel-calls-collapsed": _CALLS,
    "function-args-emptied": _CALLS - {"openai-round-trip"}
    | {"native-json-schema-keywords", "openai-schema-keywords", "native-enum"},
    "tool-call-arguments-object": {"openai-call", "openai-round-trip", "openai-schema-keywords"},
    "tool-calls-finish-stop": {"openai-call", "openai-schema-keywords"},
    "function-call-id-is-name": _CALLS - {"openai-round-trip"}
    | {"native-json-schema-keywords", "openai-schema-keywords"}
    | _FORCED,
    "tool-schema-unsanitized": {"native-json-schema-keywords", "openai-schema-keywords"},
    "tool-choice-ignored": {"native-modes", "openai-choice"},
    "tools-dropped": _CALLS
    | {"native-json-schema-keywords", "native-code", "native-code-failure", "openai-schema-keywords"}
    | _FORCED,
    "non-text-parts-dropped": _CALLS
    | {"native-json-schema-keywords", "native-code", "native-code-failure", "openai-schema-keywords"}
    | _FORCED,
    "json-mode-dropped": {"native-json", "openai-json"},
    "response-json-schema-ignored": {"native-json", "openai-json"},
    "safety-settings-overridden": {"native-answer-block"},
    "safety-block-opaque": {"native-answer-block", "native-prompt-block"},
    # every native answer of gemini-2.5-flash, which thinks by default, reports thoughts
    "thoughts-left-out-of-total": {
        "native-answer-block",
        "native-call",
        "native-code",
        "native-code-failure",
        "native-enum",
        "native-json",
        "native-json-schema-keywords",
        "native-logprobs",
        "native-modes",
        "native-no-args",
        "native-round-trip",
        "native-thoughts",
        "native-thoughts-snake",
        "native-usage",
    },
    "no-argument-calls-null": {"native-no-args"},
    "tool-enum-dropped": {"native-enum"},
    "code-failure-reported-ok": {"native-code-failure"},
    "thinking-level-dropped": {"native-thinking-level"},
    "thinking-budget-dropped": {"native-thinking-off"},
    "reasoning-effort-none-ignored": {"openai-effort-none"},
    "logprobs-ignored": {"native-logprobs"},
    "speech-config-dropped": {"native-voice"},
    "response-modalities-dropped": {"native-modalities"},
}


@pytest.fixture(scope="module")
def clean(http: httpx.Client, server: ReferenceServer) -> dict[str, Any]:
    server.app.state.faults.clear()  # type: ignore[attr-defined]
    return {name: probe(http) for name, probe in {**PROBES, **TOOL_PROBES}.items()}


def test_every_tool_fault_has_expected_changes() -> None:
    assert set(EXPECTED_CHANGES) <= set(FAULTS)
    assert {name for name, fault in FAULTS.items() if fault in _tool_faults()} == set(EXPECTED_CHANGES)


def _tool_faults() -> list[Any]:
    """The faults of issue 4's features (tools, JSON mode, safety, thinking with the thoughts' usage) and of
    issue 12's modes (output modalities, speech, logprobs)."""
    return [
        fault
        for fault in FAULTS.values()
        if fault.area in ("tools", "modes") or fault.name == "thoughts-left-out-of-total"
    ]


@pytest.mark.parametrize("fault", sorted(EXPECTED_CHANGES))
def test_tool_fault_changes_only_what_it_names(
    client: httpx.Client, faults: set[str], clean: dict[str, Any], fault: str
) -> None:
    faults.add(fault)
    changed = {name for name, probe in {**PROBES, **TOOL_PROBES}.items() if probe(client) != clean[name]}
    assert changed == EXPECTED_CHANGES[fault]
