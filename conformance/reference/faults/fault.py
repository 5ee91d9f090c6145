"""What a fault is: one class holding a fault's record and its behaviour at the seams it plugs into.

A concrete fault subclasses ``Fault``, declares its record as class attributes (``name``, ``bug_class``,
``protocol``, ``feature``, ``caught_by``, and where they differ from the defaults ``affects`` and
``level``), says in its docstring how it lies (the docstring is its description), and marks each method
that changes a value with ``@at(SEAM)``. The class is checked when it is defined: a missing or malformed
record, a method at an unknown seam, or a fault with no seam at all fails at import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Literal, TypeVar

from conformance.reference.faults.seams import SEAMS, Protocol, Seam

Level = Literal["MUST", "SHOULD"]

BOTH: tuple[Protocol, ...] = ("gemini", "openai")
LEVELS: tuple[Level, ...] = ("MUST", "SHOULD")
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_BUG_CLASS = re.compile(r"F\d\d")

T = TypeVar("T")
C = TypeVar("C")
F = TypeVar("F", bound="Fault")


def at(seam: Seam[T, C]) -> Callable[[Callable[[F, T, C], T]], Callable[[F, T, C], T]]:
    """Mark a fault's method as its behaviour at ``seam``: it takes the value and the context and returns
    the value as the faulty gateway has it. A seam not declared in ``seams.py`` fails here, at import."""
    if not isinstance(seam, Seam) or SEAMS.get(seam.name) is not seam:
        raise TypeError(f"{seam!r} is not a seam of the reference; the seams are {', '.join(SEAMS)}")

    def mark(method: Callable[[F, T, C], T]) -> Callable[[F, T, C], T]:
        setattr(method, "__seam__", seam)  # noqa: B010 - a marker attribute on a function
        return method

    return mark


class Fault:
    """One switchable fault of the reference gateway, reproducing one gateway bug class.

    ``protocol`` is the protocol the bug class belongs to; ``affects`` lists every route the fault
    changes (some faults act on both protocols, as the real bugs do); ``caught_by`` names the cases
    meant to catch it (the project's tests prove each one fails with the fault on). ``level`` is the
    highest requirement level among those cases: a fault caught only by SHOULD cases says why in
    ``level_reason``. ``handlers`` maps each seam the fault plugs into to the method applied there.
    """

    name: ClassVar[str]
    bug_class: ClassVar[str | None]
    protocol: ClassVar[Protocol]
    feature: ClassVar[str]
    caught_by: ClassVar[tuple[str, ...]]
    affects: ClassVar[tuple[Protocol, ...]] = ()
    level: ClassVar[Level] = "MUST"
    level_reason: ClassVar[str] = ""
    description: ClassVar[str] = ""
    handlers: ClassVar[Mapping[Seam[Any, Any], str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[Seam[Any, Any], str] = {}
        for klass in reversed(cls.__mro__):
            own: dict[Seam[Any, Any], str] = {}
            for attr, value in vars(klass).items():
                seam = getattr(value, "__seam__", None)
                if seam is None:
                    continue
                if seam in own:
                    raise TypeError(
                        f"{cls.__qualname__}: both {own[seam]} and {attr} are at seam {seam.name}"
                    )
                own[seam] = attr
            handlers.update(own)
        cls.handlers = handlers
        if "name" in vars(cls):
            _check_record(cls)

    @property
    def area(self) -> str:
        """The area module the fault is declared in (``usage``, ``streaming``...)."""
        return type(self).__module__.rpartition(".")[2]

    @property
    def seams(self) -> tuple[str, ...]:
        """The names of the seams the fault plugs into."""
        return tuple(seam.name for seam in self.handlers)

    def __repr__(self) -> str:
        return f"<fault {self.name}>"


def _check_record(cls: type[Fault]) -> None:
    """Refuse a fault class whose record is incomplete or malformed, or that changes nothing."""

    def refuse(problem: str) -> TypeError:
        return TypeError(f"fault class {cls.__qualname__}: {problem}")

    if not isinstance(cls.name, str) or not _NAME.fullmatch(cls.name):
        raise refuse(f"name {cls.name!r} is not a kebab-case name")
    doc = vars(cls).get("__doc__")
    if not doc or not doc.strip():
        raise refuse("no docstring (it is the fault's description)")
    cls.description = " ".join(doc.split())
    for attribute in ("bug_class", "protocol", "feature", "caught_by"):
        if not hasattr(cls, attribute):
            raise refuse(f"no {attribute}")
    if cls.bug_class is not None and not _BUG_CLASS.fullmatch(cls.bug_class):
        raise refuse(f"bug class {cls.bug_class!r} is not F<nn> (GATEWAY-BUGS.md) or None")
    if cls.protocol not in BOTH:
        raise refuse(f"protocol {cls.protocol!r} is not one of {BOTH}")
    if not isinstance(cls.feature, str) or not cls.feature:
        raise refuse("no feature")
    if not cls.affects:
        cls.affects = (cls.protocol,)
    if cls.protocol not in cls.affects or not set(cls.affects) <= set(BOTH):
        raise refuse(f"affects {cls.affects!r} must be protocols and include {cls.protocol!r}")
    if not isinstance(cls.caught_by, tuple) or not cls.caught_by:
        raise refuse("caught_by names no case (a tuple of case ids)")
    if cls.level not in LEVELS or bool(cls.level_reason) != (cls.level == "SHOULD"):
        raise refuse("level is MUST, or SHOULD with a level_reason saying why no MUST case catches it")
    if not cls.handlers:
        raise refuse("no method marked @at(SEAM): the fault changes nothing")


class ActiveFaults:
    """The faults switched on for one request, applied at each seam in registry order."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self.faults = tuple(faults)
        chains: dict[Seam[Any, Any], list[Callable[[Any, Any], Any]]] = {}
        for fault in self.faults:
            for seam, attribute in fault.handlers.items():
                chains.setdefault(seam, []).append(getattr(fault, attribute))
        self._chains = {seam: tuple(chain) for seam, chain in chains.items()}

    def apply(self, seam: Seam[T, C], value: T, context: C) -> T:
        """The value as the active faults at ``seam`` leave it (unchanged when none plugs in there)."""
        for handler in self._chains.get(seam, ()):
            value = handler(value, context)
        return value

    def __repr__(self) -> str:
        return f"ActiveFaults({', '.join(fault.name for fault in self.faults) or 'none'})"


NO_FAULTS = ActiveFaults()
