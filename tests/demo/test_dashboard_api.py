"""The dashboard's data endpoint: the record read with the SMART token from an allowed FHIR
server, and the same recommendations as the patient-view hook for the same patient."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cds_service import create_app
from cds_service.store import audit
from tests.support.cds_requests import hook_request

TOKEN = {"Authorization": "Bearer demo-token"}


def _app(tmp_path: Path, **config: Any) -> Flask:
    app = create_app({"database_url": f"sqlite:///{tmp_path / 's.sqlite3'}", **config})
    app.config["TESTING"] = True
    return app


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[FlaskClient]:
    """The service in --dev mode."""
    app = _app(tmp_path, dev=True, auth="off")
    yield app.test_client()
    app.extensions["pnen_cds"].store.close()


def _dashboard(client: FlaskClient, fhir_base: str, patient: str) -> Any:
    return client.post(
        "/app/api/dashboard", json={"fhirServer": fhir_base, "patientId": patient}, headers=TOKEN
    )


@pytest.mark.parametrize("patient", ["bench-pnen", "demo-mgmt-tmz", "demo-gastrinoma", "demo-nec"])
def test_dashboard_shows_the_recommendations_the_patient_view_hook_gives(
    dev: FlaskClient, fhir_base: str, patient: str
) -> None:
    data = _dashboard(dev, fhir_base, patient).get_json()
    hook = dev.post(
        "/cds-services/pnen-patient-view",
        json=hook_request("patient-view", patient, fhir_server=fhir_base, token="demo-token"),
    ).get_json()
    assert [r["rule"] for r in data["recommendations"]] == [
        c["source"]["topic"]["code"] for c in hook["cards"]
    ]
    for rec, card in zip(data["recommendations"], hook["cards"], strict=True):
        assert rec["summary"] == card["summary"]
        for criterion in rec["criteria"]:
            assert f"| {criterion['name']} | **{criterion['status']}** |" in card["detail"]


def test_a_dashboard_read_is_audited_with_the_patient_and_the_rules_without_the_token(
    tmp_path: Path, fhir_base: str
) -> None:
    app = _app(tmp_path, dev=True, auth="off")
    try:
        _dashboard(app.test_client(), fhir_base, "demo-nec")
        with app.extensions["pnen_cds"].store.engine.connect() as conn:
            (row,) = conn.execute(select(audit)).mappings().all()
    finally:
        app.extensions["pnen_cds"].store.close()
    assert (row["service"], row["patient_ref"], row["status"]) == (
        "dashboard",
        "Patient/demo-nec",
        200,
    )
    assert "nec-medical-first" in json.loads(row["rule_ids"])
    assert json.loads(row["card_uuids"]) == []
    assert "demo-token" not in json.dumps({k: str(v) for k, v in row.items()})


def test_dashboard_gives_ki67_by_site_with_the_who_bands(dev: FlaskClient, fhir_base: str) -> None:
    ki67 = _dashboard(dev, fhir_base, "demo-g3").get_json()["ki67"]
    assert [b["value"] for b in ki67["bands"]] == [3.0, 20.0]
    assert {site: [p["value"] for p in points] for site, points in ki67["series"].items()} == {
        "primary": [2.0],
        "liver metastasis": [35.0],
    }


def test_dashboard_gives_cga_per_unit_and_as_a_multiple_of_the_upper_limit(
    dev: FlaskClient, fhir_base: str
) -> None:
    markers = _dashboard(dev, fhir_base, "demo-mgmt-tmz").get_json()["markers"]
    cga = {m["unit"]: [p["value"] for p in m["points"]] for m in markers if m["marker"] == "cga"}
    assert cga == {"ng/mL": [180, 150, 210, 320], "× upper reference limit": [1.8, 1.5, 2.1, 3.2]}


def test_dashboard_timeline_has_every_lane_and_therapy_periods(
    dev: FlaskClient, fhir_base: str
) -> None:
    data = _dashboard(dev, fhir_base, "bench-pnen").get_json()
    lanes = {e["lane"] for e in data["timeline"]}
    assert lanes == {"diagnosis", "biopsy", "imaging", "therapy"}
    biopsies = [e for e in data["timeline"] if e["lane"] == "biopsy" and "site" in e]
    assert {e["site"] for e in biopsies} == {"primary", "liver metastasis"}
    assert any(e["lane"] == "imaging" and e.get("result") == "positive" for e in data["timeline"])
    lanreotide = next(t for t in data["therapies"] if t["name"] == "lanreotide")
    assert lanreotide["active"] and lanreotide["end"] == data["today"]


def test_dashboard_of_a_patient_without_pnen_has_no_recommendations(
    dev: FlaskClient, fhir_base: str
) -> None:
    data = _dashboard(dev, fhir_base, "demo-non-pnen").get_json()
    assert data["recommendations"] == [] and data["hasPnen"] is False


def test_dashboard_needs_the_smart_access_token(dev: FlaskClient, fhir_base: str) -> None:
    response = dev.post("/app/api/dashboard", json={"fhirServer": fhir_base, "patientId": "x"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"patientId": "demo-nec"}, "fhirServer"),
        ({"fhirServer": "http://127.0.0.1:1/fhir", "patientId": "../x"}, "patientId"),
    ],
)
def test_dashboard_names_what_is_wrong_with_the_body(
    dev: FlaskClient, body: dict[str, str], path: str
) -> None:
    response = dev.post("/app/api/dashboard", json=body, headers=TOKEN)
    assert response.status_code == 400
    assert [d["path"] for d in response.get_json()["details"]] == [path]


def test_dev_mode_reads_only_from_a_loopback_fhir_server(dev: FlaskClient) -> None:
    response = _dashboard(dev, "https://fhir.example.org/r4", "demo-nec")
    assert response.status_code == 403


def test_outside_dev_the_fhir_server_must_be_on_an_issuers_allow_list(
    tmp_path: Path, fhir_base: str
) -> None:
    issuers = tmp_path / "issuers.json"
    issuers.write_text(
        json.dumps({"issuers": [{"iss": "ehr", "jwks": {"keys": []}, "fhir_servers": [fhir_base]}]})
    )
    common = {"auth": "jwt", "trusted_issuers_file": str(issuers)}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    refused = _app(tmp_path / "a", **common)
    allowed = _app(tmp_path / "b", **common, allow_insecure_fhir=True)
    try:
        assert _dashboard(refused.test_client(), fhir_base, "demo-nec").status_code == 403
        other = fhir_base.replace("/fhir", "/other")
        assert _dashboard(allowed.test_client(), other, "demo-nec").status_code == 403
        response = _dashboard(allowed.test_client(), fhir_base, "demo-nec")
        assert response.status_code == 200
        assert "nec-medical-first" in [r["rule"] for r in response.get_json()["recommendations"]]
    finally:
        refused.extensions["pnen_cds"].store.close()
        allowed.extensions["pnen_cds"].store.close()


def test_an_unreachable_fhir_server_is_412_naming_what_could_not_be_read(
    dev: FlaskClient,
) -> None:
    response = _dashboard(dev, "http://127.0.0.1:9/fhir", "demo-nec")
    assert response.status_code == 412
    assert "conditions" in response.get_json()["missing"]


def test_app_pages_and_vendored_libraries_need_no_token(tmp_path: Path) -> None:
    app = _app(tmp_path, auth="jwt")
    try:
        client = app.test_client()
        launch = client.get("/app/launch")
        assert launch.status_code == 200
        page = launch.get_data(as_text=True)
        assert 'data-client-id="pnen-cds-dashboard"' in page
        assert "vendor/fhir-client.min.js" in page
        assert client.get("/app/").status_code == 200
        chart = client.get("/app/static/vendor/chart.umd.min.js")
        assert chart.status_code == 200 and chart.mimetype == "text/javascript"
        assert b"Chart.js v4" in chart.data
        assert client.get("/app/static/vendor/fhirclient.LICENSE").status_code == 200
        assert client.get("/app/static/../dashboard.py").status_code == 404
        assert client.get("/app/static/vendor/missing.js").status_code == 404
    finally:
        app.extensions["pnen_cds"].store.close()
