"""The faults of the reference gateway as a registry: each fault one class, plugged into named seams,
its record checked when it is defined, and no handler of the reference naming a fault."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from conformance.reference import faults as faults_package
from conformance.reference.faults import seams
from conformance.reference.faults.fault import Fault, at
from conformance.reference.faults.registry import AREAS, FAULTS, activate, check_fault_names, register
from conformance.reference.faults.seams import SEAMS, USAGE, Call, Seam, Usage
from conformance.reference.model.catalogue import Catalogue
from conformance.suite.model import Case

REFERENCE = Path(faults_package.__file__).resolve().parent.parent
HANDLER_SOURCES = sorted(path for path in REFERENCE.rglob("*.py") if "faults" not in path.parts)
SEAM_CONSTANTS = {value: name for name, value in vars(seams).items() if isinstance(value, Seam)}


def test_every_fault_is_one_class_in_an_area_module() -> None:
    areas = {area.__name__ for area in AREAS}
    for name, fault in FAULTS.items():
        assert type(fault).__module__ in areas and fault.name == name
        assert fault.description and fault.seams, name


def test_every_seam_is_documented_plugged_into_and_applied_by_the_reference() -> None:
    assert set(SEAM_CONSTANTS) == set(SEAMS.values())
    sources = "\n".join(path.read_text(encoding="utf-8") for path in HANDLER_SOURCES)
    used = {seam for fault in FAULTS.values() for seam in fault.handlers}
    for seam, constant in SEAM_CONSTANTS.items():
        assert seam.value and seam.where, f"seam {seam.name} is not documented"
        assert seam in used, f"no fault plugs into seam {seam.name}"
        assert re.search(rf"\.apply\(\s*{constant}\b", sources), f"the reference never applies {constant}"


def test_no_handler_names_a_fault() -> None:
    for path in HANDLER_SOURCES:
        text = path.read_text(encoding="utf-8")
        named = [name for name in FAULTS if f'"{name}"' in text or f"'{name}'" in text]
        assert not named, f"{path.relative_to(REFERENCE)} names faults {named}"


def test_a_method_at_an_unknown_seam_fails_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match="not a seam of the reference"):

        class Misplaced(Fault):
            @at(Seam("usgae", "a misspelt seam", "nowhere"))
            def total(self, usage: Any, call: Any) -> Any:
                return usage


def _fault_class(**record: Any) -> type[Fault]:
    """A fault class with a complete record, changed by ``record`` (a None value removes an attribute)."""
    namespace: dict[str, Any] = {
        "__doc__": "The total is doubled.",
        "name": "usage-doubled",
        "bug_class": "F11",
        "protocol": "gemini",
        "feature": "usage",
        "caught_by": ("gemini/usage/total-is-sum",),
        "doubled": at(USAGE)(lambda self, usage, call: usage),
    }
    namespace.update(record)
    return type(
        "UsageDoubled", (Fault,), {key: value for key, value in namespace.items() if value is not None}
    )


def test_a_fault_record_is_checked_when_the_class_is_defined() -> None:
    doubled = _fault_class()()
    assert doubled.description == "The total is doubled." and doubled.affects == ("gemini",)
    assert doubled.seams == ("usage",)
    for broken, problem in (
        ({"__doc__": None}, "docstring"),
        ({"name": "Usage Doubled"}, "kebab-case"),
        ({"bug_class": "F1"}, "bug class"),
        ({"protocol": "anthropic"}, "protocol"),
        ({"caught_by": ()}, "caught_by"),
        ({"affects": ("openai",)}, "affects"),
        ({"level": "SHOULD"}, "level_reason"),
        ({"doubled": None}, "changes nothing"),
    ):
        with pytest.raises(TypeError, match=problem):
            _fault_class(**broken)


def test_the_registry_refuses_a_name_declared_twice() -> None:
    first, second = _fault_class(), _fault_class()
    assert list(register([first])) == ["usage-doubled"]
    with pytest.raises(ValueError, match="declared twice"):
        register([first, second])


def test_unknown_fault_names_fail_at_load_time() -> None:
    for load in (check_fault_names, activate):
        with pytest.raises(ValueError, match=r"unknown fault\(s\): usage-renammed; known: .*usage-renamed"):
            load(["usage-misreported", "usage-renammed"])
    assert check_fault_names("usage-renamed") == {"usage-renamed"}


def test_active_faults_apply_in_registry_order_and_leave_values_alone_otherwise() -> None:
    usage = Usage(prompt=5, output=3, thoughts=2, total=10)
    call = Call("gemini", Catalogue.of())
    assert activate(()).apply(USAGE, usage, call) is usage
    assert activate({"stream-buffered"}).apply(USAGE, usage, call) is usage
    both = activate({"thoughts-left-out-of-total", "usage-misreported"})
    assert [fault.name for fault in both.faults] == ["usage-misreported", "thoughts-left-out-of-total"]
    assert both.apply(USAGE, usage, call).total == 5


def test_fault_levels_follow_the_cases_that_catch_them(all_cases: list[Case]) -> None:
    levels = {case.id: case.level for case in all_cases}
    for fault in FAULTS.values():
        must = any(levels[case_id] == "MUST" for case_id in fault.caught_by if case_id in levels)
        assert must == (fault.level == "MUST"), f"{fault.name}: {fault.level} {fault.level_reason!r}"
