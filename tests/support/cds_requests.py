"""CDS Hooks requests built from a patient's resources (group by type into prefetch keys)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

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


def searchset(resources: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A searchset Bundle of the resources."""
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r} for r in resources],
    }


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


def bundle_resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The resources of a FHIR Bundle file."""
    return [e["resource"] for e in bundle.get("entry", [])]


def patient_id_of(resources: Sequence[dict[str, Any]]) -> str:
    """The id of the Patient among the resources."""
    return next(str(r["id"]) for r in resources if r.get("resourceType") == "Patient")


def hook_request(
    hook: str,
    patient_id: str,
    *,
    prefetch: dict[str, Any] | None = None,
    fhir_server: str | None = None,
    token: str | None = None,
    drafts: Sequence[dict[str, Any]] = (),
    selections: Sequence[str] | None = None,
) -> dict[str, Any]:
    """A CDS Hooks 2.0 request body for a hook."""
    context: dict[str, Any] = {"userId": "Practitioner/test-user", "patientId": patient_id}
    if hook in ("order-select", "order-sign"):
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "entry": [{"resource": d} for d in drafts],
        }
    if hook == "order-select":
        context["selections"] = list(
            selections
            if selections is not None
            else [f"{d['resourceType']}/{d['id']}" for d in drafts]
        )
    body: dict[str, Any] = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context}
    if prefetch is not None:
        body["prefetch"] = prefetch
    if fhir_server:
        body["fhirServer"] = fhir_server
        if token:
            body["fhirAuthorization"] = {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "patient/*.read",
                "subject": "pnen-cds",
            }
    return body
