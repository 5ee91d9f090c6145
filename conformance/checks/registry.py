"""The registry of checks: small pure functions from an exchange to findings, each documented.

A check is registered with the name case files use, the JSON Schema of its argument and its docstring;
``conformance.checks.catalog`` turns the registry into the ``expectations`` schema of case files and the
README's check table.
"""

from __future__ import annotations

import copy
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from conformance import pointer as jp
from conformance.errors import Undecodable
from conformance.suite.model import Case, Expectation
from conformance.suite.templates import fill_model
from conformance.wire.exchange import Exchange

if TYPE_CHECKING:
    from conformance.validation.store import SchemaStore

Schema = Mapping[str, Any]
"""A JSON Schema (draft 2020-12) as a mapping."""


@dataclass(frozen=True)
class Failure:
    """One way an exchange broke an expectation: what was wanted, what came, and where."""

    message: str
    pointer: str | None = None


@dataclass(frozen=True)
class Sample:
    """A measurement a billing check took: an invariant's billed count and the count it is judged against,
    at a step of the case."""

    invariant: str
    step: int
    measured: float
    reference: float


@dataclass(frozen=True)
class CheckContext:
    """What a check may read: the case, the exchanges so far (the current one last), the schemas and mode;
    ``samples`` collects what billing checks measured."""

    case: Case
    exchanges: tuple[Exchange, ...]
    schemas: SchemaStore
    strict: bool = False
    model: str = ""
    cache: dict[str, Any] = field(default_factory=dict, compare=False)
    samples: list[Sample] = field(default_factory=list, compare=False)

    @property
    def exchange(self) -> Exchange:
        return self.exchanges[-1]

    @property
    def protocol(self) -> str:
        """The protocol of the step being judged (a step may go to the other route, or be an SDK call)."""
        return self.case.step_protocol(len(self.exchanges) - 1)

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


@dataclass(frozen=True)
class Check:
    """A registered check: the name case files use, its function, its argument schema and its docstring."""

    name: str
    function: CheckFn
    args: Schema = field(compare=False)
    doc: str

    @property
    def summary(self) -> str:
        """What the check means, in one line: the docstring's first line."""
        return self.doc.splitlines()[0]

    @property
    def examples(self) -> list[Any]:
        """Arguments as a case file writes them (the ``examples`` of the argument schema)."""
        return list(self.args["examples"])


CHECKS: dict[str, Check] = {}
"""Every registered check by name; importing ``conformance.checks`` fills it."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def ref(definition: str) -> dict[str, str]:
    """A ``$ref`` to a shared definition of the case schema, e.g. ``ref("pointer")``."""
    return {"$ref": f"#/$defs/{definition}"}


def check(name: str, *, args: Schema) -> Callable[[CheckFn], CheckFn]:
    """Register a check under the name case files use, with the JSON Schema of its argument.

    The function's docstring documents the check; its first line is the meaning shown in the README.
    ``args`` is the schema of the value a case writes after the name, with ``examples`` of it; it may
    ``$ref`` shared definitions of the case schema (see ``ref``). A check without a docstring or a valid
    argument schema, or under a name already taken, fails here with ``ValueError``.
    """

    def register(fn: CheckFn) -> CheckFn:
        if not _NAME.match(name):
            raise ValueError(f"check name {name!r} is not snake_case")
        if name in CHECKS:
            raise ValueError(f"check {name!r} registered twice")
        CHECKS[name] = Check(name, fn, _args_schema(name, args), _docstring(name, fn))
        return fn

    return register


def _docstring(name: str, fn: CheckFn) -> str:
    doc = inspect.getdoc(fn)
    if not doc or not doc.strip():
        raise ValueError(f"check {name!r} ({fn.__module__}.{fn.__qualname__}) has no docstring")
    return doc.strip()


def _args_schema(name: str, args: Schema) -> dict[str, Any]:
    if not isinstance(args, Mapping) or not args:
        raise ValueError(f"check {name!r} has no argument schema")
    try:
        Draft202012Validator.check_schema(args)
    except SchemaError as exc:
        raise ValueError(
            f"check {name!r}: the argument schema is not valid JSON Schema: {exc.message}"
        ) from None
    if "description" in args:
        raise ValueError(
            f"check {name!r}: the argument schema has a description; the docstring is the description"
        )
    examples = args.get("examples")
    if not isinstance(examples, list) or not examples:
        raise ValueError(f"check {name!r}: the argument schema needs examples (the README shows them)")
    return copy.deepcopy(dict(args))


def run_check(ctx: CheckContext, expectation: Expectation) -> list[Failure]:
    """Apply one expectation; ``Undecodable`` propagates (the case is errored, not failed)."""
    return CHECKS[expectation.check].function(ctx, fill_model(expectation.args, ctx.model))
