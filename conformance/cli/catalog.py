"""``conformance list`` and ``conformance faults``: what the suite holds and what the reference can fake."""

from __future__ import annotations

import argparse

from conformance.cli.help import Help, Subcommands
from conformance.options import RunSettings
from conformance.suite.loader import load_cases
from conformance.suite.model import LEVELS, PROTOCOLS

LIST_HELP = Help(
    summary="print the cases: id, level and title",
    examples=(
        ("conformance list", "every built-in case"),
        ("conformance list --protocol openai --level MUST", "the OpenAI route's MUST cases"),
        ("conformance list --cases my-cases/", "the built-in cases and your own"),
    ),
)
FAULTS_HELP = Help(
    summary="list the reference gateway's faults: name, bug class, protocol, feature and what it does",
    examples=(
        ("conformance faults", "every fault"),
        ("conformance run --fault usage-misreported", "the suite against the reference with that fault"),
        (
            "conformance run --upstream 127.0.0.1:0 --fault upstream-key-in-query",
            "a forwarding fault (marked [forwarding]): the forwarding reference in a two-sided run",
        ),
    ),
)


def add_parsers(commands: Subcommands) -> None:
    lister = LIST_HELP.parser(commands, "list")
    lister.add_argument(
        "--cases",
        action="append",
        default=[],
        metavar="DIR",
        help="a directory of your own case files, listed with the built-in ones (repeatable)",
    )
    lister.add_argument("--protocol", choices=PROTOCOLS, help="only cases of this protocol")
    lister.add_argument(
        "--feature", metavar="NAME", help="only cases of this feature, e.g. generation-config"
    )
    lister.add_argument("--level", choices=LEVELS, help="only cases of this level")
    FAULTS_HELP.parser(commands, "faults")


def list_command(args: argparse.Namespace) -> int:
    directories = RunSettings.case_directories(args.cases)
    shown = [
        case
        for case in load_cases(*directories, builtin=True)
        if (not args.protocol or case.protocol == args.protocol)
        and (not args.feature or case.feature == args.feature)
        and (not args.level or case.level == args.level)
    ]
    width = max((len(case.id) for case in shown), default=10)
    for case in shown:
        print(f"{case.id:{width}}  {case.level:6}  {case.title}")
    print(f"{len(shown)} cases")
    return 0


def faults_command(_: argparse.Namespace) -> int:
    from conformance.reference.faults.registry import FAULTS, FORWARDING_AREA

    forwarding = 0
    for fault in FAULTS.values():
        where = f"{fault.bug_class or '-':4} {fault.protocol:7} {fault.feature:20}"
        mark = "[forwarding] " if fault.area == FORWARDING_AREA else ""
        forwarding += fault.area == FORWARDING_AREA
        print(f"{fault.name:32} {where} {mark}{fault.description}")
    print(
        f"{len(FAULTS)} faults ({forwarding} of the forwarding reference: --upstream, or serve --forward-to)"
    )
    return 0
