"""The billing audit: each invariant's tolerance, and the run record's billing section, the matrix's billing
rows and report.html's billing table, all built from the event log."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from conformance.checks.billing import INVARIANTS, judge, ratio
from conformance.report.log import read_log
from conformance.report.markdown import render_markdown
from conformance.report.matrix import build_matrix
from conformance.report.records import RunRecord
from conformance.report.results import read_run
from conformance.session import RunPlan, run_session
from conformance.suite.model import Case
from conformance.wire.profiles import load_provider
from tests.fixtures import read_results


@pytest.mark.parametrize(
    ("invariant", "reference", "within", "over", "under"),
    [
        ("prompt-vs-count", 17, [17], [18], [16]),  # exact
        ("candidates-vs-count", 39, [35.1, 42.9], [43], [35]),  # ±10% of 39 = 3.9 tokens
        ("candidates-vs-count", 5, [3, 7], [8], [2]),  # at least 2 tokens
        ("thinking-within-budget", 512, [0, 300, 563], [564], []),  # at most the budget +10%
        ("cached-within-prompt", 17, [0, 17], [18], []),  # at most, exactly
    ],
)
def test_each_invariant_judges_by_its_documented_tolerance(invariant, reference, within, over, under) -> None:
    rule = INVARIANTS[invariant]
    assert rule.why and rule.compares and rule.tolerance
    for measured, verdict in (
        [(m, "within") for m in within] + [(m, "over") for m in over] + [(m, "under") for m in under]
    ):
        assert judge(rule, measured, reference) == verdict, (invariant, measured)


def test_ratios() -> None:
    assert ratio(59, 39) == pytest.approx(1.513, abs=1e-3)
    assert ratio(0, 0) == 1.0 and ratio(3, 0) is None and ratio(0, 17) == 0.0


@pytest.fixture(scope="module")
def billing_runs(all_cases: list[Case], schemas, tmp_path_factory) -> list[Path]:
    """The billing cases on the clean reference and on one that overbills answers and underbills streams."""
    cases = tuple(case for case in all_cases if case.feature == "billing")
    folder = tmp_path_factory.mktemp("billing")
    provider = dataclasses.replace(load_provider("reference"), embedded=True, base_url=None)
    logs = []
    for name, faults in (("clean", ()), ("lying", ("candidates-inflated", "stream-usage-last-chunk-only"))):
        result = run_session(RunPlan(provider, cases, folder / name, faults), schemas=schemas)
        logs.append(result.log.path)
    return logs


def test_the_billing_section_is_built_from_the_event_log(billing_runs) -> None:
    clean_log, lying_log = billing_runs
    for log in billing_runs:
        from_log = read_log(log)
        written = read_results(log.parent / "results.json")
        assert from_log.billing is not None and written["billing"] == from_log.billing.to_json()
        assert RunRecord.from_json(written).billing == from_log.billing
        by_case = {case["id"]: case.get("billing", []) for case in written["cases"]}
        assert all(by_case[f"gemini/billing/{name}"] for name in ("prompt-vs-count", "stream-vs-unary"))
    clean = read_log(clean_log).billing
    assert clean is not None
    assert {result.invariant for result in clean.invariants} == set(INVARIANTS)
    assert all(result.verdict == "within" for result in clean.invariants)
    lying = read_log(lying_log).billing
    assert lying is not None
    results = lying.by_name()
    assert results["candidates-vs-count"].verdict == "over"
    assert results["candidates-vs-count"].ratio == pytest.approx(1.5, abs=0.05)
    assert results["stream-vs-unary"].verdict == "under" and (results["stream-vs-unary"].ratio or 1) < 0.5
    assert results["prompt-vs-count"].verdict == "within"
    sample = results["candidates-vs-count"].worst.to_json(judged=True)
    assert sample["case"].endswith("/billing/candidates-vs-count") or sample["case"].endswith(
        "completion-vs-count"
    )
    assert sample["verdict"] == "over" and sample["measured"] > sample["reference"]


def test_the_matrix_and_the_reports_show_the_billing_rows(billing_runs) -> None:
    runs = [read_run(log.parent / "results.json") for log in billing_runs]
    matrix = build_matrix(runs)
    rows = {row.invariant: row for row in matrix.billing}
    assert [cell.colour for cell in rows["candidates-vs-count"].cells] == ["green", "red"]
    assert rows["candidates-vs-count"].cells[1].text.endswith("over")
    assert rows["prompt-vs-count"].tolerance == "exact"
    text = render_markdown(matrix)
    assert "### Billing audit" in text
    assert "| candidates-vs-count | ±10% (at least 2 tokens) | ✅ 1.00 within | ❌ 1.51 over |" in text
    lying_dir = billing_runs[1].parent
    assert 'id="billing"' in (lying_dir / "matrix.html").read_text()
    report = (lying_dir / "report.html").read_text()
    assert 'id="billing"' in report and "stream-vs-unary" in report and "under" in report
