"""CDS Hooks requests for tests: the package's request builder (`hooks.request_builder`).

`prefetch_for` here takes the discovery keys and puts every Observation under the first
Observation key, as the tests have always sent them; the package's builder is used underneath.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask.testing import FlaskClient

from hooks.request_builder import bundle_resources, hook_request, patient_id_of, searchset
from tests.cds_schema import assert_valid_response

KEY_OF_TYPE = {
    "Condition": "conditions",
    "Observation": "observations",
    "Specimen": "specimens",
    "DiagnosticReport": "reports",
    "MedicationRequest": "medications",
    "MedicationStatement": "medicationstatements",
    "MedicationAdministration": "medicationadministrations",
    "ServiceRequest": "servicerequests",
    "Procedure": "procedures",
    "AllergyIntolerance": "allergies",
}

__all__ = [
    "KEY_OF_TYPE",
    "bundle_resources",
    "hook_request",
    "patient_id_of",
    "prefetch_for",
    "searchset",
]


def prefetch_for(resources: Sequence[dict[str, Any]], keys: Iterable[str]) -> dict[str, Any]:
    """Every declared key: the Patient, then a Bundle per key (all Observations in the first)."""
    grouped: dict[str, list[dict[str, Any]]] = {k: [] for k in keys if k != "patient"}
    prefetch: dict[str, Any] = {}
    for resource in resources:
        kind = resource.get("resourceType")
        if kind == "Patient":
            prefetch["patient"] = resource
        elif kind in KEY_OF_TYPE and KEY_OF_TYPE[kind] in grouped:
            grouped[KEY_OF_TYPE[kind]].append(resource)
    prefetch.update({k: searchset(v) for k, v in grouped.items()})
    return prefetch


def answered(client: FlaskClient, service: str, request: dict[str, Any]) -> dict[str, Any]:
    """POST a hook request to /cds-services/`service`: the 200 body, checked against the CDS
    Hooks schemas (and every suggested resource against FHIR R4B)."""
    response = client.post(f"/cds-services/{service}", json=request)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert_valid_response(body)
    return body
