"""A lint of the built-in case files: a case that can pass on a 200 judges the body, and cites a public page.

**Bodies.** A step that an HTTP 200 can satisfy (a ``status`` of 200 or a list holding 200, an
``any_of`` branch accepting 200, or no ``status`` check at all) judges the body it relies on. Two rules:

1. It validates the body against the response schema of its endpoint (``RESPONSE_SCHEMAS``), in the
   same ``any_of`` branch or outside every branch. A plain response: ``schema: <that schema>``. A
   stream: its framing check (``sse_framing`` or ``json_array_stream``, which decode the bytes and check
   the Content-Type) and ``events`` over every event (``which: every``, the default) holding that
   ``schema``, so each event is a whole response.
2. It does not pass on a 200 whose body is empty, not UTF-8, truncated JSON, an HTML page, ``null``,
   ``{}``, ``[]``, an empty-object SSE event or an array of one empty object (``GARBAGE``): the step's
   own checks are run on each, as the engine runs them. This catches a schema that an empty object
   meets (``gemini/CountTokensResponse`` and ``gemini/ListModelsResponse`` require no field), where a
   predicate on what the step relies on (``json: {at: /totalTokens, gt: 0}``) must join it.

Only the schema counts for rule 1, because it is the only check that reads the whole body. The other
body checks read one place and pass on a body that is wrong everywhere else: ``text`` and
``function_calls`` pass on a bare ``{"candidates": [...]}`` with ``usageMetadata: "x"`` beside it;
``json: {at: ..., exists: false}`` and ``camel_case_keys`` pass on ``{}``; ``error`` judges an error
envelope, not an answer; ``status``, ``content_type``, ``header`` and ``incremental`` do not read the
body at all. Those checks say what the step means; the schema says that the gateway answered in the
protocol. A ``schema`` of another name (``gemini/Candidate``, ``gemini/Error``) or one applied to the
last event only is no proof of the envelope. Expectations under ``strict`` hold only under ``--mode
strict``, so they do not count: compat mode must judge the body without them.

Exceptions (``EXCEPTIONS``) name a step whose subject leaves the body out, each with its reason.

**SDK probes.** A step that calls an official SDK is judged on what the SDK made of the answer, which the
SDK has already parsed into its own types: its ``sdk`` expectation says whether it returned (and what
class) or raised (and what class), and at least one more expectation must read what it returned or the
exception's attributes (``SDK_BODY_CHECKS``): a class alone passes on an empty answer the SDK accepted.

**References.** Every ``reference`` (of a case file, and of each case that has its own) is one
``https://`` URL of a public page: the documentation, the specification, or the public capture, issue
or pull request that the project's notes cite as evidence. A report links it; a path to a file the user
does not have (``FACTS.md``, ``GATEWAY-BUGS.md``, ``shared/...``) or a sentence is no reference.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from conformance.checks import CheckContext, run_check
from conformance.errors import Undecodable
from conformance.suite.loader import DEFAULT_CASES_DIR, case_files, load_cases
from conformance.suite.model import Case, Expectation, Policy, RequestSpec, SdkCall, Step
from conformance.validation.documents import read_yaml
from conformance.validation.store import SchemaStore
from conformance.wire.exchange import Exchange, SentRequest

# (protocol, stream mode, path pattern) -> the schema of a successful answer; the first match wins.
RESPONSE_SCHEMAS: tuple[tuple[str, str, str, str], ...] = (
    ("gemini", "none", r":generateContent$", "gemini/GenerateContentResponse"),
    ("gemini", "sse", r":streamGenerateContent$", "gemini/GenerateContentResponse"),
    ("gemini", "json-array", r":streamGenerateContent$", "gemini/GenerateContentResponse"),
    ("gemini", "none", r":countTokens$", "gemini/CountTokensResponse"),
    ("gemini", "none", r"^/models$", "gemini/ListModelsResponse"),
    ("gemini", "none", r"^/models/[^/:]+$", "gemini/Model"),
    ("gemini", "none", r"^/cachedContents$", "gemini/CachedContent"),
    ("openai", "none", r"^/chat/completions$", "openai/ChatCompletion"),
    ("openai", "sse", r"^/chat/completions$", "openai/ChatCompletionChunk"),
    ("openai", "none", r"^/models$", "openai/ModelList"),
    ("openai", "none", r"^/models/[^/]+$", "openai/Model"),
)
FRAMING = {"sse": "sse_framing", "json-array": "json_array_stream"}
"""The framing check a stream of each mode must pass before its events are judged."""

GARBAGE: dict[str, bytes] = {
    "an empty body": b"",
    "invalid UTF-8": b'{"candidates": "\xff\xfe"}',
    "truncated JSON": b'{"candidates": [{"content": {"parts": [{"text": "PINEAPPLE',
    "an HTML page": b"<html><body>502 Bad Gateway</body></html>",
    "null": b"null",
    "an empty object": b"{}",
    "an empty array": b"[]",
    "an empty-object event": b"data: {}\r\n\r\n",
    "an array of one empty object": b"[{}\n]",
}
"""Bodies no gateway answer should pass as a 200: each step that can pass on a 200 is judged against each."""
CONTENT_TYPES = {"none": "application/json; charset=UTF-8", "json-array": "application/json; charset=UTF-8"}
"""The Content-Type of each garbage body (text/event-stream for SSE), so that only the body is judged."""

EXCEPTIONS: dict[str, str] = {
    "gemini/upstream-mapping/error-mid-stream#0": "the stream breaks off by design (the upstream's scenario):"
    " every event but the last is judged by gemini/GenerateContentResponse, the last by gemini/Error",
    "openai/upstream-mapping/error-mid-stream#0": "the stream breaks off by design (the upstream's scenario):"
    " every chunk but the last is judged by openai/ChatCompletionChunk, the last by openai/Error",
}
"""Steps that may pass on a 200 without judging the body as the table says: ``"<case id>#<step>"`` -> why.

A case whose subject is only the HTTP envelope (a header, a redirect) would be listed here with its reason;
so is a stream whose last event is an error by design.
"""

SDK_BODY_CHECKS = frozenset(
    {
        "json",
        "text",
        "json_text",
        "function_calls",
        "parts",
        "events",
        "stream_text",
        "sum",
        "same_across_events",
    }
)
"""The checks that read what an SDK returned or raised (its dump): one of them joins every ``sdk`` check."""

PUBLIC_HOSTS = frozenset(
    {
        "ai.google.dev",
        "cloud.google.com",
        "protobuf.dev",
        "platform.openai.com",
        "github.com",
        "www.rfc-editor.org",
        "html.spec.whatwg.org",
    }
)
"""Hosts of public documents a reference may point to; add one after checking that its pages are public."""
PINNED_GITHUB_FILE = re.compile(r"^/[^/]+/[^/]+/blob/[0-9a-f]{40}/\S+$")
"""A file on GitHub is cited at a commit (a permalink), so the evidence does not move under the link."""

Alternative = list[tuple[str, Any]]


def alternatives(expect: Sequence[Mapping[str, Any]]) -> list[Alternative]:
    """Every conjunction of checks a step can pass by: each ``any_of`` expanded into its branches.

    ``strict`` items are left out: compat mode, the default, judges a step without them.
    """
    found: list[Alternative] = [[]]
    for item in expect:
        ((name, args),) = item.items()
        if name == "strict":
            continue
        options = (
            [alt for branch in args for alt in alternatives(branch)] if name == "any_of" else [[(name, args)]]
        )
        found = [done + more for done, more in itertools.product(found, options)]
    return found


def accepts_200(alternative: Alternative) -> bool:
    """Whether an HTTP 200 satisfies every ``status`` check of the conjunction (or it has none)."""
    return all(
        200 in (args if isinstance(args, list) else [args]) for name, args in alternative if name == "status"
    )


def response_schema(protocol: str, request: RequestSpec) -> str | None:
    """The schema of a successful answer to the request, or None for an endpoint the table does not know."""
    for table_protocol, stream, pattern, name in RESPONSE_SCHEMAS:
        if table_protocol == protocol and stream == request.stream and re.search(pattern, request.path):
            return name
    return None


def missing_body_judgement(alternative: Alternative, stream: str, schema: str) -> str | None:
    """What the conjunction lacks to judge the body, or None when it judges it."""
    if stream == "none":
        return None if ("schema", schema) in alternative else f"no `schema: {schema}`"
    framing = FRAMING[stream]
    every_event = any(
        name == "events" and args.get("which", "every") == "every" and {"schema": schema} in args["expect"]
        for name, args in alternative
    )
    missing = [f"no `{framing}`"] if not any(name == framing for name, _ in alternative) else []
    if not every_event:
        missing.append(f"no `events` (every event) with `schema: {schema}`")
    return " and ".join(missing) or None


def passes_on(case: Case, index: int, body: bytes, schemas: SchemaStore) -> bool:
    """Whether step ``index`` passes (compat mode) when every response so far is a 200 with ``body``."""
    stream = case.steps[index].request.stream
    content_type = CONTENT_TYPES.get(stream, "text/event-stream")
    request = SentRequest(method="POST", url="http://gateway.invalid/", headers=(), body=b"{}")
    garbage = Exchange(request=request, status=200, headers=(("content-type", content_type),), body=body)
    ctx = CheckContext(case=case, exchanges=(garbage,) * (index + 1), schemas=schemas, model="m")
    try:
        return all(run_check(ctx, expectation) == [] for expectation in case.steps[index].expect)
    except Undecodable:
        return False  # the case is errored, not passed


def body_problems(case: Case, schemas: SchemaStore, exceptions: Mapping[str, str] = EXCEPTIONS) -> list[str]:
    """One line per step (and branch) of the case that can pass on a 200 without judging the body."""
    problems: list[str] = []
    for index, step in enumerate(case.steps):
        where = f"{case.id} step {index}"
        expect = [{e.check: e.args} for e in step.expect]
        if isinstance(step.request, SdkCall):
            problems.extend(sdk_problems(where, expect))
            continue
        passing = [alt for alt in alternatives(expect) if accepts_200(alt)]
        if not passing or f"{case.id}#{index}" in exceptions:
            continue
        protocol = case.step_protocol(index)
        schema = response_schema(protocol, step.request)
        if schema is None:
            problems.append(
                f"{where}: can pass on a 200, but {protocol} {step.request.path} "
                f"(stream {step.request.stream}) has no known response schema (RESPONSE_SCHEMAS)"
            )
            continue
        for alternative in passing:
            missing = missing_body_judgement(alternative, step.request.stream, schema)
            if missing:
                checks = ", ".join(name for name, _ in alternative) or "nothing"
                problems.append(f"{where}: can pass on a 200 by [{checks}] with {missing}")
        problems.extend(
            f"{where}: passes on a 200 with {name} ({body[:40]!r})"
            for name, body in GARBAGE.items()
            if passes_on(case, index, body, schemas)
        )
    return problems


def sdk_problems(where: str, expect: Sequence[Mapping[str, Any]]) -> list[str]:
    """What an SDK step lacks: an expectation reading what the SDK returned or raised beside ``sdk``."""
    return [
        f"{where}: can pass on what the SDK returned by [{', '.join(name for name, _ in alternative)}] "
        "without reading it (add json, text, events, ...)"
        for alternative in alternatives(expect)
        if not any(name in SDK_BODY_CHECKS for name, _ in alternative)
    ]


def reference_problem(reference: Any) -> str | None:
    """Why a reference is not the https URL of a public page, or None when it is."""
    if not isinstance(reference, str) or re.search(r"\s", reference):
        return f"{reference!r} is not one URL"
    parts = urlsplit(reference)
    if parts.scheme != "https":
        return f"{reference!r} is not an https:// URL"
    if parts.hostname not in PUBLIC_HOSTS:
        return f"{reference!r}: {parts.hostname} is not a known public documentation host (PUBLIC_HOSTS)"
    if parts.hostname == "github.com" and "/blob/" in parts.path and not PINNED_GITHUB_FILE.match(parts.path):
        return f"{reference!r}: a file on GitHub is cited at a commit (blob/<40-hex sha>/...)"
    return None


def references(path: Path) -> Iterator[tuple[str, Any]]:
    """Each reference of a case file: the file's own, then each case's that has one."""
    document = read_yaml(path)
    yield f"{path.name}: reference", document.get("reference")
    for raw in document.get("cases", []):
        if "reference" in raw:
            yield f"{raw.get('id')}: reference", raw["reference"]


CASES = load_cases()
FILES = case_files(DEFAULT_CASES_DIR)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_case_that_can_pass_on_a_200_judges_the_body(case: Case, schemas: SchemaStore) -> None:
    problems = body_problems(case, schemas)
    assert not problems, "\n".join(problems)


def test_every_exception_names_a_step_that_needs_it(schemas: SchemaStore) -> None:
    by_id = {case.id: case for case in CASES}
    for key, reason in EXCEPTIONS.items():
        case_id, _, step = key.partition("#")
        assert reason.strip(), f"exception {key} gives no reason"
        assert case_id in by_id and step.isdigit() and int(step) < len(by_id[case_id].steps), (
            f"exception {key} names no step of a built-in case"
        )
        others = {k: v for k, v in EXCEPTIONS.items() if k != key}
        assert body_problems(by_id[case_id], schemas, others), (
            f"exception {key} is no longer needed: remove it"
        )


def test_every_response_schema_of_the_table_exists(schemas: SchemaStore) -> None:
    known = set(schemas.names())
    assert {name for *_, name in RESPONSE_SCHEMAS} <= known


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.name}" for p in FILES])
def test_every_reference_is_a_public_url(path: Path) -> None:
    problems = [
        f"{where}: {problem}" for where, ref in references(path) if (problem := reference_problem(ref))
    ]
    assert problems == []


# The lint itself: it fails on the shapes it is meant to catch.

GENERATE = RequestSpec(method="POST", path="/models/{model}:generateContent", body={})
COUNT = RequestSpec(method="POST", path="/models/{model}:countTokens", body={})
SSE = RequestSpec(method="POST", path="/models/{model}:streamGenerateContent", body={}, stream="sse")
GCR = "gemini/GenerateContentResponse"
EVERY_EVENT = {"events": {"expect": [{"schema": GCR}]}}


def lint(schemas: SchemaStore, request: RequestSpec, *expect: dict[str, Any]) -> list[str]:
    step = Step(request, tuple(Expectation(*next(iter(item.items()))) for item in expect))
    case = Case(
        id="gemini/lint/x",
        protocol="gemini",
        feature="lint",
        level="MUST",
        title="t",
        reference="https://ai.google.dev/",
        steps=(step,),
        policy=Policy(),
        source=Path("x.yaml"),
    )
    return body_problems(case, schemas)


@pytest.mark.parametrize(
    ("request_spec", "expect"),
    [
        pytest.param(GENERATE, [{"status": 200}], id="status-only (threshold-unspecified as it was)"),
        pytest.param(GENERATE, [], id="no-check-at-all"),
        pytest.param(GENERATE, [{"status": [200, 400]}, {"error": {}}], id="status-list-with-200"),
        pytest.param(GENERATE, [{"status": 200}, {"text": {"contains": "PINEAPPLE"}}], id="a-predicate-only"),
        pytest.param(GENERATE, [{"status": 200}, {"schema": "gemini/Candidate"}], id="another-schema"),
        pytest.param(GENERATE, [{"status": 200}, {"strict": [{"schema": GCR}]}], id="schema-in-strict-only"),
        pytest.param(
            GENERATE,
            [{"any_of": [[{"status": 200}, {"json": {"at": "/x", "exists": False}}], [{"status": 400}]]}],
            id="any-of-200-branch-without-schema",
        ),
        pytest.param(
            COUNT,
            [{"status": 200}, {"schema": "gemini/CountTokensResponse"}],
            id="a-schema-that-an-empty-object-meets",
        ),
        pytest.param(SSE, [{"status": 200}, {"sse_framing": {}}], id="stream-framing-only"),
        pytest.param(SSE, [{"status": 200}, EVERY_EVENT], id="stream-events-without-framing"),
        pytest.param(
            SSE,
            [
                {"status": 200},
                {"sse_framing": {}},
                {"events": {"which": "last", "expect": [{"schema": GCR}]}},
            ],
            id="stream-schema-on-the-last-event-only",
        ),
        pytest.param(
            RequestSpec(method="POST", path="/models/{model}:embedContent", body={}),
            [{"status": 200}, {"json": {"at": "/embedding", "exists": True}}],
            id="unknown-endpoint",
        ),
    ],
)
def test_the_lint_flags_a_step_that_can_pass_on_a_200_unjudged(schemas, request_spec, expect) -> None:
    assert lint(schemas, request_spec, *expect)


@pytest.mark.parametrize(
    ("request_spec", "expect"),
    [
        pytest.param(GENERATE, [{"status": 200}, {"schema": GCR}], id="status-and-schema"),
        pytest.param(GENERATE, [{"status": 400}, {"error": {}}], id="an-error-case"),
        pytest.param(
            COUNT,
            [
                {"status": 200},
                {"schema": "gemini/CountTokensResponse"},
                {"json": {"at": "/totalTokens", "gt": 0}},
            ],
            id="a-schema-and-a-predicate",
        ),
        pytest.param(
            GENERATE,
            [{"any_of": [[{"status": 200}, {"schema": GCR}], [{"status": 400}, {"error": {}}]]}],
            id="any-of-with-schema-in-the-200-branch",
        ),
        pytest.param(
            GENERATE,
            [
                {"status": 200},
                {"schema": GCR},
                {"any_of": [[{"json": {"at": "/a", "exists": False}}], [{"text": {}}]]},
            ],
            id="schema-outside-the-any-of",
        ),
        pytest.param(
            SSE, [{"status": 200}, {"sse_framing": {}}, EVERY_EVENT], id="stream-framing-and-every-event"
        ),
    ],
)
def test_the_lint_accepts_a_step_that_judges_the_body(schemas, request_spec, expect) -> None:
    assert lint(schemas, request_spec, *expect) == []


@pytest.mark.parametrize(
    "reference",
    [
        'shared/specs/FACTS.md "Safety, prompt level"',
        "shared/GATEWAY-BUGS.md F03",
        "../shared/specs/FACTS.md",
        "http://ai.google.dev/api/generate-content",
        "https://ai.google.dev/api/generate-content (a note after the URL)",
        "https://localhost:8080/docs",
        "file:///work/shared/specs/FACTS.md",
        "https://github.com/pydantic/pydantic-ai/blob/main/tests/models/cassettes/test_google/x.yaml",
    ],
)
def test_the_lint_flags_a_reference_that_is_not_a_public_url(reference: str) -> None:
    assert reference_problem(reference)


@pytest.mark.parametrize(
    "reference",
    [
        "https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse",
        "https://github.com/continuedev/continue/issues/9330",
        "https://github.com/simonw/llm-gemini/blob/2a8c855abf701766555b866efe7c80f9a7e27bcf/tests/cassettes/test_gemini/test_prompt.yaml",
    ],
)
def test_the_lint_accepts_a_public_url(reference: str) -> None:
    assert reference_problem(reference) is None


def sdk_lint(*expect: dict[str, Any]) -> list[str]:
    step = Step(
        SdkCall("google-genai", "models.generate_content", {"model": "{model}", "contents": "Hi"}),
        tuple(Expectation(*next(iter(item.items()))) for item in expect),
    )
    case = Case(
        id="gemini/lint/sdk",
        protocol="gemini",
        feature="lint",
        level="MUST",
        title="t",
        reference="https://ai.google.dev/",
        steps=(step,),
        policy=Policy(),
        source=Path("x.yaml"),
    )
    return body_problems(case, SchemaStore.load())


def test_the_lint_flags_an_sdk_step_judged_by_its_class_alone() -> None:
    assert sdk_lint({"sdk": {"returns": "GenerateContentResponse"}})
    assert sdk_lint(
        {"sdk": {"raises": "ClientError"}}, {"strict": [{"json": {"at": "/code", "equals": 400}}]}
    )
    assert not sdk_lint(
        {"sdk": {"returns": "GenerateContentResponse"}}, {"json": {"at": "/text", "type": "string"}}
    )
    assert not sdk_lint({"sdk": {"raises": "ClientError"}}, {"json": {"at": "/code", "equals": 404}})
