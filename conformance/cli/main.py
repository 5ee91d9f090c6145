"""The ``conformance`` command: run, list, faults, validate, serve, upstream, compare, history, diff and
baseline.

Bad input of any command is one line on stderr naming the file and field, and exit code 2; a broken
pipe (``conformance list | head``) ends quietly; Ctrl-C is exit 130 and SIGTERM 143.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from conformance import __version__
from conformance.cli import catalog, records, run, serve, upstream, validate
from conformance.errors import ConfigError, Terminated

EXIT_USAGE = 2
EXIT_SIGINT = 130
EXIT_SIGTERM = 143

Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {
    "run": run.command,
    "list": catalog.list_command,
    "faults": catalog.faults_command,
    "validate": validate.command,
    "serve": serve.command,
    "upstream": upstream.command,
    "compare": records.compare_command,
    "history": records.history_command,
    "diff": records.diff_command,
    "baseline": records.baseline_command,
}


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line (and exit 2), like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="conformance",
        description="Conformance suite and compatibility checker for gateways speaking the Gemini native and"
        " OpenAI-compatible protocols.",
        epilog="Run `conformance COMMAND --help` for a command's options, examples and exit codes.",
    )
    parser.add_argument("--version", action="version", version=f"gateway-conformance {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    run.add_parser(commands)
    catalog.add_parsers(commands)
    validate.add_parser(commands)
    serve.add_parser(commands)
    upstream.add_parser(commands)
    records.add_parsers(commands)
    return parser


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        print(exc.one_line(), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_SIGINT
    except Terminated:
        print("terminated", file=sys.stderr)
        return EXIT_SIGTERM
    except BrokenPipeError:
        # The reader went away (`conformance list | head`): stop quietly, and keep Python from
        # complaining again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
