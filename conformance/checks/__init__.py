"""Checks: the vocabulary case files use in ``expect``. Importing this package registers them all."""

from __future__ import annotations

from conformance.checks import (  # noqa: F401  (registration)
    billing,
    body,
    combinators,
    errors,
    http,
    modes,
    sdk,
    stream,
    tools,
    upstream,
)
from conformance.checks.registry import CHECKS, Check, CheckContext, Failure, Sample, check, run_check

__all__ = ["CHECKS", "Check", "CheckContext", "Failure", "Sample", "check", "run_check"]
