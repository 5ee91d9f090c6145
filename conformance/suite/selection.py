"""Choosing cases with ``-k`` and ``-m`` expressions as pytest does: words with and, or, not and parentheses.

``-k WORD`` holds for a case whose id contains the word (case-insensitive), or that has a marker of
that name; ``-m NAME`` holds for a case with that marker: its protocol (``gemini``, ``openai``), its
level (``must``, ``should``) or its feature with ``_`` for ``-`` (``generation_config``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from conformance.errors import ConfigError
from conformance.suite.model import Case

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")
_KEYWORDS = frozenset({"and", "or", "not"})

Matcher = Callable[[str], bool]


@dataclass(frozen=True)
class _Parser:
    """A recursive-descent reader of one expression; ``holds`` evaluates it for a matcher of words."""

    tokens: tuple[str, ...]
    flag: str

    def holds(self, matcher: Matcher) -> bool:
        value, position = self._or(0, matcher)
        if position != len(self.tokens):
            raise self._error(f"unexpected {self.tokens[position]!r}")
        return value

    def _error(self, detail: str) -> ConfigError:
        return ConfigError(f"bad expression {' '.join(self.tokens)!r}: {detail}", field=self.flag)

    def _or(self, at: int, matcher: Matcher) -> tuple[bool, int]:
        value, at = self._and(at, matcher)
        while at < len(self.tokens) and self.tokens[at] == "or":
            other, at = self._and(at + 1, matcher)
            value = value or other
        return value, at

    def _and(self, at: int, matcher: Matcher) -> tuple[bool, int]:
        value, at = self._not(at, matcher)
        while at < len(self.tokens) and self.tokens[at] == "and":
            other, at = self._not(at + 1, matcher)
            value = value and other
        return value, at

    def _not(self, at: int, matcher: Matcher) -> tuple[bool, int]:
        if at >= len(self.tokens):
            raise self._error("it ends too soon")
        token = self.tokens[at]
        if token == "not":
            value, at = self._not(at + 1, matcher)
            return not value, at
        if token == "(":
            value, at = self._or(at + 1, matcher)
            if at >= len(self.tokens) or self.tokens[at] != ")":
                raise self._error("a '(' is not closed")
            return value, at + 1
        if token in _KEYWORDS or token == ")":
            raise self._error(f"unexpected {token!r}")
        return matcher(token), at + 1


def _parse(expression: str, flag: str) -> _Parser:
    tokens = tuple(_TOKEN.findall(expression))
    if not tokens:
        raise ConfigError("empty expression", field=flag)
    parser = _Parser(tokens, flag)
    parser.holds(lambda word: True)  # a malformed expression is refused before anything runs
    return parser


def select(cases: Iterable[Case], keyword: str | None = None, markers: str | None = None) -> list[Case]:
    """The cases that satisfy both expressions (an absent expression holds for every case)."""
    by_keyword = _parse(keyword, "-k") if keyword else None
    by_marker = _parse(markers, "-m") if markers else None
    return [
        case
        for case in cases
        if (by_keyword is None or by_keyword.holds(_keyword_matcher(case)))
        and (by_marker is None or by_marker.holds(_marker_matcher(case)))
    ]


def _keyword_matcher(case: Case) -> Matcher:
    lowered = case.id.lower()
    names = set(case.marker_names)
    return lambda word: word.lower() in lowered or word in names


def _marker_matcher(case: Case) -> Matcher:
    names = set(case.marker_names)
    return lambda word: word in names
