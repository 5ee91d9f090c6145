"""Request templates: ``$replies`` to function calls, ``{trigger:NAME}`` prompts and the profile field."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from conformance.engine.runner import skip_reason
from conformance.errors import ConfigError
from conformance.suite.model import Case, Policy, RequestSpec, Step
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
