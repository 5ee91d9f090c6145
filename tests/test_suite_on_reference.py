"""The whole suite against the embedded reference: green when clean, and each fault caught by its case.

The two-sided cases (``upstream`` parts) are skipped here, as in any run without ``--upstream``;
``tests/test_two_sided.py`` runs them, and the forwarding faults, through the forwarding reference."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import pytest

from conformance.engine.attempts import CaseResult
from conformance.engine.runner import NEEDS_UPSTREAM, Runner
from conformance.reference.faults.registry import FAULTS, FORWARDING_AREA
from conformance.sdk import clients
from conformance.suite.model import Case
from conformance.validation.store import SchemaStore
from conformance.wire.profiles import available_providers, load_provider
from conformance.wire.target import open_target

BROKEN = ("failed", "errored")
PARALLEL_FAULT_RUNS = 4
OWN_FAULTS = sorted(name for name, fault in FAULTS.items() if fault.area != FORWARDING_AREA)
"""The faults of the reference that answers itself (the forwarding ones: tests/test_two_sided.py)."""


def run_suite(
    cases: Iterable[Case], schemas: SchemaStore, profile: str = "reference", faults: tuple[str, ...] = ()
) -> dict[str, CaseResult]:
    provider = dataclasses.replace(load_provider(profile), embedded=True, base_url=None)
    with open_target(provider, faults) as target:
        return Runner(target.provider, target.api_key, schemas).run(cases)


@pytest.mark.parametrize("profile", available_providers())
def test_suite_is_green_on_the_clean_reference(all_cases, schemas, profile):
    results = run_suite(all_cases, schemas, profile)
    provider = load_provider(profile)
    for case in all_cases:
        result = results[case.id]
        unexpressible = [clients.unexpressible(sdk, provider) for sdk in case.sdks]
        if provider.unsupported_reason(case.id):
            assert result.outcome == "unsupported"
        elif case.needs_upstream:
            assert (result.outcome, result.message) == ("skipped", NEEDS_UPSTREAM)
        elif provider.model_for(case.model) is None:  # the profile names no model for the capability
            assert result.outcome == "skipped" and f"no {case.model} model" in result.message
        elif any(unexpressible):
            # e.g. google-genai cannot send the key by ?key= (new-api) or as a Bearer token (theturbo)
            assert result.outcome == "skipped" and "sends the key as" in result.message, result.message
        else:
            assert result.outcome == "passed", f"{case.id} on profile {profile}: {result.message}"
    if profile == "reference":  # the reference's own profile names a model for every capability
        one_sided = [case for case in all_cases if not case.needs_upstream]
        assert {results[case.id].outcome for case in one_sided} == {"passed"}


def test_every_fault_names_existing_cases_meant_to_catch_it(all_cases):
    ids = {case.id for case in all_cases}
    for fault in FAULTS.values():
        assert fault.caught_by, f"fault {fault.name} names no case meant to catch it"
        assert set(fault.caught_by) <= ids, (
            f"fault {fault.name} names unknown cases {set(fault.caught_by) - ids}"
        )


@pytest.fixture(scope="module")
def fault_runs(all_cases, schemas) -> dict[str, dict[str, CaseResult]]:
    """Each fault's run of the cases meant to catch it, a few runs at once (each mostly waits on streamed
    events)."""
    with ThreadPoolExecutor(max_workers=PARALLEL_FAULT_RUNS) as pool:
        runs = {
            fault: pool.submit(
                run_suite,
                [case for case in all_cases if case.id in FAULTS[fault].caught_by],
                schemas,
                faults=(fault,),
            )
            for fault in OWN_FAULTS
        }
        return {fault: run.result() for fault, run in runs.items()}


@pytest.mark.parametrize("fault", OWN_FAULTS)
def test_fault_is_caught_by_its_intended_cases(fault_runs, fault):
    results = fault_runs[fault]
    caught_by = FAULTS[fault].caught_by
    missed = {
        case_id: results[case_id].outcome for case_id in caught_by if results[case_id].outcome not in BROKEN
    }
    assert not missed, f"fault {fault} was not caught by {missed}"
    must_catch = any(
        results[case_id].case.level == "MUST" and results[case_id].outcome in BROKEN for case_id in caught_by
    )
    assert must_catch == (FAULTS[fault].level == "MUST"), (
        f"fault {fault} declares level {FAULTS[fault].level} ({FAULTS[fault].level_reason or 'no reason'}),"
        f" but {'a MUST' if must_catch else 'no MUST'} case catches it"
    )


def test_every_check_used_by_cases_is_tripped_by_some_fault(all_cases, fault_runs):
    # "strict" holds only under --mode strict; tests/test_verdict_modes.py proves a fault trips it there.
    # The two-sided cases' checks are proven in tests/test_two_sided.py.
    one_sided = [case for case in all_cases if not case.needs_upstream]
    used = {e.check for case in one_sided for step in case.steps for e in step.expect} - {"strict"}
    tripped = {
        failure.expectation.check
        for results in fault_runs.values()
        for result in results.values()
        for attempt in result.attempts
        for failure in attempt.failures
    }
    assert used - tripped == set(), f"checks no fault can trip: {sorted(used - tripped)}"
