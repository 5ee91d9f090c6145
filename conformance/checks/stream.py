"""Checks on streamed responses, judged on the raw bytes event by event.

Two kinds of check live here. Framing checks (``sse_framing``, ``json_array_stream``) judge the bytes
and never raise: a stream that cannot be decoded at all fails them, with the event number, byte
offset and raw text in the message. Content checks (``events``, ``same_across_events``,
``stream_text``, ``incremental``, ``openai_chunks``, ``tool_call_deltas``, ``function_call_parts``)
read the events whose payload is a JSON object; when there is none at all they raise
``Undecodable`` (the case is errored unless a framing check has already failed it). Every case
that streams lists a framing check first.

The decoded stream of a step is cached in ``ctx.cache``, so a step's checks decode it once.
"""

from __future__ import annotations

import dataclasses
import json
from itertools import pairwise
from typing import Any, Literal

from conformance import pointer as jp
from conformance.checks.body import CANDIDATE, TEXT_PREDICATES, answer_text
from conformance.checks.predicates import evaluate, show
from conformance.checks.registry import CheckContext, Failure, Schema, check, ref, run_check
from conformance.errors import Undecodable
from conformance.streams.framing import SseDialect, array_problems, sse_problems
from conformance.streams.merge import merge
from conformance.streams.view import StreamItem, StreamKind, StreamView, sniff_kind, view_of
from conformance.suite.model import Expectation
from conformance.wire.exchange import Exchange

Which = Literal["every", "first", "last", "before_last", "some", "whole"]

MAX_FAILURES = 10
SSE_MEDIA_TYPE = "text/event-stream"
JSON_MEDIA_TYPE = "application/json"

# ---------------------------------------------------------------------------------------------
# the decoded view of a step's response


def step_index(ctx: CheckContext) -> int:
    """The index of the step being judged."""
    return len(ctx.exchanges) - 1


def requested_kind(ctx: CheckContext, step: int) -> StreamKind | None:
    """The stream kind the case asked for at a step, else what the exchange itself looks like."""
    steps = ctx.case.steps
    mode = steps[step].request.stream if step < len(steps) else "none"
    if mode != "none":
        return mode
    return sniff_kind(ctx.exchanges[step])


def stream_of(ctx: CheckContext, kind: StreamKind | None = None, step: int | None = None) -> StreamView:
    """The step's response decoded as a stream (of ``kind``, else the kind the request asked for), cached."""
    index = step_index(ctx) if step is None else step
    chosen = kind or requested_kind(ctx, index) or "sse"
    key = f"stream:{index}:{chosen}"
    view = ctx.cache.get(key)
    if view is None:
        view = ctx.cache[key] = view_of(ctx.exchanges[index], chosen)
    return view


def json_events(ctx: CheckContext, step: int | None = None) -> tuple[StreamView, tuple[StreamItem, ...]]:
    """The stream and its JSON-object events; raises ``Undecodable`` when there is none."""
    view = stream_of(ctx, step=step)
    items = view.json_items
    if not items:
        first = view.findings[0].message if view.findings else "no event"
        raise Undecodable(f"no {view.noun} of the {view.kind} stream holds a JSON object ({first})")
    return view, items


def at_item(view: StreamView, item: StreamItem, message: str, pointer: str | None = None) -> Failure:
    """A failure naming the offending event: number, byte offset and raw text."""
    return Failure(f"{view.where(item)}: {message}; raw: {item.quote()}", pointer)


def capped(failures: list[Failure]) -> list[Failure]:
    """At most ``MAX_FAILURES`` failures, the rest counted in one more."""
    if len(failures) <= MAX_FAILURES:
        return failures
    return failures[:MAX_FAILURES] + [
        Failure(f"{len(failures) - MAX_FAILURES} more problem(s) of the same stream")
    ]


def _media_type(exchange: Exchange, expected: str) -> list[Failure]:
    if exchange.media_type == expected:
        return []
    raw = exchange.header("content-type")
    return [
        Failure(
            f"expected Content-Type {expected}, got {raw!r}"
            if raw
            else f"expected Content-Type {expected}, got none"
        )
    ]


@check(
    "sse_framing",
    args={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "protocol": {
                "enum": ["gemini", "openai"],
                "description": "Whose framing rules apply (default: the case's protocol).",
            },
            "line_ending": {"enum": ["crlf", "lf"], "description": "Require this line ending on every line."},
        },
        "examples": [{"protocol": "gemini"}, {"protocol": "openai", "line_ending": "crlf"}],
    },
)
def sse_framing(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """Content-Type text/event-stream and every event ``data: <one JSON object>`` ended by a blank line.

    No ``event:`` or ``id:`` lines. Gemini: no ``[DONE]``, comments or other fields (strict mode: CRLF
    only). OpenAI: ``data: [DONE]`` last. A failure names the event number, byte offset and raw text.
    """
    dialect: SseDialect = args.get("protocol", ctx.protocol)
    failures = _media_type(ctx.exchange, SSE_MEDIA_TYPE)
    view = stream_of(ctx, "sse")
    problems = sse_problems(
        view, ctx.exchange.body, dialect, strict=ctx.strict, line_ending=args.get("line_ending")
    )
    return capped(failures + [Failure(problem) for problem in problems])


@check("json_array_stream", args={"const": True, "examples": [True]})
def json_array_stream(ctx: CheckContext, _: Any) -> list[Failure]:
    """Content-Type application/json and a JSON array (``[``, object elements, ``]``) as Google streams it."""
    failures = _media_type(ctx.exchange, JSON_MEDIA_TYPE)
    view = stream_of(ctx, "json-array")
    return capped(
        failures
        + [Failure(problem) for problem in array_problems(view, ctx.exchange.body, strict=ctx.strict)]
    )


# ---------------------------------------------------------------------------------------------
# content checks


def _select(items: tuple[StreamItem, ...], which: Which) -> tuple[StreamItem, ...]:
    if which == "first":
        return items[:1]
    if which == "last":
        return items[-1:]
    if which == "before_last":
        return items[:-1]
    return items


@check(
    "events",
    args={
        "type": "object",
        "required": ["expect"],
        "additionalProperties": False,
        "properties": {
            "which": {
                "enum": ["every", "first", "last", "before_last", "some", "whole"],
                "description": "The events to judge (default every; some: at least one event meets every "
                "expectation; whole: the events merged into the one response a client builds from them); "
                "[DONE] and non-JSON payloads are not events here.",
            },
            "expect": {
                **ref("expectations"),
                "description": "Body expectations applied to each selected event's JSON.",
            },
            "count": {
                **ref("count"),
                "description": "How many events (JSON objects) the stream has: a number or {min, max}.",
            },
        },
        "examples": [
            {"which": "last", "expect": [{"json": {"at": "/candidates/0/finishReason", "equals": "STOP"}}]},
            {
                "which": "whole",
                "expect": [{"parts": {"kind": "thought", "count": {"min": 1}, "before": "text"}}],
            },
        ],
    },
)
def events(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """Body expectations applied to the JSON of every (or the first, last, or each but the last) event.

    Any body check applies (``schema``, ``json``, ``sum``, ``text``, ``camel_case_keys``, ...); a failure
    names the event it broke on; ``count`` first checks how many events there are. ``which: some``
    passes when at least one event meets every expectation;
    ``which: whole`` judges the events merged into one response (``conformance.streams.merge``: parts in
    order, consecutive texts joined, the last value of every other member).
    """
    view, items = json_events(ctx)
    which = args.get("which", "every")
    if "count" in args:
        low, high = (
            (args["count"], args["count"])
            if isinstance(args["count"], int)
            else (
                args["count"].get("min"),
                args["count"].get("max"),
            )
        )
        if (low is not None and len(items) < low) or (high is not None and len(items) > high):
            wanted = show(args["count"])
            return [Failure(f"expected {wanted} {view.noun}(s) holding a JSON object, got {len(items)}")]
    if which == "whole":
        whole = merge(ctx.protocol, [item.value for item in items if isinstance(item.value, dict)])
        found = _judge_body(ctx, json.dumps(whole, ensure_ascii=False).encode("utf-8"), args["expect"])
        return capped([Failure(f"the whole stream: {f.message}", f.pointer) for f in found])
    failures: list[Failure] = []
    for item in _select(items, which):
        found = _judge_body(ctx, item.payload, args["expect"])
        if which == "some":
            if not found:
                return []
            if not failures:  # the first event's first failure, to show what was looked for
                failures.append(at_item(view, item, found[0].message, found[0].pointer))
            continue
        failures.extend(at_item(view, item, failure.message, failure.pointer) for failure in found)
    if which == "some":
        first = failures[0].message if failures else "no event"
        return [Failure(f"no {view.noun} of {len(items)} meets every expectation (the first: {first})")]
    return capped(failures)


def _judge_body(ctx: CheckContext, payload: bytes, expect: list[dict[str, Any]]) -> list[Failure]:
    """The failures of body expectations on one JSON document standing for the current response."""
    exchange = ctx.exchange
    single = Exchange(
        request=exchange.request,
        status=exchange.status,
        headers=(("content-type", JSON_MEDIA_TYPE),),
        body=payload,
    )
    sub = dataclasses.replace(ctx, exchanges=ctx.exchanges[:-1] + (single,), cache={})
    failures: list[Failure] = []
    for spec in expect:
        ((name, sub_args),) = spec.items()
        failures.extend(run_check(sub, Expectation(name, sub_args)))
    return failures


@check(
    "same_across_events",
    args={
        "oneOf": [ref("pointer"), {"type": "array", "minItems": 1, "items": ref("pointer")}],
        "examples": ["/responseId", ["/id", "/created", "/model"]],
    },
)
def same_across_events(ctx: CheckContext, pointers: str | list[str]) -> list[Failure]:
    """The value at each pointer is present and the same on every event."""
    view, items = json_events(ctx)
    failures: list[Failure] = []
    for at in [pointers] if isinstance(pointers, str) else pointers:
        first: tuple[StreamItem, Any] | None = None
        for item in items:
            found = jp.resolve(item.value, at)
            if not found:
                failures.append(at_item(view, item, f"no value at {at}", at))
                break
            value = found[0][1]
            if first is None:
                first = (item, value)
            elif value != first[1]:
                failures.append(
                    at_item(
                        view,
                        item,
                        f"{at} is {show(value)}, but {view.where(first[0])} had {show(first[1])}",
                        at,
                    )
                )
                break
    return failures


def delta_texts(protocol: str, items: tuple[StreamItem, ...], index: int) -> list[tuple[StreamItem, str]]:
    """The text each event adds to a candidate (Gemini, thought parts left out) or choice (OpenAI)."""
    out: list[tuple[StreamItem, str]] = []
    for item in items:
        body = item.value
        assert isinstance(body, dict)
        if protocol == "gemini":
            candidates = body.get("candidates")
            if not isinstance(candidates, list):
                continue
            for position, candidate in enumerate(candidates):
                if not isinstance(candidate, dict) or candidate.get("index", position) != index:
                    continue
                parts = jp.get(candidate, "/content/parts", [])
                texts = [
                    p["text"]
                    for p in parts
                    if isinstance(p, dict) and isinstance(p.get("text"), str) and not p.get("thought")
                ]
                if texts:
                    out.append((item, "".join(texts)))
        else:
            choices = body.get("choices")
            if not isinstance(choices, list):
                continue
            for choice in choices:
                if isinstance(choice, dict) and choice.get("index") == index:
                    content = jp.get(choice, "/delta/content")
                    if isinstance(content, str):
                        out.append((item, content))
    return out


def _text_of_step(ctx: CheckContext, step: int, index: int) -> str | None:
    if step >= step_index(ctx):
        raise Undecodable(f"step {step} has not run before this one")
    if requested_kind(ctx, step) is not None:
        _, items = json_events(ctx, step)
        return "".join(text for _, text in delta_texts(ctx.protocol, items, index))
    value, _ = answer_text(ctx.protocol, ctx.body(step), index)
    return value


@check(
    "stream_text",
    args={
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {
            "candidate": CANDIDATE,
            "cumulative": {
                "const": False,
                "description": "The text of each event is a delta, not the whole text so far.",
            },
            "equals_text_of": {
                "type": "integer",
                "minimum": 0,
                "description": "The concatenated text equals the answer text of this earlier step "
                "(streamed or not).",
            },
            **TEXT_PREDICATES,
        },
        "examples": [{"cumulative": False, "length": {"min": 1}}, {"equals_text_of": 0}],
    },
)
def stream_text(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """The text deltas of a candidate or choice: not cumulative, and their concatenation as asked.

    Gemini thought parts are left out; the concatenated text is judged by the text predicates.
    """
    view, items = json_events(ctx)
    index = args.get("candidate", 0)
    noun = "candidate" if ctx.protocol == "gemini" else "choice"
    pieces = delta_texts(ctx.protocol, items, index)
    if not pieces:
        return [Failure(f"no {view.noun} carries text for {noun} {index}")]
    failures: list[Failure] = []
    if args.get("cumulative") is False:
        texts = [(item, text) for item, text in pieces if text]
        pairs = list(pairwise(texts))
        if pairs and all(b.startswith(a) and len(b) > len(a) for (_, a), (_, b) in pairs):
            (first, a), (second, b) = pairs[0]
            failures.append(
                at_item(
                    view,
                    second,
                    f"the text is cumulative, not a delta: it repeats the text of {view.where(first)} "
                    f"({show(a)}) and extends it to {show(b)}",
                )
            )
    whole = "".join(text for _, text in pieces)
    if "equals_text_of" in args:
        step = args["equals_text_of"]
        other = _text_of_step(ctx, step, index)
        if other is None:
            failures.append(Failure(f"step {step} has no answer text for {noun} {index} to compare with"))
        elif whole != other:
            failures.append(
                Failure(
                    f"the concatenated text of {noun} {index} is {show(whole)}, "
                    f"but the answer of step {step} is {show(other)}"
                )
            )
    failures.extend(
        Failure(f"concatenated text of {noun} {index}: {problem}") for problem in evaluate(whole, args)
    )
    return failures


@check(
    "incremental",
    args={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "min_events": {"type": "integer", "minimum": 1, "description": "Default 2."},
            "max_first_share": {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": 1,
                "description": "The first event's arrival time as a share of the last event's, at most "
                "(default 0.9).",
            },
        },
        "examples": [{"min_events": 2, "max_first_share": 0.9}],
    },
)
def incremental(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """The stream arrived in several events, the first well before the last (it was not buffered).

    Times count from the arrival of the response headers, so a gateway (or a loaded machine) that is
    slow to start answering is not mistaken for one that buffers: a buffered stream's events arrive
    together, whenever that is.
    """
    view = stream_of(ctx)
    timings = view.timings()
    minimum = args.get("min_events", 2)
    count = len(view.json_items)
    if count < minimum:
        return [Failure(f"expected at least {minimum} events, got {count} ({timings.describe()})")]
    first, last = view.json_items[0].received_at, view.json_items[-1].received_at
    if first is None or last is None:
        raise Undecodable("no arrival times were recorded for the stream")
    start = view.headers_at or 0.0
    first, last = first - start, last - start
    share = args.get("max_first_share", 0.9)
    if last <= 0 or first / last > share:
        ratio = first / last if last > 0 else 1.0
        return [
            Failure(
                "not delivered incrementally: after the headers, the first event arrived at"
                f" {first * 1000:.0f} ms and the last at {last * 1000:.0f} ms"
                f" ({ratio:.0%} of the way, more than {share:.0%}); {timings.describe()}"
            )
        ]
    return []


@check(
    "openai_chunks",
    args={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "choices": {
                "type": "integer",
                "minimum": 1,
                "description": "Exactly the choice indexes 0..N-1 appear.",
            },
            "usage": {
                "const": True,
                "description": "One final usage chunk with choices: [] (sum holds), "
                "usage null or absent elsewhere.",
            },
        },
        "examples": [{"choices": 1, "usage": True}],
    },
)
def openai_chunks(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """Chat completion chunks: per choice, role first and exactly one finish_reason, on its last chunk.

    With ``usage: true``, one final chunk with ``choices: []`` carries the usage (its total the sum of
    the prompt and completion tokens) and no other chunk does.
    """
    view, items = json_events(ctx)
    failures: list[Failure] = []
    per_choice: dict[int, list[tuple[StreamItem, dict[str, Any]]]] = {}
    for item in items:
        assert isinstance(item.value, dict)
        choices = item.value.get("choices")
        if not isinstance(choices, list):
            failures.append(at_item(view, item, f"choices is {show(choices)}, not an array", "/choices"))
            continue
        for position, choice in enumerate(choices):
            index = choice.get("index") if isinstance(choice, dict) else None
            if not isinstance(index, int) or isinstance(index, bool):
                failures.append(
                    at_item(view, item, f"choice {position} has no integer index", f"/choices/{position}")
                )
                continue
            per_choice.setdefault(index, []).append((item, choice))
    if "choices" in args:
        wanted = set(range(args["choices"]))
        for index in sorted(wanted - per_choice.keys()):
            failures.append(Failure(f"choice {index} never appears in the stream ({len(items)} chunks)"))
        for index in sorted(per_choice.keys() - wanted):
            failures.append(at_item(view, per_choice[index][0][0], f"unexpected choice index {index}"))
    for index, entries in sorted(per_choice.items()):
        first_item, first_choice = entries[0]
        role = jp.get(first_choice, "/delta/role")
        if role != "assistant":
            failures.append(
                at_item(
                    view,
                    first_item,
                    f'the first delta of choice {index} has role {show(role)}, expected "assistant"',
                )
            )
        finishing = [(item, choice) for item, choice in entries if choice.get("finish_reason") is not None]
        last_item = entries[-1][0]
        if not finishing:
            failures.append(
                at_item(
                    view,
                    last_item,
                    f"no chunk carries a finish_reason for choice {index} (its last chunk is here)",
                )
            )
        elif len(finishing) > 1:
            where = ", ".join(view.where(item) for item, _ in finishing)
            failures.append(
                at_item(
                    view,
                    finishing[1][0],
                    f"choice {index} has a finish_reason on {len(finishing)} chunks ({where}), expected one",
                )
            )
        elif finishing[0][0] is not last_item:
            failures.append(
                at_item(
                    view,
                    last_item,
                    f"choice {index} continues after its finish_reason on {view.where(finishing[0][0])}",
                )
            )
    if args.get("usage"):
        failures.extend(_usage_chunk(view, items))
    return capped(failures)


def _usage_chunk(view: StreamView, items: tuple[StreamItem, ...]) -> list[Failure]:
    with_usage = [
        item for item in items if isinstance(item.value, dict) and item.value.get("usage") is not None
    ]
    if not with_usage:
        return [
            at_item(
                view,
                items[-1],
                "no chunk carries usage (stream_options.include_usage asks for a final usage chunk); "
                "the last chunk is here",
            )
        ]
    if len(with_usage) > 1:
        where = ", ".join(view.where(item) for item in with_usage[:5])
        return [
            at_item(
                view,
                with_usage[0],
                f"usage is on {len(with_usage)} chunks ({where}), expected only on the final usage chunk",
                "/usage",
            )
        ]
    (chunk,) = with_usage
    assert isinstance(chunk.value, dict)
    failures: list[Failure] = []
    if chunk is not items[-1]:
        failures.append(
            at_item(
                view,
                chunk,
                f"the usage chunk is not the last chunk before [DONE] ({view.where(items[-1])} follows)",
                "/usage",
            )
        )
    if chunk.value.get("choices") != []:
        failures.append(
            at_item(
                view,
                chunk,
                f"the usage chunk has choices {show(chunk.value.get('choices'))}, expected []",
                "/choices",
            )
        )
    usage = chunk.value["usage"]
    counts = [jp.get(usage, f"/{name}") for name in ("prompt_tokens", "completion_tokens", "total_tokens")]
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in counts):
        failures.append(at_item(view, chunk, f"usage counts are not integers: {show(usage)}", "/usage"))
    elif counts[0] + counts[1] != counts[2]:
        failures.append(
            at_item(
                view,
                chunk,
                f"usage.total_tokens is {counts[2]}, expected prompt_tokens + completion_tokens = "
                f"{counts[0] + counts[1]}",
                "/usage/total_tokens",
            )
        )
    return failures


MIN_CALLS: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"min_calls": {"type": "integer", "minimum": 0, "description": "Default 1."}},
    "examples": [{"min_calls": 1}],
}


@check("tool_call_deltas", args=MIN_CALLS)
def tool_call_deltas(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """Streamed OpenAI tool calls: an index on every delta, id and name first, arguments join to an object."""
    view, items = json_events(ctx)
    failures: list[Failure] = []
    calls: dict[tuple[int, int], tuple[StreamItem, list[str]]] = {}
    for item in items:
        assert isinstance(item.value, dict)
        for position, choice in enumerate(item.value.get("choices") or []):
            deltas = jp.get(choice, "/delta/tool_calls")
            if deltas is None:
                continue
            where = f"/choices/{position}/delta/tool_calls"
            if not isinstance(deltas, list):
                failures.append(at_item(view, item, f"tool_calls is {show(deltas)}, not an array", where))
                continue
            for n, delta in enumerate(deltas):
                here = f"{where}/{n}"
                index = delta.get("index") if isinstance(delta, dict) else None
                if not isinstance(index, int) or isinstance(index, bool):
                    failures.append(
                        at_item(view, item, f"tool call delta without an integer index: {show(delta)}", here)
                    )
                    continue
                key = (choice.get("index", position), index)
                function = delta.get("function") if isinstance(delta.get("function"), dict) else {}
                if key not in calls:
                    calls[key] = (item, [])
                    if not isinstance(delta.get("id"), str):
                        failures.append(
                            at_item(
                                view, item, f"the first delta of tool call {index} has no id", f"{here}/id"
                            )
                        )
                    name = function.get("name")
                    if not isinstance(name, str) or not name:
                        failures.append(
                            at_item(
                                view,
                                item,
                                f"the first delta of tool call {index} has no function name",
                                f"{here}/function/name",
                            )
                        )
                piece = function.get("arguments")
                if piece is not None and not isinstance(piece, str):
                    failures.append(
                        at_item(
                            view,
                            item,
                            f"arguments of tool call {index} are {show(piece)}, not a string",
                            f"{here}/function/arguments",
                        )
                    )
                elif piece:
                    calls[key][1].append(piece)
    for (choice_index, index), (first, pieces) in sorted(calls.items()):
        text = "".join(pieces)
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            failures.append(
                at_item(
                    view,
                    first,
                    f"the arguments of tool call {index} (choice {choice_index}) join to {show(text)}, "
                    f"which is not JSON ({exc.msg})",
                )
            )
            continue
        if not isinstance(parsed, dict):
            failures.append(
                at_item(
                    view,
                    first,
                    f"the arguments of tool call {index} (choice {choice_index}) join to {show(text)}, "
                    "not a JSON object",
                )
            )
    minimum = args.get("min_calls", 1)
    if len(calls) < minimum:
        failures.append(Failure(f"expected at least {minimum} streamed tool call(s), got {len(calls)}"))
    return capped(failures)


@check("function_call_parts", args=MIN_CALLS)
def function_call_parts(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """Streamed Gemini function calls: each functionCall part arrives whole, with a name and object args."""
    view, items = json_events(ctx)
    failures: list[Failure] = []
    count = 0
    for item in items:
        assert isinstance(item.value, dict)
        for c, candidate in enumerate(item.value.get("candidates") or []):
            for p, part in enumerate(jp.get(candidate, "/content/parts", []) or []):
                if not isinstance(part, dict) or "functionCall" not in part:
                    continue
                count += 1
                call = part["functionCall"]
                here = f"/candidates/{c}/content/parts/{p}/functionCall"
                if not isinstance(call, dict):
                    failures.append(at_item(view, item, f"functionCall is {show(call)}, not an object", here))
                    continue
                if not isinstance(call.get("name"), str) or not call["name"]:
                    failures.append(at_item(view, item, "functionCall has no name", f"{here}/name"))
                if not isinstance(call.get("args"), dict):
                    failures.append(
                        at_item(
                            view,
                            item,
                            f"functionCall args are {show(call.get('args'))}, expected an object",
                            f"{here}/args",
                        )
                    )
                if "partialArgs" in call or call.get("willContinue"):
                    failures.append(
                        at_item(
                            view,
                            item,
                            "functionCall arrives in pieces (partialArgs/willContinue), not whole",
                            here,
                        )
                    )
    minimum = args.get("min_calls", 1)
    if count < minimum:
        failures.append(
            Failure(f"expected at least {minimum} functionCall part(s) in the stream, got {count}")
        )
    return capped(failures)
