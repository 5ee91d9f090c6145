"""The registry of faults: switchable lies of the reference gateway, each a real bug class.

Every fault reproduces one class of ``GATEWAY-BUGS.md`` (``bug_class``, or None where no class is
listed) and changes the reference's behaviour in that one way only, so that a suite which is green on
the clean reference must turn red on each fault. ``FAULTS`` maps each name to its fault; a fault is one
class in an area module (``AREAS``), which holds its record, its description and its behaviour.

How to add a fault
------------------
1. Pick the area module it belongs to (``requests``: what is read and forwarded; ``routing``: auth,
   models, countTokens; ``responses``: the success body; ``usage``; ``errors``; ``streaming``; ``media``;
   ``tools``; ``modes``: JSON mode, safety, thinking; ``forwarding``: the reference as a forwarding
   gateway, between the client and the suite's upstream), or add a module and list it in ``AREAS``.
2. Write one class there, subclassing ``Fault``: the docstring says how the gateway lies (it is the
   description ``conformance faults`` prints); declare ``name``, ``bug_class``, ``protocol``, ``feature``,
   ``caught_by`` (the ids of the built-in cases that must fail with it on), and ``affects`` when it
   changes both routes; a fault that only SHOULD cases catch declares ``level = "SHOULD"`` and a
   ``level_reason``.
3. Give it one method per value it changes, marked ``@at(SEAM)`` with a seam of ``seams.py``: the method
   takes the value and the ``Call`` and returns the value as the faulty gateway has it. When no seam
   carries the value, add one to ``seams.py`` (documented there, with where it is applied) and apply it
   in the handler with ``active.apply(SEAM, value, call)``.
``tests/test_suite_on_reference.py`` then proves each of its ``caught_by`` cases fails with it on (for a
forwarding fault, ``tests/test_two_sided.py``, through the forwarding reference to the suite's upstream).

A forwarding fault applies only to the forwarding reference (``reference/forward.py``), and the other
faults only to the reference that answers itself: ``FORWARDING_AREA`` names the area, and each app refuses
the faults that are not its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from types import ModuleType

from conformance.reference.faults import (
    errors,
    forwarding,
    media,
    modes,
    requests,
    responses,
    routing,
    streaming,
    tools,
    usage,
)
from conformance.reference.faults.fault import ActiveFaults, Fault, Level
from conformance.reference.faults.seams import Protocol

__all__ = [
    "AREAS",
    "FAULTS",
    "FORWARDING_AREA",
    "ActiveFaults",
    "Fault",
    "Level",
    "Protocol",
    "activate",
    "check_fault_names",
    "forwarding_faults",
]

FORWARDING_AREA = "forwarding"
"""The area of the faults that apply to the forwarding reference only."""

AREAS: tuple[ModuleType, ...] = (
    requests,
    routing,
    usage,
    responses,
    errors,
    streaming,
    media,
    tools,
    modes,
    forwarding,
)
"""The area modules, in the order their faults are registered (and applied at a shared seam)."""


def faults_in(module: ModuleType) -> list[type[Fault]]:
    """The fault classes declared in an area module, in the order they are written."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Fault)
        and value.__module__ == module.__name__
        and "name" in vars(value)
    ]


def register(classes: Iterable[type[Fault]]) -> dict[str, Fault]:
    """One fault of each class, by name; a name declared twice is refused."""
    faults: dict[str, Fault] = {}
    for cls in classes:
        if cls.name in faults:
            first = type(faults[cls.name]).__qualname__
            raise ValueError(f"fault {cls.name!r} is declared twice: {first} and {cls.__qualname__}")
        faults[cls.name] = cls()
    return faults


FAULTS: dict[str, Fault] = register(cls for area in AREAS for cls in faults_in(area))


def forwarding_faults() -> list[str]:
    """The names of the forwarding reference's faults."""
    return [name for name, fault in FAULTS.items() if fault.area == FORWARDING_AREA]


def check_fault_names(names: Iterable[str]) -> set[str]:
    """The given fault names as a set; raises ValueError naming any unknown one.

    A single string is taken as one fault name, not as a sequence of characters.
    """
    chosen = {names} if isinstance(names, str) else set(names)
    unknown = sorted(chosen - FAULTS.keys())
    if unknown:
        raise ValueError(f"unknown fault(s): {', '.join(unknown)}; known: {', '.join(sorted(FAULTS))}")
    return chosen


def activate(names: Iterable[str]) -> ActiveFaults:
    """The named faults, ready to apply (in registry order); raises ValueError on an unknown name."""
    return _activate(frozenset(check_fault_names(names)))


@lru_cache(maxsize=256)
def _activate(names: frozenset[str]) -> ActiveFaults:
    return ActiveFaults(fault for fault in FAULTS.values() if fault.name in names)
