"""The checks document themselves: each is registered with a docstring and an argument schema, the case
schema and the README's check table are generated from the registry without drift, and the built-in
cases use exactly the registered vocabulary."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from conformance.checks import CHECKS, CheckContext, Failure, check
from conformance.checks.catalog import (
    EXPECTATIONS,
    TABLE_BEGIN,
    TABLE_END,
    CatalogError,
    case_schema,
    check_table,
    ordered,
    with_check_table,
)
from conformance.suite.loader import load_cases

REPO = Path(__file__).resolve().parents[1]
GENERATOR = REPO / "tools" / "gen_case_schema.py"

UNUSED_BY_CASES: dict[str, str] = {
    "method": "no gateway bug known to us changes the HTTP method of what it forwards; the check is there for"
    " users' own upstream expectations",
}
"""Registered checks that no built-in case uses, each with the reason."""

# Checks whose argument holds more expectations, and where.
NESTED: dict[str, Callable[[Any], list[dict[str, Any]]]] = {
    "any_of": lambda branches: [item for branch in branches for item in branch],
    "strict": lambda items: items,
    "events": lambda args: args["expect"],
}


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_case_schema", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_case_schema"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    return _load_generator()


@pytest.fixture(scope="module")
def validators(gen: ModuleType) -> dict[str, Draft202012Validator]:
    """Per side, a validator of an ``expect`` list (``upstream``: of an ``upstream.expect`` list)."""
    doc = case_schema(json.loads(gen.TEMPLATE.read_text(encoding="utf-8")), gen.COMMENT)
    return {
        side: Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": doc["$defs"]})
        for side, name in EXPECTATIONS.items()
    }


# --- every check documents itself -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_check_has_a_docstring_and_an_argument_schema(name: str) -> None:
    registered = CHECKS[name]
    assert registered.name == name
    assert registered.summary.strip(), f"{name}: empty first docstring line"
    assert len(registered.summary) <= 100, f"{name}: the first docstring line is the one-line meaning"
    Draft202012Validator.check_schema(registered.args)
    assert registered.examples, f"{name}: no examples"


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_every_example_is_a_valid_expectation_of_its_sides_only(
    name: str, validators: dict[str, Draft202012Validator]
) -> None:
    sides = CHECKS[name].sides
    for example in CHECKS[name].examples:
        errors = {
            side: [e.message for e in validator.iter_errors([{name: example}])]
            for side, validator in validators.items()
        }
        assert any(not errors[side] for side in sides), (
            f"{name}: example {example!r} breaks the schema: {errors}"
        )
        for side in set(errors) - set(sides):
            assert errors[side], f"{name} is not a check of the {side} side, yet its schema takes it"


def test_an_upstream_any_of_holds_upstream_expectations(validators: dict[str, Draft202012Validator]) -> None:
    upstream = [{"any_of": [[{"path": {"matches": "x"}}], [{"json": {"at": "/a", "exists": True}}]]}]
    assert not list(validators["upstream"].iter_errors(upstream))
    response_only = [{"any_of": [[{"status": 200}], [{"json": {"at": "/a", "exists": True}}]]}]
    assert list(validators["upstream"].iter_errors(response_only))
    assert list(validators["response"].iter_errors(upstream))


def _documented(ctx: CheckContext, args: Any) -> list[Failure]:
    """A check that always holds."""
    return []


def _undocumented(ctx: CheckContext, args: Any) -> list[Failure]:
    return []


GOOD_ARGS = {"const": True, "examples": [True]}
BAD_REGISTRATIONS = {
    "no docstring": ("unit_probe", GOOD_ARGS, _undocumented, "has no docstring"),
    "no schema": ("unit_probe", {}, _documented, "has no argument schema"),
    "invalid schema": ("unit_probe", {"type": "text", "examples": [1]}, _documented, "not valid JSON Schema"),
    "no examples": ("unit_probe", {"const": True}, _documented, "needs examples"),
    "a description": (
        "unit_probe",
        {**GOOD_ARGS, "description": "d"},
        _documented,
        "the docstring is the description",
    ),
    "a name taken": ("status", GOOD_ARGS, _documented, "registered twice"),
    "a bad name": ("Unit-Probe", GOOD_ARGS, _documented, "not snake_case"),
}


@pytest.mark.parametrize("kind", sorted(BAD_REGISTRATIONS))
def test_registration_fails_on(kind: str) -> None:
    name, args, function, message = BAD_REGISTRATIONS[kind]
    before = dict(CHECKS)
    with pytest.raises(ValueError, match=message):
        check(name, args=args)(function)
    assert before == CHECKS


# --- the built-in cases use exactly the registered vocabulary -------------------------------------


def _used(items: list[dict[str, Any]]) -> Iterator[str]:
    for item in items:
        ((name, args),) = item.items()
        yield name
        if name in NESTED:
            yield from _used(NESTED[name](args))


@pytest.fixture(scope="module")
def used_by_cases() -> set[str]:
    used: set[str] = set()
    for case in load_cases():
        for step in case.steps:
            used |= set(_used([{e.check: e.args} for e in step.expect]))
            if step.upstream is not None:
                used |= set(_used([{e.check: e.args} for e in step.upstream.expect]))
    return used


def test_every_check_a_case_uses_is_registered(used_by_cases: set[str]) -> None:
    assert used_by_cases - set(CHECKS) == set()


def test_every_registered_check_is_used_by_a_case_or_says_why_not(used_by_cases: set[str]) -> None:
    unused = set(CHECKS) - used_by_cases
    assert unused == set(UNUSED_BY_CASES), "list an unused check in UNUSED_BY_CASES with the reason"
    assert all(UNUSED_BY_CASES.values())


def test_every_check_that_nests_expectations_is_walked() -> None:
    nesting = {name for name, item in CHECKS.items() if "#/$defs/expectations" in json.dumps(item.args)}
    assert nesting == set(NESTED)


# --- the generated documents ----------------------------------------------------------------------


def test_the_case_schema_has_no_drift(gen: ModuleType) -> None:
    outputs = gen.generate()
    assert gen.SCHEMA.read_text(encoding="utf-8") == outputs[gen.SCHEMA], (
        "schemas/case.schema.json differs from the check registry; run python tools/gen_case_schema.py"
    )


def test_the_readme_check_table_has_no_drift(gen: ModuleType) -> None:
    outputs = gen.generate()
    assert gen.README.read_text(encoding="utf-8") == outputs[gen.README], (
        "README.md's check table differs from the check registry; run python tools/gen_case_schema.py"
    )


def test_the_case_schema_is_draft_2020_12() -> None:
    doc = json.loads((REPO / "schemas" / "case.schema.json").read_text(encoding="utf-8"))
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(doc)


def test_the_table_has_one_row_per_check_in_document_order() -> None:
    rows = [line for line in check_table().splitlines() if line.startswith("| `")]
    assert [row.split("`")[1].split(":")[0] for row in rows] == [item.name for item in ordered()]
    assert sorted(item.name for item in ordered()) == sorted(CHECKS)
    for row, item in zip(rows, ordered(), strict=True):
        assert item.summary in row


@pytest.mark.parametrize("generated", ["expectations", "upstream_expectations", "scenario"])
def test_the_template_must_leave_generated_definitions_to_the_registry(
    gen: ModuleType, generated: str
) -> None:
    template = json.loads(gen.TEMPLATE.read_text(encoding="utf-8"))
    template["$defs"][generated] = {}
    with pytest.raises(CatalogError, match="generated from the registry"):
        case_schema(template, "c")


def test_the_scenarios_of_the_case_schema_are_the_upstreams() -> None:
    from conformance.upstream.scenarios import SCENARIOS

    doc = json.loads((REPO / "schemas" / "case.schema.json").read_text(encoding="utf-8"))
    assert doc["$defs"]["scenario"]["enum"] == list(SCENARIOS)


def test_a_ref_to_nothing_fails_generation(gen: ModuleType) -> None:
    template = json.loads(gen.TEMPLATE.read_text(encoding="utf-8"))
    del template["$defs"]["count"]
    with pytest.raises(CatalogError, match="#/\\$defs/count"):
        case_schema(template, "c")


def test_only_the_text_between_the_markers_is_rewritten() -> None:
    readme = f"# Title\n\nbefore\n{TABLE_BEGIN}\nstale table\n{TABLE_END}\nafter\n"
    rewritten = with_check_table(readme, "| new |\n")
    assert rewritten == f"# Title\n\nbefore\n{TABLE_BEGIN}\n\n| new |\n\n{TABLE_END}\nafter\n"
    assert with_check_table(rewritten, "| new |\n") == rewritten
    with pytest.raises(CatalogError, match="marker once"):
        with_check_table("no markers", "| new |\n")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(GENERATOR), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_generator_reports_drift_and_exits_1_then_repairs_it(tmp_path: Path, gen: ModuleType) -> None:
    schema, readme = tmp_path / "case.schema.json", tmp_path / "README.md"
    shutil.copy(gen.SCHEMA, schema)
    shutil.copy(gen.README, readme)
    readme.write_text(
        readme.read_text(encoding="utf-8").replace("The HTTP status", "The status", 1) + "\nkept\n",
        encoding="utf-8",
    )
    schema.write_text(
        schema.read_text(encoding="utf-8").replace('"minimum": 100', '"minimum": 1', 1), encoding="utf-8"
    )
    paths = ("--schema", str(schema), "--readme", str(readme))

    drifted = _run("--check", *paths)
    assert drifted.returncode == 1
    assert f"drift: {schema}" in drifted.stderr and f"drift: {readme}" in drifted.stderr, drifted.stderr
    assert "run python tools/gen_case_schema.py" in drifted.stderr

    assert _run(*paths).returncode == 0
    assert readme.read_text(encoding="utf-8").endswith("\nkept\n")
    clean = _run("--check", *paths)
    assert clean.returncode == 0, clean.stderr
    assert "up to date" in clean.stdout


def test_the_committed_files_pass_the_generators_check() -> None:
    result = _run("--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_readme_without_markers_is_a_clear_error(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# no table here\n", encoding="utf-8")
    result = _run("--check", "--schema", str(tmp_path / "case.schema.json"), "--readme", str(readme))
    assert result.returncode == 2
    assert "marker once" in result.stderr
