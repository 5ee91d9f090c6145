"""The vocabulary of checks: small pure functions from an exchange to findings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance import pointer as jp
from conformance.errors import Undecodable
from conformance.suite.model import Case, Expectation
from conformance.suite.templates import fill_model
from conformance.wire.exchange import Exchange

if TYPE_CHECKING:
    from conformance.validation.store import SchemaStore


@dataclass(frozen=True)
class Failure:
    """One way an exchange broke an expectation: what was wanted, what came, and where."""

    message: str
    pointer: str | None = None


@dataclass(frozen=True)
class CheckContext:
    """What a check may read: the case, the exchanges so far (the current one last), the schemas and mode."""

    case: Case
    exchanges: tuple[Exchange, ...]
    schemas: SchemaStore
    strict: bool = False
    model: str = ""
    cache: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def exchange(self) -> Exchange:
        return self.exchanges[-1]

    @property
    def protocol(self) -> str:
        return self.case.protocol

    def body(self, step: int | None = None) -> Any:
        """The JSON body of a step's response (the current one by default); raises ``Undecodable``."""
        exchange = self.exchange if step is None else self.exchanges[step]
        return exchange.json()

    def lookup(self, ref: str) -> list[tuple[str, Any]]:
        """Resolve ``/pointer`` in the current body or ``N#/pointer`` in step N's body."""
        step: int | None = None
        if "#" in ref:
            head, ref = ref.split("#", 1)
            step = int(head)
            if step >= len(self.exchanges):
                raise Undecodable(f"step {step} has not run")
        return jp.resolve(self.body(step), ref)


CheckFn = Callable[[CheckContext, Any], list[Failure]]
CHECKS: dict[str, CheckFn] = {}


def check(name: str) -> Callable[[CheckFn], CheckFn]:
    """Register a check under the name case files use."""

    def register(fn: CheckFn) -> CheckFn:
        if name in CHECKS:
            raise ValueError(f"check {name!r} registered twice")
        CHECKS[name] = fn
        return fn

    return register


def run_check(ctx: CheckContext, expectation: Expectation) -> list[Failure]:
    """Apply one expectation; ``Undecodable`` propagates (the case is errored, not failed)."""
    return CHECKS[expectation.check](ctx, fill_model(expectation.args, ctx.model))


@check("any_of")
def any_of(ctx: CheckContext, branches: list[list[dict[str, Any]]]) -> list[Failure]:
    """At least one branch (a list of expectations) holds entirely."""
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
