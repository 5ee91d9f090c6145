"""``conformance compare``, ``history``, ``diff`` and ``baseline``: views and baselines of earlier runs.

Each takes run records as ``results.json`` or ``results.jsonl`` files, or report directories holding one.
"""

from __future__ import annotations

import argparse
import glob
from collections.abc import Sequence
from pathlib import Path

from conformance.cli.help import Help, Subcommands
from conformance.engine.baseline import default_baseline_path, write_baseline
from conformance.errors import ConfigError
from conformance.report.diff import diff_runs, format_diff
from conformance.report.history import without_evidence
from conformance.report.log import LOG_NAME
from conformance.report.matrix import pivot
from conformance.report.records import RunRecord
from conformance.report.results import RESULTS_NAME, read_run
from conformance.report.views import write_history, write_matrix

COMPARE_HELP = Help(
    summary="the side-by-side matrix (HTML and Markdown) of earlier runs",
    examples=(
        (
            "conformance compare reports/google reports/theturbo",
            "two runs side by side in reports/matrix.html",
        ),
        ("conformance compare 'artifacts/*/results.jsonl' --out merged/", "every run a CI matrix uploaded"),
        ("conformance compare reports/", "every run under a folder"),
        ("conformance compare reports/ --model gemini-2.5-pro", "one model: features x providers"),
        ("conformance compare reports/ --provider google", "one provider: features x models"),
    ),
    exit_codes=(
        ("0", "the matrix was written"),
        ("2", "a run record cannot be read, or no run is of the --provider/--model asked for"),
    ),
)
HISTORY_HELP = Help(
    summary="the trend of many runs of the same targets: each feature's pass rate over time, and the first"
    " run where each case broke or recovered (history.html and history.md)",
    examples=(
        ("conformance history nightly/", "every run under a folder, grouped by target (provider, model)"),
        (
            "conformance history 'runs/*/google' --out site/",
            "one provider's runs, one folder each; site/history.html and site/history.md",
        ),
        ("conformance history nightly/ --model gemini-2.5-pro", "the runs of one model only"),
    ),
    exit_codes=(
        ("0", "the history was written"),
        ("2", "a run record cannot be read, or no run is of the --provider/--model asked for"),
    ),
)
DIFF_HELP = Help(
    summary="new failures, fixes and changed outcomes between two runs of the same target",
    examples=(("conformance diff old/results.json reports/google", "what changed since the old run"),),
    exit_codes=(
        ("0", "no case that passed before fails now"),
        ("1", "at least one new failure"),
        ("2", "a run record cannot be read"),
    ),
)
BASELINE_HELP = Help(
    summary="write a baseline of a run's failed, errored and flaky cases (known failures for the CI gate)",
    examples=(
        ("conformance baseline reports/theturbo", "write baselines/theturbo.yaml"),
        (
            "conformance baseline reports/gw --out ci/known.yaml --reason 'vendor bug'",
            "another file, another reason",
        ),
    ),
)


def add_parsers(commands: Subcommands) -> None:
    compare = COMPARE_HELP.parser(commands, "compare")
    compare.add_argument(
        "runs",
        nargs="+",
        metavar="RUN",
        help="results.json or results.jsonl files, report directories, folders of them, or glob patterns",
    )
    compare.add_argument(
        "--out",
        default="reports",
        metavar="DIR",
        help="directory for matrix.html and matrix.md (default: reports/)",
    )
    compare.add_argument(
        "--model",
        metavar="ID",
        help="keep only the runs of this model: features x providers (the page pivots too)",
    )
    compare.add_argument(
        "--provider",
        metavar="NAME",
        help="keep only the runs of this provider: features x models",
    )
    history = HISTORY_HELP.parser(commands, "history")
    history.add_argument(
        "runs",
        nargs="+",
        metavar="RUN",
        help="results.json or results.jsonl files, report directories, folders of them, or glob patterns",
    )
    history.add_argument(
        "--out",
        default="reports",
        metavar="DIR",
        help="directory for history.html and history.md (default: reports/)",
    )
    history.add_argument("--model", metavar="ID", help="keep only the runs of this model")
    history.add_argument("--provider", metavar="NAME", help="keep only the runs of this provider")
    differ = DIFF_HELP.parser(commands, "diff")
    differ.add_argument("old", metavar="OLD", help="the earlier run (a run record file or its directory)")
    differ.add_argument("new", metavar="NEW", help="the later run (a run record file or its directory)")
    base = BASELINE_HELP.parser(commands, "baseline")
    base.add_argument("run", metavar="RUN", help="the run (a run record file or its directory)")
    base.add_argument(
        "--out",
        metavar="FILE",
        help="baseline file (default: baselines/<provider>.yaml); reasons and issues already there are kept",
    )
    base.add_argument("--reason", default="known failure", help="reason recorded for new entries")


def run_paths(given: str) -> list[Path]:
    """The run records one argument names: a file, a report directory, a folder of them, or a glob."""
    if any(char in given for char in "*?["):
        matches = sorted(glob.glob(given, recursive=True))
        if not matches:
            raise ConfigError("no file or directory matches the pattern", source=given)
        return [path for match in matches for path in run_paths(match)]
    path = Path(given)
    if not path.is_dir():
        return [path]
    if (path / LOG_NAME).is_file() or (path / RESULTS_NAME).is_file():
        return [path]
    found = sorted({record.parent for name in (LOG_NAME, RESULTS_NAME) for record in path.rglob(name)})
    if not found:
        raise ConfigError("no run record (results.jsonl or results.json) in this directory", source=path)
    return found


def read_runs(given: Sequence[str], evidence: bool = True) -> list[RunRecord]:
    """Every run record the arguments name (files, report directories, folders of them, globs), each run once
    (a folder's ``results.jsonl`` and ``results.json`` are one run: its log is read)."""
    runs: dict[Path, None] = {}
    for text in given:
        for path in run_paths(text):
            folder = path.parent if path.name in (LOG_NAME, RESULTS_NAME) and path.is_file() else path
            runs[folder.resolve()] = None
    if evidence:
        return [read_run(path) for path in runs]
    return [without_evidence(read_run(path)) for path in runs]


def _pivoted(runs: list[RunRecord], provider: str | None, model: str | None) -> list[RunRecord]:
    """The runs of ``provider`` and ``model`` (either may be None); none at all is bad input."""
    kept = pivot(runs, provider, model)
    if not kept:
        wanted = " and ".join(
            text for text in (provider and f"provider {provider}", model and f"model {model}") if text
        )
        known = ", ".join(sorted({f"{run.info.provider} · {run.info.model}" for run in runs}))
        raise ConfigError(f"no run of {wanted} (the runs are of: {known})", field="--provider/--model")
    return kept


def compare_command(args: argparse.Namespace) -> int:
    kept = _pivoted(read_runs(args.runs), args.provider, args.model)
    html_path, md_path = write_matrix(kept, Path(args.out))
    print(f"matrix of {len(kept)} runs: {html_path} and {md_path}")
    return 0


def history_command(args: argparse.Namespace) -> int:
    kept = _pivoted(read_runs(args.runs, evidence=False), args.provider, args.model)
    html_path, md_path = write_history(kept, Path(args.out))
    targets = len({run.info.target for run in kept})
    print(f"history of {len(kept)} runs of {targets} target(s): {html_path} and {md_path}")
    return 0


def diff_command(args: argparse.Namespace) -> int:
    old, new = read_run(args.old), read_run(args.new)
    diff = diff_runs(old, new)
    print(format_diff(diff, old, new))
    return 1 if diff.regressed else 0


def baseline_command(args: argparse.Namespace) -> int:
    run = read_run(args.run)
    provider = run.info.provider
    path = Path(args.out) if args.out else default_baseline_path(provider)
    count = write_baseline(provider, ((c.id, c.outcome, c.message) for c in run.cases), path, args.reason)
    print(f"baseline of {provider}: {count} known failures in {path}")
    return 0
