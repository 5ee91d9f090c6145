"""The mode-dependent check: ``strict`` holds its expectations under --mode strict only."""

from __future__ import annotations

from typing import Any

from conformance.checks import CheckContext, run_check
from conformance.suite.model import Expectation
from tests.test_checks import case, exchange

# Checked with a strict context here (compat ignores them; see test_strict_is_ignored_in_compat_mode).
GOOD_AND_BAD: list[tuple[str, Any, Any, Any, str]] = [
    (
        "strict",
        [{"status": 400}],
        exchange({}, 400),
        exchange({}, 401),
        "strict mode: expected HTTP 400, got 401",
    ),
    (
        "strict",
        [{"header": {"name": "content-type", "matches": "(?i)^application/json; ?charset=utf-8$"}}],
        exchange({}),
        exchange({}, content_type="application/json"),
        "strict mode: expected header content-type matching",
    ),
]


def verdict(schemas, args: Any, ex: Any, strict: bool) -> list[str]:
    ctx = CheckContext(case=case(), exchanges=(ex,), schemas=schemas, strict=strict)
    return [f.message for f in run_check(ctx, Expectation("strict", args))]


def test_strict_passes_good_and_fails_bad_in_strict_mode(schemas):
    for _, args, good, bad, message in GOOD_AND_BAD:
        assert verdict(schemas, args, good, strict=True) == []
        problems = verdict(schemas, args, bad, strict=True)
        assert problems and message in problems[0], problems


def test_strict_is_ignored_in_compat_mode(schemas):
    for _, args, _, bad, _ in GOOD_AND_BAD:
        assert verdict(schemas, args, bad, strict=False) == []
