"""Request templates: ``$replies`` to function calls, ``{trigger:NAME}`` prompts and the profile field, the
models a profile names for capabilities, and a streamed step's whole answer."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.runner import skip_reason
from conformance.errors import ConfigError
from conformance.suite.model import Case, Expectation, Policy, RequestSpec, Step
from conformance.suite.templates import (
    StepReferenceError,
    fill_from,
    fill_triggers,
    replies_to,
    trigger_names,
)
from conformance.wire.exchange import Exchange, SentRequest
from conformance.wire.profiles import load_provider

SENT = SentRequest("POST", "http://127.0.0.1/x", (), b"{}")
GEMINI_TURN = {
    "role": "model",
    "parts": [
        {
            "functionCall": {"id": "a1", "name": "get_weather", "args": {"city": "Paris"}},
            "thoughtSignature": "c2ln",
        },
        {"functionCall": {"id": "b2", "name": "get_weather", "args": {"city": "Rome"}}},
    ],
}
OPENAI_MESSAGE = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}},
        {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
    ],
}


def exchange(body: Any) -> Exchange:
    return Exchange(request=SENT, status=200, body=json.dumps(body).encode())


def test_replies_to_a_gemini_content_answer_every_call_with_its_id() -> None:
    assert replies_to(GEMINI_TURN, {"t": 17}) == [
        {"functionResponse": {"name": "get_weather", "id": "a1", "response": {"t": 17}}},
        {"functionResponse": {"name": "get_weather", "id": "b2", "response": {"t": 17}}},
    ]
    no_ids = {"parts": [{"function_call": {"name": "f", "args": {}}}]}
    assert replies_to(no_ids, {}) == [{"functionResponse": {"name": "f", "response": {}}}]


def test_replies_to_an_openai_message_are_tool_messages() -> None:
    assert replies_to(OPENAI_MESSAGE, {"t": 17}) == [
        {"role": "tool", "tool_call_id": "call_1", "content": '{"t": 17}'},
        {"role": "tool", "tool_call_id": "call_2", "content": '{"t": 17}'},
    ]


def test_replies_are_spliced_into_their_list() -> None:
    steps = [
        exchange({"candidates": [{"content": GEMINI_TURN}]}),
        exchange({"choices": [{"message": OPENAI_MESSAGE}]}),
    ]
    template = {
        "contents": [
            {"$from": "0#/candidates/0/content"},
            {
                "role": "user",
                "parts": [{"$replies": {"to": "0#/candidates/0/content", "response": {"ok": True}}}],
            },
        ],
        "messages": ["first", {"$replies": {"to": "1#/choices/0/message"}}, "last"],
    }
    filled = fill_from(template, lambda n: steps[n].json())
    assert filled["contents"][0] == GEMINI_TURN
    assert [p["functionResponse"]["id"] for p in filled["contents"][1]["parts"]] == ["a1", "b2"]
    assert filled["messages"][0] == "first" and filled["messages"][-1] == "last"
    assert [m["tool_call_id"] for m in filled["messages"][1:3]] == ["call_1", "call_2"]
    assert filled["messages"][1]["content"] == "{}"


def test_replies_without_calls_fail_the_step() -> None:
    steps = [exchange({"candidates": [{"content": {"role": "model", "parts": [{"text": "It is sunny."}]}}]})]
    with pytest.raises(StepReferenceError, match="holds no function call to reply to"):
        fill_from([{"$replies": {"to": "0#/candidates/0/content"}}], lambda n: steps[n].json())
    with pytest.raises(StepReferenceError, match="has nothing at"):
        fill_from([{"$replies": {"to": "0#/candidates/1/content"}}], lambda n: steps[n].json())


def test_triggers_are_found_and_filled() -> None:
    body = {"contents": [{"parts": [{"text": "{trigger:prompt-block} and {trigger:answer-block}"}]}], "n": 1}
    assert sorted(trigger_names(body)) == ["answer-block", "prompt-block"]
    filled = fill_triggers(body, {"prompt-block": "P", "answer-block": "A"})
    assert filled["contents"][0]["parts"][0]["text"] == "P and A" and filled["n"] == 1
    assert list(trigger_names({"text": "{trigger:Bad Name}"})) == []


def _case(text: str) -> Case:
    request = RequestSpec("POST", "/x", body={"contents": [{"parts": [{"text": text}]}]})
    return Case(
        id="gemini/safety/x",
        protocol="gemini",
        feature="safety",
        level="MUST",
        title="t",
        reference="r",
        steps=(Step(request, ()),),
        policy=Policy(),
        source=Path("x.yaml"),
    )


def test_a_case_needing_a_missing_trigger_is_skipped_with_the_reason() -> None:
    provider = load_provider("google")
    assert provider.triggers == {}
    assert skip_reason(_case("{trigger:prompt-block}"), provider) == (
        "skipped",
        "provider google names no trigger prompt 'prompt-block' (profile field triggers)",
    )
    assert skip_reason(_case("plain"), provider) is None
    armed = dataclasses.replace(provider, triggers={"prompt-block": "P"})
    assert skip_reason(_case("{trigger:prompt-block}"), armed) is None


def test_profile_triggers_load_and_are_checked(tmp_path: Path) -> None:
    base = (
        "name: gw\ngemini: {prefix: /v1beta, auth: query}\nopenai: {prefix: /v1, auth: bearer}\n"
        "models: {default: m}\n"
    )
    good = tmp_path / "gw.yaml"
    good.write_text(base + "triggers: {prompt-block: 'blocked words'}\n", encoding="utf-8")
    assert load_provider(str(good)).triggers == {"prompt-block": "blocked words"}
    bad = tmp_path / "bad.yaml"
    bad.write_text(base + "triggers: {Prompt Block: x}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="triggers"):
        load_provider(str(bad))


def test_the_embedded_reference_answers_to_its_own_triggers() -> None:
    from conformance.reference.model.triggers import TRIGGERS
    from conformance.wire.target import open_target

    provider = dataclasses.replace(load_provider("google"), embedded=True, base_url=None)
    with open_target(provider) as target:
        assert target.provider.triggers == TRIGGERS


def test_profile_triggers_are_the_five_documented_names(tmp_path: Path) -> None:
    base = (
        "name: gw\ngemini: {prefix: /v1beta, auth: query}\nopenai: {prefix: /v1, auth: bearer}\n"
        "models: {default: m}\n"
    )
    five = "{prompt-block: a, answer-block: b, rate-limit: c, overloaded: d, server-error: e}"
    good = tmp_path / "gw.yaml"
    good.write_text(base + f"triggers: {five}\n", encoding="utf-8")
    assert set(load_provider(str(good)).triggers) == {
        "prompt-block",
        "answer-block",
        "rate-limit",
        "overloaded",
        "server-error",
    }
    typo = tmp_path / "typo.yaml"
    typo.write_text(base + "triggers: {rate-limits: c}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="typo.yaml.*triggers"):
        load_provider(str(typo))


def test_a_case_file_naming_an_unknown_trigger_is_one_line_naming_the_field(tmp_path: Path) -> None:
    from conformance.suite.loader import load_case_file

    path = tmp_path / "t.yaml"
    path.write_text(
        "protocol: gemini\nfeature: t\nreference: https://ai.google.dev/\ncases:\n"
        "  - id: gemini/t/x\n    level: MUST\n    title: t\n"
        "    request: {path: /x, body: {contents: [{parts: [{text: '{trigger:rate-limits}'}]}]}}\n"
        "    expect: [{status: 429}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        load_case_file(path)
    assert "unknown trigger {trigger:rate-limits}" in str(raised.value)
    assert "cases[0].request.body" in str(raised.value)


def test_models_for_capabilities_load_and_a_case_needing_a_missing_one_is_skipped(tmp_path: Path) -> None:
    google = load_provider("google")
    assert google.model_for("default") == "gemini-2.5-flash"
    assert google.model_for("image") == "gemini-2.5-flash-image"
    assert google.model_for("gemini3") == "gemini-3-flash-preview"
    needs_tts = dataclasses.replace(_case("plain"), model="tts")
    new_api = load_provider("new-api")
    assert new_api.model_for("thinking") == "gemini-2.5-flash" and new_api.model_for("tts") is None
    assert skip_reason(needs_tts, new_api) == (
        "skipped",
        "provider new-api names no tts model (profile field models.tts)",
    )
    assert skip_reason(needs_tts, google) is None
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: gw\ngemini: {prefix: /v1beta, auth: query}\nopenai: {prefix: /v1, auth: bearer}\n"
        "models: {default: m, video: v}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="models"):
        load_provider(str(bad))


def test_a_case_runs_against_the_model_of_its_capability() -> None:
    from conformance.engine.runner import Runner
    from conformance.validation.store import SchemaStore
    from conformance.wire.target import open_target

    provider = dataclasses.replace(load_provider("reference"), embedded=True, base_url=None)
    request = RequestSpec(
        "POST", "/models/{model}:generateContent", body={"contents": [{"parts": [{"text": "hi"}]}]}
    )
    case = dataclasses.replace(
        _case("hi"),
        model="image",
        steps=(Step(request, (Expectation("json", {"at": "/modelVersion", "equals": "{model}"}),)),),
    )
    with open_target(provider) as target:
        result = Runner(target.provider, target.api_key, SchemaStore.load()).run([case])[case.id]
    assert result.outcome == "passed", result.message
    assert "/models/gemini-2.5-flash-image:generateContent" in result.attempts[0].exchanges[0].request.url


def test_templates_read_a_streamed_step_as_its_whole_answer() -> None:
    from conformance.streams.merge import merge_gemini, merge_openai

    events = [
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Think", "thought": True}]}}]},
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "ing.", "thought": True}]}}]},
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "It is "}]}}]},
        {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [GEMINI_TURN["parts"][0]]},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {"totalTokenCount": 9},
        },
    ]
    whole = merge_gemini(events)
    assert whole["candidates"][0]["content"]["parts"] == [
        {"text": "Thinking.", "thought": True},
        {"text": "It is "},
        GEMINI_TURN["parts"][0],
    ]
    assert whole["candidates"][0]["finishReason"] == "STOP" and whole["usageMetadata"] == {
        "totalTokenCount": 9
    }
    chunks = [
        {
            "id": "c",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}],
        },
        {"id": "c", "choices": [{"index": 0, "delta": {"content": "Hi"}}]},
        {
            "id": "c",
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {"index": 0, "id": "call_1", "function": {"name": "f", "arguments": '{"a"'}}
                        ]
                    },
                }
            ],
        },
        {
            "id": "c",
            "choices": [
                {"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}}
            ],
        },
        {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {"id": "c", "choices": [], "usage": {"total_tokens": 3}},
    ]
    message = merge_openai(chunks)
    assert message["usage"] == {"total_tokens": 3} and message["choices"][0]["finish_reason"] == "tool_calls"
    assert message["choices"][0]["message"]["content"] == "Hi"
    assert message["choices"][0]["message"]["tool_calls"] == [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
    ]
    assert replies_to(message["choices"][0]["message"], {}) == [
        {"role": "tool", "tool_call_id": "call_1", "content": "{}"}
    ]
