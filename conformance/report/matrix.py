"""The compatibility matrix: features by providers, built from results.json documents alone."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from conformance.report.results import BROKEN

Colour = Literal["green", "yellow", "red", "grey"]


@dataclass(frozen=True)
class Column:
    """One run: a provider (with its faults and mode when not plain) and its run record."""

    key: str
    label: str
    document: dict[str, Any]

    @property
    def run(self) -> dict[str, Any]:
        return self.document["run"]


@dataclass(frozen=True)
class Cell:
    """How one provider did on one feature: passed of judged, MUST cases broken, and the colour that says so."""

    passed: int
    judged: int
    not_judged: int
    must_broken: int
    should_broken: int
    flaky: int
    expected: int

    @property
    def colour(self) -> Colour:
        if self.judged == 0:
            return "grey"
        if self.must_broken:
            return "red"
        if self.should_broken or self.flaky or self.expected:
            return "yellow"
        return "green"

    @property
    def text(self) -> str:
        return f"{self.passed}/{self.judged}" if self.judged else "n/a"


@dataclass(frozen=True)
class CaseRow:
    """One case across providers: its metadata and each provider's record (None when that run lacked it)."""

    id: str
    level: str
    title: str
    reference: str
    records: tuple[dict[str, Any] | None, ...]

    @property
    def outcomes(self) -> tuple[str, ...]:
        return tuple(r["outcome"] if r else "absent" for r in self.records)

    @property
    def differs(self) -> bool:
        return len(set(self.outcomes)) > 1


@dataclass(frozen=True)
class FeatureRow:
    """One feature of one protocol: a cell per provider and its cases."""

    protocol: str
    feature: str
    cells: tuple[Cell, ...]
    cases: tuple[CaseRow, ...]

    @property
    def anchor(self) -> str:
        return f"f-{self.protocol}-{self.feature}"


@dataclass(frozen=True)
class Matrix:
    """Every feature (grouped by protocol, in suite order) by every provider."""

    columns: tuple[Column, ...]
    rows: tuple[FeatureRow, ...]
    totals: tuple[Cell, ...] = field(default=())

    def protocols(self) -> list[str]:
        return list(dict.fromkeys(row.protocol for row in self.rows))


def column_label(run: dict[str, Any]) -> str:
    """``provider``, plus ``+fault,...`` for an injected reference and `` (strict)`` in strict mode."""
    label = run["provider"]
    if run.get("faults"):
        label += " +" + ",".join(run["faults"])
    if run.get("mode") == "strict":
        label += " (strict)"
    return label


def build_matrix(documents: list[dict[str, Any]]) -> Matrix:
    """The matrix of runs, one column each, in the order given; labels made unique by a number."""
    columns: list[Column] = []
    seen: Counter[str] = Counter()
    for document in documents:
        label = column_label(document["run"])
        seen[label] += 1
        if seen[label] > 1:
            label += f" #{seen[label]}"
        columns.append(Column(key=f"c{len(columns)}", label=label, document=document))
    order: dict[str, dict[str, Any]] = {}
    for document in documents:
        for record in document["cases"]:
            order.setdefault(record["id"], record)
    by_id = [{record["id"]: record for record in document["cases"]} for document in documents]
    features: dict[tuple[str, str], list[str]] = {}
    for case_id, record in order.items():
        features.setdefault((record["protocol"], record["feature"]), []).append(case_id)
    protocols = list(dict.fromkeys(record["protocol"] for record in order.values()))
    rows = []
    for (protocol, feature), ids in sorted(
        features.items(), key=lambda item: (protocols.index(item[0][0]), item[0][1])
    ):
        cases = tuple(
            CaseRow(
                id=i,
                level=order[i]["level"],
                title=order[i]["title"],
                reference=order[i]["reference"],
                records=tuple(index.get(i) for index in by_id),
            )
            for i in ids
        )
        cells = tuple(cell_of([case.records[n] for case in cases]) for n in range(len(columns)))
        rows.append(FeatureRow(protocol=protocol, feature=feature, cells=cells, cases=cases))
    totals = tuple(
        cell_of([case.records[n] for row in rows for case in row.cases]) for n in range(len(columns))
    )
    return Matrix(columns=tuple(columns), rows=tuple(rows), totals=totals)


def cell_of(records: list[dict[str, Any] | None]) -> Cell:
    """Count a provider's records of one feature; unsupported, skipped and absent cases are not judged."""
    passed = judged = not_judged = must = should = flaky = expected = 0
    for record in records:
        if record is None or record["outcome"] in ("unsupported", "skipped"):
            not_judged += 1
            continue
        judged += 1
        outcome = record["outcome"]
        if outcome == "passed":
            passed += 1
            continue
        flaky += outcome == "flaky"
        if (record.get("baseline") or {}).get("status") == "expected":
            expected += 1
        elif outcome in BROKEN:
            if record["level"] == "MUST":
                must += 1
            else:
                should += 1
    return Cell(passed, judged, not_judged, must, should, flaky, expected)
