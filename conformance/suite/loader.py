"""Loading case files (cases/<protocol>/<feature>.yaml) into validated ``Case`` objects."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from typing import Any

from conformance.errors import ConfigError
from conformance.suite.bodies import PayloadError, check_template
from conformance.suite.model import (
    SDK_CALLS,
    TRIGGER_NAMES,
    Case,
    Expectation,
    Policy,
    RequestSpec,
    SdkCall,
    Step,
    UpstreamPart,
)
from conformance.suite.templates import trigger_names
from conformance.validation.documents import read_yaml, validate_document

DEFAULT_CASES_DIR = Path(str(files("conformance.suite") / "cases"))
"""The built-in cases, shipped inside the package."""


def load_case_file(path: Path) -> list[Case]:
    """Read, schema-check and convert one case file."""
    document = read_yaml(path)
    validate_document(document, "case.schema.json", path)
    protocol = document["protocol"]
    file_feature = document["feature"]
    group = document.get("group")
    cases: list[Case] = []
    for index, raw in enumerate(document["cases"]):
        where = f"cases[{index}]"
        feature = raw.get("feature", file_feature)
        case_id = raw["id"]
        if not case_id.startswith(f"{protocol}/{feature}/"):
            raise ConfigError(
                f"id {case_id!r} must start with '{protocol}/{feature}/'", source=path, field=f"{where}.id"
            )
        policy = Policy(**raw.get("policy", {}))
        if policy.require > policy.repeat:
            raise ConfigError("policy.require exceeds policy.repeat", source=path, field=f"{where}.policy")
        steps = [_step(raw["request"], raw["expect"], path, where, protocol, raw.get("upstream"))]
        for n, step in enumerate(raw.get("steps", []), start=1):
            at = f"{where}.steps[{n - 1}]"
            steps.append(_step(step["request"], step["expect"], path, at, protocol, step.get("upstream")))
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
                model=raw.get("model", "default"),
                group=group,
            )
        )
    return cases


def _step(
    request: dict[str, Any],
    expect: list[dict[str, Any]],
    path: Path,
    where: str,
    protocol: str,
    upstream: dict[str, Any] | None = None,
) -> Step:
    spec = _sdk_call(request, path, where, protocol) if "sdk" in request else _request(request, path, where)
    expectations = _expectations(expect, path, f"{where}.expect")
    probes = [n for n, e in enumerate(expectations) if e.check == "sdk"]
    if isinstance(spec, SdkCall) and len(probes) != 1:
        raise ConfigError(
            "an SDK call is judged by exactly one `sdk` expectation (returns or raises)",
            source=path,
            field=f"{where}.expect",
        )
    if not isinstance(spec, SdkCall) and probes:
        raise ConfigError(
            "`sdk` judges an SDK call; this step is an HTTP request", source=path, field=f"{where}.expect"
        )
    return Step(
        request=spec,
        expect=expectations,
        upstream=_upstream(upstream, path, f"{where}.upstream") if upstream is not None else None,
    )


def _sdk_call(request: dict[str, Any], path: Path, where: str, protocol: str) -> SdkCall:
    call = SdkCall(request["sdk"], request["call"], request.get("args", {}), request.get("auth", "profile"))
    if call.protocol != protocol:
        raise ConfigError(
            f"{call.sdk} speaks the {call.protocol} protocol, not this file's {protocol}",
            source=path,
            field=f"{where}.request.sdk",
        )
    if call.call not in SDK_CALLS[call.sdk]:
        raise ConfigError(
            f"{call.sdk} offers no call {call.call!r} to probes (one of {', '.join(SDK_CALLS[call.sdk])})",
            source=path,
            field=f"{where}.request.call",
        )
    try:
        check_template(call.args, f"{where}.request.args")
    except PayloadError as exc:
        raise ConfigError(str(exc), source=path) from None
    return call


def _request(request: dict[str, Any], path: Path, where: str) -> RequestSpec:
    body = request.get("body")
    try:
        check_template(body, f"{where}.request.body")
    except PayloadError as exc:
        raise ConfigError(str(exc), source=path) from None
    for name in trigger_names(body):
        if name not in TRIGGER_NAMES:
            raise ConfigError(
                f"unknown trigger {{trigger:{name}}} (one of {', '.join(TRIGGER_NAMES)})",
                source=path,
                field=f"{where}.request.body",
            )
    return RequestSpec(
        method=request.get("method", "POST" if ("body" in request or "raw_body" in request) else "GET"),
        path=request["path"],
        query={k: v if isinstance(v, dict) else str(v) for k, v in request.get("query", {}).items()},
        headers=dict(request.get("headers", {})),
        body=body,
        raw_body=request.get("raw_body"),
        auth=request.get("auth", "profile"),
        stream=request.get("stream", "none"),
        protocol=request.get("protocol"),
    )


def _expectations(expect: list[dict[str, Any]], path: Path, where: str) -> tuple[Expectation, ...]:
    expectations = []
    for n, item in enumerate(expect):
        ((check, args),) = item.items()
        _check_regexes(args, path, f"{where}[{n}].{check}")
        expectations.append(Expectation(check=check, args=args))
    return tuple(expectations)


def _upstream(raw: dict[str, Any], path: Path, where: str) -> UpstreamPart:
    """A step's upstream part; expectations on a request that must not be forwarded are refused."""
    forwarded = raw.get("forwarded", "always")
    expect = _expectations(raw.get("expect", []), path, f"{where}.expect")
    if forwarded == "never" and (expect or raw.get("scenario")):
        raise ConfigError(
            "a request that must not be forwarded has no forwarded request to judge or answer",
            source=path,
            field=where,
        )
    return UpstreamPart(scenario=raw.get("scenario"), expect=expect, forwarded=forwarded)


def _check_regexes(args: Any, path: Path, field: str) -> None:
    if isinstance(args, dict) and isinstance(args.get("matches"), str):
        try:
            re.compile(args["matches"])
        except re.error as exc:
            raise ConfigError(
                f"bad regular expression: {exc}", source=path, field=f"{field}.matches"
            ) from None


def case_files(directory: Path) -> list[Path]:
    """Every YAML file under ``directory``, in a stable order."""
    return sorted(p for p in directory.rglob("*.y*ml") if p.is_file() and p.suffix in (".yaml", ".yml"))


def load_cases(*directories: Path, builtin: bool = False) -> list[Case]:
    """Every case under the directories (the built-in cases when none is given, or with ``builtin``).

    Ids must be unique across all files: a clashing id is an error naming both files.
    """
    roots = ([DEFAULT_CASES_DIR] if builtin or not directories else []) + list(directories)
    seen: dict[str, Path] = {}
    cases: list[Case] = []
    for root in roots:
        if not root.is_dir():
            raise ConfigError("cases directory not found", source=root)
        for path in case_files(root):
            for case in load_case_file(path):
                if case.id in seen:
                    raise ConfigError(
                        f"duplicate case id {case.id!r} (also in {seen[case.id]})", source=path, field="id"
                    )
                seen[case.id] = path
                cases.append(case)
    return cases
