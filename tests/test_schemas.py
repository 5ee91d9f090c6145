"""The schema store and the generated response schemas: good bodies pass, wrong ones fail where expected."""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from conformance.validation.store import SchemaStore, Violation, detect_schema

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CONFORMANCE_SHARED") or Path(__file__).resolve().parents[2] / "shared")
SPECS = SHARED / "specs"
GENERATOR = REPO / "tools" / "gen_schemas.py"
CHOICES = REPO / "schemas" / "choices.yaml"

EXPORTED = (
    "gemini/GenerateContentResponse",
    "gemini/Candidate",
    "gemini/Content",
    "gemini/Part",
    "gemini/UsageMetadata",
    "gemini/CountTokensResponse",
    "gemini/ListModelsResponse",
    "gemini/Model",
    "gemini/Error",
    "openai/ChatCompletion",
    "openai/ChatCompletionChunk",
    "openai/Error",
    "openai/ModelList",
    "openai/Model",
    "gemini/GenerateContentRequest",
    "gemini/CountTokensRequest",
)

GEMINI_MODEL: dict[str, Any] = {
    "name": "models/gemini-2.5-flash",
    "version": "001",
    "displayName": "Gemini 2.5 Flash",
    "inputTokenLimit": 1048576,
    "outputTokenLimit": 65536,
    "supportedGenerationMethods": ["generateContent", "countTokens"],
    "temperature": 1,
    "topP": 0.95,
    "topK": 64,
    "maxTemperature": 2,
    "thinking": True,
}
GEMINI_RESPONSE: dict[str, Any] = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [{"text": "Hello"}, {"text": "", "thoughtSignature": "c2ln"}],
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 3,
        "candidatesTokenCount": 1,
        "totalTokenCount": 4,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 3}],
    },
    "modelVersion": "gemini-2.5-flash",
    "responseId": "abc123",
}
OPENAI_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1748902365,
    "model": "gemini-2.5-flash",
    "choices": [
        {
            "index": 0,
            "finish_reason": "stop",
            "logprobs": None,
            "message": {"role": "assistant", "content": "Hello", "refusal": None},
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
OPENAI_CHUNK: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1748902365,
    "model": "gemini-2.5-flash",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "He"}, "finish_reason": None}],
}

GOOD: dict[str, Any] = {
    "gemini/GenerateContentResponse": GEMINI_RESPONSE,
    "gemini/Candidate": GEMINI_RESPONSE["candidates"][0],
    "gemini/Content": {"role": "model", "parts": [{"text": "Hi"}]},
    "gemini/Part": {
        "functionCall": {"name": "get_time", "args": {}, "id": "96c1su3s"},
        "thoughtSignature": "c2ln",
    },
    "gemini/UsageMetadata": GEMINI_RESPONSE["usageMetadata"],
    "gemini/CountTokensResponse": {
        "totalTokens": 11,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 11}],
    },
    "gemini/ListModelsResponse": {"models": [GEMINI_MODEL], "nextPageToken": "next"},
    "gemini/Model": GEMINI_MODEL,
    "gemini/Error": {"error": {"code": 404, "message": "models/x is not found", "status": "NOT_FOUND"}},
    "openai/ChatCompletion": OPENAI_COMPLETION,
    "openai/ChatCompletionChunk": OPENAI_CHUNK,
    "openai/Error": {
        "error": {"message": "bad", "type": "invalid_request_error", "param": None, "code": None}
    },
    "openai/ModelList": {
        "object": "list",
        "data": [{"id": "gemini-2.5-flash", "object": "model", "created": 0, "owned_by": "google"}],
    },
    "openai/Model": {"id": "gemini-2.5-flash", "object": "model", "created": 0, "owned_by": "google"},
    "gemini/GenerateContentRequest": {
        "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {"temperature": 0.5, "thinkingConfig": {"thinkingBudget": 128}},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}],
        "tools": [
            {
                "functionDeclarations": [
                    {"name": "get_time", "description": "The time.", "parametersJsonSchema": {}}
                ]
            }
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_time"]}},
    },
    "gemini/CountTokensRequest": {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]},
}


@dataclass(frozen=True)
class Wrong:
    """A clearly wrong instance of a schema and where the violation must be reported."""

    id: str
    name: str
    instance: Any
    pointer: str
    message: str  # a regular expression the violation's message must match


def _with(base: Any, pointer: str, value: Any) -> Any:
    """A deep copy of ``base`` with the value at ``pointer`` replaced (or removed when value is ...)."""
    result = copy.deepcopy(base)
    *parents, last = pointer.split("/")[1:]
    node = result
    for token in parents:
        node = node[int(token)] if isinstance(node, list) else node[token]
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return result


WRONG = [
    Wrong(
        "request-tools-null",
        "gemini/GenerateContentRequest",
        {"contents": [{"parts": [{"text": "Hi"}]}], "tools": None},
        "/tools",
        r"expected array, got null",
    ),
    Wrong(
        "count-tokens-contents-not-a-list",
        "gemini/CountTokensRequest",
        {"contents": {"parts": [{"text": "Hi"}]}},
        "/contents",
        r"expected array",
    ),
    Wrong(
        "finish-reason-lowercase",
        "gemini/GenerateContentResponse",
        _with(GEMINI_RESPONSE, "/candidates/0/finishReason", "stop"),
        "/candidates/0/finishReason",
        r'expected one of .*"STOP".*got string "stop"',
    ),
    Wrong(
        "usage-count-as-string",
        "gemini/GenerateContentResponse",
        _with(GEMINI_RESPONSE, "/usageMetadata/totalTokenCount", "4"),
        "/usageMetadata/totalTokenCount",
        r'expected integer, got string "4"',
    ),
    Wrong(
        "neither-candidates-nor-feedback",
        "gemini/GenerateContentResponse",
        {"usageMetadata": {"totalTokenCount": 1}, "modelVersion": "gemini-2.5-flash"},
        "",
        r"needs at least one of the properties 'candidates', 'promptFeedback'",
    ),
    Wrong(
        "block-reason-invented",
        "gemini/GenerateContentResponse",
        {"promptFeedback": {"blockReason": "blocked"}},
        "/promptFeedback/blockReason",
        r"expected one of",
    ),
    Wrong(
        "candidate-parts-string",
        "gemini/Candidate",
        {"content": {"parts": "Hello"}},
        "/content/parts",
        r"expected array, got string",
    ),
    Wrong(
        "content-parts-object",
        "gemini/Content",
        {"parts": {"text": "Hi"}},
        "/parts",
        r"expected array, got object",
    ),
    Wrong(
        "function-call-without-name",
        "gemini/Part",
        {"functionCall": {"args": {}}},
        "/functionCall",
        r"missing required property 'name'",
    ),
    Wrong(
        "modality-lowercase",
        "gemini/UsageMetadata",
        {"promptTokensDetails": [{"modality": "text", "tokenCount": 1}]},
        "/promptTokensDetails/0/modality",
        r'got string "text"',
    ),
    Wrong(
        "total-tokens-string",
        "gemini/CountTokensResponse",
        {"totalTokens": "11"},
        "/totalTokens",
        r"expected integer",
    ),
    Wrong(
        "model-without-name",
        "gemini/ListModelsResponse",
        {"models": [{"displayName": "x", "version": "1"}]},
        "/models/0",
        r"missing required property 'name'",
    ),
    Wrong(
        "token-limit-string",
        "gemini/Model",
        _with(GEMINI_MODEL, "/inputTokenLimit", "1048576"),
        "/inputTokenLimit",
        r"expected integer",
    ),
    Wrong(
        "error-without-status",
        "gemini/Error",
        {"error": {"code": 400, "message": "bad"}},
        "/error",
        r"missing required property 'status'",
    ),
    Wrong(
        "error-status-lowercase",
        "gemini/Error",
        {"error": {"code": 400, "message": "bad", "status": "invalid_argument"}},
        "/error/status",
        r"expected one of",
    ),
    Wrong(
        "error-detail-without-type",
        "gemini/Error",
        {
            "error": {
                "code": 400,
                "message": "bad",
                "status": "INVALID_ARGUMENT",
                "details": [{"reason": "X"}],
            }
        },
        "/error/details/0",
        r"missing required property '@type'",
    ),
    Wrong(
        "openai-error-as-gemini",
        "gemini/Error",
        {"error": {"message": "bad", "type": "invalid_request_error", "param": None, "code": None}},
        "/error",
        r"missing required property 'status'",
    ),
    Wrong(
        "completion-without-choices",
        "openai/ChatCompletion",
        _with(OPENAI_COMPLETION, "/choices", ...),
        "",
        r"missing required property 'choices'",
    ),
    Wrong(
        "completion-finish-reason-uppercase",
        "openai/ChatCompletion",
        _with(OPENAI_COMPLETION, "/choices/0/finish_reason", "STOP"),
        "/choices/0/finish_reason",
        r'got string "STOP"',
    ),
    Wrong(
        "completion-object-is-chunk",
        "openai/ChatCompletion",
        _with(OPENAI_COMPLETION, "/object", "chat.completion.chunk"),
        "/object",
        r"expected one of",
    ),
    Wrong(
        "completion-content-number",
        "openai/ChatCompletion",
        _with(OPENAI_COMPLETION, "/choices/0/message/content", 5),
        "/choices/0/message/content",
        r"expected string or null, got integer 5",
    ),
    Wrong(
        "completion-usage-string",
        "openai/ChatCompletion",
        _with(OPENAI_COMPLETION, "/usage/total_tokens", "4"),
        "/usage/total_tokens",
        r"expected integer",
    ),
    Wrong(
        "chunk-without-finish-reason-key",
        "openai/ChatCompletionChunk",
        _with(OPENAI_CHUNK, "/choices/0/finish_reason", ...),
        "/choices/0",
        r"missing required property 'finish_reason'",
    ),
    Wrong(
        "chunk-usage-partial",
        "openai/ChatCompletionChunk",
        _with(OPENAI_CHUNK, "/usage", {"prompt_tokens": 1}),
        "/usage",
        r"none of the 2 alternatives.*missing required property",
    ),
    Wrong(
        "gemini-error-as-openai",
        "openai/Error",
        {"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}},
        "/error",
        r"missing required property 'param'",
    ),
    Wrong(
        "model-list-without-data",
        "openai/ModelList",
        {"object": "list"},
        "",
        r"missing required property 'data'",
    ),
    Wrong(
        "model-without-owner",
        "openai/Model",
        {"id": "m", "object": "model", "created": 0},
        "",
        r"missing required property 'owned_by'",
    ),
]


@pytest.fixture(scope="module")
def store() -> SchemaStore:
    """The schema store over the repository's schemas/."""
    return SchemaStore.load()


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_schemas", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_schemas"] = module
    spec.loader.exec_module(module)
    return module


needs_specs = pytest.mark.skipif(
    not SPECS.is_dir(),
    reason=f"spec files not found at {SPECS} (set CONFORMANCE_SHARED to the shared/ folder)",
)


# --- names --------------------------------------------------------------------------------------


def test_names_include_every_exported_schema(store: SchemaStore) -> None:
    names = store.names()
    assert set(EXPORTED) <= set(names)
    assert names == sorted(names)
    assert all(name.split("/")[0] in ("gemini", "openai") for name in names), (
        "only definition files are named"
    )


def test_unknown_name_is_a_key_error(store: SchemaStore) -> None:
    with pytest.raises(KeyError, match="gemini/Nope"):
        store.validate("gemini/Nope", {})


# --- good and wrong instances -------------------------------------------------------------------


@pytest.mark.parametrize("strict", [False, True], ids=["compat", "strict"])
@pytest.mark.parametrize("name", EXPORTED)
def test_minimal_good_instance_passes(store: SchemaStore, name: str, strict: bool) -> None:
    assert store.validate(name, GOOD[name], strict=strict) == []


def test_every_exported_name_has_a_wrong_instance() -> None:
    assert {wrong.name for wrong in WRONG} == set(EXPORTED)


@pytest.mark.parametrize("wrong", WRONG, ids=[wrong.id for wrong in WRONG])
def test_wrong_instance_is_rejected(store: SchemaStore, wrong: Wrong) -> None:
    violations = store.validate(wrong.name, wrong.instance)
    assert violations, f"{wrong.name} accepted {json.dumps(wrong.instance)}"
    at = [violation for violation in violations if violation.pointer == wrong.pointer]
    assert at, f"no violation at {wrong.pointer!r}: {violations}"
    assert any(re.search(wrong.message, violation.message) for violation in at), at
    for violation in violations:
        assert "\n" not in violation.message and len(violation.message) < 300


def test_usage_chunk_with_empty_choices_passes(store: SchemaStore) -> None:
    chunk = {
        **OPENAI_CHUNK,
        "choices": [],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }
    assert store.validate("openai/ChatCompletionChunk", chunk) == []
    assert store.validate("openai/ChatCompletionChunk", {**OPENAI_CHUNK, "usage": None}) == []


def test_prompt_blocked_response_passes(store: SchemaStore) -> None:
    blocked = {
        "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
        "usageMetadata": {"promptTokenCount": 4, "totalTokenCount": 4},
    }
    assert store.validate("gemini/GenerateContentResponse", blocked, strict=True) == []


def test_gemini_openai_answer_without_logprobs_and_refusal_passes(store: SchemaStore) -> None:
    choice = {
        "index": 0,
        "finish_reason": "tool_calls",
        "message": {
            "role": "assistant",
            "tool_calls": [{"id": "", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
    }
    assert (
        store.validate("openai/ChatCompletion", {**OPENAI_COMPLETION, "choices": [choice]}, strict=True) == []
    )


# --- strict mode --------------------------------------------------------------------------------


def test_strict_rejects_an_extra_top_level_key_compat_accepts(store: SchemaStore) -> None:
    body = {**GEMINI_RESPONSE, "gatewayTrace": "x"}
    assert store.validate("gemini/GenerateContentResponse", body) == []
    assert store.validate("gemini/GenerateContentResponse", body, strict=True) == [
        Violation("/gatewayTrace", "unexpected property 'gatewayTrace' (no extra fields allowed)")
    ]
    # the strict validator must not leak into compat mode
    assert store.validate("gemini/GenerateContentResponse", body) == []


def test_strict_rejects_snake_case_usage_metadata(store: SchemaStore) -> None:
    body = {"usage_metadata": {"prompt_token_count": 3, "total_token_count": 3}}
    violations = store.validate("gemini/GenerateContentResponse", body, strict=True)
    assert (
        Violation("/usage_metadata", "unexpected property 'usage_metadata' (no extra fields allowed)")
        in violations
    )
    assert any(violation.pointer == "" for violation in violations)


def test_strict_rejects_snake_case_part(store: SchemaStore) -> None:
    body = _with(
        GEMINI_RESPONSE, "/candidates/0/content/parts/0", {"function_call": {"name": "f", "args": {}}}
    )
    assert store.validate("gemini/GenerateContentResponse", body) == []
    assert [v.pointer for v in store.validate("gemini/GenerateContentResponse", body, strict=True)] == [
        "/candidates/0/content/parts/0/function_call"
    ]


def test_strict_keeps_free_maps_open(store: SchemaStore) -> None:
    part = {"functionCall": {"name": "f", "args": {"anything": {"nested": [1]}}}}
    assert store.validate("gemini/Part", part, strict=True) == []
    error = {
        "error": {
            "code": 429,
            "message": "quota",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "26s"}],
        }
    }
    assert store.validate("gemini/Error", error, strict=True) == []


# --- reporting ----------------------------------------------------------------------------------


def test_violations_are_sorted_by_pointer_and_escaped(store: SchemaStore) -> None:
    body = copy.deepcopy(GEMINI_RESPONSE)
    body["candidates"] = [copy.deepcopy(body["candidates"][0]) for _ in range(11)]
    body["candidates"][10]["index"] = "10"
    body["candidates"][2]["index"] = "2"
    body["candidates"][0]["content"]["parts"][0]["functionCall"] = {"name": "f", "args": []}
    body["a/b"] = 1
    pointers = [v.pointer for v in store.validate("gemini/GenerateContentResponse", body, strict=True)]
    assert pointers == [
        "/a~1b",
        "/candidates/0/content/parts/0/functionCall/args",
        "/candidates/2/index",
        "/candidates/10/index",
    ]


def test_every_error_is_reported(store: SchemaStore) -> None:
    body = {"error": {"code": "400", "message": 1}}
    violations = store.validate("gemini/Error", body)
    assert [(v.pointer, v.message.split(",")[0]) for v in violations] == [
        ("/error", "missing required property 'status'"),
        ("/error/code", "expected integer"),
        ("/error/message", "expected string"),
    ]


def test_validation_reuses_its_validator() -> None:
    """Validating again costs a small fraction of the first validation, which builds the validator (a ratio
    measured in the same run, so a loaded machine slows both sides alike)."""
    name = "gemini/GenerateContentResponse"
    fresh = SchemaStore.load()
    start = time.perf_counter()
    fresh.validate(name, GEMINI_RESPONSE)  # builds the registry and the validator
    first = time.perf_counter() - start
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(20):
            fresh.validate(name, GEMINI_RESPONSE)
        best = min(best, (time.perf_counter() - start) / 20)
    assert best * 3 < first, f"{best * 1e6:.0f} us per validation, {first * 1e6:.0f} us the first time"


# --- detection ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instance", "expected"),
    [
        (GOOD["gemini/Error"], "gemini/Error"),
        ({"error": {"code": 504, "status": "DEADLINE_EXCEEDED"}}, "gemini/Error"),
        (GOOD["openai/Error"], "openai/Error"),
        ({"error": {"message": "bad"}}, "openai/Error"),
        (OPENAI_COMPLETION, "openai/ChatCompletion"),
        (OPENAI_CHUNK, "openai/ChatCompletionChunk"),
        (GOOD["openai/ModelList"], "openai/ModelList"),
        (GOOD["openai/Model"], "openai/Model"),
        (GOOD["gemini/ListModelsResponse"], "gemini/ListModelsResponse"),
        (GOOD["gemini/CountTokensResponse"], "gemini/CountTokensResponse"),
        (GEMINI_RESPONSE, "gemini/GenerateContentResponse"),
        ({"promptFeedback": {"blockReason": "SAFETY"}}, "gemini/GenerateContentResponse"),
        ({"usageMetadata": {"totalTokenCount": 1}}, "gemini/GenerateContentResponse"),
        ({"usage_metadata": {"total_token_count": 1}}, "gemini/GenerateContentResponse"),
        (GEMINI_MODEL, "gemini/Model"),
        ({"access_token": "x", "token_type": "Bearer"}, None),
        ([GEMINI_RESPONSE], None),
        ("data: {}", None),
    ],
    ids=lambda value: None if not isinstance(value, (str, type(None))) else str(value),
)
def test_detect_schema(instance: object, expected: str | None) -> None:
    assert detect_schema(instance) == expected


# --- generator ----------------------------------------------------------------------------------


@needs_specs
def test_generated_files_are_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(GENERATOR), "--check", "--specs", str(SPECS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_choice_that_changes_nothing_fails_generation() -> None:
    gen = _load_generator()
    defs = {"X": {"type": "string", "enum": ["A"]}}
    stale = gen.Choice(id="stale", target="X", ops={"add_enum": ["A"]}, why="w", evidence=("e",))
    with pytest.raises(gen.GenerationError, match="already allowed"):
        gen.apply_choice(defs, stale, {})


def _keywords(node: Any) -> Iterator[str]:
    """Every keyword of a schema document: the keys of its schema objects, property names left out (the
    request schemas describe Google's Schema message, which has a property named ``nullable``)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("properties", "patternProperties", "$defs"):
                for sub in value.values():
                    yield from _keywords(sub)
            else:
                yield key
                yield from _keywords(value)
    elif isinstance(node, list):
        for item in node:
            yield from _keywords(item)


def test_generated_files_are_json_schema_documents() -> None:
    for stem in ("gemini", "openai"):
        doc = json.loads((REPO / "schemas" / f"{stem}.schema.json").read_text(encoding="utf-8"))
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert doc["$id"] == f"https://gateway-conformance.dev/schemas/{stem}.schema.json"
        keywords = set(_keywords(doc))
        for keyword in ("nullable", "readOnly", "discriminator"):
            assert keyword not in keywords, f"{stem}: OpenAPI leftover {keyword}"
        assert not [k for k in keywords if k.startswith("x-")], f"{stem}: OpenAPI extensions left over"
        assert "#/components/" not in json.dumps(doc), f"{stem}: an OpenAPI reference left over"


def test_every_choice_has_why_and_existing_evidence() -> None:
    doc = yaml.safe_load(CHOICES.read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = []
    for section in doc.values():
        policy = section.get("required_from_description")
        if policy:
            entries.append(policy)
            entries.extend(policy.get("except", []))
        entries.extend(section.get("choices", []))
    assert entries
    facts = (SPECS / "FACTS.md").read_text(encoding="utf-8") if SPECS.is_dir() else None
    for entry in entries:
        assert entry.get("why") and entry.get("evidence"), entry.get("id")
        if facts is None:
            continue
        for evidence in entry["evidence"]:
            path, _, section = evidence.partition("#")
            assert (SHARED / path).is_file(), f"{entry['id']}: evidence {path} does not exist"
            if section:
                assert re.search(rf"^#+ {re.escape(section)}\s*$", facts, re.M), (
                    f"{entry['id']}: no section {section}"
                )
