"""The embedded reference gateway: a deterministic, conformant server of both protocols with faults.

Submodules are imported on use (``conformance.reference.app``, ``.faults.registry``, ``.server``), so that
reading the fault registry does not load the web stack.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "create_app": "app",
    "FAULTS": "faults.registry",
    "Fault": "faults.registry",
    "ReferenceServer": "server",
    "serve_forever": "server",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(name)
