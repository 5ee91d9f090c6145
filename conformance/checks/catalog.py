"""The check registry as documents: the ``expectations`` schema of case files and the README's check table.

Both are derived from what each check is registered with (its name, argument schema and docstring), in
one order: the check modules in ``FAMILIES`` order, each module's checks in source order.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from conformance.checks.registry import CHECKS, Check, Schema

FAMILIES = ("http", "body", "errors", "tools", "combinators", "stream", "modes", "billing", "sdk")
"""The modules of ``conformance.checks`` that define checks, in the order the documents list them."""

TABLE_BEGIN = "<!-- begin check table: generated from the check registry by tools/gen_case_schema.py -->"
TABLE_END = "<!-- end check table -->"
"""The markers around the generated table in the README; only the text between them is rewritten."""
TABLE_NOTE = (
    "Each check's docstring (`conformance/checks/`) documents its arguments; their schemas, with "
    "descriptions, are in `schemas/case.schema.json`."
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


def expectations_schema(checks: Mapping[str, Check] = CHECKS) -> dict[str, Any]:
    """The ``expectations`` definition: a list of one-key maps, each key a check and its argument."""
    return {
        "type": "array",
        "minItems": 1,
        "items": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "additionalProperties": False,
            "properties": {
                item.name: {"description": item.doc, **copy.deepcopy(dict(item.args))}
                for item in ordered(checks)
            },
        },
    }


def case_schema(template: Schema, comment: str, checks: Mapping[str, Check] = CHECKS) -> dict[str, Any]:
    """The case file schema: ``template`` with ``comment`` as its ``$comment`` and the generated expectations.

    Fails when the template already defines ``expectations``, when a ``$ref`` points at nothing, or when
    the result is not a valid draft 2020-12 schema.
    """
    doc = copy.deepcopy(dict(template))
    defs = doc.get("$defs")
    if not isinstance(defs, dict):
        raise CatalogError("the template has no $defs")
    if "expectations" in defs:
        raise CatalogError("the template defines $defs.expectations, which is generated from the registry")
    doc["$comment"] = comment
    defs["expectations"] = expectations_schema(checks)
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


def check_table(checks: Mapping[str, Check] = CHECKS) -> str:
    """The README's Markdown table: each check's examples, its one-line meaning and its keys."""
    lines = ["| check | meaning |", "|---|---|"]
    for item in ordered(checks):
        usage = " or ".join(f"`{_flow_yaml(item.name, example)}`" for example in item.examples)
        meaning = item.summary + _keys(item.args)
        lines.append(f"| {_cell(usage)} | {_cell(meaning)} |")
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
