"""Checks on tools, structured output and thinking: function calls, JSON answers, parts and thoughts."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from conformance import pointer as jp
from conformance.checks.body import CANDIDATE, answer_text, required_answer_text
from conformance.checks.predicates import evaluate, show
from conformance.checks.registry import CheckContext, Failure, check, ref
from conformance.errors import Undecodable
from conformance.validation.gemini_schema import to_json_schema

PART_KINDS: tuple[str, ...] = (
    "text",
    "thought",
    "thoughtSignature",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
    "inlineData",
    "fileData",
)
MAX_LISTED = 5


def sent_body(ctx: CheckContext) -> Any:
    """The JSON body of the request as sent for the current step (None when it was not JSON)."""
    try:
        return ctx.sent_body()
    except Undecodable:
        return None


def schema_problems(instance: Any, schema: Any, limit: int = 3) -> list[tuple[str, str]]:
    """(pointer, message) for each way ``instance`` breaks ``schema`` (Gemini Schema converted first)."""
    converted = to_json_schema(schema)
    try:
        validator = Draft202012Validator(converted if isinstance(converted, (dict, bool)) else {})
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    except SchemaError as exc:
        return [("", f"the schema itself is not valid JSON Schema: {exc.message}")]
    found = []
    for error in errors[:limit]:
        where = "".join(f"/{jp.escape(str(part))}" for part in error.absolute_path)
        message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
        found.append((where, message))
    return found


def _count_problem(count: int, want: int | Mapping[str, int], noun: str) -> str | None:
    low, high = (want, want) if isinstance(want, int) else (want.get("min"), want.get("max"))
    if (low is not None and count < low) or (high is not None and count > high):
        bound = (
            str(want)
            if isinstance(want, int)
            else " and ".join(f"{'at least' if k == 'min' else 'at most'} {v}" for k, v in want.items())
        )
        return f"expected {bound} {noun}, got {count}"
    return None


# -- JSON answers ----------------------------------------------------------------------------------


@check(
    "json_text",
    args={
        "type": "object",
        "additionalProperties": False,
        "not": {"required": ["schema", "schema_from"]},
        "properties": {
            "candidate": CANDIDATE,
            "schema": {
                "type": ["object", "boolean"],
                "description": "A JSON Schema, or a Gemini Schema (uppercase types converted).",
            },
            "schema_from": {
                **ref("pointer"),
                "description": "Where the request sent holds the schema "
                "(e.g. /generationConfig/responseSchema).",
            },
        },
        "examples": [{}, {"schema_from": "/generationConfig/responseSchema"}],
    },
)
def json_text(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """The answer text parses as JSON and, when a schema is given or named in the request, validates."""
    index = args.get("candidate", 0)
    text, where, missing = required_answer_text(ctx, index)
    if text is None:
        return missing
    noun = "candidate" if ctx.protocol == "gemini" else "choice"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return [
            Failure(
                f"answer text of {noun} {index} is not JSON ({exc.msg} at char {exc.pos}): {show(text, 80)}",
                where,
            )
        ]
    schema: Any = args.get("schema")
    if "schema_from" in args:
        found = jp.resolve(sent_body(ctx), args["schema_from"])
        if not found:
            return [Failure(f"the request sent has no schema at {args['schema_from']}", where)]
        schema = found[0][1]
    if schema is None:
        return []
    return [
        Failure(f"answer JSON of {noun} {index} breaks the schema at {pointer or '/'}: {message}", where)
        for pointer, message in schema_problems(value, schema)
    ]


# -- function calls --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One function call of a response, in either protocol: where it is and what it says."""

    where: str
    name: Any
    args: Any
    id: Any
    problems: tuple[str, ...] = ()


def gemini_calls(body: Any, index: int) -> list[Call] | None:
    """The functionCall parts of a candidate, or None when the candidate is missing."""
    candidates = body.get("candidates") if isinstance(body, dict) else None
    if not isinstance(candidates, list) or index >= len(candidates):
        return None
    parts = jp.get(candidates[index], "/content/parts", []) or []
    calls = []
    for n, part in enumerate(parts if isinstance(parts, list) else []):
        if isinstance(part, dict) and isinstance(part.get("functionCall"), dict):
            call = part["functionCall"]
            calls.append(
                Call(
                    f"/candidates/{index}/content/parts/{n}/functionCall",
                    call.get("name"),
                    call.get("args", {}),
                    call.get("id"),
                )
            )
    return calls


def openai_calls(body: Any, index: int) -> list[Call] | None:
    """The tool calls of a choice (arguments decoded from their JSON string), or None when it is missing."""
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or index >= len(choices) or not isinstance(choices[index], dict):
        return None
    tool_calls = jp.get(choices[index], "/message/tool_calls") or []
    calls = []
    for n, item in enumerate(tool_calls if isinstance(tool_calls, list) else []):
        where = f"/choices/{index}/message/tool_calls/{n}"
        if not isinstance(item, dict):
            calls.append(Call(where, None, None, None, ("is not an object",)))
            continue
        problems: list[str] = []
        if item.get("type") != "function":
            problems.append(f'type is {show(item.get("type"))}, expected "function"')
        raw_function = item.get("function")
        function = raw_function if isinstance(raw_function, dict) else {}
        raw = function.get("arguments")
        args: Any = None
        if not isinstance(raw, str):
            problems.append(f"function.arguments is {show(raw)}, expected a JSON string")
        else:
            try:
                args = json.loads(raw)
            except json.JSONDecodeError:
                problems.append(f"function.arguments is not JSON: {show(raw, 80)}")
        calls.append(Call(where, function.get("name"), args, item.get("id"), tuple(problems)))
    return calls


def declared_functions(protocol: str, request: Any) -> dict[str, Any]:
    """Function name -> JSON Schema of its parameters, from the request that was sent."""
    declared: dict[str, Any] = {}
    tools = request.get("tools") if isinstance(request, dict) else None
    for tool in tools if isinstance(tools, list) else []:
        if not isinstance(tool, dict):
            continue
        if protocol == "openai":
            function = tool.get("function")
            if (
                tool.get("type") == "function"
                and isinstance(function, dict)
                and isinstance(function.get("name"), str)
            ):
                declared[function["name"]] = function.get("parameters", {"type": "object"})
            continue
        for declaration in tool.get("functionDeclarations", tool.get("function_declarations")) or []:
            if not isinstance(declaration, dict) or not isinstance(declaration.get("name"), str):
                continue
            schema = next(
                (
                    declaration[key]
                    for key in ("parametersJsonSchema", "parameters_json_schema", "parameters")
                    if key in declaration
                ),
                {"type": "object"},
            )
            declared[declaration["name"]] = to_json_schema(schema)
    return declared


@check(
    "function_calls",
    args={
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "candidate": CANDIDATE,
            "count": ref("count"),
            "name": {"type": "string", "description": "Every call is of this function."},
            "declared": {
                "const": True,
                "description": "Each call names a function declared in the request sent and its args "
                "(OpenAI: the JSON string function.arguments) is an object valid against the declared "
                "parameters.",
            },
            "ids": {
                "enum": ["required", "when_present"],
                "description": "Ids are non-empty, distinct and not the function name "
                "(when_present: only calls that carry one).",
            },
            "id_matches": {"type": "string", "description": "A regular expression every id contains."},
            "args": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": ref("predicates"),
                "description": "Per argument name, predicates its value meets in every call (OpenAI: in "
                "the decoded JSON arguments).",
            },
        },
        "examples": [
            {"count": 1, "name": "get_weather"},
            {"count": {"min": 1}, "declared": True, "ids": "required"},
            {"count": 1, "args": {"city": {"matches": "Zürich"}}},
        ],
    },
)
def function_calls(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """The function calls of a candidate or choice: how many, which, declared and well-formed, with ids.

    Gemini: the ``functionCall`` parts; OpenAI: ``message.tool_calls`` (``type: function``, arguments
    a JSON string). ``count`` is a number or ``{min, max}``; ``args`` judges named arguments by value
    predicates (``equals``, ``matches``, ``contains``...).
    """
    index = args.get("candidate", 0)
    body = ctx.body()
    calls = gemini_calls(body, index) if ctx.protocol == "gemini" else openai_calls(body, index)
    noun = "candidate" if ctx.protocol == "gemini" else "choice"
    if calls is None:
        return [
            Failure(
                f"{noun} {index} is missing",
                f"/{'candidates' if ctx.protocol == 'gemini' else 'choices'}/{index}",
            )
        ]
    failures: list[Failure] = []
    if "count" in args:
        problem = _count_problem(len(calls), args["count"], "function calls")
        if problem:
            names = ", ".join(str(c.name) for c in calls[:MAX_LISTED]) or "none"
            failures.append(Failure(f"{noun} {index}: {problem} ({names})"))
    for call in calls:
        failures.extend(Failure(f"{call.where}: {p}", call.where) for p in call.problems)
        if "name" in args and call.name != args["name"]:
            failures.append(
                Failure(
                    f"{call.where}: expected a call of {show(args['name'])}, got {show(call.name)}",
                    call.where,
                )
            )
    if args.get("declared"):
        failures.extend(_declared_failures(ctx, calls))
    if "ids" in args:
        failures.extend(_id_failures(calls, args["ids"], args.get("id_matches")))
    for name, predicates in args.get("args", {}).items():
        for call in calls:
            if call.problems:
                continue
            if not isinstance(call.args, dict) or name not in call.args:
                failures.append(Failure(f"{call.where}: the call has no argument {show(name)}", call.where))
                continue
            failures.extend(
                Failure(f"{call.where}: argument {show(name)}: {problem}", call.where)
                for problem in evaluate(call.args[name], predicates)
            )
    return failures


def _declared_failures(ctx: CheckContext, calls: list[Call]) -> list[Failure]:
    declared = declared_functions(ctx.protocol, sent_body(ctx))
    failures = []
    for call in calls:
        if call.problems:
            continue
        if call.name not in declared:
            failures.append(
                Failure(
                    f"{call.where}: {show(call.name)} is not a function declared in the request "
                    f"(declared: {', '.join(sorted(declared)) or 'none'})",
                    call.where,
                )
            )
            continue
        if not isinstance(call.args, dict):
            failures.append(
                Failure(f"{call.where}: args is {show(call.args)}, expected an object", call.where)
            )
            continue
        for pointer, message in schema_problems(call.args, declared[call.name]):
            failures.append(
                Failure(
                    f"{call.where}: args of {call.name} break the declared parameters"
                    f" at {pointer or '/'}: {message}",
                    call.where,
                )
            )
    return failures


def _id_failures(calls: list[Call], mode: str, pattern: str | None) -> list[Failure]:
    failures = []
    seen: dict[str, str] = {}
    for call in calls:
        if call.id is None and mode == "when_present":
            continue
        if not isinstance(call.id, str) or not call.id:
            failures.append(
                Failure(f"{call.where}: expected a non-empty id, got {show(call.id)}", call.where)
            )
            continue
        if call.id == call.name:
            failures.append(
                Failure(
                    f"{call.where}: the id is the function name {show(call.name)}, not a call id", call.where
                )
            )
        if call.id in seen:
            failures.append(
                Failure(f"{call.where}: id {show(call.id)} repeats the id of {seen[call.id]}", call.where)
            )
        seen.setdefault(call.id, call.where)
        if pattern is not None and not re.search(pattern, call.id):
            failures.append(
                Failure(f"{call.where}: id {show(call.id, 60)} does not match /{pattern}/", call.where)
            )
    return failures


# -- parts and thoughts ----------------------------------------------------------------------------


def part_kinds(part: Any) -> set[str]:
    """The kinds a Gemini part counts as (a thought is not text; a signature rides on another part)."""
    if not isinstance(part, dict):
        return set()
    kinds = {name for name in PART_KINDS[3:] if name in part}
    if isinstance(part.get("text"), str):
        kinds.add("thought" if part.get("thought") is True else "text")
    if "thoughtSignature" in part:
        kinds.add("thoughtSignature")
    return kinds


def _candidate_parts(body: Any, index: int) -> list[Any] | None:
    candidates = body.get("candidates") if isinstance(body, dict) else None
    if not isinstance(candidates, list) or index >= len(candidates):
        return None
    parts = jp.get(candidates[index], "/content/parts", []) or []
    return parts if isinstance(parts, list) else []


@check(
    "parts",
    args={
        "type": "object",
        "additionalProperties": False,
        "required": ["kind"],
        "minProperties": 2,
        "properties": {
            "candidate": CANDIDATE,
            "kind": {"enum": list(PART_KINDS)},
            "count": ref("count"),
            "before": {"enum": list(PART_KINDS)},
        },
        "examples": [{"kind": "thought", "count": {"min": 1}, "before": "text"}],
    },
)
def parts(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """Gemini parts of one kind: how many, and that they all come before the first part of another kind.

    Kinds: ``text`` (answer text, thoughts excluded), ``thought``, ``thoughtSignature`` (carried by another
    part), ``functionCall``, ``functionResponse``, ``executableCode``, ``codeExecutionResult``,
    ``inlineData``, ``fileData``.
    """
    index = args.get("candidate", 0)
    where = f"/candidates/{index}/content/parts"
    found = _candidate_parts(ctx.body(), index)
    if found is None:
        return [Failure(f"candidate {index} is missing", f"/candidates/{index}")]
    kind = args["kind"]
    positions = [n for n, part in enumerate(found) if kind in part_kinds(part)]
    failures = []
    if "count" in args:
        problem = _count_problem(len(positions), args["count"], f"{kind} parts")
        if problem:
            layout = ", ".join("+".join(sorted(part_kinds(p))) or "?" for p in found) or "no parts"
            failures.append(Failure(f"candidate {index}: {problem} (parts: {layout})", where))
    if "before" in args:
        later = [n for n, part in enumerate(found) if args["before"] in part_kinds(part)]
        if later and positions and max(positions) > min(later):
            failures.append(
                Failure(
                    f"{where}/{max(positions)}: a {kind} part comes after the {args['before']} part "
                    f"{where}/{min(later)}",
                    f"{where}/{max(positions)}",
                )
            )
    return failures


@check(
    "thoughts_apart",
    args={
        "type": "object",
        "additionalProperties": False,
        "properties": {"candidate": CANDIDATE},
        "examples": [{}],
    },
)
def thoughts_apart(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """Thought summaries stay in their own parts (or OpenAI reasoning_content): not in the answer text."""
    index = args.get("candidate", 0)
    body = ctx.body()
    answer, where = answer_text(ctx.protocol, body, index)
    if ctx.protocol == "gemini":
        found = _candidate_parts(body, index) or []
        thoughts = [p["text"] for p in found if "thought" in part_kinds(p)]
    else:
        reasoning = jp.get(body, f"/choices/{index}/message/reasoning_content")
        thoughts = [reasoning] if isinstance(reasoning, str) else []
    failures = []
    for thought in thoughts:
        snippet = thought.strip()
        if snippet and answer and snippet in answer:
            failures.append(
                Failure(f"the answer text repeats the thought summary {show(snippet, 80)}", where)
            )
    return failures
