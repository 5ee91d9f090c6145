"""The registry of checks: small pure functions from an exchange to findings, each documented.

A check is registered with the name case files use, the JSON Schema of its argument and its docstring;
``conformance.checks.catalog`` turns the registry into the ``expectations`` schema of case files and the
README's check table.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from conformance import pointer as jp
from conformance.errors import Undecodable
from conformance.suite.model import Case, Expectation, Side
from conformance.suite.templates import fill_model
from conformance.upstream.correlation import strip_tags
from conformance.upstream.ledger import ForwardedRequest, UpstreamFacts
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
    ``samples`` collects what billing checks measured.

    On the upstream side (``side == "upstream"``) the subject is ``forwarded``, one request the gateway
    forwarded for the current step: ``body()`` is its JSON body as Google reads it (lowerCamelCase keys,
    the correlation tag removed), while ``N#/`` pointers still read step N's response and ``exchange`` is
    still the current step's exchange with the gateway. ``upstream`` holds what the run knows of its
    upstream (its address and key, the client's keys), on both sides of a run that has one.
    """

    case: Case
    exchanges: tuple[Exchange, ...]
    schemas: SchemaStore
    strict: bool = False
    model: str = ""
    cache: dict[str, Any] = field(default_factory=dict, compare=False)
    side: Side = "response"
    forwarded: ForwardedRequest | None = None
    upstream: UpstreamFacts | None = None
    samples: list[Sample] = field(default_factory=list, compare=False)

    @property
    def exchange(self) -> Exchange:
        return self.exchanges[-1]

    @property
    def protocol(self) -> str:
        """The protocol of the step being judged (a step may go to the other route, or be an SDK call)."""
        return self.case.step_protocol(len(self.exchanges) - 1)

    def body(self, step: int | None = None) -> Any:
        """The JSON body of the subject (the current response, or on the upstream side the forwarded
        request), or of step N's response; raises ``Undecodable``."""
        if step is None and self.side == "upstream":
            if self.forwarded is None:
                raise Undecodable("no forwarded request to judge")
            return self.forwarded.json()
        exchange = self.exchange if step is None else self.exchanges[step]
        return exchange.json()

    def sent_body(self) -> Any:
        """The JSON body the suite sent in the current step, its correlation tag removed; raises
        ``Undecodable`` when it was not JSON or was too large to keep."""
        request = self.exchange.request
        if request.body_truncated:
            raise Undecodable("the request body sent was too large to keep for comparison")
        try:
            value = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Undecodable(f"the request body sent is not JSON: {exc}") from None
        return strip_tags(value)[0]

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


SIDES: tuple[Side, ...] = ("response", "upstream")


@dataclass(frozen=True)
class Check:
    """A registered check: the name case files use, its function, its argument schema, its docstring, and
    the sides it judges (the response, the forwarded request, or both)."""

    name: str
    function: CheckFn
    args: Schema = field(compare=False)
    doc: str
    sides: tuple[Side, ...] = ("response",)

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


def check(
    name: str, *, args: Schema, sides: tuple[Side, ...] = ("response",)
) -> Callable[[CheckFn], CheckFn]:
    """Register a check under the name case files use, with the JSON Schema of its argument.

    The function's docstring documents the check; its first line is the meaning shown in the README.
    ``args`` is the schema of the value a case writes after the name, with ``examples`` of it; it may
    ``$ref`` shared definitions of the case schema (see ``ref``). ``sides`` says where a case may use it:
    in a step's ``expect`` (``response``), in its ``upstream.expect`` (``upstream``: the check reads
    ``ctx.body()``, the forwarded request), or both. A check without a docstring or a valid argument
    schema, with no known side, or under a name already taken, fails here with ``ValueError``.
    """

    def register(fn: CheckFn) -> CheckFn:
        if not _NAME.match(name):
            raise ValueError(f"check name {name!r} is not snake_case")
        if name in CHECKS:
            raise ValueError(f"check {name!r} registered twice")
        if not sides or not set(sides) <= set(SIDES):
            raise ValueError(f"check {name!r}: sides {sides!r} must be some of {SIDES}")
        CHECKS[name] = Check(name, fn, _args_schema(name, args), _docstring(name, fn), tuple(sides))
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
