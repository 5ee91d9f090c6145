"""Checks on the JSON body: schema, predicates at pointers, answer text, sums and key style."""

from __future__ import annotations

import re
from typing import Any

from conformance import pointer as jp
from conformance.checks.predicates import evaluate, show
from conformance.checks.registry import CheckContext, Failure, Schema, check, ref

MAX_SCHEMA_FAILURES = 10
# ``<predicate>_at: pointer`` compares with the value found at another pointer (``N#/...`` for step N).
COMPARED_AT = ("equals_at", "gt_at", "gte_at", "lt_at", "lte_at")

CANDIDATE: Schema = {
    "type": "integer",
    "minimum": 0,
    "description": "The index of the candidate (Gemini) or choice (OpenAI); default 0.",
}
"""The argument schema of ``candidate``, shared by the checks that read one candidate or choice."""
TEXT_PREDICATES: dict[str, Schema] = {
    "equals": {"type": "string"},
    "one_of": {"type": "array", "items": {"type": "string"}},
    "matches": {"type": "string"},
    "contains": {"type": "string"},
    "not_contains": {"type": "string"},
    "length": ref("predicates/properties/length"),
}
"""The argument schemas of the predicates a text is judged by (``text``, ``stream_text``)."""


@check(
    "schema",
    args={
        "type": "string",
        "pattern": "^(gemini|openai)/[A-Za-z]+$",
        "examples": ["gemini/GenerateContentResponse"],
    },
    sides=("response", "upstream"),
)
def schema(ctx: CheckContext, name: str) -> list[Failure]:
    """The body validates against a schema of ``schemas/`` (strict mode: no extra fields).

    The name is ``<file>/<definition>``: ``gemini/Candidate`` is ``$defs/Candidate`` of
    ``schemas/gemini.schema.json``. On the upstream side the body is the forwarded request, judged by a
    request schema (``gemini/GenerateContentRequest``). At most ten violations are listed.
    """
    violations = ctx.schemas.validate(name, ctx.body(), strict=ctx.strict)
    failures = [Failure(f"{name}: {v.message}", v.pointer) for v in violations[:MAX_SCHEMA_FAILURES]]
    if len(violations) > MAX_SCHEMA_FAILURES:
        failures.append(Failure(f"{name}: {len(violations) - MAX_SCHEMA_FAILURES} more violations"))
    return failures


@check(
    "json",
    args={
        "type": "object",
        "required": ["at"],
        "minProperties": 2,
        "additionalProperties": False,
        "properties": {
            "at": ref("pointer"),
            "equals": {},
            "one_of": ref("predicates/properties/one_of"),
            "matches": ref("predicates/properties/matches"),
            "type": ref("predicates/properties/type"),
            "length": ref("predicates/properties/length"),
            "exists": ref("predicates/properties/exists"),
            "contains": {},
            "not_contains": {},
            "gte": {"type": "number"},
            "lte": {"type": "number"},
            "gt": {"type": "number"},
            "lt": {"type": "number"},
            **{compared: ref("pointer") for compared in COMPARED_AT},
            "some": {
                "type": "boolean",
                "description": "Pass when at least one value reached by the pointer satisfies the predicates "
                "(default: every value must).",
            },
        },
        "examples": [
            {"at": "/candidates/0/finishReason", "equals": "STOP"},
            {"at": "/usageMetadata/promptTokensDetails/*/modality", "some": True, "equals": "IMAGE"},
        ],
    },
    sides=("response", "upstream"),
)
def json_at(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """Predicates on the values at a JSON pointer (``*``: every element; ``N#/...``: step N's response).

    ``at`` is the pointer (``*`` reaches every element or member). Predicates: ``equals``, ``one_of``,
    ``matches``, ``type``, ``length`` (a number or ``{min, max}``), ``exists``, ``contains``,
    ``not_contains``, ``gt``, ``gte``, ``lt``, ``lte``; ``equals_at``, ``gt_at``, ``gte_at``, ``lt_at``
    and ``lte_at`` compare with the value at another pointer (``N#/pointer``: in step N's response).
    Every reached value must satisfy them, or with ``some: true`` at least one. On the upstream side ``at``
    points into the forwarded request (``N#/`` still reads step N's response).
    """
    at = args["at"]
    matches = ctx.lookup(at)
    if "exists" in args:
        if args["exists"] and not matches:
            return [Failure(f"expected a value at {at}, found none", at)]
        if not args["exists"] and matches:
            where, value = matches[0]
            return [Failure(f"expected nothing at {at}, found {show(value)}", where)]
    predicates = dict(args)
    for compared in COMPARED_AT:
        if compared in predicates:
            others = ctx.lookup(predicates.pop(compared))
            if not others:
                return [Failure(f"nothing at {args[compared]} to compare {at} with", at)]
            predicates[compared.removesuffix("_at")] = others[0][1]
    checks = {k: v for k, v in predicates.items() if k not in ("at", "exists", "some")}
    if not checks:
        return []
    if not matches:
        return [Failure(f"expected a value at {at}, found none", at)]
    failures: list[Failure] = []
    for where, value in matches:
        problems = evaluate(value, checks)
        if args.get("some") and not problems:
            return []
        failures.extend(Failure(f"{where or '/'}: {problem}", where) for problem in problems)
    if args.get("some"):
        found = ", ".join(show(value, 60) for _, value in matches[:5])
        return [Failure(f"no value at {at} satisfies {show(checks)} (found {found})", at)]
    return failures


def answer_text(protocol: str, body: Any, index: int = 0) -> tuple[str | None, str]:
    """The answer text of a Gemini candidate or an OpenAI choice (thought parts left out) and its pointer."""
    if protocol == "gemini":
        candidates = body.get("candidates") if isinstance(body, dict) else None
        if not isinstance(candidates, list) or index >= len(candidates):
            return None, f"/candidates/{index}"
        parts = jp.get(candidates[index], "/content/parts", [])
        texts = [
            p["text"]
            for p in parts
            if isinstance(p, dict) and isinstance(p.get("text"), str) and not p.get("thought")
        ]
        return "".join(texts), f"/candidates/{index}/content/parts"
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list):
        return None, f"/choices/{index}"
    chosen = next((c for c in choices if isinstance(c, dict) and c.get("index") == index), None)
    if chosen is None and index < len(choices):
        chosen = choices[index]
    if not isinstance(chosen, dict):
        return None, f"/choices/{index}"
    content = jp.get(chosen, "/message/content")
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return (content if isinstance(content, str) else None), f"/choices/{index}/message/content"


def required_answer_text(ctx: CheckContext, index: int) -> tuple[str | None, str, list[Failure]]:
    """The answer text of candidate/choice ``index`` and its pointer, or the failure saying there is none."""
    value, where = answer_text(ctx.protocol, ctx.body(), index)
    if value is None:
        noun = "candidate" if ctx.protocol == "gemini" else "choice"
        return None, where, [Failure(f"no answer text: {noun} {index} is missing or has no text", where)]
    return value, where, []


@check(
    "text",
    args={
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {"candidate": CANDIDATE, **TEXT_PREDICATES},
        "examples": [{"contains": "PINEAPPLE"}, {"candidate": 1, "length": {"min": 1}}],
    },
)
def text(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """The answer text of a candidate or choice (thought parts left out), judged by text predicates."""
    index = args.get("candidate", 0)
    value, where, missing = required_answer_text(ctx, index)
    if value is None:
        return missing
    noun = "candidate" if ctx.protocol == "gemini" else "choice"
    predicates = {k: v for k, v in args.items() if k != "candidate"}
    return [
        Failure(f"answer text of {noun} {index}: {problem}", where) for problem in evaluate(value, predicates)
    ]


@check(
    "sum",
    args={
        "type": "object",
        "required": ["total", "of"],
        "additionalProperties": False,
        "properties": {
            "total": ref("pointer"),
            "of": {"type": "array", "minItems": 1, "items": ref("pointer")},
            "at_least": {
                "type": "boolean",
                "description": "The total may exceed the sum (it must not fall short).",
            },
        },
        "examples": [
            {"total": "/usage/total_tokens", "of": ["/usage/prompt_tokens", "/usage/completion_tokens"]}
        ],
    },
)
def total_is_sum(ctx: CheckContext, args: dict[str, Any]) -> list[Failure]:
    """The value at ``total`` equals the sum of the values at ``of`` (absent ones count 0).

    A pointer of ``of`` with ``*`` adds every value it reaches (``/usageMetadata/candidatesTokensDetails/*/
    tokenCount``). With ``at_least: true`` the total may exceed the sum, but not fall short of it.
    """
    totals = ctx.lookup(args["total"])
    if not totals:
        return [Failure(f"expected a total at {args['total']}, found none", args["total"])]
    total = totals[0][1]
    parts: list[str] = []
    addends: float = 0
    for addend in args["of"]:
        found = ctx.lookup(addend)
        values = [value for _, value in found] if "*" in addend else [found[0][1] if found else 0]
        for value in values:
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return [Failure(f"{addend}: expected a number, got {show(value)}", addend)]
            addends += value
        name = addend.rsplit("/", 1)[-1] if "*" not in addend else addend
        parts.append(f"{name}={sum(values)}" if found else f"{name}=absent(0)")
    if args.get("at_least"):
        if isinstance(total, (int, float)) and not isinstance(total, bool) and total >= addends:
            return []
        return [
            Failure(
                f"{args['total']} is {show(total)}, expected at least the sum {addends} "
                f"({' + '.join(parts)})",
                args["total"],
            )
        ]
    if total == addends:
        return []
    return [
        Failure(
            f"{args['total']} is {show(total)}, expected the sum {addends} ({' + '.join(parts)})",
            args["total"],
        )
    ]


_CAMEL = re.compile(r"^(@type|[a-z][a-zA-Z0-9]*)$")
# Members whose keys are user data (function args, schemas, labels), not protocol field names.
_USER_DATA_KEYS = frozenset(
    {
        "args",
        "response",
        "parameters",
        "parametersJsonSchema",
        "responseSchema",
        "responseJsonSchema",
        "metadata",
        "labels",
        "properties",
        "partialArgs",
    }
)


@check("camel_case_keys", args={"const": True, "examples": [True]})
def camel_case_keys(ctx: CheckContext, _: Any) -> list[Failure]:
    """The response's keys are lowerCamelCase (user data such as function args left out)."""
    offenders: list[str] = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                here = f"{where}/{jp.escape(key)}"
                if not _CAMEL.match(key):
                    offenders.append(here)
                if key not in _USER_DATA_KEYS:
                    walk(item, here)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{where}/{i}")

    walk(ctx.body(), "")
    if not offenders:
        return []
    listed = ", ".join(offenders[:5]) + (f" and {len(offenders) - 5} more" if len(offenders) > 5 else "")
    return [Failure(f"expected lowerCamelCase response keys, found {listed}", offenders[0])]
