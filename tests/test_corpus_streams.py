"""Every real SSE and JSON-array capture passes the suite's own stream checks, in strict mode.

The captures are ``shared/corpus/bodies/*.sse`` and ``*.jsonarray`` (see its manifest.json). Each
rule below is a list of the expectations stream cases use; a capture may break a rule only as a
documented deviation, whose reason is quoted from the capture's manifest entry (note or locator),
and the test proves each documented deviation is real, so the table cannot go stale.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from conformance.checks import CheckContext, run_check
from conformance.cli.main import main
from conformance.suite.model import Case, Expectation, Policy, RequestSpec, Step
from conformance.validation.store import SchemaStore
from conformance.wire.exchange import Exchange, SentRequest

SHARED = Path(os.environ.get("CONFORMANCE_SHARED") or Path(__file__).resolve().parents[2] / "shared")
BODIES = SHARED / "corpus" / "bodies"
MANIFEST = BODIES / "manifest.json"
USAGE_SUM = {
    "sum": {
        "total": "/usageMetadata/totalTokenCount",
        "of": [
            "/usageMetadata/promptTokenCount",
            "/usageMetadata/candidatesTokenCount",
            "/usageMetadata/thoughtsTokenCount",
            "/usageMetadata/toolUsePromptTokenCount",
        ],
    }
}

# Rules for a successful stream: name -> expectations, as the stream cases write them.
RULES: dict[str, list[dict[str, Any]]] = {
    "framing": [],  # sse_framing {protocol: gemini} or json_array_stream, filled in per kind
    "events-are-responses": [
        {"events": {"which": "every", "expect": [{"schema": "gemini/GenerateContentResponse"}]}}
    ],
    "camel-case-keys": [{"events": {"which": "every", "expect": [{"camel_case_keys": True}]}}],
    "same-response-id": [{"same_across_events": "/responseId"}],
    "finish-reason-last-only": [
        {
            "events": {
                "which": "last",
                "expect": [{"json": {"at": "/candidates/0/finishReason", "exists": True}}],
            }
        },
        {
            "events": {
                "which": "before_last",
                "expect": [{"json": {"at": "/candidates/*/finishReason", "exists": False}}],
            }
        },
    ],
    "usage-every-event-and-sum-last": [
        {
            "events": {
                "which": "every",
                "expect": [{"json": {"at": "/usageMetadata/promptTokenCount", "gt": 0}}],
            }
        },
        {"events": {"which": "last", "expect": [USAGE_SUM]}},
    ],
    "text-deltas": [{"stream_text": {"cumulative": False}}],
    "function-calls-whole": [{"function_call_parts": {"min_calls": 0}}],
}
ERROR_RULES: dict[str, list[dict[str, Any]]] = {"framing": [], "error-envelope": [{"error": {}}]}

# Documented deviations: file -> {rule: evidence quoted from the manifest entry (note or locator)}.
DEVIATIONS: dict[str, dict[str, str]] = {
    "github-issues__gemini-bodies-from-issues__15.sse": {
        # a prompt-level block: one event with promptFeedback and no candidates, quoted in an issue
        "framing": "no terminating blank line",
        "same-response-id": "blocked-prompt-sse-event",
        "finish-reason-last-only": "blocked-prompt-sse-event",
    },
    "github-issues__gemini-bodies-from-issues__18.sse": {
        # curl output pasted from a terminal in 2024 (gemini-1.5-flash had no responseId then)
        "framing": "\\n\\n separators as rendered by the terminal",
        "same-response-id": "(curl, 2024-09)",
    },
}
# What stream_text says of a stream without any answer text (function calls only, a blocked prompt).
NO_TEXT = "no {noun} carries text for candidate 0"


def entries() -> list[Any]:
    if not MANIFEST.is_file():
        return [
            pytest.param(
                None,
                id="corpus-absent",
                marks=pytest.mark.skip(reason=f"corpus manifest not found at {MANIFEST}"),
            )
        ]
    found = [e for e in json.loads(MANIFEST.read_text(encoding="utf-8")) if e["kind"] in ("sse", "jsonarray")]
    return [pytest.param(e, id=e["file"]) for e in found]


def context(entry: dict[str, Any], schemas: SchemaStore) -> CheckContext:
    mode = "sse" if entry["kind"] == "sse" else "json-array"
    # headers were not recorded for every capture: assume Google's Content-Type where none is known
    content_type = entry["content_type"] or (
        "text/event-stream" if mode == "sse" else "application/json; charset=UTF-8"
    )
    url = "https://generativelanguage.googleapis.com/v1beta/models/m:streamGenerateContent" + (
        "?alt=sse" if mode == "sse" else ""
    )
    exchange = Exchange(
        request=SentRequest("POST", url, (), b"{}"),
        status=entry["http_status"] or 200,
        headers=(("Content-Type", content_type),),
        body=(BODIES / entry["file"]).read_bytes(),
    )
    case = Case(
        id="gemini/corpus/capture",
        protocol="gemini",
        feature="corpus",
        level="MUST",
        title=entry["file"],
        reference=entry["source_path"],
        steps=(Step(RequestSpec("POST", "/x", stream=mode), ()),),
        policy=Policy(),
        source=MANIFEST,
    )
    return CheckContext(case=case, exchanges=(exchange,), schemas=schemas, strict=True)


def broken(ctx: CheckContext, expectations: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []
    for item in expectations:
        ((name, args),) = item.items()
        out.extend(f.message for f in run_check(ctx, Expectation(name, args)))
    return out


@pytest.mark.parametrize("entry", entries())
def test_capture_passes_the_stream_checks(entry: dict[str, Any], schemas: SchemaStore) -> None:
    ctx = context(entry, schemas)
    framing = (
        [{"sse_framing": {"protocol": "gemini"}}] if entry["kind"] == "sse" else [{"json_array_stream": True}]
    )
    rules = {**(ERROR_RULES if entry["is_error"] else RULES), "framing": framing}
    deviations = DEVIATIONS.get(entry["file"], {})
    evidence = f"{entry['note']} {entry['locator']}"
    for rule, expectations in rules.items():
        problems = broken(ctx, expectations)
        if rule == "text-deltas" and problems == [
            NO_TEXT.format(noun="event" if entry["kind"] == "sse" else "element")
        ]:
            continue  # function calls or a blocked prompt only: no answer text to judge
        if rule in deviations:
            assert deviations[rule] in evidence, f"{rule}: reason not in the manifest entry"
            assert problems, f"{entry['file']}: documented deviation {rule!r} no longer happens"
        else:
            assert problems == [], f"{entry['file']} breaks {rule}: {problems}"


def test_deviations_name_existing_captures() -> None:
    if not MANIFEST.is_file():
        pytest.skip("corpus absent")
    files = {e["file"] for e in json.loads(MANIFEST.read_text(encoding="utf-8"))}
    assert set(DEVIATIONS) <= files
    assert all(set(rules) <= set(RULES) for rules in DEVIATIONS.values())


# -- conformance validate on captured streams -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code", "expected"),
    [
        (
            "pydantic-ai__test_google_model_thinking_part_iter__0.sse",
            0,
            "sse stream of 23 event(s), gemini framing, gemini/GenerateContentResponse: valid",
        ),
        (
            "llm-gemini__test_prompt__0.jsonarray",
            0,
            "json-array stream of 3 element(s), gemini/GenerateContentResponse: valid",
        ),
        (
            "github-issues__gemini-bodies-from-issues__1.jsonarray",
            0,
            "json-array stream of 1 element(s), gemini/Error: valid",
        ),
        (
            "github-issues__gemini-bodies-from-issues__18.sse",
            0,
            "note: event 0 (byte 527): 2 line(s) end with a bare LF",
        ),
    ],
)
def test_validate_accepts_captured_streams(
    name: str, code: int, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (BODIES / name).is_file():
        pytest.skip("corpus absent")
    assert main(["validate", str(BODIES / name)]) == code
    assert expected in capsys.readouterr().out


def test_validate_strict_reports_lf_framing(capsys: pytest.CaptureFixture[str]) -> None:
    path = BODIES / "github-issues__gemini-bodies-from-issues__18.sse"
    if not path.is_file():
        pytest.skip("corpus absent")
    assert main(["validate", "--strict", str(path)]) == 1
    assert (
        "event 0 (byte 527): 2 line(s) end with a bare LF, the first here [lf-line-endings]"
        in capsys.readouterr().out
    )


def test_validate_names_bad_events_by_number_and_offset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = {"candidates": [{"content": {"parts": [{"text": "x"}], "role": "model"}, "finishReason": "STOP"}]}
    bad = {"candidates": [{"content": {"parts": [{"text": "x"}], "role": "model"}, "finishReason": "stop"}]}
    raw = (
        b"".join(b"data: " + json.dumps(e).encode() + b"\r\n\r\n" for e in (good, bad))
        + b"data: [DONE]\r\n\r\n"
    )
    path = tmp_path / "capture.txt"  # no telling extension: detected by content
    path.write_bytes(raw)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    second = raw.index(b"data: ", 1)
    assert f"event 1 (byte {second}): /candidates/0/finishReason: expected one of" in out
    assert "event 2 (byte" in out and "[done-sentinel]" in out
    assert "2 problem(s)" in out


def test_validate_openai_stream_uses_openai_framing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chunk = {
        "id": "a",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    }
    path = tmp_path / "openai.sse"
    path.write_bytes(b"data: " + json.dumps(chunk).encode() + b"\n\n")
    assert main(["validate", str(path)]) == 1
    assert "no `data: [DONE]` event" in capsys.readouterr().out
    path.write_bytes(b"data: " + json.dumps(chunk).encode() + b"\n\ndata: [DONE]\n\n")
    assert main(["validate", str(path)]) == 0


def test_validate_rejects_what_is_neither_json_nor_a_stream(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "junk.txt"
    path.write_bytes(b"<html>oops</html>")
    assert main(["validate", str(path)]) == 2
    assert "not a JSON body or a stream" in capsys.readouterr().err
