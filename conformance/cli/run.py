"""``conformance run``: the suite against one or more targets (provider x model), all at once; every report is
built from a target's event log."""

from __future__ import annotations

import argparse

from conformance.cli.help import Help, Subcommands
from conformance.errors import ConfigError
from conformance.options import RunSettings, add_to_parser
from conformance.report.console import Console
from conformance.report.views import write_matrix
from conformance.session import REPORTS_DIR, plans_of, run_sessions, upstream_plan
from conformance.suite.loader import load_cases
from conformance.suite.selection import select
from conformance.wire.profiles import Provider
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
            "conformance run --provider google --model gemini-2.5-flash --model gemini-2.5-pro",
            "two models of one provider, concurrently: reports/google/, reports/google~gemini-2.5-pro/",
        ),
        (
            "conformance run --provider google --provider theturbo --all-models",
            "each profile's default model and its models.others: every target at once, one matrix",
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
        (
            "1",
            "the gate failed: a MUST case failed, errored or was flaky, or the run is incomplete"
            " (with several targets: in any of them)",
        ),
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
    upstream = upstream_plan(settings, *providers)  # a bad upstream option is found before the cases are read
    cases = select(load_cases(*settings.cases, builtin=True), settings.keyword, settings.markers)
    if not cases:
        raise ConfigError("no case matched the selection", field="-k/-m")
    plans = plans_of(settings, providers, cases, upstream)
    console = Console(quiet=settings.quiet)
    for plan in plans:
        provider = plan.provider
        where = "embedded reference gateway" if provider.embedded else (provider.safe_base_url() or "")
        console.begin(target_label(provider), where, len(cases), provider.concurrency)
    results = run_sessions(plans, console.progress)
    for result, plan in zip(results, plans, strict=True):
        console.end(result.run, plan.out)
    runs = [result.run for result in results]
    if len(plans) > 1:
        html_path, md_path = write_matrix(runs, settings.out or REPORTS_DIR)
        console.line(f"matrix of {len(runs)} targets: {html_path} and {md_path}")
    stopped_by = next((result.stopped_by for result in results if result.stopped_by), None)
    if stopped_by:
        return EXIT_SIGNAL[stopped_by]
    return 0 if all(run.summary.gate == "pass" for run in runs) else 1


def target_label(provider: Provider) -> str:
    """How the console names a target: the provider and the model under test."""
    return f"{provider.name} · {provider.default_model}"
