"""Every hook call that passed authentication leaves an audit row with its final status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cds_service import create_app
from cds_service.store import audit
from tests.support.cds_requests import hook_request, searchset
from tests.support.fhir_server import serve_fhir

PV = "/cds-services/pnen-patient-view"
PATIENT = {"resourceType": "Patient", "id": "p1"}
PNEN = {
    "resourceType": "Condition",
    "id": "pnen",
    "subject": {"reference": "Patient/p1"},
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1290080008"}]},
}


def audit_rows(app: Flask) -> list[dict[str, Any]]:
    """The audit table, oldest first."""
    with app.extensions["pnen_cds"].store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(audit).order_by(audit.c.id))]


def test_a_call_that_fetched_from_the_fhir_server_and_ended_412_is_audited(
    app: Flask, client: FlaskClient
) -> None:
    with serve_fhir([PATIENT, PNEN]) as (base, data):
        data.fail_types = {"Observation"}
        request = hook_request(
            "patient-view",
            "p1",
            prefetch={"patient": PATIENT, "conditions": searchset([PNEN])},
            fhir_server=base,
            token="t",
        )
        response = client.post(PV, json=request)
    assert response.status_code == 412
    (row,) = audit_rows(app)
    assert (row["status"], row["hook_instance"], row["patient_ref"], row["service"]) == (
        412,
        request["hookInstance"],
        "Patient/p1",
        "pnen-patient-view",
    )
    assert row["card_uuids"] == "[]"


def test_a_malformed_call_is_audited_as_400_with_its_hook_instance(
    app: Flask, client: FlaskClient
) -> None:
    request = hook_request("patient-view", "p1", prefetch={"patient": PATIENT})
    del request["context"]
    assert client.post(PV, json=request).status_code == 400
    assert client.post(PV, data=b"{not json", content_type="application/json").status_code == 400
    first, second = audit_rows(app)
    assert (first["status"], first["hook_instance"]) == (400, request["hookInstance"])
    assert (second["status"], second["hook_instance"], second["patient_ref"]) == (400, "", None)


def test_an_internal_error_is_audited_as_500(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapper = app.extensions["pnen_cds"].knowledge.mapper

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(type(mapper), "map", broken)  # a frozen dataclass: patch its class
    request = hook_request("patient-view", "p1", prefetch={"patient": PATIENT, "conditions": None})
    response = client.post(PV, json=request)
    assert response.status_code == 500
    (row,) = audit_rows(app)
    assert (row["status"], row["patient_ref"]) == (500, "Patient/p1")
    assert response.get_json()["id"] == response.headers["X-Correlation-ID"]


def test_unknown_services_and_non_json_bodies_are_audited_too(
    app: Flask, client: FlaskClient
) -> None:
    assert client.post("/cds-services/no-such-service", json={}).status_code == 404
    assert client.post(PV, data="{}", content_type="text/plain").status_code == 415
    assert [(r["service"], r["status"]) for r in audit_rows(app)] == [
        ("no-such-service", 404),
        ("pnen-patient-view", 415),
    ]


def test_a_successful_call_is_audited_as_200(app: Flask, client: FlaskClient) -> None:
    request = hook_request("patient-view", "p1", prefetch={"patient": PATIENT, "conditions": None})
    assert client.post(PV, json=request).status_code == 200
    assert [r["status"] for r in audit_rows(app)] == [200]


def test_a_call_refused_at_authentication_leaves_no_row(tmp_path: Path) -> None:
    application = create_app({"database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}"})
    try:
        request = hook_request("patient-view", "p1", prefetch={"patient": PATIENT})
        response = application.test_client().post(PV, json=request)
        assert response.status_code == 401
        assert audit_rows(application) == []
    finally:
        application.extensions["pnen_cds"].store.close()
