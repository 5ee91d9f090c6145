"""Shared fixtures for the project's own tests: the reference gateway on loopback and the suite's data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.cases import load_cases
from conformance.model import Case
from conformance.schemas import SchemaStore

SHARED = Path(os.environ.get("CONFORMANCE_SHARED", Path(__file__).resolve().parents[2] / "shared"))


@pytest.fixture(scope="session")
def schemas() -> SchemaStore:
    return SchemaStore.load()


@pytest.fixture(scope="session")
def all_cases() -> list[Case]:
    return load_cases()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared/ not found at {SHARED} (set CONFORMANCE_SHARED)")
    return SHARED


@pytest.fixture()
def reference_server() -> Iterator[object]:
    from conformance.reference.app import create_app
    from conformance.reference.server import ReferenceServer

    with ReferenceServer(create_app(api_key="test-key")) as server:
        yield server
