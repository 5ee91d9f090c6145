"""The checks of a two-sided run on a forwarded request and on the response, the correlation tag, and the
canonical form upstream expectations read."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.checks import CheckContext, run_check
from conformance.errors import Undecodable
from conformance.suite.model import Case, Expectation, Policy, RequestSpec, Step
from conformance.upstream.canonical import canonical
from conformance.upstream.correlation import Tag, strip_tags, tag_request
from conformance.upstream.ledger import ForwardedRequest, Ledger, UpstreamFacts
from conformance.wire.exchange import Exchange, SentRequest

FACTS = UpstreamFacts("http://127.0.0.1:8090", "up-secret-key", ("client-secret-key",))
PNG = base64.b64encode(b"\x89PNG fake bytes").decode()
SENT = {
    "contents": [
        {"role": "user", "parts": [{"inlineData": {"mimeType": "image/png", "data": PNG}}, {"text": "Hi"}]}
    ],
    "generationConfig": {"seed": 42},
}
TAG = Tag("0123456789abcdef")


def forwarded(
    body: Any = None,
    *,
    path: str = "/v1beta/models/m:generateContent",
    query: tuple[tuple[str, str], ...] = (),
    headers: tuple[tuple[str, str], ...] = (("x-goog-api-key", "up-secret-key"),),
) -> ForwardedRequest:
    raw = json.dumps(SENT if body is None else body).encode()
    content, tags = strip_tags(json.loads(raw))
    return ForwardedRequest(
        "POST", path, query, headers, raw, canonical(content, path), tuple(tags), time.monotonic(), None, 200
    )


def context(schemas: Any, request: ForwardedRequest, sent: Any = None) -> CheckContext:
    sent_body = json.dumps(tag_request("gemini", SENT if sent is None else sent, TAG)[0]).encode()
    step = Step(RequestSpec("POST", "/models/m:generateContent"), ())
    case = Case("gemini/unit/x", "gemini", "unit", "MUST", "t", "r", (step,), Policy(), Path("x.yaml"))
    exchange = Exchange(SentRequest("POST", "http://gw/x", (), sent_body), 200, (), b"{}")
    return CheckContext(
        case, (exchange,), schemas, model="m", side="upstream", forwarded=request, upstream=FACTS
    )


def verdict(
    schemas: Any, check: str, args: Any, subject: ForwardedRequest | Exchange, sent: Any = None
) -> list[str]:
    """A check's messages on a forwarded request (the upstream side) or a response (the response side)."""
    if isinstance(subject, Exchange):
        step = Step(RequestSpec("POST", "/x"), ())
        case = Case("gemini/unit/x", "gemini", "unit", "MUST", "t", "r", (step,), Policy(), Path("x.yaml"))
        ctx = CheckContext(case, (subject,), schemas, upstream=FACTS)
    else:
        ctx = context(schemas, subject, sent)
    return [f.message for f in run_check(ctx, Expectation(check, args))]


def response(headers: tuple[tuple[str, str], ...] = (), body: bytes = b"{}") -> Exchange:
    return Exchange(SentRequest("POST", "http://gw/x", (), b"{}"), 200, headers, body)


GOOD_AND_BAD: list[tuple[str, Any, ForwardedRequest | Exchange, ForwardedRequest | Exchange, str]] = [
    (
        "path",
        {"matches": ":generateContent$"},
        forwarded(),
        forwarded(path="/v1beta/models/m:streamGenerateContent"),
        "forwarded to path '/v1beta/models/m:streamGenerateContent'",
    ),
    (
        "method",
        "POST",
        forwarded(),
        dataclasses.replace(forwarded(), method="GET"),
        "expected a POST upstream, got GET",
    ),
    ("query", {"name": "alt", "equals": "sse"}, forwarded(query=(("alt", "sse"),)), forwarded(), "alt=sse"),
    (
        "query",
        {"name": "key", "exists": False},
        forwarded(),
        forwarded(query=(("key", "up-secret-key"),)),
        "got [a value]",
    ),
    (
        "credentials",
        {"upstream_key": "header"},
        forwarded(headers=(("authorization", "Bearer up-secret-key"),)),
        forwarded(query=(("key", "up-secret-key"),), headers=()),
        "the upstream key is sent in the URL",
    ),
    (
        "credentials",
        {"client_key": "absent"},
        forwarded(),
        forwarded(
            headers=(("x-goog-api-key", "up-secret-key"), ("authorization", "Bearer client-secret-key"))
        ),
        "the client's key is forwarded upstream, in header authorization",
    ),
    (
        "same_as_sent",
        {"at": "/contents/0/parts/0/inlineData/data", "bytes": True},
        forwarded(),
        forwarded({**SENT, "contents": [{"parts": [{"inlineData": {"data": "AAAA"}}]}]}),
        "different bytes",
    ),
    (
        "same_as_sent",
        {"at": "/generationConfig"},
        forwarded({"contents": SENT["contents"], "generation_config": {"seed": 42}}),  # renamed: the same
        forwarded({**SENT, "generationConfig": {"seed": 7}}),
        'forwarded {"seed": 7}, sent {"seed": 42}',
    ),
    (
        "upstream_hidden",
        True,
        response((("content-type", "application/json"),)),
        response((("x-litellm-model-api-base", "http://127.0.0.1:8090/v1beta"),)),
        "response header x-litellm-model-api-base reveals the upstream's address",
    ),
    (
        "upstream_hidden",
        True,
        response(body=b'{"error": {"message": "upstream failed"}}'),
        response(
            body=b'{"error": {"message": "cannot reach http://127.0.0.1:8090/v1beta?key=up-secret-key"}}'
        ),
        "the response body reveals the upstream key",
    ),
]


@pytest.mark.parametrize(
    ("check", "args", "good", "bad", "message"),
    GOOD_AND_BAD,
    ids=[f"{row[0]}-{i}" for i, row in enumerate(GOOD_AND_BAD)],
)
def test_upstream_check_passes_good_and_fails_bad(schemas, check, args, good, bad, message):
    assert verdict(schemas, check, args, good) == []
    problems = verdict(schemas, check, args, bad)
    assert problems and any(message in problem for problem in problems), problems


def test_no_secret_is_ever_in_a_message(schemas):
    for check, args, _, bad, _ in GOOD_AND_BAD:
        assert "secret" not in " ".join(verdict(schemas, check, args, bad)), check
    leaky = forwarded(
        query=(("key", "up-secret-key"), ("key2", "client-secret-key")),
        headers=(("authorization", "Bearer client-secret-key"),),
    )
    for args in ({"upstream_key": "header", "client_key": "absent"},):
        for message in verdict(schemas, "credentials", args, leaky):
            assert "secret" not in message
    assert "secret" not in " ".join(verdict(schemas, "query", {"name": "key", "equals": "x"}, leaky))


def test_schema_json_and_header_judge_the_forwarded_request_on_the_upstream_side(schemas):
    request = forwarded(headers=(("content-type", "application/json"),))
    assert verdict(schemas, "schema", "gemini/GenerateContentRequest", request) == []
    assert verdict(schemas, "json", {"at": "/generationConfig/seed", "equals": 42}, request) == []
    assert verdict(schemas, "header", {"name": "content-type", "matches": "json"}, request) == []
    invented = forwarded({**SENT, "tools": None})
    assert "expected array, got null" in " ".join(
        verdict(schemas, "schema", "gemini/GenerateContentRequest", invented)
    )
    assert verdict(schemas, "header", {"name": "x-goog-api-key", "exists": False}, request) == []


def test_a_forwarded_body_that_is_not_json_leaves_the_check_undecodable(schemas):
    broken = ForwardedRequest(
        "POST", "/v1beta/models/m:generateContent", (), (), b"{", None, (), 0.0, "is not JSON"
    )
    with pytest.raises(Undecodable, match="the forwarded body is not JSON"):
        verdict(schemas, "json", {"at": "/x", "exists": True}, broken)


# -- the correlation tag ----------------------------------------------------------------------------


def test_the_tag_goes_into_the_last_user_text_and_comes_out_whole():
    body = {
        "systemInstruction": {"parts": [{"text": "System."}]},
        "contents": [
            {"role": "user", "parts": [{"text": "First."}]},
            {"role": "model", "parts": [{"text": "Answer."}]},
            {"role": "user", "parts": [{"inlineData": {"data": "AA"}}, {"text": "Last."}]},
        ],
    }
    tagged, placed = tag_request("gemini", body, TAG)
    assert placed and tagged["contents"][2]["parts"][1]["text"] == "Last.\n[conformance:0123456789abcdef]"
    assert body["contents"][2]["parts"][1]["text"] == "Last.", "the template is not changed"
    stripped, tags = strip_tags(tagged)
    assert stripped == body and tags == [TAG]


def test_the_tag_survives_translation_and_rewriting():
    openai = {
        "messages": [
            {"role": "system", "content": "S"},
            {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
        ]
    }
    tagged, placed = tag_request("openai", openai, Tag("0123456789abcdef", "rate-limited"))
    assert placed
    text = tagged["messages"][1]["content"][0]["text"]
    # a gateway that joins texts, rewrites line ends and renames fields still forwards the tag
    native = {
        "system_instruction": {"parts": [{"text": "S"}]},
        "contents": [{"parts": [{"text": text.replace("\n", "\r\n")}]}],
    }
    stripped, tags = strip_tags(native)
    assert tags == [Tag("0123456789abcdef", "rate-limited")]
    assert stripped["contents"][0]["parts"][0]["text"] == "Hi"


def test_a_request_without_user_text_carries_no_tag():
    only_replies = {
        "contents": [{"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}]
    }
    assert tag_request("gemini", only_replies, TAG) == (only_replies, False)
    assert tag_request("openai", {"model": "m"}, TAG)[1] is False


# -- the canonical form -------------------------------------------------------------------------------


def test_canonical_renames_known_fields_keeps_unknown_ones_and_user_data():
    body = {
        "system_instruction": {"parts": [{"text": "S"}]},
        "contents": [{"role": "user", "parts": [{"inline_data": {"mime_type": "image/png", "data": "AA"}}]}],
        "generation_config": {"max_output_tokens": 5, "thinking_config": {"thinking_budget": 1}},
        "tools": [{"function_declarations": [{"name": "f", "parameters_json_schema": {"snake_prop": {}}}]}],
        "tool_config": {"function_calling_config": {"allowed_function_names": ["f"]}},
        "invented_field": 1,
    }
    got = canonical(body, "/v1beta/models/m:generateContent")
    assert got["systemInstruction"] == {"parts": [{"text": "S"}]}
    assert got["contents"][0]["parts"][0]["inlineData"] == {"mimeType": "image/png", "data": "AA"}
    assert got["generationConfig"] == {"maxOutputTokens": 5, "thinkingConfig": {"thinkingBudget": 1}}
    assert got["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"] == {"snake_prop": {}}
    assert got["toolConfig"] == {"functionCallingConfig": {"allowedFunctionNames": ["f"]}}
    assert got["invented_field"] == 1
    twice = canonical({"systemInstruction": {}, "system_instruction": {}}, "/v1beta/models/m:generateContent")
    assert set(twice) == {"systemInstruction", "system_instruction"}
    assert canonical({"page_size": 1}, "/v1beta/models") == {"page_size": 1}


# -- the ledger --------------------------------------------------------------------------------------


def test_the_ledger_attributes_by_tag_and_reports_the_rest():
    ledger = Ledger()
    origin = ledger.issue("gemini/x/y", 0, 1, "internal")
    mine = forwarded(tag_request("gemini", SENT, origin.tag)[0])
    ledger.answered(ledger.record(mine), 500)
    ledger.record(forwarded(tag_request("gemini", SENT, TAG)[0]))
    ledger.record(forwarded({"contents": []}))
    assert [r.status for r in ledger.requests_of(origin.tag.nonce)] == [500]
    assert ledger.origin(ledger.requests_of(origin.tag.nonce)[0]) == origin
    reasons = [reason for _, reason in ledger.unattributed()]
    assert len(reasons) == 2
    assert "was not issued by this run" in reasons[0] and "no tag" in reasons[1]
