"""Limits: request size (413, sized or chunked), FHIR fetch time, page cap, no redirects."""

from __future__ import annotations

import http.client
import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from cds_service import create_app
from tests.support.cds_requests import hook_request, searchset
from tests.support.fhir_server import serve_fhir

PV = "/cds-services/pnen-patient-view"
LIMIT = 2000
PATIENT = {"resourceType": "Patient", "id": "p1"}
PNEN = {
    "resourceType": "Condition",
    "id": "pnen",
    "subject": {"reference": "Patient/p1"},
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1290080008"}]},
}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """Dev mode (a loopback http fhirServer is used), a 2000-byte limit, 1 s fetches, 5 pages."""
    application = create_app(
        {
            "dev": True,
            "auth": "off",
            "database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}",
            "max_request_bytes": LIMIT,
            "fhir_timeout": 1.0,
            "fhir_max_pages": 5,
        }
    )
    yield application
    application.extensions["pnen_cds"].store.close()


def padded(size: int) -> bytes:
    """A schema-valid patient-view request of exactly `size` bytes (padding in an extension)."""
    request = hook_request("patient-view", "p1", prefetch={"patient": PATIENT, "conditions": None})
    request["extension"] = {"org.example.pad": ""}
    base = len(json.dumps(request).encode())
    request["extension"]["org.example.pad"] = "x" * (size - base)
    data = json.dumps(request).encode()
    assert len(data) == size
    return data


def chunked_post(app: Flask, data: bytes) -> TestResponse:
    """POST without Content-Length, as a server that delimits chunked bodies passes it on."""
    return app.test_client().post(
        PV,
        input_stream=io.BytesIO(data),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )


# Request size


@pytest.mark.parametrize(("size", "status"), [(LIMIT, 200), (LIMIT + 1, 413)])
def test_the_size_limit_is_inclusive_with_content_length(
    app: Flask, size: int, status: int
) -> None:
    response = app.test_client().post(PV, data=padded(size), content_type="application/json")
    assert response.status_code == status
    if status == 413:
        assert response.get_json() == {"error": f"request body over the {LIMIT}-byte limit"}


@pytest.mark.parametrize(("size", "status"), [(LIMIT, 200), (LIMIT + 1, 413), (10 * LIMIT, 413)])
def test_the_size_limit_holds_for_a_chunked_body(app: Flask, size: int, status: int) -> None:
    assert chunked_post(app, padded(size)).status_code == status


def test_a_body_without_length_from_a_server_that_does_not_delimit_it_is_empty(
    app: Flask,
) -> None:
    response = app.test_client().post(
        PV,
        input_stream=io.BytesIO(padded(LIMIT)),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
    )
    assert response.status_code == 400  # read as empty (Werkzeug's safe fallback), not hung


@pytest.fixture
def served(app: Flask) -> Iterator[int]:
    """The app behind Werkzeug's HTTP server on loopback (it de-chunks request bodies)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        server.server_close()


def _send_chunked(port: int, data: bytes) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            PV,
            body=iter([data[i : i + 700] for i in range(0, len(data), 700)]),
            headers={"Content-Type": "application/json"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_chunked_bodies_over_real_http(served: int) -> None:
    assert _send_chunked(served, padded(LIMIT))[0] == 200
    status, body = _send_chunked(served, padded(LIMIT + 500))
    assert (status, body) == (413, {"error": f"request body over the {LIMIT}-byte limit"})


# FHIR fetches


def _fetch_request(base: str) -> dict[str, Any]:
    """A pNEN patient in prefetch with every other key left to the FHIR server."""
    return hook_request(
        "patient-view",
        "p1",
        prefetch={"patient": PATIENT, "conditions": searchset([PNEN])},
        fhir_server=base,
        token="t",
    )


def _timed_post(app: Flask, body: dict[str, Any]) -> tuple[TestResponse, float]:
    started = time.monotonic()
    response = app.test_client().post(PV, json=body)
    return response, time.monotonic() - started


def test_a_slow_fhir_server_is_a_412_within_the_timeout(app: Flask) -> None:
    with serve_fhir([PATIENT, PNEN]) as (base, data):
        data.delay = 3.0
        response, elapsed = _timed_post(app, _fetch_request(base))
    assert response.status_code == 412
    assert "observations" in response.get_json()["missing"]
    assert elapsed < 1.6  # one 1 s deadline for all the fetches of the request


def test_a_fhir_server_that_dribbles_its_answer_is_cut_at_the_timeout(app: Flask) -> None:
    with serve_fhir([PATIENT, PNEN]) as (base, data):
        data.trickle = 0.05  # every byte in time, the whole answer far too late
        response, elapsed = _timed_post(app, _fetch_request(base))
    assert response.status_code == 412
    assert elapsed < 1.8


def test_endless_next_links_are_capped(app: Flask) -> None:
    with serve_fhir([PATIENT, PNEN]) as (base, data):
        data.endless = True
        response, _ = _timed_post(app, _fetch_request(base))
        pages = [p for p in data.requests if p.startswith("/fhir/Specimen")]
    assert response.status_code == 412
    assert "specimens" in response.get_json()["missing"]
    assert len(pages) == 5


def test_a_next_link_off_the_fhir_server_is_never_followed(app: Flask) -> None:
    with serve_fhir([PATIENT, PNEN]) as (base, data), serve_fhir([]) as (elsewhere, other):
        request = _fetch_request(base)
        request["prefetch"]["specimens"] = searchset([])
        request["prefetch"]["specimens"]["link"] = [
            {"relation": "next", "url": f"{elsewhere}/Specimen?page=2"}
        ]
        response, _ = _timed_post(app, request)
    assert response.status_code == 412
    assert response.get_json()["missing"] == ["specimens"]
    assert other.connections == 0


def test_a_redirect_from_the_fhir_server_is_not_followed(app: Flask) -> None:
    with serve_fhir([PATIENT, PNEN]) as (base, data), serve_fhir([]) as (elsewhere, other):
        data.redirect = f"{elsewhere}/Observation"
        response, _ = _timed_post(app, _fetch_request(base))
    assert response.status_code == 412
    assert other.connections == 0  # the access token never went elsewhere


def test_a_netrc_entry_never_replaces_the_ehr_access_token(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password not-the-ehr-token\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with serve_fhir([PATIENT, PNEN]) as (base, data):
        data.required_token = "ehr-token"
        request = hook_request("patient-view", "p1", fhir_server=base, token="ehr-token")
        response, _ = _timed_post(app, request)
    assert response.status_code == 200, response.get_json()
