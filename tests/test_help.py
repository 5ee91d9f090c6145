"""Help that teaches: every option of every subcommand says what it does, and every subcommand's help ends
with examples and its exit codes."""

from __future__ import annotations

import argparse

import pytest

from conformance.cli.main import COMMANDS, build_parser


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_has_a_parser():
    assert set(subcommands()) == set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_option_has_a_help_line(name):
    parser = subcommands()[name]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        option = action.option_strings or action.dest
        assert action.help and len(action.help) > 10, f"{name} {option} has no help"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_ends_with_examples_and_exit_codes(name):
    text = subcommands()[name].format_help()
    examples, _, codes = text.partition("exit codes:")
    assert "examples:" in examples and examples.count("  conformance ") >= 1, text
    assert "     0  " in codes or "   0  " in codes, text
    assert "2  " in codes, "every command exits 2 on bad input"
    assert text.rstrip().endswith(codes.rstrip().splitlines()[-1]), "the exit codes come last"
