"""Help that teaches: each subcommand's help ends with examples and its exit codes."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, TypeAlias

Subcommands: TypeAlias = "argparse._SubParsersAction[Any]"
"""What ``add_subparsers`` returns: each command module adds its parsers to it."""


@dataclass(frozen=True)
class Help:
    """A subcommand's one-line summary, a few examples (command, what it does) and its exit codes."""

    summary: str
    examples: tuple[tuple[str, str], ...] = ()
    exit_codes: tuple[tuple[str, str], ...] = (
        ("0", "success"),
        ("2", "bad input: one line naming the file and field"),
    )

    def epilog(self) -> str:
        lines = ["examples:"]
        for example, meaning in self.examples:
            lines += [f"  {example}", f"      {meaning}"]
        lines.append("")
        lines.append("exit codes:")
        lines += [f"  {code:>4}  {meaning}" for code, meaning in self.exit_codes]
        return "\n".join(lines)

    def parser(self, commands: Subcommands, name: str) -> argparse.ArgumentParser:
        """Add the subcommand ``name`` with this help."""
        return commands.add_parser(
            name,
            help=self.summary,
            description=self.summary[0].upper() + self.summary[1:] + ".",
            epilog=self.epilog(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
