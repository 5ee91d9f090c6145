"""Checks that depend on the verdict mode.

``strict`` holds Google's exact behaviour, which compat mode tolerates departures from.
"""

from __future__ import annotations

from typing import Any

from conformance.checks.registry import CheckContext, Failure, check, run_check
from conformance.suite.model import Expectation


@check("strict")
def strict(ctx: CheckContext, items: list[dict[str, Any]]) -> list[Failure]:
    """Every nested expectation holds under ``--mode strict``; in compat mode nothing is checked."""
    if not ctx.strict:
        return []
    failures: list[Failure] = []
    for item in items:
        ((name, args),) = item.items()
        failures.extend(
            Failure(f"strict mode: {f.message}", f.pointer) for f in run_check(ctx, Expectation(name, args))
        )
    return failures
