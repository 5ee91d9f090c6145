"""Baselines: a provider's known failures, turned into strict expected failures for the CI gate.

A baseline file (YAML, validated against ``schemas/baseline.schema.json``) lists case ids with the outcome
they are expected to have (``failed``, ``errored`` or ``flaky``), why, and the issue tracking the fix. In a run
with a baseline, each listed case gets one of three verdicts:

* ``expected``: it broke exactly as expected; it does not fail the gate;
* ``unexpected-pass``: it passed; the gate fails until the entry is removed (the fix must be recorded);
* ``changed``: it broke differently (e.g. errored instead of failed); the gate fails.

Unsupported and skipped cases are not judged against the baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from conformance.validation.documents import read_yaml, validate_document

BaselineStatus = Literal["expected", "unexpected-pass", "changed"]
BASELINES_DIR = Path("baselines")  # relative to the working directory: the CI job's repository


@dataclass(frozen=True)
class BaselineEntry:
    """One known failure: the case, the outcome it has today, why, and where the fix is tracked."""

    case: str
    expect: str
    reason: str
    issue: str | None = None


@dataclass(frozen=True)
class Baseline:
    """The known failures of one provider."""

    provider: str
    entries: dict[str, BaselineEntry]
    source: str

    def judge(self, case_id: str, outcome: str) -> tuple[BaselineEntry, BaselineStatus] | None:
        """The entry for a case and its verdict, or None when the case is not baselined or did not run."""
        entry = self.entries.get(case_id)
        if entry is None or outcome in ("unsupported", "skipped"):
            return None
        if outcome == entry.expect:
            return entry, "expected"
        return entry, "unexpected-pass" if outcome == "passed" else "changed"


def load_baseline(path: Path | str) -> Baseline:
    """Read and schema-check a baseline file; a broken file is a one-line ``ConfigError``."""
    path = Path(path)
    raw = read_yaml(path)
    validate_document(raw, "baseline.schema.json", path)
    entries = {
        item["case"]: BaselineEntry(
            case=item["case"], expect=item["expect"], reason=item["reason"], issue=item.get("issue")
        )
        for item in raw["entries"]
    }
    return Baseline(provider=raw["provider"], entries=entries, source=str(path))


def default_baseline_path(provider: str) -> Path:
    """Where a provider's baseline lives by default: ``baselines/<provider>.yaml`` in the working directory."""
    return BASELINES_DIR / f"{provider}.yaml"


def baseline_record(entry: BaselineEntry, status: BaselineStatus) -> dict[str, Any]:
    return {"expected": entry.expect, "reason": entry.reason, "issue": entry.issue, "status": status}


def write_baseline(
    provider: str, records: list[dict[str, Any]], path: Path, reason: str = "known failure"
) -> int:
    """Write a baseline listing every failed, errored or flaky case of a run; keeps reasons and issues of ``path``."""
    import yaml

    old = load_baseline(path).entries if path.exists() else {}
    entries = []
    for record in records:
        if record["outcome"] in ("failed", "errored", "flaky"):
            before = old.get(record["id"])
            entries.append(
                {
                    "case": record["id"],
                    "expect": record["outcome"],
                    "reason": before.reason if before else f"{reason}: {record['message'][:200]}",
                    **({"issue": before.issue} if before and before.issue else {}),
                }
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(
            {"provider": provider, "entries": entries}, sort_keys=False, allow_unicode=True, width=120
        ),
        encoding="utf-8",
    )
    return len(entries)
