"""A running demo FHIR server (loopback, background thread) for the demo and dashboard tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pnen_demo.fhir_server import create_fhir_app
from pnen_demo.runner import Running, free_port, run_in_thread

SERVICE_URL = "http://127.0.0.1:8080"
REDIRECT = f"{SERVICE_URL}/app/"


@pytest.fixture(scope="module")
def fhir_server() -> Iterator[Running]:
    """The demo FHIR server with the demo patients, its SMART client redirecting to REDIRECT."""
    port = free_port()
    running = run_in_thread(
        create_fhir_app(f"http://127.0.0.1:{port}", redirect_uris=[REDIRECT]), "127.0.0.1", port
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def fhir_base(fhir_server: Running) -> str:
    """The FHIR base URL of the running demo server."""
    return f"{fhir_server.url}/fhir"
