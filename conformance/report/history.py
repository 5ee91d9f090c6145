"""The history of many runs of the same targets: each feature's pass rate over time, and the runs where
each case broke or recovered. Built from run records alone (``conformance history``).

A target is what makes two runs comparable (``RunInfo.target``: provider, model, injected faults, mode);
its runs are ordered by their start. A case *broke* in a run where it failed, errored or was flaky after
it had passed in the run judging it before; it *recovered* in a run where it passed after having broken.
A case broken in the first run that judged it is *broken from the start*. Unsupported, skipped and absent
cases change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from conformance.report.matrix import Cell, cell_of
from conformance.report.records import CaseRecord, RunRecord
from conformance.suite.model import BROKEN

TransitionKind = Literal["broke", "recovered"]
SPARK = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Transition:
    """A case's change of state in one run (an index into the series' runs)."""

    kind: TransitionKind
    run: int
    outcome: str
    message: str


@dataclass(frozen=True)
class CaseHistory:
    """One case over a series: its outcome in each run (``absent`` where a run lacks it) and its changes."""

    id: str
    level: str
    title: str
    outcomes: tuple[str, ...]
    transitions: tuple[Transition, ...]
    broken_from_start: bool

    def first(self, kind: TransitionKind) -> Transition | None:
        """The first run where the case broke (or recovered)."""
        return next((t for t in self.transitions if t.kind == kind), None)

    @property
    def broken_now(self) -> bool:
        judged = [o for o in self.outcomes if o not in ("absent", "unsupported", "skipped")]
        return bool(judged) and judged[-1] in BROKEN


@dataclass(frozen=True)
class FeatureTrend:
    """One feature over a series: its cell in each run (None where the run has none of its cases)."""

    protocol: str
    feature: str
    cells: tuple[Cell | None, ...]

    @property
    def rates(self) -> tuple[float | None, ...]:
        """Passed / judged in each run (None where nothing was judged)."""
        return tuple(c.passed / c.judged if c is not None and c.judged else None for c in self.cells)

    @property
    def changed(self) -> bool:
        return len({rate for rate in self.rates if rate is not None}) > 1

    def points(self, width: float, height: float) -> str:
        """The rates as SVG polyline points in a ``width`` x ``height`` box (runs without a rate left out)."""
        step = width / max(1, len(self.cells) - 1)
        return " ".join(
            f"{n * step:.1f},{(1 - rate) * (height - 2) + 1:.1f}"
            for n, rate in enumerate(self.rates)
            if rate is not None
        )

    def spark(self) -> str:
        """The rates as a line of block characters, for Markdown (a space where nothing was judged)."""
        return "".join(
            " " if rate is None else SPARK[min(len(SPARK) - 1, int(rate * len(SPARK)))] for rate in self.rates
        )


@dataclass(frozen=True)
class Series:
    """The runs of one target, oldest first, with every feature's trend and the cases that changed."""

    key: str
    label: str
    runs: tuple[RunRecord, ...]
    features: tuple[FeatureTrend, ...]
    totals: tuple[Cell, ...]
    must: tuple[tuple[int, int], ...]
    """MUST passed and judged in each run."""
    cases: tuple[CaseHistory, ...]
    """Cases that broke or recovered at least once, or were broken from the start, in suite order."""

    def run_title(self, index: int) -> str:
        info = self.runs[index].info
        return f"#{index + 1} {info.started_at[:16].replace('T', ' ')}"

    def protocols(self) -> list[str]:
        return list(dict.fromkeys(trend.protocol for trend in self.features))


@dataclass(frozen=True)
class History:
    """Every target's series, in the order their first run was given."""

    series: tuple[Series, ...]

    @property
    def runs(self) -> int:
        return sum(len(series.runs) for series in self.series)


def without_evidence(run: RunRecord) -> RunRecord:
    """The run with its verdicts only: a history of many runs holds no request or response bodies."""
    return replace(run, cases=tuple(replace(case, evidence=None) for case in run.cases))


def build_history(runs: Sequence[RunRecord]) -> History:
    """Group the runs by target, order each group by start time, and follow every feature and case."""
    groups: dict[tuple[object, ...], list[RunRecord]] = {}
    for run in runs:
        groups.setdefault(run.info.target, []).append(run)
    return History(
        tuple(_series(sorted(group, key=lambda r: r.info.started_at)) for group in groups.values())
    )


def _series(runs: list[RunRecord]) -> Series:
    latest = runs[-1].info
    order: dict[str, CaseRecord] = {}
    for run in reversed(runs):  # the newest run's metadata and order first; cases it lacks after
        for record in run.cases:
            order.setdefault(record.id, record)
    indexes = [run.by_id() for run in runs]
    features: dict[tuple[str, str], list[str]] = {}
    for case_id, record in order.items():
        features.setdefault((record.protocol, record.feature), []).append(case_id)
    trends = []
    for (protocol, feature), ids in features.items():
        cells: list[Cell | None] = []
        for index in indexes:
            records = [index.get(case_id) for case_id in ids]
            cells.append(cell_of(records) if any(r is not None for r in records) else None)
        trends.append(FeatureTrend(protocol, feature, tuple(cells)))
    trends.sort(key=lambda t: (t.protocol != "gemini", t.protocol, t.feature))
    totals = tuple(cell_of(list(run.cases)) for run in runs)
    must = tuple(_must(run) for run in runs)
    cases = []
    for case_id, record in order.items():
        history = _case_history(record, [index.get(case_id) for index in indexes])
        if history.transitions or history.broken_from_start:
            cases.append(history)
    return Series(
        key="s-" + "-".join(str(part) for part in _flat(latest.target)),
        label=latest.target_label,
        runs=tuple(runs),
        features=tuple(trends),
        totals=totals,
        must=must,
        cases=tuple(cases),
    )


def _flat(target: tuple[object, ...]) -> list[str]:
    parts: list[str] = []
    for part in target:
        parts.extend(part if isinstance(part, tuple) else (str(part),))
    return ["".join(c if c.isalnum() else "_" for c in part) for part in parts]


def _must(run: RunRecord) -> tuple[int, int]:
    must = [case for case in run.cases if case.level == "MUST" and case.judged]
    return sum(case.outcome == "passed" for case in must), len(must)


def _case_history(record: CaseRecord, records: list[CaseRecord | None]) -> CaseHistory:
    outcomes = tuple(r.outcome if r is not None else "absent" for r in records)
    transitions: list[Transition] = []
    state: str | None = None
    broken_from_start = False
    for index, current in enumerate(records):
        if current is None or not current.judged:
            continue
        now = "broken" if current.outcome in BROKEN else "passed"
        if state is None and now == "broken":
            broken_from_start = True
        elif state == "passed" and now == "broken":
            transitions.append(Transition("broke", index, current.outcome, current.message))
        elif state == "broken" and now == "passed":
            transitions.append(Transition("recovered", index, current.outcome, current.message))
        state = now
    return CaseHistory(record.id, record.level, record.title, outcomes, tuple(transitions), broken_from_start)


def render_history_markdown(history: History, shown: int = 12) -> str:
    """The Markdown twin of the history page: per target, each feature's trend and pass rate in the latest
    ``shown`` runs, then the cases that broke or recovered."""
    lines = ["## Gateway conformance history", ""]
    for series in history.series:
        runs = series.runs
        first = max(0, len(runs) - shown)
        lines += [
            f"### {_escape(series.label)}: {len(runs)} run(s), {runs[0].info.started_at} to"
            f" {runs[-1].info.started_at}",
            "",
        ]
        heads = [f"#{n + 1}" for n in range(first, len(runs))]
        lines += [
            "| feature | trend | " + " | ".join(heads) + " |",
            "|---|---|" + "---|" * len(heads),
        ]
        for trend in series.features:
            cells = [_rate(cell) for cell in trend.cells[first:]]
            lines.append(
                f"| {trend.protocol}/{trend.feature} | `{trend.spark()}` | " + " | ".join(cells) + " |"
            )
        lines.append("| **all** | | " + " | ".join(_rate(cell) for cell in series.totals[first:]) + " |")
        lines.append(
            "| **MUST** | | "
            + " | ".join(f"{passed}/{judged}" for passed, judged in series.must[first:])
            + " |"
        )
        lines.append("| **gate** | | " + " | ".join(run.summary.gate.upper() for run in runs[first:]) + " |")
        lines.append("")
        for n in range(first, len(runs)):
            info = runs[n].info
            state = "" if info.complete else " (incomplete)"
            lines.append(f"- #{n + 1}: {info.started_at}, suite {info.suite_version}{state}")
        if series.cases:
            lines += ["", "Cases that broke or recovered:", ""]
            for case in series.cases:
                lines.append(f"- `{case.id}` [{case.level}]: {_changes(series, case)}")
        lines.append("")
    return "\n".join(lines)


def _changes(series: Series, case: CaseHistory) -> str:
    parts = []
    if case.broken_from_start:
        parts.append("broken from the start")
    for transition in case.transitions:
        parts.append(f"{transition.kind} in {series.run_title(transition.run)} ({transition.outcome})")
    parts.append("broken now" if case.broken_now else "passing now")
    return "; ".join(parts)


def _rate(cell: Cell | None) -> str:
    if cell is None or not cell.judged:
        return "n/a"
    mark = " ❌" if cell.gate_broken else (" ⚠️" if cell.colour == "yellow" else "")
    return f"{100 * cell.passed / cell.judged:.0f}%{mark}"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
