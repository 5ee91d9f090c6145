"""Loading case files (cases/<protocol>/<feature>.yaml) into validated ``Case`` objects."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from conformance.errors import ConfigError
from conformance.model import Case, Expectation, Policy, RequestSpec, Step
from conformance.payloads import PayloadError, check_template

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CASES_DIR = REPO_ROOT / "cases"
SCHEMAS_DIR = REPO_ROOT / "schemas"
# libyaml's safe loader when PyYAML was built with it (several times faster), else the pure-Python one.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=None)
def _schema_validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS_DIR / name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def validate_document(document: Any, schema_file: str, source: Path | str) -> None:
    """Raise a one-line ``ConfigError`` naming the first offending field of ``document``."""
    validator = _schema_validator(schema_file)
    errors = sorted(validator.iter_errors(document), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        error = errors[0]
        field = _field_path(error.absolute_path)
        raise ConfigError(_short_message(error), source=source, field=field or "(top level)")


def _field_path(path: Iterable[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short_message(error: Any) -> str:
    message = error.message
    if len(message) > 200:
        message = message[:197] + "..."
    return message


def read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except FileNotFoundError:
        raise ConfigError("file not found", source=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"not valid YAML: {problem}", source=path, field=where) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", source=path) from None


def load_case_file(path: Path) -> list[Case]:
    """Read, schema-check and convert one case file."""
    document = read_yaml(path)
    validate_document(document, "case.schema.json", path)
    protocol = document["protocol"]
    file_feature = document["feature"]
    cases: list[Case] = []
    for index, raw in enumerate(document["cases"]):
        where = f"cases[{index}]"
        feature = raw.get("feature", file_feature)
        case_id = raw["id"]
        if not case_id.startswith(f"{protocol}/{feature}/"):
            raise ConfigError(f"id {case_id!r} must start with '{protocol}/{feature}/'", source=path, field=f"{where}.id")
        policy = Policy(**raw.get("policy", {}))
        if policy.require > policy.repeat:
            raise ConfigError("policy.require exceeds policy.repeat", source=path, field=f"{where}.policy")
        steps = [_step(raw["request"], raw["expect"], path, where)]
        for n, step in enumerate(raw.get("steps", []), start=1):
            steps.append(_step(step["request"], step["expect"], path, f"{where}.steps[{n - 1}]"))
        cases.append(
            Case(
                id=case_id,
                protocol=protocol,
                feature=feature,
                level=raw["level"],
                title=raw["title"],
                reference=raw.get("reference", document["reference"]),
                steps=tuple(steps),
                policy=policy,
                source=path,
                bug_classes=tuple(raw.get("bug_classes", ())),
                reference_only=raw.get("reference_only", False),
            )
        )
    return cases


def _step(request: dict[str, Any], expect: list[dict[str, Any]], path: Path, where: str) -> Step:
    body = request.get("body")
    try:
        check_template(body, f"{where}.request.body")
    except PayloadError as exc:
        raise ConfigError(str(exc), source=path) from None
    spec = RequestSpec(
        method=request.get("method", "POST" if ("body" in request or "raw_body" in request) else "GET"),
        path=request["path"],
        query={k: v if isinstance(v, dict) else str(v) for k, v in request.get("query", {}).items()},
        headers=dict(request.get("headers", {})),
        body=body,
        raw_body=request.get("raw_body"),
        auth=request.get("auth", "profile"),
        stream=request.get("stream", "none"),
    )
    expectations = []
    for n, item in enumerate(expect):
        ((check, args),) = item.items()
        _check_regexes(args, path, f"{where}.expect[{n}].{check}")
        expectations.append(Expectation(check=check, args=args))
    return Step(request=spec, expect=tuple(expectations))


def _check_regexes(args: Any, path: Path, field: str) -> None:
    if isinstance(args, dict) and isinstance(args.get("matches"), str):
        try:
            re.compile(args["matches"])
        except re.error as exc:
            raise ConfigError(f"bad regular expression: {exc}", source=path, field=f"{field}.matches") from None


def case_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.yaml") if p.is_file())


def load_cases(directory: Path | None = None) -> list[Case]:
    """Every case under ``directory``; ids must be unique across files."""
    directory = directory or DEFAULT_CASES_DIR
    if not directory.is_dir():
        raise ConfigError("cases directory not found", source=directory)
    seen: dict[str, Path] = {}
    cases: list[Case] = []
    for path in case_files(directory):
        for case in load_case_file(path):
            if case.id in seen:
                raise ConfigError(f"duplicate case id {case.id!r} (also in {seen[case.id]})", source=path, field="id")
            seen[case.id] = path
            cases.append(case)
    return cases
