"""``conformance run``: the suite against one or more providers; every report is built from the event log."""

from __future__ import annotations

import argparse

from conformance.cli.help import Help, Subcommands
from conformance.errors import ConfigError
from conformance.options import RunSettings, add_to_parser
from conformance.report.console import Console
from conformance.report.views import write_matrix
from conformance.session import REPORTS_DIR, plan_of, report_dir, run_session, upstream_plan
from conformance.suite.loader import load_cases
from conformance.suite.selection import select
from conformance.wire.target import resolve_provider

EXIT_SIGNAL = {"SIGINT": 130, "SIGTERM": 143}

HELP = Help(
    summary="run the suite against a gateway (default: the embedded reference gateway)",
    examples=(
        ("conformance run", "the whole suite against the embedded reference; reports in reports/reference/"),
        (
            "conformance run --provider new-api --base-url https://gw.example --api-key-env GW_KEY",
            "a real gateway, with a shipped profile's prefixes and auth",
        ),
        (
            "conformance run --provider google --provider theturbo -m 'gemini and must'",
            "two providers side by side",
        ),
        (
            "conformance run --base-url http://localhost:4000 --api-key-env GW_KEY"
            " --upstream 127.0.0.1:8090 --upstream-key-env UP_KEY",
            "two-sided: the suite plays the gateway's Google on 127.0.0.1:8090 and judges what it forwards",
        ),
        (
            "conformance run --upstream 127.0.0.1:0 --fault upstream-key-in-query",
            "two-sided against the embedded reference, forwarding with a forwarding fault",
        ),
    ),
    exit_codes=(
        ("0", "the gate passed: every MUST case passed (and a baseline held exactly)"),
        ("1", "the gate failed: a MUST case failed, errored or was flaky, or the run is incomplete"),
        (
            "2",
            "bad input (case file, profile, flag, baseline): one line naming file and field; nothing sent",
        ),
        (
            "130",
            "interrupted by Ctrl-C (143: by SIGTERM); the reports of what ran are written, marked incomplete",
        ),
    ),
)


def add_parser(commands: Subcommands) -> None:
    parser = HELP.parser(commands, "run")
    groups: dict[str, argparse._ArgumentGroup] = {}

    def group(title: str) -> argparse._ArgumentGroup:
        if title not in groups:
            groups[title] = parser.add_argument_group(title)
        return groups[title]

    add_to_parser(lambda title: group(title).add_argument, "cli")


def command(args: argparse.Namespace) -> int:
    settings = RunSettings.read(lambda dest: getattr(args, dest))
    providers = [
        resolve_provider(
            name,
            settings.overrides,
            reference=settings.reference,
            faults=settings.faults,
            upstream=settings.upstream is not None,
        )
        for name in settings.providers
    ]
    for provider in providers:  # a bad upstream option is found before the case files are read
        upstream_plan(settings, provider)
    cases = select(load_cases(*settings.cases, builtin=True), settings.keyword, settings.markers)
    if not cases:
        raise ConfigError("no case matched the selection", field="-k/-m")
    several = len(providers) > 1
    parent = settings.out or REPORTS_DIR
    plans = [
        plan_of(settings, provider, cases, parent / report_dir(settings, provider) if several else None)
        for provider in providers
    ]
    console = Console(quiet=settings.quiet)
    runs = []
    stopped_by = None
    for plan in plans:
        provider, out = plan.provider, plan.out
        where = "embedded reference gateway" if provider.embedded else (provider.safe_base_url() or "")
        console.begin(provider.name, where, len(cases), provider.concurrency)
        result = run_session(plan, console.progress)
        console.end(result.run, out)
        runs.append(result.run)
        if result.stopped_by:
            stopped_by = result.stopped_by
            break
    if several:
        html_path, md_path = write_matrix(runs, parent)
        console.line(f"matrix of {len(runs)} providers: {html_path} and {md_path}")
    if stopped_by:
        return EXIT_SIGNAL[stopped_by]
    return 0 if all(run.summary.gate == "pass" for run in runs) else 1
