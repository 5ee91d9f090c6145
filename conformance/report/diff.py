"""Run-to-run diff: what changed between two run records of the same target."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from conformance.report.records import RunRecord
from conformance.suite.model import BROKEN

ChangeKind = Literal["new failure", "fixed", "changed"]


@dataclass(frozen=True)
class Change:
    """One case whose outcome differs between the old and the new run (``absent`` when a run lacks it)."""

    id: str
    level: str
    old: str
    new: str
    message: str

    @property
    def kind(self) -> ChangeKind:
        if self.new in BROKEN and self.old not in BROKEN:
            return "new failure"
        if self.old in BROKEN and self.new == "passed":
            return "fixed"
        return "changed"


@dataclass(frozen=True)
class RunDiff:
    """The changes between two runs, in the new run's case order."""

    changes: tuple[Change, ...]

    def of_kind(self, kind: ChangeKind) -> list[Change]:
        return [change for change in self.changes if change.kind == kind]

    @property
    def regressed(self) -> bool:
        return bool(self.of_kind("new failure"))


def diff_runs(old: RunRecord, new: RunRecord) -> RunDiff:
    """Compare two run records case by case."""
    before, after = old.by_id(), new.by_id()
    ids = list(after) + [case_id for case_id in before if case_id not in after]
    changes = []
    for case_id in ids:
        a, b = before.get(case_id), after.get(case_id)
        old_outcome = a.outcome if a else "absent"
        new_outcome = b.outcome if b else "absent"
        record = b or a
        if record is not None and old_outcome != new_outcome:
            message = b.message if b else "not in the new run"
            changes.append(Change(case_id, record.level, old_outcome, new_outcome, message))
    return RunDiff(tuple(changes))


def format_diff(diff: RunDiff, old: RunRecord, new: RunRecord) -> str:
    """The diff for a person: one section per kind of change, one line per case."""

    def name(run: RunRecord) -> str:
        state = "" if run.complete else " (incomplete)"
        return f"{run.info.provider} {run.info.finished_at}{state}"

    lines = [f"diff {name(old)} -> {name(new)}"]
    kinds: tuple[ChangeKind, ...] = ("new failure", "fixed", "changed")
    for kind in kinds:
        changes = diff.of_kind(kind)
        lines.append(f"{kind}s: {len(changes)}" if kind != "fixed" else f"fixed: {len(changes)}")
        for change in changes:
            detail = f": {change.message}" if change.new not in ("passed", "absent") else ""
            lines.append(f"  {change.id} [{change.level}] {change.old} -> {change.new}{detail}")
    return "\n".join(lines)
