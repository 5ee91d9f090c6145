"""``junit.xml``: the run record for CI systems, one ``<testcase>`` per case.

A failed or flaky case (and a baselined case that passed or changed) is a ``<failure>``, an errored
case an ``<error>``, an unsupported or skipped case a ``<skipped>``, a baselined expected failure a
``<skipped type="xfail">``, and a case that never ran in an interrupted run an ``<error type="not-run">``.
Durations are the cases' own wire time.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.report.records import CaseRecord, RunRecord
from conformance.report.text import case_text

SUITE_NAME = "gateway-conformance"
MESSAGE_LIMIT = 500


def _short(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 3] + "..."


def _outcome(testcase: ET.Element, record: CaseRecord) -> str:
    """Add the element saying how a case ended; return which kind it was."""
    if record.expected_failure:
        skipped = ET.SubElement(
            testcase, "skipped", type="xfail", message=_short(f"baselined: {record.message}")
        )
        skipped.text = case_text(record)
        return "skipped"
    if record.outcome == "passed" and not record.breaks_gate:
        return "passed"
    if record.outcome in ("unsupported", "skipped"):
        ET.SubElement(testcase, "skipped", type=record.outcome, message=_short(record.message))
        return "skipped"
    kind = "error" if record.outcome == "errored" else "failure"
    why = record.baseline.status if record.baseline is not None else record.outcome
    element = ET.SubElement(testcase, kind, type=why, message=_short(record.message))
    element.text = case_text(record)
    return kind


def junit_tree(run: RunRecord) -> ET.ElementTree:
    """The JUnit XML document of a run."""
    info = run.info
    suite = ET.Element("testsuite", name=SUITE_NAME, timestamp=info.started_at)
    properties = ET.SubElement(suite, "properties")
    facts = {
        "provider": info.provider,
        "base_url": info.base_url or "embedded reference",
        "model": info.model,
        "mode": info.mode,
        "faults": ",".join(info.faults),
        "baseline": info.baseline or "",
        "gate": run.summary.gate,
        "complete": str(info.complete).lower(),
    }
    for name, value in facts.items():
        ET.SubElement(properties, "property", name=name, value=value)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_ms = 0.0
    for record in run.cases:
        testcase = ET.SubElement(
            suite,
            "testcase",
            classname=f"{record.protocol}.{record.feature}",
            name=record.id,
            time=f"{record.duration_ms / 1000:.3f}",
        )
        ET.SubElement(ET.SubElement(testcase, "properties"), "property", name="level", value=record.level)
        kind = _outcome(testcase, record)
        counts["tests"] += 1
        if kind == "failure":
            counts["failures"] += 1
        elif kind == "error":
            counts["errors"] += 1
        elif kind == "skipped":
            counts["skipped"] += 1
        total_ms += record.duration_ms
    for case_id in info.not_run:
        testcase = ET.SubElement(suite, "testcase", classname="not-run", name=case_id, time="0.000")
        reason = info.interrupted or "the run did not reach this case"
        ET.SubElement(testcase, "error", type="not-run", message=_short(f"not run: {reason}"))
        counts["tests"] += 1
        counts["errors"] += 1
    for name, count in counts.items():
        suite.set(name, str(count))
    suite.set("time", f"{(info.duration_ms or total_ms) / 1000:.3f}")
    ET.indent(suite)
    return ET.ElementTree(suite)


def write_junit(run: RunRecord, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_tree(run).write(path, encoding="utf-8", xml_declaration=True)
