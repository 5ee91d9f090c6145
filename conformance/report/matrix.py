"""The compatibility matrix: features by runs (one column per target: provider and model), built from run
records alone. ``pivot`` keeps the runs of one model (features x providers) or of one provider (features x
models)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from conformance.checks.billing import INVARIANTS
from conformance.report.records import CaseRecord, FeatureHeading, InvariantResult, RunRecord

Colour = Literal["green", "yellow", "red", "grey"]


@dataclass(frozen=True)
class Column:
    """One run: its label (unique in the matrix) and its record."""

    key: str
    label: str
    run: RunRecord

    @property
    def provider(self) -> str:
        return self.run.info.provider

    @property
    def model(self) -> str:
        return self.run.info.model


@dataclass(frozen=True)
class Cell:
    """How one run did on a set of cases: passed of judged, what broke, and the colour that says so."""

    passed: int
    judged: int
    not_judged: int
    gate_broken: int
    should_broken: int
    flaky: int
    expected: int
    forwarded: int = 0
    """Broken cases whose broken expectations include the request the gateway forwarded upstream."""

    @property
    def colour(self) -> Colour:
        if self.judged == 0:
            return "grey"
        if self.gate_broken:
            return "red"
        if self.should_broken or self.flaky or self.expected:
            return "yellow"
        return "green"

    @property
    def text(self) -> str:
        return f"{self.passed}/{self.judged}" if self.judged else "n/a"


@dataclass(frozen=True)
class CaseRow:
    """One case across runs: its metadata and each run's record (None when that run lacks it)."""

    id: str
    level: str
    title: str
    reference: str
    records: tuple[CaseRecord | None, ...]

    @property
    def outcomes(self) -> tuple[str, ...]:
        return tuple(r.outcome if r else "absent" for r in self.records)

    @property
    def differs(self) -> bool:
        return len(set(self.outcomes)) > 1

    @property
    def notable(self) -> bool:
        """Whether the case broke somewhere or the runs disagree on it."""
        return self.differs or any(r is not None and r.broken for r in self.records)


@dataclass(frozen=True)
class FeatureRow(FeatureHeading):
    """One feature of one protocol (or a group of its cases, such as the per-type multimodal cases): a cell
    per run and its cases."""

    protocol: str
    feature: str
    cells: tuple[Cell, ...]
    cases: tuple[CaseRow, ...]
    group: str | None = None


@dataclass(frozen=True)
class BillingCell:
    """One run's result on one billing invariant: the ratio farthest from 1, and the verdict."""

    result: InvariantResult | None

    @property
    def colour(self) -> Colour:
        if self.result is None:
            return "grey"
        return "green" if self.result.verdict == "within" else "red"

    @property
    def text(self) -> str:
        """``1.00 within``, ``1.51 over``, ``∞ over``, or ``n/a`` when the run measured nothing."""
        if self.result is None:
            return "n/a"
        shown = self.result.ratio
        return ("∞" if shown is None else f"{shown:.2f}") + f" {self.result.verdict}"

    @property
    def title(self) -> str:
        """The samples behind the cell, for a tooltip."""
        if self.result is None:
            return "not measured in this run"
        return "; ".join(
            f"{sample.case} step {sample.step}: {sample.measured:g} vs {sample.reference:g}"
            for sample in self.result.samples
        )


@dataclass(frozen=True)
class BillingRow:
    """One billing invariant across runs: what it compares, its tolerance, and each run's cell."""

    invariant: str
    compares: str
    tolerance: str
    cells: tuple[BillingCell, ...]


@dataclass(frozen=True)
class Matrix:
    """Every feature (grouped by protocol, in suite order) by every run, and the billing invariants."""

    columns: tuple[Column, ...]
    rows: tuple[FeatureRow, ...]
    totals: tuple[Cell, ...]
    ungrouped_totals: tuple[Cell, ...] | None = None
    """The totals without the grouped rows (None when no row is a group)."""
    billing: tuple[BillingRow, ...] = ()

    def protocols(self) -> list[str]:
        return list(dict.fromkeys(row.protocol for row in self.rows))

    def providers(self) -> list[str]:
        """The providers of the columns, in column order."""
        return list(dict.fromkeys(column.provider for column in self.columns))

    def models(self) -> list[str]:
        """The models of the columns, in column order."""
        return list(dict.fromkeys(column.model for column in self.columns))

    def rows_of(self, protocol: str) -> list[FeatureRow]:
        return [row for row in self.rows if row.protocol == protocol]


def pivot(
    runs: Sequence[RunRecord], provider: str | None = None, model: str | None = None
) -> list[RunRecord]:
    """The runs of one provider (features x models) and/or of one model (features x providers)."""
    return [
        run
        for run in runs
        if (provider is None or run.info.provider == provider) and (model is None or run.info.model == model)
    ]


def build_matrix(runs: Sequence[RunRecord]) -> Matrix:
    """The matrix of runs, one column each, in the order given; labels made unique by a number.

    A label names the provider, and the model too when the runs do not all test the same model.
    """
    columns: list[Column] = []
    seen: Counter[str] = Counter()
    several_models = len({run.info.model for run in runs}) > 1
    for run in runs:
        label = run.info.target_label if several_models else run.label
        seen[label] += 1
        if seen[label] > 1:
            label += f" #{seen[label]}"
        columns.append(Column(key=f"c{len(columns)}", label=label, run=run))
    order: dict[str, CaseRecord] = {}
    for run in runs:
        for record in run.cases:
            order.setdefault(record.id, record)
    indexes = [run.by_id() for run in runs]
    features: dict[tuple[str, str, str], list[str]] = {}
    for case_id, record in order.items():
        features.setdefault((record.protocol, record.feature, record.group or ""), []).append(case_id)
    protocols: list[str] = list(dict.fromkeys(record.protocol for record in order.values()))
    rows = []
    # Per protocol, the features in name order, then the groups (folded cases) after them.
    for (protocol, feature, group), ids in sorted(
        features.items(), key=lambda item: (protocols.index(item[0][0]), bool(item[0][2]), item[0][1])
    ):
        cases = tuple(
            CaseRow(
                id=case_id,
                level=order[case_id].level,
                title=order[case_id].title,
                reference=order[case_id].reference,
                records=tuple(index.get(case_id) for index in indexes),
            )
            for case_id in ids
        )
        cells = tuple(cell_of([case.records[n] for case in cases]) for n in range(len(columns)))
        rows.append(FeatureRow(protocol, feature, cells, cases, group or None))
    totals = tuple(
        cell_of([case.records[n] for row in rows for case in row.cases]) for n in range(len(columns))
    )
    ungrouped = None
    if any(row.group for row in rows):
        ungrouped = tuple(
            cell_of([case.records[n] for row in rows if not row.group for case in row.cases])
            for n in range(len(columns))
        )
    return Matrix(tuple(columns), tuple(rows), totals, ungrouped, billing_rows(runs))


def billing_rows(runs: Sequence[RunRecord]) -> tuple[BillingRow, ...]:
    """A row per billing invariant any run measured, in the order ``INVARIANTS`` lists them."""
    results = [run.billing.by_name() if run.billing is not None else {} for run in runs]
    measured = {name for result in results for name in result}
    order = [name for name in INVARIANTS if name in measured] + sorted(measured - INVARIANTS.keys())
    rows = []
    for name in order:
        cells = tuple(BillingCell(result.get(name)) for result in results)
        known = next(cell.result for cell in cells if cell.result is not None)
        rows.append(BillingRow(name, known.compares, known.tolerance, cells))
    return tuple(rows)


def cell_of(records: Sequence[CaseRecord | None]) -> Cell:
    """Count one run's records of some cases; unsupported, skipped and absent cases are not judged."""
    passed = judged = not_judged = breaking = should = flaky = expected = forwarded = 0
    for record in records:
        if record is None or not record.judged:
            not_judged += 1
            continue
        judged += 1
        if record.outcome == "passed" and not record.breaks_gate:
            passed += 1
            continue
        flaky += record.outcome == "flaky"
        forwarded += record.forwarded_wrongly
        if record.expected_failure:
            expected += 1
        elif record.breaks_gate:
            breaking += 1
        elif record.broken:
            should += 1
    return Cell(passed, judged, not_judged, breaking, should, flaky, expected, forwarded)
