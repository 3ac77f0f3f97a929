"""Feedback and the audit log end to end: stored before the answer, linked, and never sensitive."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cds_service import create_app
from cds_service.cli import main
from cds_service.store import UNLINKED, Store, expand_references, metadata
from tests.cds_schema import assert_valid_response
from tests.support.cds_requests import bundle_resources, hook_request, prefetch_for
from tests.support.databases import BACKENDS, empty_database
from tests.support.fhir_server import FhirData, serve_fhir
from tests.support.tokens import ISSUER, ec_key, jwks, mint

PUBLIC_URL = "https://cds.example.org"
PV = "/cds-services/pnen-patient-view"
FEEDBACK = f"{PV}/feedback"
PATIENT = "bench-pnen"
MARKER = "SECRET-CLINICAL-NOTE-7f3a9c"  # placed in resources: must never reach the store
ACCESS_TOKEN = "fhir-access-token-5b1e0d2c9a"
KEY = ec_key("audit-test", "ES384")
OVERRIDE_SYSTEM = "http://example.org/override"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def fhir(bench_pnen: dict[str, Any]) -> Iterator[tuple[str, FhirData]]:
    """A loopback FHIR server with the (marked) benchmark patient, wanting the access token."""
    with serve_fhir(_resources(bench_pnen)) as (base, data):
        data.required_token = ACCESS_TOKEN
        yield base, data


@pytest.fixture
def app(tmp_path: Path, database_url: str, fhir: tuple[str, FhirData]) -> Iterator[Flask]:
    """Authentication on (inline JWKS); the loopback FHIR server is on the issuer's list."""
    issuers = tmp_path / "issuers.json"
    issuers.write_text(
        json.dumps({"issuers": [{"iss": ISSUER, "jwks": jwks(KEY), "fhir_servers": [fhir[0]]}]})
    )
    application = create_app(
        {
            "auth": "jwt",
            "trusted_issuers_file": str(issuers),
            "public_url": PUBLIC_URL,
            "database_url": database_url,
            "allow_insecure_fhir": True,  # loopback http in tests; production needs https
        }
    )
    application.config["TESTING"] = True
    yield application
    application.extensions["pnen_cds"].store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def bearer(path: str) -> dict[str, str]:
    """A fresh token for the endpoint at `path`."""
    return {"Authorization": f"Bearer {mint(KEY, {'aud': PUBLIC_URL + path})}"}


def store_of(app: Flask) -> Store:
    found: Store = app.extensions["pnen_cds"].store
    return found


def all_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, read through a separate connection (what was committed)."""
    reader = Store(url)
    try:
        with reader.engine.connect() as conn:
            return {
                table.name: [dict(row) for row in conn.execute(select(table)).mappings()]
                for table in metadata.sorted_tables
            }
    finally:
        reader.close()


def post_feedback(client: FlaskClient, *entries: dict[str, Any], path: str = FEEDBACK) -> Any:
    return client.post(path, json={"feedback": list(entries)}, headers=bearer(path))


def overridden(card: str, at: str = "2024-05-01T10:00:00Z", reason: str | None = None) -> Any:
    entry: dict[str, Any] = {"card": card, "outcome": "overridden", "outcomeTimestamp": at}
    if reason:
        entry["overrideReason"] = {
            "reason": {"system": OVERRIDE_SYSTEM, "code": reason, "display": reason.title()},
            "userComment": "discussed at the tumour board",
        }
    return entry


def accepted(card: str, at: str = "2024-05-01T10:00:00Z") -> dict[str, Any]:
    return {
        "card": card,
        "outcome": "accepted",
        "outcomeTimestamp": at,
        "acceptedSuggestions": [{"id": f"{card}-suggestion"}],
    }


# Feedback


def test_feedback_is_stored_before_the_200(client: FlaskClient, database_url: str) -> None:
    response = post_feedback(client, overridden("card-1", reason="not-relevant"))
    assert response.status_code == 200
    assert response.get_data() in (b"", b"{}")
    (row,) = all_rows(database_url)["feedback"]
    assert (row["card_uuid"], row["outcome"], row["override_reason_code"]) == (
        "card-1",
        "overridden",
        "not-relevant",
    )
    assert row["user_comment"] == "discussed at the tumour board"


@pytest.mark.parametrize(
    ("entry", "path"),
    [
        ({"outcome": "overridden", "outcomeTimestamp": "2024-05-01T10:00:00Z"}, "card"),
        ({"card": "c", "outcomeTimestamp": "2024-05-01T10:00:00Z"}, "outcome"),
        ({"card": "c", "outcome": "overridden"}, "outcomeTimestamp"),
        ({"card": "c", "outcome": "later", "outcomeTimestamp": "2024-05-01T10:00:00Z"}, "outcome"),
        (
            {"card": "c", "outcome": "overridden", "outcomeTimestamp": "yesterday"},
            "outcomeTimestamp",
        ),
        (
            {"card": "c", "outcome": "overridden", "outcomeTimestamp": "2024-05-01T10:00"},
            "outcomeTimestamp",
        ),
        (
            {"card": "c", "outcome": "accepted", "outcomeTimestamp": "2024-05-01T10:00:00Z"},
            "acceptedSuggestions",
        ),
        (
            {
                "card": "x" * 300,
                "outcome": "overridden",
                "outcomeTimestamp": "2024-05-01T10:00:00Z",
            },
            "card",
        ),
        (
            {
                "card": "nul\x00",
                "outcome": "overridden",
                "outcomeTimestamp": "2024-05-01T10:00:00Z",
            },
            "card",
        ),
    ],
)
def test_malformed_feedback_is_a_400_naming_the_path_and_stores_nothing(
    client: FlaskClient, database_url: str, entry: dict[str, Any], path: str
) -> None:
    response = post_feedback(client, overridden("fine-card"), entry)
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert f"feedback[1].{path}" in {d["path"] for d in body["details"]}
    assert all_rows(database_url)["feedback"] == []


@pytest.mark.parametrize("body", [{}, {"feedback": []}, {"feedback": {}}, []])
def test_a_feedback_body_without_entries_is_a_400(client: FlaskClient, body: Any) -> None:
    response = client.post(FEEDBACK, json=body, headers=bearer(FEEDBACK))
    assert response.status_code == 400
    assert response.get_json()["details"]


def test_feedback_for_an_unknown_service_is_a_404(client: FlaskClient) -> None:
    path = "/cds-services/nope/feedback"
    assert post_feedback(client, overridden("c"), path=path).status_code == 404


def test_feedback_is_idempotent_on_card_outcome_and_time(
    client: FlaskClient, database_url: str
) -> None:
    for _ in range(3):
        assert post_feedback(client, overridden("card-1")).status_code == 200
    same_instant = overridden("card-1", "2024-05-01T12:00:00+02:00")
    assert post_feedback(client, same_instant).status_code == 200
    assert post_feedback(client, overridden("card-1", "2024-05-01T10:00:01Z")).status_code == 200
    assert post_feedback(client, accepted("card-1")).status_code == 200
    assert len(all_rows(database_url)["feedback"]) == 3


# A hook call, its audit row, feedback on its cards, and the report


def _resources(bench_pnen: dict[str, Any]) -> list[dict[str, Any]]:
    """The benchmark patient, every resource versioned, with the marker in notes and text."""
    resources = copy.deepcopy(bundle_resources(bench_pnen))
    for resource in resources:
        resource["meta"] = {"versionId": "v3"}
        if resource["resourceType"] in ("Condition", "Observation", "Procedure"):
            resource["note"] = [{"text": MARKER}]
        if resource["resourceType"] == "DiagnosticReport":
            resource["conclusion"] = MARKER
    return resources


def _hook_call(client: FlaskClient, fhir: tuple[str, FhirData]) -> tuple[dict[str, Any], str, str]:
    """patient-view, observations fetched with the access token: (response body, JWT, hook id)."""
    base, data = fhir
    discovery = client.get("/cds-services", headers=bearer("/cds-services")).get_json()
    resources = _resources_of(data)
    prefetch = prefetch_for(resources, discovery["services"][0]["prefetch"])
    del prefetch["observations"]
    request = hook_request(
        "patient-view", PATIENT, prefetch=prefetch, fhir_server=base, token=ACCESS_TOKEN
    )
    headers = bearer(PV)
    response = client.post(PV, json=request, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert any(path.startswith("/fhir/Observation") for path in data.requests)
    body: dict[str, Any] = response.get_json()
    assert_valid_response(body)
    return body, headers["Authorization"].split()[1], request["hookInstance"]


def _resources_of(data: FhirData) -> list[dict[str, Any]]:
    return [r for resources in data.by_type.values() for r in resources]


def test_the_audit_row_of_a_hook_call(
    client: FlaskClient, database_url: str, fhir: tuple[str, FhirData]
) -> None:
    body, _, hook_instance = _hook_call(client, fhir)
    (row,) = all_rows(database_url)["audit"]
    cards = body["cards"]
    assert (row["service"], row["hook_instance"], row["patient_ref"], row["status"]) == (
        "pnen-patient-view",
        hook_instance,
        f"Patient/{PATIENT}",
        200,
    )
    assert set(json.loads(row["rule_ids"])) == {c["source"]["topic"]["code"] for c in cards}
    assert json.loads(row["card_uuids"]) == [c["uuid"] for c in cards]
    used = expand_references(row["resources_used"])
    assert "Condition/cond-1/_history/v3" in used
    assert all(ref.endswith("/_history/v3") for ref in used)
    assert any(ref.startswith("Observation/") for ref in used)  # the fetched ones too
    assert row["elapsed_ms"] > 0
    assert row["at"] is not None


def test_the_store_never_holds_resource_contents_or_tokens(
    client: FlaskClient, database_url: str, fhir: tuple[str, FhirData], tmp_path: Path
) -> None:
    body, jwt, _ = _hook_call(client, fhir)
    post_feedback(client, overridden(body["cards"][0]["uuid"], reason="not-relevant"))
    stored = json.dumps(all_rows(database_url), default=str)
    assert '"audit": [{' in stored and '"feedback": [{' in stored
    for secret in (MARKER, ACCESS_TOKEN, jwt, jwt.split(".")[2]):
        assert secret not in stored
    if database_url.startswith("sqlite"):  # the raw database files, journal included
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("store.sqlite3*"))
        assert raw and MARKER.encode() not in raw and ACCESS_TOKEN.encode() not in raw


def test_feedback_on_an_issued_card_is_linked_to_its_rule_and_unknown_cards_stay_unlinked(
    client: FlaskClient, app: Flask, fhir: tuple[str, FhirData]
) -> None:
    body, _, _ = _hook_call(client, fhir)
    first, second = body["cards"][0], body["cards"][1]
    assert (
        post_feedback(
            client,
            accepted(first["uuid"]),
            overridden(second["uuid"], reason="already-done"),
            overridden("never-issued", reason="not-relevant"),
        ).status_code
        == 200
    )
    report = {s.rule_id: s for s in store_of(app).feedback_report()}
    rule_1, rule_2 = first["source"]["topic"]["code"], second["source"]["topic"]["code"]
    assert (report[rule_1].accepted, report[rule_1].cards_issued) == (1, 1)
    assert report[rule_2].override_reasons == (("Already-Done", 1),)
    assert (report[UNLINKED].overridden, report[UNLINKED].cards_issued) == (1, 0)


def test_feedback_report_prints_rates_and_reasons_per_rule(
    client: FlaskClient,
    database_url: str,
    fhir: tuple[str, FhirData],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    body, _, _ = _hook_call(client, fhir)
    card = body["cards"][0]
    rule = card["source"]["topic"]["code"]
    post_feedback(
        client,
        accepted(card["uuid"]),
        overridden(card["uuid"], "2024-05-02T10:00:00Z", reason="not-relevant"),
        overridden(card["uuid"], "2024-05-03T10:00:00Z", reason="not-relevant"),
        overridden(card["uuid"], "2024-05-04T10:00:00Z"),
    )
    monkeypatch.setenv("PNEN_CDS_DATABASE_URL", database_url)
    capsys.readouterr()
    assert main(["feedback-report"]) == 0
    text = capsys.readouterr().out
    line = next(line for line in text.splitlines() if line.startswith(rule + " "))
    assert line.split()[1:] == ["1", "4", "25%", "75%"]  # cards, feedback, accepted, overridden
    assert "override: Not-Relevant ×2" in text
    assert "override: (no reason given) ×1" in text
    assert main(["feedback-report", "--format", "json"]) == 0
    stats = {s["ruleId"]: s for s in json.loads(capsys.readouterr().out)}
    assert stats[rule]["acceptanceRate"] == 0.25 and stats[rule]["overrideRate"] == 0.75
    assert stats[rule]["overrideReasons"][0] == {"reason": "Not-Relevant", "count": 2}


def test_feedback_report_of_an_empty_store(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    Store.open(database_url).close()  # created by `pnen-cds serve`; the report never creates it
    monkeypatch.setenv("PNEN_CDS_DATABASE_URL", database_url)
    assert main(["feedback-report"]) == 0
    assert "No cards issued" in capsys.readouterr().out
