"""Structured logs: JSON lines with a correlation id; never tokens or resource contents."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cds_service import create_app
from hooks.registry import SERVICES
from tests.support.cds_requests import hook_request, searchset
from tests.support.fhir_server import FhirData, serve_fhir
from tests.support.logs import captured_logs
from tests.support.tokens import ISSUER, ec_key, jwks, mint

PUBLIC_URL = "https://cds.example.org"
PV = "/cds-services/pnen-patient-view"
MARKER = "SECRET-CLINICAL-NOTE-4d2b8e"
ACCESS_TOKEN = "fhir-access-token-9c7e1f3a"
KEY = ec_key("log-test", "ES384")
PNEN = {"coding": [{"system": "http://snomed.info/sct", "code": "1290080008"}]}


@pytest.fixture
def fhir() -> Iterator[tuple[str, FhirData]]:
    with serve_fhir([]) as (base, data):
        data.required_token = ACCESS_TOKEN
        yield base, data


@pytest.fixture
def app(tmp_path: Path, fhir: tuple[str, FhirData]) -> Iterator[Flask]:
    issuers = tmp_path / "issuers.json"
    issuers.write_text(
        json.dumps({"issuers": [{"iss": ISSUER, "jwks": jwks(KEY), "fhir_servers": [fhir[0]]}]})
    )
    application = create_app(
        {
            "auth": "jwt",
            "trusted_issuers_file": str(issuers),
            "public_url": PUBLIC_URL,
            "database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}",
            "allow_insecure_fhir": True,
        }
    )
    yield application
    application.extensions["pnen_cds"].store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def token(path: str = PV) -> str:
    return mint(KEY, {"aud": PUBLIC_URL + path})


def marked_request(fhir_server: str) -> dict[str, Any]:
    """A pNEN patient whose resources carry the marker, in places that are read and reported."""
    pnen = {
        "resourceType": "Condition",
        "id": "pnen",
        "subject": {"reference": "Patient/p1"},
        "code": {**PNEN, "text": MARKER},
        "note": [{"text": MARKER}],
    }
    broken = {
        "resourceType": "Observation",
        "id": "broken",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29593-1"}], "text": MARKER},
        "valueQuantity": MARKER,  # a data issue: reported by path, never by content
    }
    prefetch = {
        "patient": {"resourceType": "Patient", "id": "p1", "name": [{"text": MARKER}]},
        "conditions": searchset([pnen]),
        "observations": searchset([broken]),
    }
    return hook_request(
        "patient-view", "p1", prefetch=prefetch, fhir_server=fhir_server, token=ACCESS_TOKEN
    )


def assert_clean(lines: list[str], *secrets: str) -> list[dict[str, Any]]:
    """Every line is a JSON object with the standard fields and none of the secrets."""
    entries = [json.loads(line) for line in lines]
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= set(entry)
    for secret in secrets:
        assert not [line for line in lines if secret in line], secret
    return entries


# Correlation ids


@pytest.mark.parametrize(
    "incoming", ["abc123", "0f8c2d4e-9b1a-4c3d-8e7f-112233445566", "req:42.a_b-c", "x" * 128]
)
def test_a_safe_incoming_correlation_id_is_reused(client: FlaskClient, incoming: str) -> None:
    with captured_logs() as lines:
        response = client.get("/cds-services", headers={"X-Correlation-ID": incoming})
    assert response.status_code == 401
    assert response.headers["X-Correlation-ID"] == incoming
    (entry,) = assert_clean(lines)
    assert entry["correlation_id"] == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        "",
        "x" * 129,
        "two words",
        "line\r\nInjected: header",
        'quote"and}brace',
        "-starts-with-a-dash",
        "ünïcode",
        "<script>",
    ],
)
def test_an_unsafe_incoming_correlation_id_is_replaced(client: FlaskClient, incoming: str) -> None:
    with captured_logs() as lines:
        response = client.get("/cds-services", environ_base={"HTTP_X_CORRELATION_ID": incoming})
    fresh = response.headers["X-Correlation-ID"]
    assert fresh != incoming and len(fresh) == 32 and int(fresh, 16) >= 0
    (entry,) = assert_clean(lines)
    assert entry["correlation_id"] == fresh


def test_each_request_gets_its_own_correlation_id(client: FlaskClient) -> None:
    ids = {client.get("/healthz").headers["X-Correlation-ID"] for _ in range(5)}
    assert len(ids) == 5


# Nothing sensitive reaches the log


def test_an_auth_failure_logs_the_reason_but_not_the_token(client: FlaskClient) -> None:
    jwt = mint(KEY, {"aud": PUBLIC_URL + "/cds-services/elsewhere"})
    with captured_logs() as lines:
        response = client.post(
            PV, json=marked_request("http://x"), headers={"Authorization": f"Bearer {jwt}"}
        )
    assert response.status_code == 401
    (entry,) = assert_clean(lines, jwt, jwt.split(".")[1], jwt.split(".")[2], MARKER)
    assert entry["message"] == "authentication failed" and "aud" in entry["reason"]


def test_a_normal_hook_call_logs_no_content_or_token(
    client: FlaskClient, fhir: tuple[str, FhirData]
) -> None:
    jwt = token()
    with captured_logs() as lines:
        response = client.post(
            PV, json=marked_request(fhir[0]), headers={"Authorization": f"Bearer {jwt}"}
        )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert fhir[1].requests  # the missing keys were fetched with the access token
    assert "Observation/broken" in response.get_data(as_text=True)
    assert_clean(lines, jwt, jwt.split(".")[2], ACCESS_TOKEN, MARKER)


def test_a_refused_fhir_server_is_logged_without_its_token(client: FlaskClient) -> None:
    with captured_logs() as lines:
        response = client.post(
            PV,
            json=marked_request("https://fhir.other.example/r4"),
            headers={"Authorization": f"Bearer {token()}"},
        )
    assert response.status_code == 412
    entries = assert_clean(lines, ACCESS_TOKEN, MARKER)
    assert any("fhirServer refused" in e["message"] for e in entries)


def test_a_500_logs_the_trace_under_its_id_without_the_messages(
    client: FlaskClient, fhir: tuple[str, FhirData], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: Any) -> Any:
        try:
            raise KeyError(f"valueQuantity {MARKER}")
        except KeyError as exc:
            raise ValueError(f"cannot read {MARKER} with {ACCESS_TOKEN}") from exc

    service = SERVICES["pnen-patient-view"]
    monkeypatch.setitem(SERVICES, service.id, dataclasses.replace(service, handler=boom))
    jwt = token()
    with captured_logs() as lines:
        response = client.post(
            PV, json=marked_request(fhir[0]), headers={"Authorization": f"Bearer {jwt}"}
        )
    assert response.status_code == 500
    body = response.get_json()
    assert body == {"error": "internal error", "id": response.headers["X-Correlation-ID"]}
    assert "Traceback" not in response.get_data(as_text=True)
    entries = assert_clean(lines, jwt, jwt.split(".")[2], ACCESS_TOKEN, MARKER)
    (error,) = [e for e in entries if e["level"] == "ERROR"]
    assert error["correlation_id"] == error["error_id"] == body["id"]
    assert "builtins.KeyError (message withheld" in error["trace"]
    assert "builtins.ValueError (message withheld" in error["trace"]
    assert "test_logs.py" in error["trace"]  # the frames are there to debug with


@pytest.mark.parametrize(
    ("claims", "header"),
    [({}, {"kid": "k" * 5000}), ({"iss": "i" * 5000}, {}), ({"aud": "a" * 5000}, {})],
    ids=["kid", "iss", "aud"],
)
def test_a_5_kb_claim_makes_no_5_kb_log_line(
    client: FlaskClient, claims: dict[str, Any], header: dict[str, Any]
) -> None:
    token = mint(KEY, {"aud": PUBLIC_URL + PV, **claims}, header)
    request = hook_request("patient-view", "p1", prefetch={"patient": None})
    with captured_logs() as lines:
        response = client.post(PV, json=request, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    (line,) = [line for line in lines if "authentication failed" in line]
    assert len(line) < 1000
    assert "(5000 characters)" in line or "(5002 characters)" in line
