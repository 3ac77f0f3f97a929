"""Content-Type is enforced (415); --dev is no open relay (loopback fhirServer only, preflight)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from cds_service import create_app
from tests.support.cds_requests import hook_request
from tests.support.fhir_server import serve_fhir

PV = "/cds-services/pnen-patient-view"
FEEDBACK = f"{PV}/feedback"
PATIENT = {"resourceType": "Patient", "id": "p1"}
NO_PNEN = {"patient": PATIENT, "conditions": None}


def _feedback(count: int) -> dict[str, object]:
    return {
        "feedback": [
            {
                "card": f"card-{n}",
                "outcome": "overridden",
                "outcomeTimestamp": "2026-01-01T00:00:00Z",
            }
            for n in range(count)
        ]
    }


# Media type


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/fhir+json",
        "application/json; charset=utf-8",
        "Application/JSON",
    ],
)
def test_json_content_types_are_accepted(client: FlaskClient, content_type: str) -> None:
    body = json.dumps(hook_request("patient-view", "p1", prefetch=NO_PNEN))
    assert client.post(PV, data=body, content_type=content_type).status_code == 200


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonp",
        "",
    ],
)
@pytest.mark.parametrize("path", [PV, FEEDBACK])
def test_a_body_not_declared_as_json_is_a_415_naming_the_accepted_types(
    client: FlaskClient, path: str, content_type: str
) -> None:
    body = json.dumps(hook_request("patient-view", "p1", prefetch=NO_PNEN))
    response = client.post(path, data=body, headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert response.get_json() == {
        "error": "Content-Type must be application/json or application/fhir+json"
    }


def test_an_unknown_service_is_a_404_before_the_media_type(client: FlaskClient) -> None:
    assert (
        client.post("/cds-services/nope", data="{}", content_type="text/plain").status_code == 404
    )


def test_the_media_type_is_checked_before_the_body(client: FlaskClient) -> None:
    assert client.post(PV, data="not json", content_type="text/plain").status_code == 415


def test_a_cross_origin_post_of_json_needs_a_preflight_which_dev_answers(
    client: FlaskClient,
) -> None:
    response = client.options(
        PV,
        headers={
            "Origin": "https://any.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


# Feedback size


def test_feedback_with_as_many_entries_as_the_limit_is_stored(client: FlaskClient) -> None:
    assert client.post(FEEDBACK, json=_feedback(100)).status_code == 200


def test_feedback_over_the_entry_limit_is_a_400_naming_the_limit(client: FlaskClient) -> None:
    response = client.post(FEEDBACK, json=_feedback(101))
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "at most 100 feedback entries per request",
        "details": [{"path": "feedback", "message": "101 entries, over the limit of 100"}],
    }


def test_the_feedback_entry_limit_is_configurable(tmp_path: Path) -> None:
    app = create_app(
        {
            "dev": True,
            "auth": "off",
            "database_url": f"sqlite:///{tmp_path / 's.sqlite3'}",
            "max_feedback_entries": 3,
        }
    )
    try:
        client = app.test_client()
        assert client.post(FEEDBACK, json=_feedback(3)).status_code == 200
        response = client.post(FEEDBACK, json=_feedback(4))
        assert response.get_json()["error"] == "at most 3 feedback entries per request"
    finally:
        app.extensions["pnen_cds"].store.close()


# fhirServer in --dev


@pytest.fixture
def dev_with_issuers(tmp_path: Path) -> Iterator[Flask]:
    """--dev with an issuers file listing one (non-loopback-looking) FHIR server."""
    issuers = tmp_path / "issuers.json"
    issuers.write_text(
        json.dumps(
            {
                "issuers": [
                    {
                        "iss": "https://ehr.example.org",
                        "jwks": {"keys": []},
                        "fhir_servers": ["http://localhost.:1/fhir"],
                    }
                ]
            }
        )
    )
    app = create_app(
        {
            "dev": True,
            "auth": "off",
            "database_url": f"sqlite:///{tmp_path / 's.sqlite3'}",
            "trusted_issuers_file": str(issuers),
        }
    )
    yield app
    app.extensions["pnen_cds"].store.close()


def _fetching(fhir_server: str) -> dict[str, object]:
    return hook_request("patient-view", "p1", fhir_server=fhir_server, token="t")


@pytest.mark.parametrize(
    "server",
    [
        "http://192.0.2.10/fhir",  # TEST-NET: never answers, but must not even be tried
        "http://169.254.169.254/latest/meta-data",  # cloud metadata
        "http://127.0.0.1.nip.io/fhir",  # a public name that resolves to loopback
        "https://intranet.example/fhir",
    ],
)
def test_dev_mode_never_fetches_from_a_server_off_loopback(
    app: Flask, client: FlaskClient, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tried: list[str] = []

    def record(url: str, **kwargs: Any) -> Any:
        tried.append(url)
        raise requests.ConnectionError("not reached in tests")

    monkeypatch.setattr(app.extensions["pnen_cds"].session, "get", record)
    response = client.post(PV, json=_fetching(server))
    assert response.status_code == 412
    assert "patient" in response.get_json()["missing"]
    assert tried == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_dev_mode_fetches_from_a_loopback_server(client: FlaskClient, host: str) -> None:
    with serve_fhir([PATIENT]) as (base, data):
        response = client.post(PV, json=_fetching(base.replace("127.0.0.1", host)))
        assert data.requests  # contacted
    assert response.status_code == 200


def test_dev_mode_fetches_from_a_server_on_an_issuers_list(dev_with_issuers: Flask) -> None:
    runtime = dev_with_issuers.extensions["pnen_cds"]
    assert runtime.dev_fhir_server_allowed("http://localhost.:1/fhir")
    assert not runtime.dev_fhir_server_allowed("http://localhost.:2/fhir")
