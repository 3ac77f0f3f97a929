"""Bad input gets a clear error and loses nothing (service-contract.md, "Errors")."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.cds_schema import assert_valid_response
from tests.support.cds_requests import hook_request, searchset

PV = "/cds-services/pnen-patient-view"
OS = "/cds-services/pnen-order-select"


def _error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert isinstance(body["error"], str) and body["error"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def _paths(body: dict[str, Any]) -> set[str]:
    return {d["path"] for d in body.get("details", [])}


def test_malformed_json_is_a_400_naming_the_body(client: FlaskClient) -> None:
    body = _error(client.post(PV, data=b"{not json", content_type="application/json"), 400)
    assert _paths(body) == {"(body)"}


def test_missing_hook_is_a_400_naming_the_path(client: FlaskClient) -> None:
    request = hook_request("patient-view", "p1", prefetch={})
    del request["hook"]
    assert "hook" in _paths(_error(client.post(PV, json=request), 400))


@pytest.mark.parametrize("field", ["hookInstance", "context"])
def test_missing_required_field_is_a_400(client: FlaskClient, field: str) -> None:
    request = hook_request("patient-view", "p1", prefetch={})
    del request[field]
    assert field in _paths(_error(client.post(PV, json=request), 400))


def test_wrong_type_for_context_is_a_400(client: FlaskClient) -> None:
    request = hook_request("patient-view", "p1", prefetch={})
    request["context"] = "Patient/1"
    assert "context" in _paths(_error(client.post(PV, json=request), 400))


def test_hook_of_another_service_is_a_400(client: FlaskClient) -> None:
    request = hook_request("order-sign", "p1", prefetch={})
    assert "hook" in _paths(_error(client.post(PV, json=request), 400))


@pytest.mark.parametrize("patient_id", ["", "a/b", "x" * 65, "bad id"])
def test_patient_id_must_be_a_fhir_id(client: FlaskClient, patient_id: str) -> None:
    request = hook_request("patient-view", "p1", prefetch={})
    request["context"]["patientId"] = patient_id
    assert "context.patientId" in _paths(_error(client.post(PV, json=request), 400))


def test_fhir_authorization_without_fhir_server_is_a_400(client: FlaskClient) -> None:
    request = hook_request("patient-view", "p1", prefetch={})
    request["fhirAuthorization"] = {
        "access_token": "t",
        "token_type": "Bearer",
        "expires_in": 60,
        "scope": "patient/*.read",
        "subject": "pnen-cds",
    }
    assert "fhirAuthorization" in _paths(_error(client.post(PV, json=request), 400))


def test_selection_that_matches_no_draft_is_a_400_naming_it(client: FlaskClient) -> None:
    draft = {"resourceType": "ServiceRequest", "id": "sr-1", "status": "draft", "intent": "order"}
    request = hook_request(
        "order-select",
        "p1",
        prefetch={},
        drafts=[draft],
        selections=["ServiceRequest/sr-1", "ServiceRequest/other"],
    )
    assert _paths(_error(client.post(OS, json=request), 400)) == {"context.selections[1]"}


def test_unknown_service_is_a_404(client: FlaskClient) -> None:
    _error(client.post("/cds-services/nope", json={}), 404)


def test_body_over_the_size_limit_is_a_413(client: FlaskClient) -> None:
    payload = b'{"hook": "' + b"x" * (5 * 1024 * 1024 + 10) + b'"}'
    response = client.post(PV, data=payload, content_type="application/json")
    assert response.status_code == 413


def test_absent_prefetch_without_fhir_server_is_a_412_listing_keys(client: FlaskClient) -> None:
    body = _error(client.post(PV, json=hook_request("patient-view", "p1")), 412)
    assert {"patient", "conditions"} <= set(body["missing"])


def test_operation_outcome_in_prefetch_counts_as_absent(client: FlaskClient) -> None:
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "x"}]}
    request = hook_request(
        "patient-view",
        "p1",
        prefetch={"patient": {"resourceType": "Patient", "id": "p1"}, "conditions": outcome},
    )
    assert "conditions" in _error(client.post(PV, json=request), 412)["missing"]


def test_null_prefetch_means_no_data(client: FlaskClient) -> None:
    """Without a pNEN among the conditions, nothing else is needed: no 412, no cards."""
    request = hook_request(
        "patient-view",
        "p1",
        prefetch={"patient": {"resourceType": "Patient", "id": "p1"}, "conditions": None},
    )
    response = client.post(PV, json=request)
    assert response.status_code == 200
    assert response.get_json() == {"cards": []}


def test_broken_resource_is_skipped_and_reported_not_a_500(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    patient = {"resourceType": "Patient", "id": "p1"}
    pnen = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1290080008"}]},
    }
    broken_condition = {"resourceType": "Condition", "id": "c2", "code": "not-an-object"}
    broken_obs = {
        "resourceType": "Observation",
        "id": "broken-1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29593-1"}]},
        "valueQuantity": 12,
    }
    prefetch: dict[str, Any] = {k: None for k in prefetch_keys}
    prefetch |= {
        "patient": patient,
        "conditions": searchset([pnen, broken_condition]),
        "observations": searchset([broken_obs]),
    }
    response = client.post(PV, json=hook_request("patient-view", "p1", prefetch=prefetch))
    assert response.status_code == 200
    body = response.get_json()
    assert_valid_response(body)
    issues = body["extension"]["org.pnen-cds.data-issues"]
    refs = {(i["prefetchKey"], i["reference"]) for i in issues}
    assert ("observations", "Observation/broken-1") in refs
    problem = next(i["problem"] for i in issues if i["reference"] == "Observation/broken-1")
    assert problem == "valueQuantity: expected an object"
    assert any(c["source"]["topic"]["code"] == "summary" for c in body["cards"])


def test_unknown_route_is_json_404(client: FlaskClient) -> None:
    _error(client.get("/nowhere"), 404)
