"""Baselines: a provider's known failures, which the judge turns into strict expected failures.

A baseline file (YAML, validated against ``schemas/baseline.schema.json``) lists case ids with the outcome
they are expected to have (``failed``, ``errored`` or ``flaky``), why, and the issue tracking the fix.
How a run's outcome compares with an entry is decided by ``conformance.engine.judge``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from conformance.suite.model import BROKEN
from conformance.validation.documents import read_yaml, validate_document

BaselineStatus = Literal["expected", "unexpected-pass", "changed"]
BASELINES_DIR = Path("baselines")
"""Where baselines live by default: relative to the working directory (the CI job's repository)."""


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
    entries: Mapping[str, BaselineEntry]
    source: str

    def entry(self, case_id: str) -> BaselineEntry | None:
        return self.entries.get(case_id)


@dataclass(frozen=True)
class BaselineMark:
    """How a baselined case's outcome compares with its entry: the verdict of the judge."""

    expected: str
    reason: str
    issue: str | None
    status: BaselineStatus

    def to_json(self) -> dict[str, Any]:
        return {"expected": self.expected, "reason": self.reason, "issue": self.issue, "status": self.status}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BaselineMark:
        return cls(data["expected"], data["reason"], data.get("issue"), data["status"])


def load_baseline(path: Path | str) -> Baseline:
    """Read and schema-check a baseline file; a broken file is a one-line ``ConfigError``."""
    path = Path(path)
    raw = read_yaml(path)
    validate_document(raw, "baseline.schema.json", path)
    entries = {
        item["case"]: BaselineEntry(item["case"], item["expect"], item["reason"], item.get("issue"))
        for item in raw["entries"]
    }
    return Baseline(provider=raw["provider"], entries=entries, source=str(path))


def default_baseline_path(provider: str) -> Path:
    """A provider's default baseline: ``baselines/<provider>.yaml`` in the working directory."""
    return BASELINES_DIR / f"{provider}.yaml"


def write_baseline(
    provider: str, outcomes: Iterable[tuple[str, str, str]], path: Path, reason: str = "known failure"
) -> int:
    """Write a baseline of every failed, errored or flaky case of ``(id, outcome, message)``.

    The reasons and issues of entries already in ``path`` are kept. Returns the number of entries.
    """
    old = load_baseline(path).entries if path.exists() else {}
    entries = []
    for case_id, outcome, message in outcomes:
        if outcome not in BROKEN:
            continue
        before = old.get(case_id)
        entry: dict[str, Any] = {
            "case": case_id,
            "expect": outcome,
            "reason": before.reason if before else f"{reason}: {message[:200]}",
        }
        if before and before.issue:
            entry["issue"] = before.issue
        entries.append(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(
        {"provider": provider, "entries": entries}, sort_keys=False, allow_unicode=True, width=120
    )
    path.write_text(text, encoding="utf-8")
    return len(entries)
