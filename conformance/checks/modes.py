"""Checks that depend on the verdict mode.

``strict`` holds Google's exact behaviour, which compat mode tolerates departures from.
"""

from __future__ import annotations

from typing import Any

from conformance.checks.registry import CheckContext, Failure, check, ref, run_check
from conformance.suite.model import Expectation


@check("strict", args={**ref("expectations"), "examples": [[{"status": 400}]]})
def strict(ctx: CheckContext, items: list[dict[str, Any]]) -> list[Failure]:
    """Expectations that hold only under ``--mode strict`` (Google's exact status pair, framing).

    In compat mode nothing is checked; in strict mode every nested expectation must hold.
    """
    if not ctx.strict:
        return []
    failures: list[Failure] = []
    for item in items:
        ((name, args),) = item.items()
        failures.extend(
            Failure(f"strict mode: {f.message}", f.pointer) for f in run_check(ctx, Expectation(name, args))
        )
    return failures
