"""The whole suite against the embedded reference: green when clean, and each fault caught by its case."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pytest

from conformance.model import Case
from conformance.providers import available_providers, load_provider
from conformance.reference.faults import FAULTS
from conformance.runner import CaseResult, Runner
from conformance.schemas import SchemaStore
from conformance.target import open_target

# fault -> the cases meant to catch it (each must end failed or errored with the fault on).
CAUGHT_BY: dict[str, set[str]] = {
    "system-instruction-dropped": {"gemini/system-instruction/camel-case", "gemini/system-instruction/snake-case", "openai/chat/system-message"},
    "snake-case-ignored": {"gemini/system-instruction/snake-case", "gemini/request-casing/snake-case-max-output-tokens",
                           "gemini/request-casing/snake-case-stop-sequences", "gemini/request-casing/snake-case-candidate-count",
                           "gemini/request-casing/mixed"},
    "stop-sequences-dropped": {"gemini/generation-config/stop-sequences", "openai/sampling/stop"},
    "max-tokens-dropped": {"gemini/generation-config/max-output-tokens", "openai/sampling/max-tokens"},
    "finish-reason-always-stop": {"gemini/generation-config/max-output-tokens", "openai/sampling/max-tokens"},
    "candidate-count-ignored": {"gemini/generation-config/candidate-count", "openai/sampling/n"},
    "usage-misreported": {"gemini/usage/total-is-sum", "openai/chat/usage-total-is-sum"},
    "usage-renamed": {"gemini/usage/present", "gemini/usage/total-is-sum"},
    "snake-case-output": {"gemini/text/camel-case-keys"},
    "errors-as-500": {"gemini/errors/missing-contents", "gemini/errors/unknown-model", "openai/errors/missing-messages"},
    "errors-openai-envelope": {"gemini/errors/missing-contents", "gemini/errors/bad-key", "gemini/errors/missing-key"},
    "invalid-argument-unchecked": {"gemini/generation-config/temperature-out-of-range", "gemini/errors/bad-role",
                                   "gemini/generation-config/response-modalities-bad-enum", "openai/sampling/temperature-out-of-range"},
    "unknown-model-fallback": {"gemini/errors/unknown-model", "gemini/count-tokens/unknown-model", "openai/errors/unknown-model"},
    "x-goog-api-key-rejected": {"gemini/auth/x-goog-api-key"},
    "count-tokens-zero": {"gemini/count-tokens/contents", "gemini/count-tokens/generate-content-request"},
    "models-openai-shape": {"gemini/models/list"},
    "history-dropped": {"gemini/text/multi-turn", "openai/chat/multi-turn"},
    "response-ids-dropped": {"gemini/text/model-version-and-response-id", "openai/chat/response-identity"},
    "openai-message-missing": {"openai/chat/basic"},
    "json-served-as-text": {"gemini/text/single-turn", "gemini/models/list", "gemini/count-tokens/contents"},
}

BROKEN = ("failed", "errored")


def run_suite(cases: Iterable[Case], schemas: SchemaStore, profile: str = "reference", faults: tuple[str, ...] = ()) -> dict[str, CaseResult]:
    provider = dataclasses.replace(load_provider(profile), embedded=True, base_url=None)
    with open_target(provider, faults) as target:
        return Runner(target.provider, target.api_key, schemas).run(cases)


@pytest.mark.parametrize("profile", available_providers())
def test_suite_is_green_on_the_clean_reference(all_cases, schemas, profile):
    results = run_suite(all_cases, schemas, profile)
    provider = load_provider(profile)
    for case in all_cases:
        result = results[case.id]
        if provider.unsupported_reason(case.id):
            assert result.outcome == "unsupported"
        else:
            assert result.outcome == "passed", f"{case.id} on profile {profile}: {result.message}"


def test_every_fault_has_intended_cases():
    assert set(CAUGHT_BY) == set(FAULTS), "map each reference fault to the cases that must catch it"


@pytest.fixture(scope="module")
def fault_runs(all_cases, schemas) -> dict[str, dict[str, CaseResult]]:
    return {fault: run_suite(all_cases, schemas, faults=(fault,)) for fault in FAULTS}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_is_caught_by_its_intended_cases(fault_runs, fault):
    results = fault_runs[fault]
    missed = {case_id: results[case_id].outcome for case_id in CAUGHT_BY[fault] if results[case_id].outcome not in BROKEN}
    assert not missed, f"fault {fault} was not caught by {missed}"
    assert any(results[c].case.level == "MUST" for c in CAUGHT_BY[fault] if results[c].outcome in BROKEN) or fault in {
        "x-goog-api-key-rejected"
    } or FAULTS[fault].bug_class is None


def test_every_check_used_by_cases_is_tripped_by_some_fault(all_cases, fault_runs):
    used = {e.check for case in all_cases for step in case.steps for e in step.expect}
    tripped = {
        failure.expectation.check
        for results in fault_runs.values()
        for result in results.values()
        for attempt in result.attempts
        for failure in attempt.failures
    }
    assert used - tripped == set(), f"checks no fault can trip: {sorted(used - tripped)}"
