"""Shared fixtures for the project's own tests: the reference gateway on loopback and the suite's data."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.reference.app import create_app
from conformance.reference.server import ReferenceServer
from conformance.suite.loader import load_cases
from conformance.suite.model import Case
from conformance.validation.documents import validate_document
from conformance.validation.store import SchemaStore

CHROMIUM = Path("/usr/bin/chromium")


def read_results(path: Path) -> dict[str, Any]:
    """A ``results.json`` a run wrote, checked against ``schemas/results.schema.json`` (the writer trusts
    its typed records; the tests hold it to the schema)."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    validate_document(document, "results.schema.json", path)
    return document


needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless Chromium not installed (/usr/bin/chromium; Debian package chromium)",
)


def chromium(*args: str, profile: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with a throwaway profile, no network chatter of its own."""
    return subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )


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


@pytest.fixture(scope="module")
def server() -> Iterator[ReferenceServer]:
    """A clean reference gateway on loopback for one test module (key "reference-key")."""
    with ReferenceServer(create_app()) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: ReferenceServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        yield client


@pytest.fixture
def faults(server: ReferenceServer) -> Iterator[set[str]]:
    """The running app's mutable fault set, cleared before and after the test."""
    active: set[str] = server.app.state.faults  # type: ignore[attr-defined]
    active.clear()
    yield active
    active.clear()


@pytest.fixture
def client(http: httpx.Client, faults: set[str]) -> httpx.Client:
    """A client of the reference with no fault active."""
    return http
