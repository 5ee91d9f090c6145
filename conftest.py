"""Project test configuration: fixture composition only (the suite's plugin is conformance.pytest.plugin)."""

from __future__ import annotations

pytest_plugins = ["tests.fixtures"]
