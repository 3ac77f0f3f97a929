"""Shared fixtures: the app (dev mode, temporary store), its client, and the benchmark patients."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cds_service import create_app

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The service in dev mode (no authentication) with a temporary SQLite store."""
    application = create_app(
        {"dev": True, "auth": "off", "database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}"}
    )
    application.config["TESTING"] = True
    yield application
    application.extensions["pnen_cds"].store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the app."""
    return app.test_client()


def load_fixture(name: str) -> dict[str, Any]:
    """A JSON fixture file of tests/fixtures."""
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def bench_pnen() -> dict[str, Any]:
    """The shared benchmark pNEN patient (a FHIR collection Bundle)."""
    return load_fixture("benchmark-pnen-patient.json")


@pytest.fixture(scope="session")
def bench_other() -> dict[str, Any]:
    """The benchmark patient without pNEN."""
    return load_fixture("benchmark-non-pnen-patient.json")


@pytest.fixture
def prefetch_keys(client: FlaskClient) -> list[str]:
    """The prefetch keys the discovery document declares."""
    services = client.get("/cds-services").get_json()["services"]
    return list(services[0]["prefetch"])
