"""The embedded reference gateway: a deterministic, conformant server of both protocols with faults."""

from __future__ import annotations

from .app import create_app
from .faults import FAULTS, Fault
from .server import ReferenceServer, serve_forever

__all__ = ["FAULTS", "Fault", "ReferenceServer", "create_app", "serve_forever"]
