"""Generator of the JSON Schemas in ``schemas/`` from the official API specs: the responses, and the native
requests a gateway forwards (judged in two-sided runs).

It reads the Gemini v1beta OpenAPI 3.0 conversion and the OpenAI OpenAPI 3.1 document, keeps the
transitive closure of the definitions the suite validates against, rewrites them as JSON Schema
draft 2020-12 and applies the deliberate departures listed in ``schemas/choices.yaml``.

    python tools/gen_schemas.py            # write schemas/gemini.schema.json, schemas/openai.schema.json
    python tools/gen_schemas.py --check    # exit 1 if the committed files differ from the output
"""

from __future__ import annotations

import argparse
import copy
import difflib
import hashlib
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

REPO = Path(__file__).resolve().parent.parent
SCHEMA_DIR = REPO / "conformance" / "schemas"
CHOICES_FILE = SCHEMA_DIR / "choices.yaml"
DEFAULT_SPECS = REPO.parent / "shared" / "specs"
ID_BASE = "https://gateway-conformance.dev/schemas/"
DIALECT = "https://json-schema.org/draft/2020-12/schema"

JSON = Any
Schema = dict[str, Any]

# JSON Schema keywords copied as they are.
VALUE_KEYWORDS = frozenset(
    {
        "type",
        "enum",
        "const",
        "required",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
    }
)
# Keywords whose value is one subschema.
SCHEMA_KEYWORDS = frozenset({"items", "additionalProperties", "not", "contains", "propertyNames"})
# Keywords whose value is a list of subschemas.
LIST_KEYWORDS = frozenset({"anyOf", "oneOf", "allOf", "prefixItems"})
# Keywords whose value maps names to subschemas.
MAP_KEYWORDS = frozenset({"properties", "patternProperties"})
# Annotations and OpenAPI-only keywords, dropped to keep the output small and pure JSON Schema.
DROPPED_KEYWORDS = frozenset(
    {
        "description",
        "title",
        "format",
        "default",
        "example",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
        "enumDeprecated",
        "discriminator",
        "externalDocs",
        "xml",
        "nullable",
    }
)
OPS = ("define", "copy_of", "add_properties", "set", "require", "unrequire", "add_enum")


@dataclass(frozen=True)
class Target:
    """One generated schema file: the spec it is derived from and the names it must export."""

    name: str
    spec_file: str
    exports: tuple[str, ...]
    renames: Mapping[str, str] = field(default_factory=dict)

    @property
    def schema_id(self) -> str:
        """The ``$id`` of the generated document."""
        return f"{ID_BASE}{self.name}.schema.json"

    @property
    def output(self) -> Path:
        """Where the generated document is written."""
        return SCHEMA_DIR / f"{self.name}.schema.json"


TARGETS: tuple[Target, ...] = (
    Target(
        name="gemini",
        spec_file="gemini-v1beta-openapi3-converted.json",
        exports=(
            "GenerateContentResponse",
            "Candidate",
            "Content",
            "Part",
            "UsageMetadata",
            "CountTokensResponse",
            "CachedContent",
            "ListModelsResponse",
            "Model",
            "Error",
            "GenerateContentRequest",
            "CountTokensRequest",
        ),
    ),
    Target(
        name="openai",
        spec_file="openai-openapi.yaml",
        exports=("ChatCompletion", "ChatCompletionChunk", "Error", "ModelList", "Model"),
        renames={
            "CreateChatCompletionResponse": "ChatCompletion",
            "CreateChatCompletionStreamResponse": "ChatCompletionChunk",
            "ErrorResponse": "Error",
            "Error": "ErrorObject",
            "ListModelsResponse": "ModelList",
        },
    ),
)


class GenerationError(Exception):
    """The specs and choices.yaml do not produce a consistent schema."""


class _SpecLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """A safe YAML loader that keeps timestamps as strings, as JSON would."""


_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _SpecLoader.yaml_implicit_resolvers.copy().items()
}


def load_spec(path: Path) -> tuple[Mapping[str, JSON], str]:
    """The ``components.schemas`` of an OpenAPI file and the file's sha256."""
    raw = path.read_bytes()
    doc = json.loads(raw) if path.suffix == ".json" else yaml.load(raw, Loader=_SpecLoader)  # noqa: S506
    return doc["components"]["schemas"], hashlib.sha256(raw).hexdigest()


# ---------------------------------------------------------------------------------------------------
# OpenAPI -> JSON Schema


@dataclass
class _Converter:
    """Rewrites OpenAPI schema objects as draft 2020-12 subschemas."""

    renames: Mapping[str, str]
    unknown: set[str] = field(default_factory=set)

    def def_name(self, ref: str) -> str:
        """The ``$defs`` name for an OpenAPI ``#/components/schemas/X`` reference."""
        prefix = "#/components/schemas/"
        if not ref.startswith(prefix):
            raise GenerationError(f"unsupported $ref {ref!r}")
        name = ref[len(prefix) :]
        return self.renames.get(name, name)

    def convert(self, node: JSON) -> JSON:
        """The JSON Schema equivalent of one OpenAPI schema object."""
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            raise GenerationError(f"schema expected, got {node!r}")
        out: Schema = {}
        for key, value in node.items():
            if key in DROPPED_KEYWORDS or key.startswith("x-"):
                continue
            if key == "$ref":
                out["$ref"] = "#/$defs/" + self.def_name(value)
            elif key in VALUE_KEYWORDS:
                out[key] = copy.deepcopy(value)
            elif key in SCHEMA_KEYWORDS:
                out[key] = self.convert(value)
            elif key in LIST_KEYWORDS:
                out[key] = [self.convert(item) for item in value]
            elif key in MAP_KEYWORDS:
                out[key] = {name: self.convert(sub) for name, sub in value.items()}
            else:
                self.unknown.add(key)
        if node.get("nullable") is True:
            out = _nullable(out)
        return out


def _nullable(schema: Schema) -> Schema:
    """``schema`` widened to also accept null (OpenAPI 3.0 ``nullable: true``)."""
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if "null" not in types:
            schema["type"] = [*types, "null"]
        if "enum" in schema and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def iter_refs(node: JSON) -> Iterator[str]:
    """Every ``$defs`` name referenced anywhere in a converted schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.removeprefix("#/$defs/")
            elif key in MAP_KEYWORDS and isinstance(value, dict):
                for sub in value.values():
                    yield from iter_refs(sub)
            elif key not in ("enum", "const", "required"):
                yield from iter_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from iter_refs(item)


def iter_properties(schema: JSON, pointer: str = "") -> Iterator[tuple[str, Schema, str]]:
    """Every ``(pointer, object schema, property name)`` declared in a converted schema."""
    if not isinstance(schema, dict):
        return
    for name, sub in schema.get("properties", {}).items():
        yield pointer, schema, name
        yield from iter_properties(sub, f"{pointer}/properties/{_escape(name)}")
    for key in SCHEMA_KEYWORDS:
        yield from iter_properties(schema.get(key), f"{pointer}/{key}")
    for key in LIST_KEYWORDS:
        for index, sub in enumerate(schema.get(key, [])):
            yield from iter_properties(sub, f"{pointer}/{key}/{index}")


# ---------------------------------------------------------------------------------------------------
# choices.yaml


@dataclass(frozen=True)
class Choice:
    """One deliberate departure from the spec text, as written in choices.yaml."""

    id: str
    target: str
    ops: Mapping[str, JSON]
    why: str
    evidence: tuple[str, ...]

    @classmethod
    def parse(cls, raw: Mapping[str, JSON], where: str, *, need_op: bool = True) -> Choice:
        """A choice from its YAML mapping, checked for the mandatory fields."""
        allowed = {"id", "target", "why", "evidence", *OPS}
        extra = set(raw) - allowed
        if extra:
            raise GenerationError(f"{where}: unknown keys {sorted(extra)}")
        for key in ("id", "target", "why", "evidence"):
            if not raw.get(key):
                raise GenerationError(f"{where}: {key!r} is missing or empty")
        ops = {op: raw[op] for op in OPS if op in raw}
        if need_op and not ops:
            raise GenerationError(f"{where} ({raw['id']}): no operation among {OPS}")
        evidence = raw["evidence"]
        return cls(
            id=raw["id"],
            target=raw["target"],
            ops=ops,
            why=" ".join(str(raw["why"]).split()),
            evidence=tuple(evidence) if isinstance(evidence, list) else (str(evidence),),
        )


@dataclass(frozen=True)
class RequiredPolicy:
    """Require the properties whose spec description starts with ``Required.``, minus exceptions."""

    id: str
    why: str
    evidence: tuple[str, ...]
    exceptions: Mapping[str, Choice]


@dataclass(frozen=True)
class TargetChoices:
    """All choices that apply to one generated file."""

    required_policy: RequiredPolicy | None
    choices: tuple[Choice, ...]


def load_choices(path: Path) -> dict[str, TargetChoices]:
    """The choices of every target, keyed by target name."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    result: dict[str, TargetChoices] = {}
    seen_ids: set[str] = set()
    for target in TARGETS:
        section = doc.get(target.name) or {}
        policy = None
        raw_policy = section.get("required_from_description")
        if raw_policy:
            exceptions: dict[str, Choice] = {}
            for index, raw in enumerate(raw_policy.get("except", [])):
                choice = Choice.parse(
                    raw, f"{target.name}.required_from_description.except[{index}]", need_op=False
                )
                exceptions[choice.target] = choice
            if not raw_policy.get("id") or not raw_policy.get("why") or not raw_policy.get("evidence"):
                raise GenerationError(f"{target.name}.required_from_description needs id, why and evidence")
            policy = RequiredPolicy(
                id=raw_policy["id"],
                why=" ".join(str(raw_policy["why"]).split()),
                evidence=tuple(raw_policy["evidence"]),
                exceptions=exceptions,
            )
        choices = tuple(
            Choice.parse(raw, f"{target.name}.choices[{index}]")
            for index, raw in enumerate(section.get("choices", []))
        )
        ids = [choice.id for choice in (*choices, *(policy.exceptions.values() if policy else ()))]
        for choice_id in [*ids, *([policy.id] if policy else [])]:
            if choice_id in seen_ids:
                raise GenerationError(f"duplicate choice id {choice_id!r}")
            seen_ids.add(choice_id)
        result[target.name] = TargetChoices(required_policy=policy, choices=choices)
    return result


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _resolve(defs: Mapping[str, Schema], target: str) -> tuple[str, Schema]:
    """The definition name and the subschema a choice's ``target`` points at."""
    name, _, pointer = target.partition("/")
    if name not in defs:
        raise GenerationError(f"target {target!r}: no definition {name!r}")
    node: JSON = defs[name]
    for token in pointer.split("/") if pointer else ():
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(token)]
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            raise GenerationError(f"target {target!r}: nothing at {token!r}")
    if not isinstance(node, dict):
        raise GenerationError(f"target {target!r} is not a schema object")
    return name, node


def apply_choice(defs: dict[str, Schema], choice: Choice, notes: dict[str, list[str]]) -> None:
    """Apply one choice to the definitions in place; every operation must change something."""

    def fail(message: str) -> GenerationError:
        return GenerationError(f"choice {choice.id!r} ({choice.target}): {message}")

    ops = choice.ops
    if "define" in ops or "copy_of" in ops:
        if "/" in choice.target or choice.target in defs:
            raise fail("define/copy_of needs a new top-level definition name")
        if "copy_of" in ops:
            if ops["copy_of"] not in defs:
                raise fail(f"copy_of: no definition {ops['copy_of']!r}")
            defs[choice.target] = copy.deepcopy(defs[ops["copy_of"]])
        else:
            defs[choice.target] = copy.deepcopy(ops["define"])
    name, node = _resolve(defs, choice.target)
    for prop, sub in (ops.get("add_properties") or {}).items():
        properties = node.setdefault("properties", {})
        if prop in properties:
            raise fail(f"add_properties: {prop!r} is already declared")
        properties[prop] = copy.deepcopy(sub)
    for key, value in (ops.get("set") or {}).items():
        if key in node:
            raise fail(f"set: {key!r} is already present")
        node[key] = copy.deepcopy(value)
    for prop in ops.get("require") or ():
        required = node.setdefault("required", [])
        if prop in required:
            raise fail(f"require: {prop!r} is already required")
        required.append(prop)
    if "unrequire" in ops:
        for prop in ops["unrequire"]:
            if prop not in node.get("required", []):
                raise fail(f"unrequire: {prop!r} is not required")
            node["required"].remove(prop)
        if not node["required"]:
            del node["required"]
    for value in ops.get("add_enum") or ():
        if "enum" not in node:
            raise fail("add_enum: the target has no enum")
        if value in node["enum"]:
            raise fail(f"add_enum: {value!r} is already allowed")
        node["enum"].append(value)
    notes.setdefault(name, []).append(choice.id)


def apply_required_policy(
    defs: dict[str, Schema],
    raw_defs: Mapping[str, JSON],
    renames: Mapping[str, str],
    policy: RequiredPolicy,
    notes: dict[str, list[str]],
) -> None:
    """Mark as required every property whose spec description starts with ``Required.``."""
    inverse = {new: old for old, new in renames.items()}
    used: set[str] = set()
    for name, schema in defs.items():
        raw = raw_defs.get(inverse.get(name, name))
        if raw is None:
            continue
        for pointer, node, prop in list(iter_properties(schema)):
            raw_node = _raw_at(raw, pointer)
            description = str(raw_node.get("properties", {}).get(prop, {}).get("description", ""))
            if not description.startswith("Required."):
                continue
            target = f"{name}{pointer}/properties/{_escape(prop)}"
            if target in policy.exceptions:
                used.add(target)
                notes.setdefault(name, []).append(policy.exceptions[target].id)
                continue
            required = node.setdefault("required", [])
            if prop not in required:
                required.append(prop)
                notes.setdefault(name, []).append(policy.id)
    unused = set(policy.exceptions) - used
    if unused:
        raise GenerationError(f"required_from_description exceptions match nothing: {sorted(unused)}")


def _raw_at(raw: JSON, pointer: str) -> Mapping[str, JSON]:
    """The spec's schema object at a pointer of the converted schema ({} where the two differ)."""
    node = raw
    for token in pointer.split("/")[1:] if pointer else ():
        token = token.replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(token)] if isinstance(node, list) else node[token]
        except (KeyError, IndexError, ValueError, TypeError):
            return {}
    return node if isinstance(node, dict) else {}


# ---------------------------------------------------------------------------------------------------
# Generation


def closure(defs: Mapping[str, Schema], roots: Sequence[str]) -> list[str]:
    """The names reachable from ``roots`` through ``$ref``, failing on dangling references."""
    seen: set[str] = set()
    todo = list(roots)
    dangling: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in defs:
            dangling.add(name)
            continue
        seen.add(name)
        todo.extend(iter_refs(defs[name]))
    if dangling:
        raise GenerationError(f"references to undefined definitions: {sorted(dangling)}")
    return sorted(seen)


def generate(target: Target, specs: Path, choices: TargetChoices) -> dict[str, JSON]:
    """The complete generated document for one target."""
    spec_path = specs / target.spec_file
    raw_defs, digest = load_spec(spec_path)
    converter = _Converter(target.renames)
    defs: dict[str, Schema] = {}
    unknown_by_def: dict[str, set[str]] = {}
    for spec_name, raw in raw_defs.items():
        name = target.renames.get(spec_name, spec_name)
        converter.unknown = set()
        defs[name] = converter.convert(raw)
        if converter.unknown:
            unknown_by_def[name] = converter.unknown
    notes: dict[str, list[str]] = {}
    if choices.required_policy is not None:
        apply_required_policy(defs, raw_defs, target.renames, choices.required_policy, notes)
    defined: list[str] = []
    for choice in choices.choices:
        apply_choice(defs, choice, notes)
        if "define" in choice.ops or "copy_of" in choice.ops:
            defined.append(choice.target)
    missing = [name for name in target.exports if name not in defs]
    if missing:
        raise GenerationError(f"{target.name}: exported names not defined: {missing}")
    names = closure(defs, [*target.exports, *defined])
    bad = {name: sorted(unknown_by_def[name]) for name in names if name in unknown_by_def}
    if bad:
        raise GenerationError(f"{target.name}: unsupported keywords in {bad}")
    inverse = {new: old for old, new in target.renames.items()}
    out_defs: dict[str, Schema] = {}
    for name in names:
        schema = defs[name]
        comment = []
        if name in inverse:
            comment.append(f"spec: {inverse[name]}")
        if name in notes:
            comment.append("choices: " + ", ".join(sorted(set(notes[name]))))
        if comment:
            schema = {**schema, "$comment": "; ".join(comment)}
        out_defs[name] = schema
    doc = {
        "$schema": DIALECT,
        "$id": target.schema_id,
        "$comment": (
            f"Generated by tools/gen_schemas.py from specs/{target.spec_file} (sha256 {digest}) "
            "and schemas/choices.yaml. Do not edit by hand."
        ),
        "$defs": out_defs,
    }
    Draft202012Validator.check_schema(doc)
    return doc


def render(doc: Mapping[str, JSON]) -> str:
    """The stable text form of a generated document."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def build_all(specs: Path, choices_file: Path = CHOICES_FILE) -> dict[Path, str]:
    """The text of every generated file, keyed by output path."""
    all_choices = load_choices(choices_file)
    return {target.output: render(generate(target, specs, all_choices[target.name])) for target in TARGETS}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=Path, default=DEFAULT_SPECS, help="directory holding the spec files")
    parser.add_argument(
        "--check", action="store_true", help="report drift instead of writing; exit 1 on drift"
    )
    args = parser.parse_args(argv)
    try:
        outputs = build_all(args.specs)
    except (GenerationError, OSError, yaml.YAMLError) as exc:
        print(f"gen_schemas: {exc}", file=sys.stderr)
        return 2
    drift = False
    for path, text in outputs.items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == text:
            continue
        if args.check:
            drift = True
            diff = difflib.unified_diff(
                current.splitlines(),
                text.splitlines(),
                f"{path.name} (committed)",
                f"{path.name} (generated)",
                lineterm="",
                n=1,
            )
            lines = list(diff)
            print(f"drift: {path.relative_to(REPO)} differs from the generator's output", file=sys.stderr)
            print("\n".join(lines[:40]) + ("\n..." if len(lines) > 40 else ""), file=sys.stderr)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO)} ({len(text)} bytes)")
    if args.check and not drift:
        print("schemas are up to date")
    return 1 if drift else 0


if __name__ == "__main__":
    sys.exit(main())
