"""Errors the user must fix: bad input, reported as one line with exit code 2."""

from __future__ import annotations

import os
from pathlib import Path


class ConfigError(Exception):
    """A broken case file, provider profile or command-line value, named by file and field."""

    def __init__(self, message: str, *, source: Path | str | None = None, field: str | None = None) -> None:
        self.source = str(source) if source is not None else None
        self.field = field
        self.detail = message
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = ""
        if self.source:
            where = self.source
            if self.field:
                where += f": {self.field}"
            where += ": "
        elif self.field:
            where = f"{self.field}: "
        return f"error: {where}{self.detail}".replace("\n", " ")


def key_from_env(variable: str, field: str) -> str:
    """The key held by an environment variable that an option (``field``) names; unset or empty is bad
    input."""
    key = os.environ.get(variable)
    if not key:
        raise ConfigError(f"environment variable {variable} is not set", field=field)
    return key


class Undecodable(Exception):
    """A response body that a check needed as JSON but that is not JSON."""


class Terminated(BaseException):
    """SIGTERM asked the run to stop: like KeyboardInterrupt, it ends the run with partial reports."""
