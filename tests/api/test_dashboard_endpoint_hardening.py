"""The dashboard's data endpoint and pages under hostile input: bad URLs, refusals, audit, CORS."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cds_service import create_app
from cds_service.fhir_client import FetchError, FhirClient
from cds_service.store import audit
from tests.support.fhir_server import serve_fhir
from tests.support.logs import captured_logs
from tests.support.tokens import ISSUER, jwks, rsa_key

API = "/app/api/dashboard"
TOKEN = {"Authorization": "Bearer smart-token"}
PATIENT = {"resourceType": "Patient", "id": "p1"}
PNEN = {
    "resourceType": "Condition",
    "id": "pnen",
    "subject": {"reference": "Patient/p1"},
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1290080008"}]},
}
MALFORMED_SERVERS = ["http://[::1/R4", "http://[::1]:99999/R4", "https://[nothex]/R4"]

AppFactory = Callable[..., Flask]


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[AppFactory]:
    """Builds apps: --dev, or production with one issuer whose fhir_servers are given."""
    apps: list[Flask] = []

    def build(*, dev: bool = False, fhir_servers: tuple[str, ...] = (), **config: Any) -> Flask:
        settings: dict[str, Any] = {
            "database_url": f"sqlite:///{tmp_path / f'store-{len(apps)}.sqlite3'}",
            **config,
        }
        if dev:
            settings |= {"dev": True, "auth": "off"}
        else:
            issuers = tmp_path / f"issuers-{len(apps)}.json"
            entry = {"iss": ISSUER, "jwks": jwks(rsa_key()), "fhir_servers": list(fhir_servers)}
            issuers.write_text(json.dumps({"issuers": [entry]}))
            settings |= {
                "auth": "jwt",
                "trusted_issuers_file": str(issuers),
                "public_url": "https://cds.example.org",
                "allow_insecure_fhir": True,  # the test FHIR server is plain http on loopback
            }
        app = create_app(settings)
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["pnen_cds"].store.close()


def _post(client: FlaskClient, server: str, patient: str = "p1", **headers: str) -> Any:
    return client.post(
        API, json={"fhirServer": server, "patientId": patient}, headers=TOKEN | headers
    )


def _audit_rows(app: Flask) -> list[dict[str, Any]]:
    with app.extensions["pnen_cds"].store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit)).mappings().all()]


# SP-11: a malformed fhirServer is a 400, never a 500


@pytest.mark.parametrize("dev", [True, False])
@pytest.mark.parametrize("server", MALFORMED_SERVERS)
def test_a_malformed_fhir_server_url_is_a_400_naming_the_field(
    make_app: AppFactory, dev: bool, server: str
) -> None:
    response = _post(make_app(dev=dev).test_client(), server)
    assert response.status_code == 400
    body = response.get_json()
    assert body["details"] == [
        {"path": "fhirServer", "message": "not a valid URL (malformed host or port)"}
    ]


@pytest.mark.parametrize("link", ["http://[::1/R4/Condition?page=2", "http://h:99999/x"])
def test_a_malformed_next_link_is_a_refused_fetch_not_a_crash(link: str) -> None:
    client = FhirClient(requests.Session(), "http://127.0.0.1:1/fhir", None, 5, 5)
    with pytest.raises(FetchError, match="not a valid URL"):
        client.confined(link)


def test_a_malformed_next_link_from_the_fhir_server_is_a_412_for_its_key(
    make_app: AppFactory,
) -> None:
    app = make_app(dev=True)
    with serve_fhir([PATIENT, PNEN]) as (base, data):
        data.next_links = {"Condition": "http://[::1/fhir/Condition?page=2"}
        response = _post(app.test_client(), base)
    assert response.status_code == 412
    assert "conditions" in response.get_json()["missing"]


# SP-4 / SP-12: refused and failed reads are audited with their status and logged


def test_a_dashboard_read_that_failed_on_a_hostile_next_link_is_audited_and_logged(
    make_app: AppFactory,
) -> None:
    with serve_fhir([PATIENT, PNEN]) as (base, data):
        data.next_links = {"Condition": f"{base}/..;/admin/secret?_page=1&q=private"}
        app = make_app(fhir_servers=(base,))
        with captured_logs() as lines:
            response = _post(app.test_client(), base)
        requested = list(data.requests)
    assert response.status_code == 412
    assert not any("admin" in path for path in requested)
    (row,) = _audit_rows(app)
    assert (row["service"], row["patient_ref"], row["status"]) == ("dashboard", "Patient/p1", 412)
    refused = [json.loads(line) for line in lines if "FHIR fetch refused" in line]
    assert [(r["key"], r["level"]) for r in refused] == [("conditions", "WARNING")]
    assert "path parameters" in refused[0]["reason"]
    assert refused[0]["fhir_server"] == base + "/"
    assert refused[0]["correlation_id"] == row["hook_instance"]
    logged = "\n".join(lines)
    assert "smart-token" not in logged and "private" not in logged and "admin" not in logged


def test_a_dashboard_read_the_fhir_server_refused_is_audited_and_logged_with_the_reason(
    make_app: AppFactory,
) -> None:
    with serve_fhir([PATIENT, PNEN]) as (base, data):
        data.required_token = "another-token"
        app = make_app(fhir_servers=(base,))
        with captured_logs() as lines:
            response = _post(app.test_client(), base)
    assert response.status_code == 412
    assert [r["status"] for r in _audit_rows(app)] == [412]
    reasons = {json.loads(line)["reason"] for line in lines if "FHIR fetch refused" in line}
    assert reasons == {"HTTP 401"}


def test_a_dashboard_call_for_a_fhir_server_not_on_the_allow_list_is_audited_as_403(
    make_app: AppFactory,
) -> None:
    with serve_fhir([PATIENT, PNEN]) as (base, data):
        app = make_app(fhir_servers=(base,))
        response = _post(app.test_client(), base + "evil", patient="p2")
        requested = list(data.requests)
    assert response.status_code == 403
    assert requested == []
    (row,) = _audit_rows(app)
    assert (row["service"], row["patient_ref"], row["status"]) == ("dashboard", "Patient/p2", 403)


def test_a_successful_dashboard_read_is_still_audited_once_as_200(make_app: AppFactory) -> None:
    with serve_fhir([PATIENT, PNEN]) as (base, _):
        app = make_app(fhir_servers=(base,))
        response = _post(app.test_client(), base)
    assert response.status_code == 200, response.get_json()
    assert [(r["status"], r["patient_ref"]) for r in _audit_rows(app)] == [(200, "Patient/p1")]


# SP-6: no wildcard CORS on the dashboard, even in --dev


def test_in_dev_the_dashboard_endpoint_gives_no_cross_origin_read_to_another_site(
    make_app: AppFactory,
) -> None:
    client = make_app(dev=True).test_client()
    evil = {"Origin": "https://evil.example"}
    with serve_fhir([PATIENT, PNEN]) as (base, _):
        response = _post(client, base, **evil)
    preflight = client.options(
        API, headers=evil | {"Access-Control-Request-Headers": "authorization,content-type"}
    )
    hook_preflight = client.options("/cds-services/pnen-patient-view", headers=evil)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert not [h for h in preflight.headers.keys() if h.startswith("Access-Control-")]
    # The hook endpoints keep --dev's open CORS for browser tools such as the sandbox.
    assert hook_preflight.headers["Access-Control-Allow-Origin"] == "*"


def test_a_configured_origin_may_still_call_the_dashboard_endpoint(make_app: AppFactory) -> None:
    client = make_app(dev=True, cors_origins="https://ehr.example,*").test_client()
    allowed = client.options(API, headers={"Origin": "https://ehr.example"})
    other = client.options(API, headers={"Origin": "https://evil.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://ehr.example"
    assert allowed.headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Origin" not in other.headers


# SP-10: browser hardening headers on the HTML pages


@pytest.mark.parametrize("path", ["/rules/", "/rules/nec-medical-first", "/app/", "/app/launch"])
def test_html_pages_carry_a_self_only_policy_nosniff_and_no_referrer(
    make_app: AppFactory, path: str
) -> None:
    response = make_app(dev=True).test_client().get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = dict(
        d.strip().split(" ", 1) for d in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["style-src"].startswith("'self'")
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_rule_pages_inline_style_is_allowed_by_its_hash(make_app: AppFactory) -> None:
    response = make_app().test_client().get("/rules/")
    style = response.get_data(as_text=True).split("<style>", 1)[1].split("</style>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["Content-Security-Policy"]


def test_json_answers_are_never_sniffed_as_html(make_app: AppFactory) -> None:
    response = make_app().test_client().get("/rules/x%22%3E%3Csvg%20onload=alert(1)%3E")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# SP-3: the launch page starts a launch only for a trusted FHIR server


def _launch(client: FlaskClient, iss: str) -> Any:
    return client.get("/app/launch", query_string={"iss": iss, "launch": "abc"})


@pytest.mark.parametrize(
    "iss",
    ["https://phish.example/R4", "http://10.0.0.5/R4", "http://[::1/R4", "javascript:alert(1)"],
)
def test_in_dev_a_launch_for_a_server_off_loopback_is_an_error_page_without_script(
    make_app: AppFactory, iss: str
) -> None:
    response = _launch(make_app(dev=True).test_client(), iss)
    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "<script" not in page and "Location" not in response.headers
    assert "not one this service trusts" in page


def test_in_dev_a_launch_for_a_loopback_fhir_server_starts(make_app: AppFactory) -> None:
    response = _launch(make_app(dev=True).test_client(), "http://127.0.0.1:8121/fhir")
    assert response.status_code == 200
    assert 'id="launch-script"' in response.get_data(as_text=True)


def test_in_production_only_a_listed_fhir_server_may_start_a_launch(
    make_app: AppFactory,
) -> None:
    listed = "https://ehr.example.org/fhir/R4"
    client = make_app(fhir_servers=(listed,)).test_client()
    assert _launch(client, listed).status_code == 200
    for other in ("https://ehr.example.org/fhir/R4evil", "http://127.0.0.1:8152/R4"):
        refused = _launch(client, other)
        assert refused.status_code == 403
        assert "<script" not in refused.get_data(as_text=True)


def test_the_launch_page_without_iss_still_explains_how_to_start(make_app: AppFactory) -> None:
    response = make_app().test_client().get("/app/launch")
    assert response.status_code == 200
    assert 'id="launch-script"' in response.get_data(as_text=True)


def test_a_cross_origin_answer_varies_by_origin_and_by_language(make_app: AppFactory) -> None:
    # Caches must keep a zh-CN answer apart from an English one for a named origin too: CORS adds
    # Origin to Vary, it does not replace the Accept-Language the localisation set.
    client = make_app(dev=True, cors_origins="https://ehr.example").test_client()
    response = client.get(
        "/cds-services", headers={"Origin": "https://ehr.example", "Accept-Language": "zh-CN"}
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://ehr.example"
    assert {v.strip() for v in response.headers["Vary"].split(",")} >= {"Origin", "Accept-Language"}
