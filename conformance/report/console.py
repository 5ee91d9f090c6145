"""What ``conformance run`` prints: progress while cases run, then the outcome of each feature, what broke
(identical messages grouped), and last the gate verdict and where the reports are."""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from conformance.report.records import CaseRecord, RunRecord, feature_groups

LISTED = 40
"""Broken cases (or groups of identical messages) listed before the rest are counted."""


class Console:
    """The console of one command; ``quiet`` prints little more than the gate verdict and the reports."""

    def __init__(
        self, stream: TextIO | None = None, quiet: bool = False, write: Callable[[str], object] | None = None
    ) -> None:
        self.stream = stream or sys.stdout
        self.quiet = quiet
        self.tty = write is None and self.stream.isatty()
        self._write = write
        self.total = 0
        self.done = 0

    def line(self, text: str = "") -> None:
        """One line: to the stream, or to the ``write`` function given (pytest's terminal reporter)."""
        if self._write is not None:
            self._write(text)
            return
        self.stream.write(text + "\n")
        self.stream.flush()

    def begin(self, label: str, where: str, total: int, concurrency: int) -> None:
        """Announce a target; the progress counts the cases of every target announced."""
        self.total += total
        if not self.quiet:
            self.line(f"conformance: {total} cases -> {label} ({where}), concurrency {concurrency}")

    def progress(self, _: CaseRecord) -> None:
        self.done += 1
        if self.tty and not self.quiet:
            self.stream.write(f"\r  {self.done}/{self.total} cases judged")
            self.stream.flush()
            if self.done == self.total:
                self.stream.write("\r" + " " * 40 + "\r")

    def end(self, run: RunRecord, out: Path) -> None:
        """The run's summary: features and what broke (unless quiet), then the gate and the reports."""
        if not self.quiet:
            self.features(run)
            self.broken(run.cases)
            self.upstream(run)
            if not run.complete:
                self.line(
                    f"INCOMPLETE: {run.info.interrupted or 'the run stopped early'}; "
                    f"{len(run.info.not_run)} case(s) never ran"
                )
        self.gate(run)
        self.line(
            f"reports: {out}/ (results.jsonl, results.json, junit.xml, report.html, matrix.html, matrix.md,"
            " badge.svg, badge.json, badges/)"
        )

    def features(self, run: RunRecord) -> None:
        """One line per feature, then one per folded group of cases (such as the per-type multimodal
        cases), so that a group of many generated cases does not drown the features."""
        self.line(
            f"{'protocol/feature':40} {'passed':>6} {'failed':>6} {'errored':>7} {'flaky':>5} "
            f"{'unsupp.':>7} {'skipped':>7}"
        )
        for group in feature_groups(run):
            counts = group.counts
            name = f"{group.protocol}/{group.feature}"
            if group.group:
                name += f" ({group.group}, {len(group.cases)} cases)"
            self.line(
                f"{name:40} {counts['passed']:>6} {counts['failed']:>6} "
                f"{counts['errored']:>7} "
                f"{counts['flaky']:>5} {counts['unsupported']:>7} {counts['skipped']:>7}"
            )

    def broken(self, cases: Sequence[CaseRecord]) -> None:
        """Every case that broke or breaks the gate, one line each; identical messages grouped."""
        shown = [c for c in cases if c.breaks_gate or (c.broken and not c.expected_failure)]
        if not shown:
            return
        groups: dict[tuple[str, str], list[CaseRecord]] = defaultdict(list)
        for record in shown:
            groups[(record.outcome, record.message)].append(record)
        self.line()
        lines = 0
        for (outcome, message), records in groups.items():
            if lines >= LISTED:
                break
            lines += 1
            if len(records) == 1:
                record = records[0]
                self.line(f"{outcome.upper()} {record.id} [{record.level}]: {_cut(message)}")
            else:
                must = sum(r.level == "MUST" for r in records)
                self.line(
                    f"{len(records)} cases {outcome} ({must} MUST): {_cut(message)} (e.g. {records[0].id})"
                )
        left = len(groups) - lines
        if left > 0:
            self.line(f"... and {left} more (see report.html)")

    def upstream(self, run: RunRecord) -> None:
        """A two-sided run: the cases the gateway forwarded wrongly, and the requests no case caused."""
        info = run.info.upstream
        if info is None:
            return
        wrong = sum(record.forwarded_wrongly for record in run.cases)
        self.line()
        self.line(
            f"upstream {info.base_url}: {info.requests} request(s) reached it; {wrong} case(s) forwarded"
            f" wrongly; {len(info.unattributed)} request(s) no case accounts for"
        )
        groups = Counter((r.method, r.url.split("?", 1)[0], r.reason) for r in info.unattributed)
        for (method, path, reason), count in list(groups.items())[:5]:
            self.line(f"  unattributed: {count} x {method} {path}: {reason}")
        if len(groups) > 5:
            self.line(f"  ... and {len(groups) - 5} more kinds (see results.json run.upstream)")

    def gate(self, run: RunRecord) -> None:
        summary = run.summary
        must, should = summary.by_level["MUST"], summary.by_level["SHOULD"]
        flaky = f", {must['flaky']} flaky" if must.get("flaky") else ""
        not_passed = should["failed"] + should["errored"] + should.get("flaky", 0)
        text = (
            f"gate: {summary.gate.upper()}  (MUST: {must['passed']} passed, {must['failed']} failed, "
            f"{must['errored']} errored{flaky}; SHOULD: {should['passed']} passed, {not_passed} not passed"
        )
        if summary.baseline is not None:
            known = summary.baseline
            text += (
                f"; baseline: {known['expected_failures']} expected failures, "
                f"{known['unexpected_passes']} unexpected passes, {known['changed']} changed"
            )
        if not run.complete:
            text += "; INCOMPLETE run"
        self.line(f"{run.info.target_label}: {text})")


def _cut(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
