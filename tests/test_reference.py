"""Tests of the embedded reference gateway: routes, auth, validation, engine rules, and faults.

The clean reference must behave as FACTS.md describes; each fault must change the behaviour it
names and nothing else (checked by a probe matrix at the end).
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from conformance.reference import FAULTS, Fault, ReferenceServer, create_app
from conformance.reference.model.engine import (
    Prompt,
    Sampling,
    Turn,
    answer,
    count_prompt,
    generate,
    split_pieces,
    tokenize,
)

KEY = "reference-key"
MODEL = "gemini-2.5-flash"
NATIVE = "/v1beta"
COMPAT = "/v1"
Json = dict[str, Any]


# -- fixtures: server, http, faults and client come from tests/fixtures.py --------------------------


# -- helpers -------------------------------------------------------------------------------------


def user(text: str) -> Json:
    return {"role": "user", "parts": [{"text": text}]}


def model_turn(text: str) -> Json:
    return {"role": "model", "parts": [{"text": text}]}


def native(
    client: httpx.Client,
    method: str,
    body: Any,
    *,
    model: str = MODEL,
    prefix: str = NATIVE,
    auth: str | None = "query",
    key: str = KEY,
) -> httpx.Response:
    url = f"{prefix}/models/{model}:{method}"
    params: dict[str, str] = {}
    headers: dict[str, str] = {}
    if auth == "query":
        params["key"] = key
    elif auth == "header":
        headers["x-goog-api-key"] = key
    elif auth == "bearer":
        headers["Authorization"] = f"Bearer {key}"
    if isinstance(body, (bytes, str)):
        headers["Content-Type"] = "application/json"
        return client.post(url, params=params, headers=headers, content=body)
    return client.post(url, params=params, headers=headers, json=body)


def gen(client: httpx.Client, body: Any, **options: Any) -> httpx.Response:
    return native(client, "generateContent", body, **options)


def gen_ok(client: httpx.Client, body: Any, **options: Any) -> Json:
    response = gen(client, body, **options)
    assert response.status_code == 200, response.text
    result: Json = response.json()
    return result


def text_of(body: Json, index: int = 0) -> str:
    return "".join(part.get("text", "") for part in body["candidates"][index]["content"]["parts"])


def chat(
    client: httpx.Client, body: Any, *, prefix: str = COMPAT, headers: dict[str, str] | None = None
) -> httpx.Response:
    sent_headers = {"Authorization": f"Bearer {KEY}"} if headers is None else headers
    if isinstance(body, (bytes, str)):
        return client.post(f"{prefix}/chat/completions", headers=sent_headers, content=body)
    return client.post(f"{prefix}/chat/completions", headers=sent_headers, json=body)


def chat_ok(client: httpx.Client, body: Json, **options: Any) -> Json:
    response = chat(client, body, **options)
    assert response.status_code == 200, response.text
    result: Json = response.json()
    return result


def chat_body(*messages: Json, **extra: Any) -> Json:
    return {"model": MODEL, "messages": list(messages), **extra}


def msg(role: str, content: Any) -> Json:
    return {"role": role, "content": content}


def assert_google_error(response: httpx.Response, status: int, canonical: str, *fragments: str) -> Json:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == status
    assert error["status"] == canonical
    for fragment in fragments:
        assert fragment in error["message"], (fragment, error["message"])
    assert response.text == json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    return dict(error)


def assert_openai_error(response: httpx.Response, status: int, param: str | None, code: str | None) -> Json:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["param"] == param
    assert error["code"] == code
    return dict(error)


def all_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from all_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_keys(item)


SIMPLE = {"contents": [user("Reply with exactly: PONG")]}


# -- engine (no HTTP) ----------------------------------------------------------------------------


def prompt_of(*texts: str, system: str | None = None) -> Prompt:
    turns = tuple(Turn("model" if index % 2 else "user", (text,)) for index, text in enumerate(texts))
    return Prompt(turns=turns, system=Turn("user", (system,)) if system is not None else None)


def test_engine_tokens_and_pieces() -> None:
    assert tokenize("Hello, world!") == ["Hello", ",", "world", "!"]
    assert split_pieces("1, 2, 3 ") == ("1", ",", " 2", ",", " 3 ")
    assert split_pieces("") == ()
    assert "".join(split_pieces("  a  b ")) == "  a  b "


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (prompt_of("Please reply with exactly: Hello there."), "Hello there."),
        (prompt_of("REPLY WITH EXACTLY:   ok  \nsecond line"), "ok"),
        (prompt_of("count from 3 to 7"), "3, 4, 5, 6, 7"),
        (prompt_of("Count from 3 to 1"), "3, 2, 1"),
        (prompt_of("hello", system="Reply with exactly: SYS"), "SYS"),
        (prompt_of("Reply with exactly: USER", system="Reply with exactly: SYS"), "SYS"),
        (prompt_of("Reply with exactly: USER", system="Be brief."), "USER"),
        (prompt_of("The code word is ZEBRA.", "Noted.", "What is the code word?"), "ZEBRA"),
        (
            prompt_of("The code word is ONE", "ok", "The code word is TWO", "ok", "What is the code word?"),
            "TWO",
        ),
        (prompt_of("What is the code word?"), "You said: What is the code word?"),
        (prompt_of("hello"), "You said: hello"),
    ],
)
def test_engine_rules(prompt: Prompt, expected: str) -> None:
    assert answer(prompt) == expected


def test_engine_cuts() -> None:
    prompt = prompt_of("Count from 1 to 9")
    cut = generate(prompt, Sampling(max_output_tokens=3)).candidates[0]
    assert (cut.text, cut.finish_reason, cut.token_count) == ("1, 2", "MAX_TOKENS", 3)
    stopped = generate(prompt, Sampling(stop_sequences=("7", "4"))).candidates[0]
    assert (stopped.text, stopped.finish_reason) == ("1, 2, 3, ", "STOP")
    exact = generate(prompt, Sampling(max_output_tokens=17)).candidates[0]
    assert exact.finish_reason == "STOP"
    both = generate(prompt, Sampling(max_output_tokens=3, stop_sequences=("2",))).candidates[0]
    assert (both.text, both.finish_reason) == ("1, ", "STOP")
    many = generate(prompt, Sampling(candidate_count=3))
    assert len(many.candidates) == 3
    assert many.candidates_token_count == 3 * 17


def test_engine_counts_media_and_system() -> None:
    prompt = Prompt(
        turns=(Turn("user", ("a b",), media=("IMAGE", "IMAGE", "AUDIO")),),
        system=Turn("user", ("c.",)),
    )
    count = count_prompt(prompt)
    assert [(entry.modality, entry.tokens) for entry in count.details] == [
        ("TEXT", 4),
        ("IMAGE", 516),
        ("AUDIO", 258),
    ]
    assert count.total == 778


# -- routes, auth, formatting --------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["query", "header", "bearer"])
def test_native_auth_styles(client: httpx.Client, auth: str) -> None:
    assert text_of(gen_ok(client, SIMPLE, auth=auth)) == "PONG"


@pytest.mark.parametrize(
    "auth",
    [
        {"params": {"key": KEY}},
        {"headers": {"x-goog-api-key": KEY}},
        {"headers": {"Authorization": f"Bearer {KEY}"}},
    ],
)
def test_openai_auth_styles(client: httpx.Client, auth: dict[str, Any]) -> None:
    body = chat_body(msg("user", "Reply with exactly: PONG"))
    response = client.post(f"{COMPAT}/chat/completions", json=body, **auth)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "PONG"
    assert client.get(f"{COMPAT}/models", **auth).status_code == 200


def test_native_missing_key(client: httpx.Client) -> None:
    error = assert_google_error(gen(client, SIMPLE, auth=None), 403, "PERMISSION_DENIED")
    assert error["message"] == (
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API."
    )
    models = client.get(f"{NATIVE}/models")
    assert_google_error(models, 403, "PERMISSION_DENIED")


@pytest.mark.parametrize("auth", ["query", "header", "bearer"])
def test_native_wrong_key(client: httpx.Client, auth: str) -> None:
    error = assert_google_error(gen(client, SIMPLE, auth=auth, key="nope"), 400, "INVALID_ARGUMENT")
    assert error["message"] == "API key not valid. Please pass a valid API key."
    assert error["details"][0] == {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "API_KEY_INVALID",
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }


def test_openai_missing_and_wrong_key(client: httpx.Client) -> None:
    body = chat_body(msg("user", "hi"))
    missing = assert_openai_error(chat(client, body, headers={}), 401, None, "invalid_api_key")
    wrong = assert_openai_error(
        chat(client, body, headers={"Authorization": "Bearer nope"}), 401, None, "invalid_api_key"
    )
    assert missing["type"] == wrong["type"] == "invalid_request_error"
    assert client.get(f"{COMPAT}/models").status_code == 401


def test_native_formatting(client: httpx.Client) -> None:
    response = gen(client, SIMPLE)
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    body = response.json()
    assert response.text == json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    assert all("_" not in key for key in all_keys(body))
    assert body["candidates"] == [
        {"content": {"parts": [{"text": "PONG"}], "role": "model"}, "finishReason": "STOP", "index": 0}
    ]
    assert body["modelVersion"] == MODEL
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", body["responseId"])
    assert not body["responseId"].startswith("chatcmpl-")
    assert gen_ok(client, SIMPLE)["responseId"] == body["responseId"]
    assert gen_ok(client, {"contents": [user("other")]})["responseId"] != body["responseId"]


def test_openai_formatting(client: httpx.Client) -> None:
    response = chat(client, chat_body(msg("user", "Reply with exactly: PONG")))
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert response.text == json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int)
    assert body["model"] == MODEL
    assert body["choices"] == [
        {"index": 0, "message": {"role": "assistant", "content": "PONG"}, "finish_reason": "stop"}
    ]


@pytest.mark.parametrize(
    ("method", "path", "form"),
    [
        ("GET", "/v1beta/nothing", "gemini"),
        ("GET", "/v1beta/models/gemini-2.5-flash:generateContent", "gemini"),
        ("POST", "/v1beta/models/gemini-2.5-flash", "gemini"),
        ("POST", "/v1beta/models/gemini-2.5-flash:embedContent", "gemini"),
        ("POST", "/v1beta/models", "gemini"),
        ("GET", "/elsewhere", "gemini"),
        ("GET", "/v1/chat/completions", "openai"),
        ("GET", "/v1/embeddings", "openai"),
    ],
)
def test_unknown_routes_are_404_in_protocol_form(
    client: httpx.Client, method: str, path: str, form: str
) -> None:
    response = client.request(method, path, params={"key": KEY}, json={})
    if form == "gemini":
        assert_google_error(response, 404, "NOT_FOUND")
    else:
        assert_openai_error(response, 404, None, None)


# -- native validation ---------------------------------------------------------------------------

GOOD_CONTENTS = [user("hi")]


def with_config(config: Json, key: str = "generationConfig") -> Json:
    return {"contents": GOOD_CONTENTS, key: config}


BAD_NATIVE: list[tuple[str, Any, str]] = [
    ("not-json", b"{not json", "Invalid JSON payload received."),
    ("not-object", b"[1, 2]", "Root element must be a message"),
    ("contents-missing", {}, "GenerateContentRequest.contents: contents is not specified"),
    ("contents-empty", {"contents": []}, "GenerateContentRequest.contents: contents is not specified"),
    ("role-bad", {"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}, "contents[0].role"),
    (
        "role-system",
        {"contents": [user("a"), {"role": "system", "parts": [{"text": "x"}]}]},
        "contents[1].role",
    ),
    (
        "parts-missing",
        {"contents": [{"role": "user"}]},
        "contents[0].parts: contents.parts must not be empty",
    ),
    ("parts-empty", {"contents": [{"role": "user", "parts": []}]}, "contents[0].parts"),
    (
        "part-no-data",
        {"contents": [{"parts": [{}]}]},
        "contents[0].parts[0].data: required oneof field 'data'",
    ),
    ("part-thought-only", {"contents": [{"parts": [{"thought": True}]}]}, "required oneof field 'data'"),
    ("part-two-data", {"contents": [{"parts": [{"text": "a", "inline_data": {"data": "AA=="}}]}]}, "Oneof"),
    ("unknown-top", {"contents": GOOD_CONTENTS, "foo": 1}, 'Unknown name "foo": Cannot find field.'),
    (
        "unknown-content",
        {"contents": [{"parts": [{"text": "a"}], "foo": 1}]},
        "Unknown name \"foo\" at 'contents[0]'",
    ),
    ("unknown-part", {"contents": [{"parts": [{"text": "a", "foo": 1}]}]}, "at 'contents[0].parts[0]'"),
    (
        "unknown-config",
        with_config({"foo": 1}),
        "Unknown name \"foo\" at 'generation_config': Cannot find field.",
    ),
    ("unknown-config-snake", with_config({"foo": 1}, "generation_config"), "at 'generation_config'"),
    (
        "unknown-system",
        {"contents": GOOD_CONTENTS, "systemInstruction": {"parts": [{"text": "a"}], "x": 1}},
        "at 'system_instruction'",
    ),
    (
        "unknown-system-snake",
        {"contents": GOOD_CONTENTS, "system_instruction": {"parts": [{"txt": "a"}]}},
        "at 'system_instruction.parts[0]'",
    ),
    (
        "unknown-thinking",
        with_config({"thinkingConfig": {"budget": 1}}),
        "at 'generation_config.thinking_config'",
    ),
    (
        "system-no-parts",
        {"contents": GOOD_CONTENTS, "system_instruction": {"parts": []}},
        "system_instruction.parts",
    ),
    ("temperature-high", with_config({"temperature": 2.5}), "generation_config.temperature"),
    (
        "temperature-low",
        with_config({"temperature": -0.1}, "generation_config"),
        "generation_config.temperature",
    ),
    ("top-p", with_config({"topP": 1.5}), "generation_config.top_p"),
    ("top-p-snake", with_config({"top_p": -1}, "generation_config"), "generation_config.top_p"),
    ("top-k", with_config({"topK": 0}), "generation_config.top_k"),
    ("top-k-snake", with_config({"top_k": 0}), "generation_config.top_k"),
    ("max-tokens", with_config({"maxOutputTokens": 0}), "generation_config.max_output_tokens"),
    ("max-tokens-snake", with_config({"max_output_tokens": -5}, "generation_config"), "max_output_tokens"),
    ("candidates-high", with_config({"candidateCount": 9}), "generation_config.candidate_count"),
    ("candidates-zero", with_config({"candidate_count": 0}), "generation_config.candidate_count"),
    ("stops-many", with_config({"stopSequences": list("abcdef")}), "generation_config.stop_sequences"),
    ("stops-many-snake", with_config({"stop_sequences": list("abcdef")}), "generation_config.stop_sequences"),
    (
        "stops-not-strings",
        with_config({"stopSequences": ["a", 1]}),
        "'generation_config.stop_sequences[1]' (TYPE_STRING)",
    ),
    ("stops-not-list", with_config({"stop_sequences": "a"}), "generation_config.stop_sequences"),
    (
        "modality-bad",
        with_config({"responseModalities": ["SMELL"]}),
        "generation_config.response_modalities[0]",
    ),
    (
        "modality-unspecified",
        with_config({"response_modalities": ["MODALITY_UNSPECIFIED"]}),
        "response_modalities[0]",
    ),
    ("mime-bad", with_config({"responseMimeType": "text/html"}), "generation_config.response_mime_type"),
    (
        "mime-bad-snake",
        with_config({"response_mime_type": "image/png"}),
        "generation_config.response_mime_type",
    ),
    ("temperature-type", with_config({"temperature": "hot"}), "'generation_config.temperature' (TYPE_FLOAT)"),
    ("max-tokens-type", with_config({"max_output_tokens": 2.5}), "(TYPE_INT32)"),
    ("presence-type", with_config({"presencePenalty": "x"}), "generation_config.presence_penalty"),
    ("frequency-type", with_config({"frequency_penalty": True}), "generation_config.frequency_penalty"),
    ("seed-type", with_config({"seed": "abc"}), "generation_config.seed"),
    ("logprobs-bool-type", with_config({"responseLogprobs": "yes"}), "generation_config.response_logprobs"),
    ("logprobs-type", with_config({"logprobs": "many"}), "generation_config.logprobs"),
    (
        "budget-type",
        with_config({"thinking_config": {"thinking_budget": "lots"}}),
        "thinking_config.thinking_budget",
    ),
    (
        "include-thoughts-type",
        with_config({"thinkingConfig": {"includeThoughts": 1}}),
        "thinking_config.include_thoughts",
    ),
    (
        "thinking-level",
        with_config({"thinkingConfig": {"thinkingLevel": "EXTREME"}}),
        "thinking_config.thinking_level",
    ),
    (
        "safety-not-list",
        {"contents": GOOD_CONTENTS, "safetySettings": {"category": "x"}},
        "safety_settings[0].category",
    ),
    (
        "safety-category",
        {"contents": GOOD_CONTENTS, "safety_settings": [{"category": "NOPE"}]},
        "safety_settings[0].category",
    ),
    ("tools-not-list", {"contents": GOOD_CONTENTS, "tools": {"a": 1}}, "'tools'"),
    ("tool-config-type", {"contents": GOOD_CONTENTS, "tool_config": "auto"}, "'tool_config'"),
    (
        "cached-content-type",
        {"contents": GOOD_CONTENTS, "cachedContent": 5},
        "'cached_content' (TYPE_STRING)",
    ),
    ("labels-type", {"contents": GOOD_CONTENTS, "labels": "x"}, "'labels'"),
    ("text-type", {"contents": [{"parts": [{"text": 5}]}]}, "'contents[0].parts[0].text' (TYPE_STRING)"),
    ("role-type", {"contents": [{"role": 1, "parts": [{"text": "a"}]}]}, "'contents[0].role'"),
    (
        "bad-base64",
        {"contents": [{"parts": [{"inline_data": {"mime_type": "image/png", "data": "@@@"}}]}]},
        "contents[0].parts[0].inline_data.data",
    ),
    (
        "duplicate-field",
        {"contents": GOOD_CONTENTS, "generationConfig": {}, "generation_config": {}},
        "set twice",
    ),
]


@pytest.mark.parametrize(
    ("body", "fragment"), [case[1:] for case in BAD_NATIVE], ids=[case[0] for case in BAD_NATIVE]
)
def test_native_validation(client: httpx.Client, body: Any, fragment: str) -> None:
    assert_google_error(gen(client, body), 400, "INVALID_ARGUMENT", fragment)


def test_native_validation_lists_every_violation(client: httpx.Client) -> None:
    body = with_config({"temperature": 3, "top_p": 2})
    error = assert_google_error(gen(client, body), 400, "INVALID_ARGUMENT")
    lines = error["message"].splitlines()
    assert lines[0].startswith("* GenerateContentRequest.generation_config.temperature: ")
    assert lines[1].startswith("* GenerateContentRequest.generation_config.top_p: ")
    fields = [violation["field"] for violation in error["details"][0]["fieldViolations"]]
    assert fields == ["generation_config.temperature", "generation_config.top_p"]


PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
FULL_FIELDS: dict[str, Any] = {
    "contents": [
        {
            "role": "user",
            "parts": [{"text": "Count from 1 to 9"}, {"inlineData": {"mimeType": "image/png", "data": PNG}}],
        },
        {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"a_b": 1}, "id": "c1"}}]},
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "f", "response": {"ok": True}}},
                {"text": "Count from 1 to 9"},
            ],
        },
        {"role": "model", "parts": [{"text": "thinking", "thought": True, "thoughtSignature": "c2ln"}]},
        {
            "parts": [
                {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://b/x.pdf"}},
                {"text": "Count from 1 to 9"},
            ]
        },
    ],
    "systemInstruction": {"role": "system", "parts": [{"text": "Be terse."}]},
    "generationConfig": {
        "temperature": 0.5,
        "topP": 0.9,
        "topK": 20,
        "maxOutputTokens": 9,
        "candidateCount": 2,
        "stopSequences": ["8"],
        "responseModalities": ["TEXT"],
        "responseMimeType": "text/plain",
        "presencePenalty": 0.1,
        "frequencyPenalty": -0.1,
        "seed": 7,
        "responseLogprobs": False,
        "logprobs": 2,
        "thinkingConfig": {"thinkingBudget": 128, "includeThoughts": False},
    },
    "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
    "tools": [{"functionDeclarations": [{"name": "f", "parameters_json_schema": {"type": "object"}}]}],
    "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
    "labels": {"team": "qa"},
}


def snake_case_copy(value: Any, *, inside_free_form: bool = False) -> Any:
    """The request with every modelled key in snake_case (free-form values left alone)."""
    free_form = {"args", "response", "labels", "tools", "toolConfig", "tool_config"}
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            new_key = key if inside_free_form else re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower()
            result[new_key] = snake_case_copy(item, inside_free_form=inside_free_form or key in free_form)
        return result
    if isinstance(value, list):
        return [snake_case_copy(item, inside_free_form=inside_free_form) for item in value]
    return value


def test_every_field_in_camel_and_snake_case(client: httpx.Client) -> None:
    camel = gen_ok(client, FULL_FIELDS)
    snake_body = snake_case_copy(FULL_FIELDS)
    assert "system_instruction" in snake_body and "max_output_tokens" in snake_body["generation_config"]
    assert "inline_data" in snake_body["contents"][0]["parts"][1]
    snake = gen_ok(client, snake_body)
    assert len(camel["candidates"]) == 2
    assert text_of(camel) == "1, 2, 3, 4, 5"  # cut after 9 tokens; the stop "8" lies beyond
    assert camel["candidates"][0]["finishReason"] == "MAX_TOKENS"
    for key in ("candidates", "usageMetadata"):
        assert snake[key] == camel[key]
    mixed = json.loads(json.dumps(FULL_FIELDS))
    mixed["system_instruction"] = mixed.pop("systemInstruction")
    mixed["generationConfig"]["max_output_tokens"] = mixed["generationConfig"].pop("maxOutputTokens")
    mixed["generationConfig"]["stop_sequences"] = mixed["generationConfig"].pop("stopSequences")
    mixed["generationConfig"]["top_p"] = mixed["generationConfig"].pop("topP")
    assert gen_ok(client, mixed)["candidates"] == camel["candidates"]


def test_null_fields_are_absent(client: httpx.Client) -> None:
    body = {"contents": [user("Reply with exactly: OK")], "generationConfig": None, "systemInstruction": None}
    assert text_of(gen_ok(client, body)) == "OK"


def test_unknown_and_doubled_model(client: httpx.Client) -> None:
    message = (
        "models/gemini-9-ultra is not found for API version v1beta, or is not supported for generateContent. "
        "Call ModelService.ListModels to see the list of available models and their supported methods."
    )
    error = assert_google_error(gen(client, SIMPLE, model="gemini-9-ultra"), 404, "NOT_FOUND")
    assert error["message"] == message
    assert_google_error(gen(client, SIMPLE, model="models/gemini-2.5-flash"), 404, "NOT_FOUND")
    count = native(client, "countTokens", SIMPLE, model="nope")
    assert_google_error(count, 404, "NOT_FOUND", "not supported for countTokens")


# -- native engine rules over HTTP ---------------------------------------------------------------


def test_system_instruction_rule(client: httpx.Client) -> None:
    body = {
        "systemInstruction": {"parts": [{"text": "Reply with exactly: Ahoy!"}]},
        "contents": [user("hello")],
    }
    assert text_of(gen_ok(client, body)) == "Ahoy!"
    snake = {
        "system_instruction": {"parts": [{"text": "Reply with exactly: Ahoy!"}]},
        "contents": [user("hello")],
    }
    assert text_of(gen_ok(client, snake)) == "Ahoy!"


def test_count_and_echo_rules(client: httpx.Client) -> None:
    assert text_of(gen_ok(client, {"contents": [user("Count from 1 to 5")]})) == "1, 2, 3, 4, 5"
    assert text_of(gen_ok(client, {"contents": [user("Hi there")]})) == "You said: Hi there"


def test_code_word_needs_history(client: httpx.Client) -> None:
    contents = [user("The code word is PELICAN."), model_turn("Understood."), user("What is the code word?")]
    assert text_of(gen_ok(client, {"contents": contents})) == "PELICAN"
    assert text_of(gen_ok(client, {"contents": contents[-1:]})) == "You said: What is the code word?"


def test_max_output_tokens(client: httpx.Client) -> None:
    body = {"contents": [user("Count from 1 to 10")], "generationConfig": {"maxOutputTokens": 5}}
    result = gen_ok(client, body)
    assert text_of(result) == "1, 2, 3"
    assert result["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert result["usageMetadata"]["candidatesTokenCount"] == 5


def test_stop_sequences(client: httpx.Client) -> None:
    body = {"contents": [user("Count from 1 to 10")], "generation_config": {"stop_sequences": ["5", "9"]}}
    result = gen_ok(client, body)
    assert text_of(result) == "1, 2, 3, 4, "
    assert result["candidates"][0]["finishReason"] == "STOP"


def test_candidate_count(client: httpx.Client) -> None:
    result = gen_ok(
        client,
        {"contents": [user("Reply with exactly: two words")], "generationConfig": {"candidateCount": 3}},
    )
    assert [candidate["index"] for candidate in result["candidates"]] == [0, 1, 2]
    assert {text_of(result, index) for index in range(3)} == {"two words"}
    assert result["usageMetadata"]["candidatesTokenCount"] == 6


def test_usage_arithmetic(client: httpx.Client) -> None:
    body = {
        "systemInstruction": {"parts": [{"text": "You are terse."}]},
        "contents": [user("Reply with exactly: A, B"), model_turn("A, B"), user("Reply with exactly: A, B")],
    }
    usage = gen_ok(client, body)["usageMetadata"]
    assert usage["promptTokenCount"] == 4 + 7 + 3 + 7
    assert usage["candidatesTokenCount"] == 3
    # gemini-2.5-flash thinks by default: "Thinking about the request: Reply with exactly: A, B"
    assert usage["thoughtsTokenCount"] == 12
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"] + 12
    assert usage["promptTokensDetails"] == [{"modality": "TEXT", "tokenCount": usage["promptTokenCount"]}]


def test_zero_counts_are_omitted(client: httpx.Client) -> None:
    body = {"contents": [user("Reply with exactly:")]}
    usage = gen_ok(client, body, model="gemini-2.0-flash")["usageMetadata"]  # a model that does not think
    assert "candidatesTokenCount" not in usage and "thoughtsTokenCount" not in usage
    assert usage["totalTokenCount"] == usage["promptTokenCount"] == 4


@pytest.mark.parametrize(
    "body",
    [
        SIMPLE,
        FULL_FIELDS,
        {
            "contents": [
                {"parts": [{"inline_data": {"mime_type": "image/png", "data": PNG}}, {"text": "what?"}]}
            ]
        },
        {"systemInstruction": {"parts": [{"text": "Reply with exactly: X"}]}, "contents": [user("a b c")]},
    ],
    ids=["simple", "full", "image", "system"],
)
def test_count_tokens_matches_prompt_token_count(client: httpx.Client, body: Json) -> None:
    usage = gen_ok(client, body)["usageMetadata"]
    inner = dict(body, model=f"models/{MODEL}")
    for request in ({"generateContentRequest": inner}, {"generate_content_request": inner}):
        counted = native(client, "countTokens", request)
        assert counted.status_code == 200, counted.text
        assert counted.json() == {
            "totalTokens": usage["promptTokenCount"],
            "promptTokensDetails": usage["promptTokensDetails"],
        }
    if set(body) == {"contents"}:
        plain = native(client, "countTokens", {"contents": body["contents"]}).json()
        assert plain["totalTokens"] == usage["promptTokenCount"]


def test_count_tokens_media_modalities(client: httpx.Client) -> None:
    body = {"contents": [{"parts": [{"text": "a"}, {"inlineData": {"mimeType": "image/png", "data": PNG}}]}]}
    assert native(client, "countTokens", body).json() == {
        "totalTokens": 259,
        "promptTokensDetails": [
            {"modality": "TEXT", "tokenCount": 1},
            {"modality": "IMAGE", "tokenCount": 258},
        ],
    }


def test_count_tokens_validation(client: httpx.Client) -> None:
    assert_google_error(
        native(client, "countTokens", {}), 400, "INVALID_ARGUMENT", "contents is not specified"
    )
    both = {"contents": GOOD_CONTENTS, "generateContentRequest": {"contents": GOOD_CONTENTS}}
    assert_google_error(native(client, "countTokens", both), 400, "INVALID_ARGUMENT")
    inner_bad = {"generateContentRequest": {"contents": GOOD_CONTENTS, "generationConfig": {"topK": 0}}}
    assert_google_error(native(client, "countTokens", inner_bad), 400, "INVALID_ARGUMENT", "top_k")


# -- models --------------------------------------------------------------------------------------


def test_models_list_and_get(client: httpx.Client) -> None:
    response = client.get(f"{NATIVE}/models", params={"key": KEY})
    assert response.headers["content-type"] == "application/json; charset=UTF-8"
    body = response.json()
    assert set(body) == {"models"}
    names = [model["name"] for model in body["models"]]
    assert names == [
        "models/gemini-2.5-flash",
        "models/gemini-2.5-pro",
        "models/gemini-2.5-flash-lite",
        "models/gemini-2.0-flash",
        "models/gemini-3-flash-preview",
        "models/gemini-2.5-flash-image",
        "models/gemini-2.5-flash-preview-tts",
    ]
    first = body["models"][0]
    for field in (
        "version",
        "displayName",
        "description",
        "inputTokenLimit",
        "outputTokenLimit",
        "temperature",
        "topP",
        "topK",
        "maxTemperature",
        "thinking",
        "baseModelId",
    ):
        assert field in first
    assert {"generateContent", "countTokens"} <= set(first["supportedGenerationMethods"])
    got = client.get(f"{NATIVE}/models/gemini-2.0-flash", headers={"x-goog-api-key": KEY})
    assert got.json() == body["models"][3]
    assert_google_error(client.get(f"{NATIVE}/models/nope", params={"key": KEY}), 404, "NOT_FOUND")


def test_models_pagination(client: httpx.Client) -> None:
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        params = {"key": KEY, "pageSize": "2"} | ({"pageToken": token} if token else {})
        body = client.get(f"{NATIVE}/models", params=params).json()
        pages += 1
        seen += [model["name"] for model in body["models"]]
        token = body.get("nextPageToken")
        if not token:
            break
    assert pages == 4 and len(seen) == 7 == len(set(seen))
    snake = client.get(f"{NATIVE}/models", params={"key": KEY, "page_size": "4"}).json()
    assert len(snake["models"]) == 4 and "nextPageToken" in snake
    bad = client.get(f"{NATIVE}/models", params={"key": KEY, "pageToken": "garbage"})
    assert_google_error(bad, 400, "INVALID_ARGUMENT", "page token")
    assert_google_error(
        client.get(f"{NATIVE}/models", params={"key": KEY, "pageSize": "x"}), 400, "INVALID_ARGUMENT"
    )


def test_openai_models(client: httpx.Client) -> None:
    body = client.get(f"{COMPAT}/models", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert body["object"] == "list"
    assert [model["id"] for model in body["data"]][0] == MODEL
    assert all(set(model) == {"id", "object", "created", "owned_by"} for model in body["data"])
    assert all(model["object"] == "model" and model["owned_by"] == "google" for model in body["data"])


def test_custom_catalogue() -> None:
    app = create_app(models=["gemini-2.5-pro", "my-model"])
    catalogue = app.state.reference.catalogue
    assert [model.id for model in catalogue.models] == ["gemini-2.5-pro", "my-model"]


# -- OpenAI-compatible ---------------------------------------------------------------------------

BAD_OPENAI: list[tuple[str, Any, str | None, str | None]] = [
    ("not-json", b"{nope", None, None),
    ("model-missing", {"messages": [msg("user", "hi")]}, "model", "missing_required_parameter"),
    ("messages-missing", {"model": MODEL}, "messages", "missing_required_parameter"),
    ("messages-empty", chat_body(), "messages", "empty_array"),
    ("role-bad", chat_body(msg("wizard", "hi")), "messages[0].role", "invalid_value"),
    ("role-tool", chat_body(msg("user", "hi"), msg("tool", "x")), "messages[1].role", "invalid_value"),
    (
        "content-part-type",
        chat_body(msg("user", [{"type": "video", "video": 1}])),
        "messages[0].content[0].type",
        "invalid_value",
    ),
    ("content-type", chat_body(msg("user", 5)), "messages[0].content", "invalid_type"),
    (
        "temperature-high",
        chat_body(msg("user", "hi"), temperature=2.5),
        "temperature",
        "decimal_above_max_value",
    ),
    (
        "temperature-low",
        chat_body(msg("user", "hi"), temperature=-1),
        "temperature",
        "decimal_below_min_value",
    ),
    ("temperature-type", chat_body(msg("user", "hi"), temperature="hot"), "temperature", "invalid_type"),
    ("top-p", chat_body(msg("user", "hi"), top_p=1.5), "top_p", "decimal_above_max_value"),
    ("n-high", chat_body(msg("user", "hi"), n=9), "n", "integer_above_max_value"),
    ("n-zero", chat_body(msg("user", "hi"), n=0), "n", "integer_below_min_value"),
    (
        "presence",
        chat_body(msg("user", "hi"), presence_penalty=2.5),
        "presence_penalty",
        "decimal_above_max_value",
    ),
    (
        "frequency",
        chat_body(msg("user", "hi"), frequency_penalty=-3),
        "frequency_penalty",
        "decimal_below_min_value",
    ),
    ("effort", chat_body(msg("user", "hi"), reasoning_effort="extreme"), "reasoning_effort", "invalid_value"),
    ("stop-many", chat_body(msg("user", "hi"), stop=list("abcde")), "stop", "array_above_max_length"),
    ("stop-type", chat_body(msg("user", "hi"), stop=5), "stop", "invalid_type"),
    ("max-tokens", chat_body(msg("user", "hi"), max_tokens=0), "max_tokens", "integer_below_min_value"),
    (
        "max-completion",
        chat_body(msg("user", "hi"), max_completion_tokens=-1),
        "max_completion_tokens",
        "integer_below_min_value",
    ),
]


@pytest.mark.parametrize(
    ("body", "param", "code"), [case[1:] for case in BAD_OPENAI], ids=[case[0] for case in BAD_OPENAI]
)
def test_openai_validation(client: httpx.Client, body: Any, param: str | None, code: str | None) -> None:
    error = assert_openai_error(chat(client, body), 400, param, code)
    assert error["type"] == "invalid_request_error"


def test_openai_unknown_model(client: httpx.Client) -> None:
    body = dict(chat_body(msg("user", "hi")), model="gpt-nope")
    error = assert_openai_error(chat(client, body), 404, None, "model_not_found")
    assert "gpt-nope" in error["message"]


def test_openai_rules(client: httpx.Client) -> None:
    body = chat_body(msg("developer", "Reply with exactly: DEV"), msg("user", "hello"))
    assert chat_ok(client, body)["choices"][0]["message"]["content"] == "DEV"
    parts = chat_body(msg("user", [{"type": "text", "text": "Hello"}, {"type": "text", "text": "world"}]))
    assert chat_ok(client, parts)["choices"][0]["message"]["content"] == "You said: Hello\nworld"
    history = chat_body(
        msg("user", "The code word is HERON"), msg("assistant", "ok"), msg("user", "What is the code word?")
    )
    assert chat_ok(client, history)["choices"][0]["message"]["content"] == "HERON"
    prefixed = dict(chat_body(msg("user", "hi")), model=f"models/{MODEL}")
    assert chat_ok(client, prefixed)["model"] == f"models/{MODEL}"


def test_openai_max_tokens_stop_and_n(client: httpx.Client) -> None:
    count = msg("user", "Count from 1 to 10")
    both = chat_ok(client, chat_body(count, max_tokens=7, max_completion_tokens=3))
    assert both["choices"][0] == {
        "index": 0,
        "message": {"role": "assistant", "content": "1, 2"},
        "finish_reason": "length",
    }
    reasoning = both["usage"]["completion_tokens_details"]["reasoning_tokens"]
    assert reasoning > 0 and both["usage"]["completion_tokens"] == 3 + reasoning
    one = chat_ok(client, chat_body(count, max_completion_tokens=5))
    assert one["choices"][0]["message"]["content"] == "1, 2, 3"
    stopped = chat_ok(client, chat_body(count, stop="4"))
    assert stopped["choices"][0]["message"]["content"] == "1, 2, 3, "
    assert stopped["choices"][0]["finish_reason"] == "stop"
    many = chat_ok(client, chat_body(count, n=3, stop=["3"]))
    assert [choice["index"] for choice in many["choices"]] == [0, 1, 2]
    thought = many["usage"]["completion_tokens_details"]["reasoning_tokens"] // 3  # each choice thought
    assert many["usage"] == {
        "prompt_tokens": 5,
        "completion_tokens": 12 + 3 * thought,
        "total_tokens": 17 + 3 * thought,
        "completion_tokens_details": {"reasoning_tokens": 3 * thought},
    }


def test_openai_usage_matches_native(client: httpx.Client) -> None:
    result = chat_ok(client, chat_body(msg("system", "Be brief."), msg("user", "Reply with exactly: A B C")))
    usage = result["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    native_usage = gen_ok(
        client,
        {
            "systemInstruction": {"parts": [{"text": "Be brief."}]},
            "contents": [user("Reply with exactly: A B C")],
        },
    )["usageMetadata"]
    assert usage["prompt_tokens"] == native_usage["promptTokenCount"]
    assert native_usage["candidatesTokenCount"] == 3
    # OpenAI's completion tokens include the reasoning tokens, which Gemini reports apart
    assert usage["completion_tokens_details"] == {"reasoning_tokens": native_usage["thoughtsTokenCount"]}
    assert usage["completion_tokens"] == 3 + native_usage["thoughtsTokenCount"]


# -- prefixes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gemini_prefix", "openai_prefix"),
    [("/v1/v1beta", "/v1"), ("/gemini/v1beta", "/v1beta/openai"), ("", "/v1")],
    ids=["v1-v1beta", "gemini-v1beta", "root"],
)
def test_prefix_profiles(gemini_prefix: str, openai_prefix: str) -> None:
    app = create_app(gemini_prefix=gemini_prefix, openai_prefix=openai_prefix)
    with ReferenceServer(app) as running, httpx.Client(base_url=running.base_url, timeout=5) as client:
        assert text_of(gen_ok(client, SIMPLE, prefix=gemini_prefix)) == "PONG"
        assert native(client, "countTokens", SIMPLE, prefix=gemini_prefix).json()["totalTokens"] == 5
        assert len(client.get(f"{gemini_prefix}/models", params={"key": KEY}).json()["models"]) == 7
        reply = chat_ok(client, chat_body(msg("user", "Reply with exactly: PONG")), prefix=openai_prefix)
        assert reply["choices"][0]["message"]["content"] == "PONG"
        listed = client.get(f"{openai_prefix}/models", headers={"Authorization": f"Bearer {KEY}"}).json()
        assert listed["object"] == "list"
        assert_google_error(gen(client, SIMPLE, prefix="/v1beta-nope"), 404, "NOT_FOUND")
        assert_google_error(client.get(f"{gemini_prefix}/nothing"), 404, "NOT_FOUND")
        assert_openai_error(client.get(f"{openai_prefix}/nothing"), 404, None, None)


def test_bad_app_arguments() -> None:
    with pytest.raises(ValueError, match="no-such-fault"):
        create_app(faults=["usage-renamed", "no-such-fault"])
    with pytest.raises(ValueError):
        create_app(gemini_prefix="/v1", openai_prefix="/v1/")
    assert create_app(faults="usage-renamed").state.faults == {"usage-renamed"}


# -- server lifecycle ----------------------------------------------------------------------------


def test_server_starts_fast_and_stops_clean(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    before = set(threading.enumerate())
    started = time.monotonic()
    running = ReferenceServer(create_app()).start()
    assert time.monotonic() - started < 5  # its own start-up limit, generous on a loaded machine
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", running.base_url)
    port = running.port
    with httpx.Client(base_url=running.base_url) as client:
        assert client.get(f"{NATIVE}/models", params={"key": KEY}).status_code == 200
    running.stop()
    assert set(threading.enumerate()) <= before
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    assert not [record for record in caplog.records if record.name.startswith("uvicorn")]
    running.stop()  # idempotent


# -- faults: one test each -----------------------------------------------------------------------


def test_fault_registry() -> None:
    for name, fault in FAULTS.items():
        assert isinstance(fault, Fault) and fault.name == name
        assert fault.protocol in ("gemini", "openai") and fault.protocol in fault.affects
        assert fault.bug_class is None or re.fullmatch(r"F\d\d", fault.bug_class)
        assert fault.description and fault.feature


def test_fault_system_instruction_dropped(client: httpx.Client, faults: set[str]) -> None:
    body = {"system_instruction": {"parts": [{"text": "Reply with exactly: SYS"}]}, "contents": [user("hi")]}
    openai_body = chat_body(msg("system", "Reply with exactly: SYS"), msg("user", "hi"))
    faults.add("system-instruction-dropped")
    assert text_of(gen_ok(client, body)) == "You said: hi"
    assert chat_ok(client, openai_body)["choices"][0]["message"]["content"] == "You said: hi"


def test_fault_snake_case_ignored(client: httpx.Client, faults: set[str]) -> None:
    body = {"contents": [user("Count from 1 to 9")], "generation_config": {"max_output_tokens": 1}}
    camel = {"contents": [user("Count from 1 to 9")], "generationConfig": {"maxOutputTokens": 1}}
    faults.add("snake-case-ignored")
    result = gen_ok(client, body)
    assert text_of(result) == "1, 2, 3, 4, 5, 6, 7, 8, 9"
    assert text_of(gen_ok(client, camel)) == "1"
    assert gen(client, {"contents": GOOD_CONTENTS, "foo_bar": 1}).status_code == 200


def test_fault_stop_sequences_dropped(client: httpx.Client, faults: set[str]) -> None:
    faults.add("stop-sequences-dropped")
    result = gen_ok(
        client, {"contents": [user("Count from 1 to 3")], "generationConfig": {"stopSequences": ["2"]}}
    )
    assert text_of(result) == "1, 2, 3"
    reply = chat_ok(client, chat_body(msg("user", "Count from 1 to 3"), stop=["2"]))
    assert reply["choices"][0]["message"]["content"] == "1, 2, 3"


def test_fault_max_tokens_dropped(client: httpx.Client, faults: set[str]) -> None:
    faults.add("max-tokens-dropped")
    result = gen_ok(
        client, {"contents": [user("Count from 1 to 3")], "generationConfig": {"maxOutputTokens": 1}}
    )
    assert (text_of(result), result["candidates"][0]["finishReason"]) == ("1, 2, 3", "STOP")
    reply = chat_ok(client, chat_body(msg("user", "Count from 1 to 3"), max_tokens=1))
    assert (reply["choices"][0]["message"]["content"], reply["choices"][0]["finish_reason"]) == (
        "1, 2, 3",
        "stop",
    )


def test_fault_finish_reason_always_stop(client: httpx.Client, faults: set[str]) -> None:
    faults.add("finish-reason-always-stop")
    result = gen_ok(
        client, {"contents": [user("Count from 1 to 3")], "generationConfig": {"maxOutputTokens": 1}}
    )
    assert (text_of(result), result["candidates"][0]["finishReason"]) == ("1", "STOP")
    reply = chat_ok(client, chat_body(msg("user", "Count from 1 to 3"), max_tokens=1))
    assert (reply["choices"][0]["message"]["content"], reply["choices"][0]["finish_reason"]) == ("1", "stop")


def test_fault_candidate_count_ignored(client: httpx.Client, faults: set[str]) -> None:
    faults.add("candidate-count-ignored")
    assert len(gen_ok(client, with_config({"candidateCount": 2}))["candidates"]) == 1
    assert len(chat_ok(client, chat_body(msg("user", "hi"), n=2))["choices"]) == 1


def test_fault_usage_misreported(client: httpx.Client, faults: set[str]) -> None:
    faults.add("usage-misreported")
    usage = gen_ok(client, SIMPLE)["usageMetadata"]
    thoughts = usage["thoughtsTokenCount"]  # the total leaves out the output, not the thoughts
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + thoughts == 5 + thoughts
    assert usage["candidatesTokenCount"] == 1
    openai_usage = chat_ok(client, chat_body(msg("user", "Reply with exactly: PONG")))["usage"]
    assert openai_usage == {
        "prompt_tokens": 5,
        "completion_tokens": 1 + thoughts,
        "total_tokens": 5 + thoughts,
        "completion_tokens_details": {"reasoning_tokens": thoughts},
    }


def test_fault_usage_renamed(client: httpx.Client, faults: set[str]) -> None:
    faults.add("usage-renamed")
    body = gen_ok(client, SIMPLE)
    usage = body["cpaUsageMetadata"]
    assert "usageMetadata" not in body and usage["totalTokenCount"] == 6 + usage["thoughtsTokenCount"]


def test_fault_snake_case_output(client: httpx.Client, faults: set[str]) -> None:
    faults.add("snake-case-output")
    body = gen_ok(client, SIMPLE)
    assert {"usage_metadata", "model_version", "response_id"} <= set(body)
    assert body["candidates"][0]["finish_reason"] == "STOP"
    assert "total_tokens" in native(client, "countTokens", SIMPLE).json()


def test_fault_errors_as_500(client: httpx.Client, faults: set[str]) -> None:
    faults.add("errors-as-500")
    error = assert_google_error(gen(client, with_config({"temperature": 5})), 500, "INTERNAL")
    assert "temperature" in error["message"]
    assert_google_error(gen(client, SIMPLE, model="nope"), 500, "INTERNAL")
    assert_openai_error(chat(client, chat_body(msg("user", "hi"), n=20)), 500, "n", "integer_above_max_value")


def test_fault_errors_openai_envelope(client: httpx.Client, faults: set[str]) -> None:
    faults.add("errors-openai-envelope")
    response = gen(client, SIMPLE, model="nope")
    assert response.status_code == 404
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and "status" not in error


def test_fault_invalid_argument_unchecked(client: httpx.Client, faults: set[str]) -> None:
    faults.add("invalid-argument-unchecked")
    assert gen(client, with_config({"temperature": 5, "topK": 0, "bogus": 1})).status_code == 200
    assert (
        gen(client, {"contents": [{"role": "wizard", "parts": [{"text": "hi"}]}], "extra": True}).status_code
        == 200
    )
    assert chat(client, chat_body(msg("wizard", "hi"), temperature=9, n=0)).status_code == 200
    assert_google_error(gen(client, {"contents": []}), 400, "INVALID_ARGUMENT")


def test_fault_unknown_model_fallback(client: httpx.Client, faults: set[str]) -> None:
    faults.add("unknown-model-fallback")
    assert gen_ok(client, SIMPLE, model="gemini-9-ultra")["modelVersion"] == MODEL
    assert native(client, "countTokens", SIMPLE, model="gemini-9-ultra").status_code == 200
    assert chat(client, dict(chat_body(msg("user", "hi")), model="gpt-nope")).status_code == 200


def test_fault_x_goog_api_key_rejected(client: httpx.Client, faults: set[str]) -> None:
    faults.add("x-goog-api-key-rejected")
    assert_google_error(gen(client, SIMPLE, auth="header"), 401, "UNAUTHENTICATED")
    assert gen(client, SIMPLE, auth="query").status_code == 200
    assert gen(client, SIMPLE, auth="bearer").status_code == 200
    assert_google_error(gen(client, SIMPLE, auth=None), 403, "PERMISSION_DENIED")
    only_header = client.post(
        f"{COMPAT}/chat/completions", json=chat_body(msg("user", "hi")), headers={"x-goog-api-key": KEY}
    )
    assert only_header.status_code == 401


def test_fault_count_tokens_zero(client: httpx.Client, faults: set[str]) -> None:
    faults.add("count-tokens-zero")
    assert native(client, "countTokens", SIMPLE).json() == {"totalTokens": 0}
    assert gen_ok(client, SIMPLE)["usageMetadata"]["promptTokenCount"] == 5


def test_fault_models_openai_shape(client: httpx.Client, faults: set[str]) -> None:
    faults.add("models-openai-shape")
    body = client.get(f"{NATIVE}/models", params={"key": KEY}).json()
    assert body["object"] == "list" and "models" not in body
    assert body["data"][0]["id"] == MODEL


def test_fault_history_dropped(client: httpx.Client, faults: set[str]) -> None:
    faults.add("history-dropped")
    contents = [user("The code word is PELICAN."), model_turn("Understood."), user("What is the code word?")]
    assert text_of(gen_ok(client, {"contents": contents})) == "You said: What is the code word?"
    messages = [
        msg("user", "The code word is HERON"),
        msg("assistant", "ok"),
        msg("user", "What is the code word?"),
    ]
    reply = chat_ok(client, chat_body(*messages))
    assert reply["choices"][0]["message"]["content"] == "You said: What is the code word?"


def test_fault_response_ids_dropped(client: httpx.Client, faults: set[str]) -> None:
    faults.add("response-ids-dropped")
    body = gen_ok(client, SIMPLE)
    assert "responseId" not in body and "modelVersion" not in body and "usageMetadata" in body
    assert "id" not in chat_ok(client, chat_body(msg("user", "hi")))


def test_fault_openai_message_missing(client: httpx.Client, faults: set[str]) -> None:
    faults.add("openai-message-missing")
    choice = chat_ok(client, chat_body(msg("user", "hi")))["choices"][0]
    assert choice == {"index": 0, "finish_reason": "stop"}


# -- faults: each changes only what it names -----------------------------------------------------

Probe = Callable[[httpx.Client], Any]
COUNT_3 = [user("Count from 1 to 3")]


def _native_obs(response: httpx.Response) -> Any:
    return response.status_code, response.json()


def _candidate(body: Json) -> Json:
    candidates = body.get("candidates") or [{}]
    return dict(candidates[0])


def _native_text(client: httpx.Client, body: Json) -> Any:
    response = gen(client, body)
    if response.status_code != 200:
        return response.status_code
    return "".join(
        part.get("text", "") for part in _candidate(response.json()).get("content", {}).get("parts", [])
    )


def _chat_obs(client: httpx.Client, body: Json) -> Any:
    response = chat(client, body)
    if response.status_code != 200:
        return response.status_code
    return [choice.get("message", {}).get("content") for choice in response.json()["choices"]]


PROBES: dict[str, Probe] = {
    "native-system": lambda c: _native_text(
        c, {"systemInstruction": {"parts": [{"text": "Reply with exactly: S"}]}, "contents": [user("hi")]}
    ),
    "native-snake": lambda c: _native_text(
        c, {"contents": COUNT_3, "generation_config": {"max_output_tokens": 1}}
    ),
    "native-stop": lambda c: _native_text(
        c, {"contents": COUNT_3, "generationConfig": {"stopSequences": ["2"]}}
    ),
    "native-max": lambda c: _native_text(
        c, {"contents": COUNT_3, "generationConfig": {"maxOutputTokens": 1}}
    ),
    "native-finish": lambda c: _candidate(
        gen(c, {"contents": COUNT_3, "generationConfig": {"maxOutputTokens": 1}}).json()
    ).get("finishReason"),
    "native-candidates": lambda c: len(gen(c, with_config({"candidateCount": 2})).json()["candidates"]),
    "native-history": lambda c: _native_text(
        c, {"contents": [user("The code word is K"), model_turn("ok"), user("What is the code word?")]}
    ),
    "native-usage": lambda c: gen(c, SIMPLE).json().get("usageMetadata"),
    "native-shape": lambda c: sorted(all_keys(gen(c, SIMPLE).json())),
    "native-ids": lambda c: [gen(c, SIMPLE).json().get(key) for key in ("modelVersion", "responseId")],
    "native-400": lambda c: _native_obs(gen(c, with_config({"temperature": 5}))),
    "native-unknown-field": lambda c: gen(c, {"contents": GOOD_CONTENTS, "bogus": 1}).status_code,
    "native-404": lambda c: _native_obs(gen(c, SIMPLE, model="nope")),
    "native-auth-header": lambda c: gen(c, SIMPLE, auth="header").status_code,
    "native-auth-missing": lambda c: _native_obs(gen(c, SIMPLE, auth=None)),
    "native-count-tokens": lambda c: native(c, "countTokens", SIMPLE).json(),
    "native-models": lambda c: c.get(f"{NATIVE}/models", params={"key": KEY}).json(),
    "native-content-type": lambda c: gen(c, SIMPLE).headers["content-type"],
    "openai-system": lambda c: _chat_obs(
        c, chat_body(msg("system", "Reply with exactly: S"), msg("user", "hi"))
    ),
    "openai-stop": lambda c: _chat_obs(c, chat_body(msg("user", "Count from 1 to 3"), stop="2")),
    "openai-max": lambda c: _chat_obs(c, chat_body(msg("user", "Count from 1 to 3"), max_tokens=1)),
    "openai-finish": lambda c: chat(c, chat_body(msg("user", "Count from 1 to 3"), max_tokens=1)).json()[
        "choices"
    ][0]["finish_reason"],
    "openai-n": lambda c: len(chat(c, chat_body(msg("user", "hi"), n=2)).json()["choices"]),
    "openai-history": lambda c: _chat_obs(
        c,
        chat_body(
            msg("user", "The code word is K"), msg("assistant", "ok"), msg("user", "What is the code word?")
        ),
    ),
    "openai-usage": lambda c: chat(c, chat_body(msg("user", "hi"))).json()["usage"],
    "openai-id": lambda c: "id" in chat(c, chat_body(msg("user", "hi"))).json(),
    "openai-400": lambda c: _native_obs(chat(c, chat_body(msg("user", "hi"), temperature=5))),
    "openai-404": lambda c: _native_obs(chat(c, dict(chat_body(msg("user", "hi")), model="nope"))),
    "openai-auth-header": lambda c: (
        c.post(
            f"{COMPAT}/chat/completions", json=chat_body(msg("user", "hi")), headers={"x-goog-api-key": KEY}
        ).status_code
    ),
    "openai-models": lambda c: c.get(f"{COMPAT}/models", params={"key": KEY}).json(),
}

_OPENAI_TEXTS = {"openai-system", "openai-stop", "openai-max", "openai-history"}
EXPECTED_CHANGES: dict[str, set[str]] = {
    "json-served-as-text": {"native-content-type"},
    "system-instruction-dropped": {"native-system", "openai-system"},
    "snake-case-ignored": {"native-snake"},
    "stop-sequences-dropped": {"native-stop", "openai-stop"},
    "max-tokens-dropped": {"native-max", "native-snake", "native-finish", "openai-max", "openai-finish"},
    "finish-reason-always-stop": {"native-finish", "openai-finish"},
    "candidate-count-ignored": {"native-candidates", "openai-n"},
    "usage-misreported": {"native-usage", "openai-usage"},
    "usage-renamed": {"native-usage", "native-shape"},
    "snake-case-output": {
        "native-finish",
        "native-usage",
        "native-shape",
        "native-ids",
        "native-count-tokens",
        "native-models",
    },
    "errors-as-500": {
        "native-400",
        "native-unknown-field",
        "native-404",
        "native-auth-missing",
        "openai-400",
        "openai-404",
    },
    "errors-openai-envelope": {"native-400", "native-404", "native-auth-missing"},
    "invalid-argument-unchecked": {"native-400", "native-unknown-field", "openai-400"},
    "unknown-model-fallback": {"native-404", "openai-404"},
    "x-goog-api-key-rejected": {"native-auth-header", "openai-auth-header"},
    "count-tokens-zero": {"native-count-tokens"},
    "models-openai-shape": {"native-models"},
    "history-dropped": {"native-history", "openai-history"},
    "response-ids-dropped": {"native-shape", "native-ids", "openai-id"},
    "openai-message-missing": _OPENAI_TEXTS,
}


@pytest.fixture(scope="module")
def clean_observations(http: httpx.Client, server: ReferenceServer) -> dict[str, Any]:
    server.app.state.faults.clear()  # type: ignore[attr-defined]
    return {name: probe(http) for name, probe in PROBES.items()}


def test_expected_changes_name_real_faults() -> None:
    assert set(EXPECTED_CHANGES) <= set(FAULTS)


@pytest.mark.parametrize("fault", sorted(EXPECTED_CHANGES))
def test_fault_changes_only_what_it_names(
    client: httpx.Client, faults: set[str], clean_observations: dict[str, Any], fault: str
) -> None:
    faults.add(fault)
    changed = {name for name, probe in PROBES.items() if probe(client) != clean_observations[name]}
    assert changed == EXPECTED_CHANGES[fault]
