"""The check registry as documents: the ``expectations`` schemas of case files and the README's check table.

Both are derived from what each check is registered with (its name, argument schema, docstring and sides),
in one order: the check modules in ``FAMILIES`` order, each module's checks in source order. A case step's
``expect`` takes the checks of the response side (``$defs.expectations``), its ``upstream.expect`` those of
the upstream side (``$defs.upstream_expectations``); ``$defs.scenario`` lists the upstream's scenarios.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from conformance.checks.registry import CHECKS, Check, Schema
from conformance.suite.model import Side

FAMILIES = ("http", "body", "errors", "tools", "combinators", "stream", "modes", "billing", "sdk", "upstream")
"""The modules of ``conformance.checks`` that define checks, in the order the documents list them."""

TABLE_BEGIN = "<!-- begin check table: generated from the check registry by tools/gen_case_schema.py -->"
TABLE_END = "<!-- end check table -->"
"""The markers around the generated table in the README; only the text between them is rewritten."""
TABLE_NOTE = (
    "Side: a `response` check goes in a step's `expect`, an `upstream` check in its `upstream.expect` (it "
    "judges the request the gateway forwarded to the suite's upstream), a `both` check in either. Each "
    "check's docstring (`conformance/checks/`) documents its arguments; their schemas, with descriptions, "
    "are in `schemas/case.schema.json`."
)


class CatalogError(Exception):
    """The registry, the schema template or the README cannot make a consistent document."""


def ordered(checks: Mapping[str, Check] = CHECKS) -> list[Check]:
    """The checks in document order: by module in ``FAMILIES`` order, then by source line."""

    def position(item: Check) -> tuple[int, int]:
        module = item.function.__module__
        family = module.rsplit(".", 1)[-1]
        if not module.startswith("conformance.checks.") or family not in FAMILIES:
            raise CatalogError(f"check {item.name!r} is defined in {module}, which is not in FAMILIES")
        return FAMILIES.index(family), item.function.__code__.co_firstlineno

    return sorted(checks.values(), key=position)


EXPECTATIONS: dict[Side, str] = {"response": "expectations", "upstream": "upstream_expectations"}
"""The ``$defs`` name of each side's list of expectations."""
GENERATED = (*EXPECTATIONS.values(), "scenario")
"""The ``$defs`` of the case schema that are generated, never written in the template."""


def _on_side(args: Any, side: Side) -> Any:
    """An argument schema whose nested expectations (``any_of`` branches) are of ``side``."""
    if isinstance(args, dict):
        return {
            key: (
                f"#/$defs/{EXPECTATIONS[side]}"
                if key == "$ref" and value == f"#/$defs/{EXPECTATIONS['response']}"
                else _on_side(value, side)
            )
            for key, value in args.items()
        }
    if isinstance(args, list):
        return [_on_side(item, side) for item in args]
    return args


def expectations_schema(checks: Mapping[str, Check] = CHECKS, side: Side = "response") -> dict[str, Any]:
    """The expectations of one side: a list of one-key maps, each a check of that side and its argument."""
    return {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
            "properties": {
                item.name: {"description": item.doc, **_on_side(copy.deepcopy(dict(item.args)), side)}
                for item in ordered(checks)
                if side in item.sides
            },
        },
    }


def scenario_schema(scenarios: Mapping[str, str]) -> dict[str, Any]:
    """``$defs.scenario``: the name of one of the upstream's scenarios (name -> description)."""
    return {
        "enum": list(scenarios),
        "description": "How the suite's upstream answers the step's request instead of answering plainly: "
        + "; ".join(f"{name}: {text}" for name, text in scenarios.items()),
    }


def case_schema(
    template: Schema,
    comment: str,
    checks: Mapping[str, Check] = CHECKS,
    scenarios: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The case file schema: ``template`` with ``comment`` as its ``$comment`` and the generated definitions
    (each side's expectations, and the upstream's scenarios: name -> description, default the registry's).

    Fails when the template already defines a generated definition, when a ``$ref`` points at nothing, or
    when the result is not a valid draft 2020-12 schema.
    """
    doc = copy.deepcopy(dict(template))
    defs = doc.get("$defs")
    if not isinstance(defs, dict):
        raise CatalogError("the template has no $defs")
    for name in GENERATED:
        if name in defs:
            raise CatalogError(f"the template defines $defs.{name}, which is generated from the registry")
    if scenarios is None:
        from conformance.upstream.scenarios import SCENARIOS

        scenarios = {name: scenario.description for name, scenario in SCENARIOS.items()}
    doc["$comment"] = comment
    for side, name in EXPECTATIONS.items():
        defs[name] = expectations_schema(checks, side)
    defs["scenario"] = scenario_schema(scenarios)
    dangling = sorted({target for target in _refs(doc) if not _resolves(doc, target)})
    if dangling:
        raise CatalogError(f"$ref to nothing in the case schema: {', '.join(dangling)}")
    try:
        Draft202012Validator.check_schema(doc)
    except SchemaError as exc:
        raise CatalogError(f"the case schema is not valid JSON Schema: {exc.message}") from None
    return doc


_DATA_KEYWORDS = frozenset({"const", "enum", "examples", "default"})


def _refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` of a schema (instance data such as ``examples`` left out)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            elif key not in _DATA_KEYWORDS:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolves(doc: Any, target: str) -> bool:
    """Whether a same-document ``$ref`` (``#/a/b``) names a node of ``doc``."""
    if not target.startswith("#/"):
        return False
    node = doc
    for token in target[2:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or token not in node:
            return False
        node = node[token]
    return True


SIDE_NAMES = {("response",): "response", ("upstream",): "upstream", ("response", "upstream"): "both"}
"""How the table names the sides a check judges."""


def check_table(checks: Mapping[str, Check] = CHECKS) -> str:
    """The README's Markdown table: each check's examples, its side, its one-line meaning and its keys."""
    lines = ["| check | side | meaning |", "|---|---|---|"]
    for item in ordered(checks):
        usage = " or ".join(f"`{_flow_yaml(item.name, example)}`" for example in item.examples)
        meaning = item.summary + _keys(item.args)
        lines.append(f"| {_cell(usage)} | {SIDE_NAMES[item.sides]} | {_cell(meaning)} |")
    lines += ["", TABLE_NOTE]
    return "\n".join(lines) + "\n"


def _flow_yaml(name: str, example: Any) -> str:
    """``name: example`` as a case file writes it on one line (YAML flow style)."""
    text = yaml.safe_dump(
        {name: example}, default_flow_style=True, sort_keys=False, width=1_000_000, allow_unicode=True
    ).strip()
    return text[1:-1]  # the braces of the one-key map


def _keys(args: Schema) -> str:
    """`` Keys: `a` (required), `b`.`` for an argument that is a map, else nothing."""
    properties = args.get("properties")
    if not isinstance(properties, Mapping) or not properties:
        return ""
    required = set(args.get("required", ()))
    names = [f"`{name}`" + (" (required)" if name in required else "") for name in properties]
    return " Keys: " + ", ".join(names) + "."


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def with_check_table(readme: str, table: str) -> str:
    """``readme`` with the text between the table markers replaced by ``table``."""
    begins, ends = readme.count(TABLE_BEGIN), readme.count(TABLE_END)
    if begins != 1 or ends != 1:
        raise CatalogError(
            f"the README needs each check table marker once (found {begins} begin, {ends} end): "
            f"{TABLE_BEGIN} ... {TABLE_END}"
        )
    start = readme.index(TABLE_BEGIN) + len(TABLE_BEGIN)
    end = readme.index(TABLE_END)
    if end < start:
        raise CatalogError("the README's check table end marker comes before its begin marker")
    return f"{readme[:start]}\n\n{table}\n{readme[end:]}"
