"""Checks made of other checks: ``any_of``."""

from __future__ import annotations

from typing import Any

from conformance.checks.registry import CheckContext, Failure, check, ref, run_check
from conformance.errors import Undecodable
from conformance.suite.model import Expectation


@check(
    "any_of",
    args={
        "type": "array",
        "minItems": 2,
        "items": ref("expectations"),
        "examples": [
            [[{"status": 200}, {"schema": "openai/ChatCompletion"}], [{"status": 400}, {"error": {}}]]
        ],
    },
    sides=("response", "upstream"),
)
def any_of(ctx: CheckContext, branches: list[list[dict[str, Any]]]) -> list[Failure]:
    """At least one branch (a list of expectations) holds entirely: "works, or is cleanly rejected".

    Branches are tried in order; within a branch, the first broken expectation ends it. When none holds,
    the failure names the first broken expectation of each branch. On the upstream side the branches
    hold upstream expectations.
    """
    reasons: list[str] = []
    for branch in branches:
        failures: list[Failure] = []
        for item in branch:
            ((name, args),) = item.items()
            try:
                failures.extend(run_check(ctx, Expectation(name, args)))
            except Undecodable as exc:
                failures.append(Failure(f"{name}: {exc}"))
            if failures:
                break
        if not failures:
            return []
        reasons.append(failures[0].message)
    return [Failure("no alternative held: " + "; or ".join(reasons))]
