"""Interop corpus: untidy codings and statuses of the real-world probe (2026-11-27).

Every record here is synthetic, shaped like the output of systems that send codes untidy as the
probe found them (probe 2026-11-27, /work/helpers/probe/probe-records, F18): a LOINC code with a
trailing space, a system URI in upper case, a single Coding sent as an object instead of an
array, a MedicationRequest status in capitals, a drug display in tall-man letters. Each is read,
since FHIR leaves no doubt what it means; the end-to-end case asserts the card over HTTP.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from fhir_mappings.terminology import LOINC
from tests.fhir_builders import (
    PATIENT_ID,
    PATIENT_REF,
    base_pnen_lm,
    differentiation,
    facts_for,
    ki67,
    terms,
)
from tests.support.cds_requests import answered, hook_request, prefetch_for

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _ki67(coding: Any) -> dict[str, Any]:
    """A Ki-67 Observation of 25 % whose code.coding is given as sent."""
    return {
        "resourceType": "Observation",
        "id": "ki",
        "status": "final",
        "code": {"coding": coding},
        "subject": {"reference": PATIENT_REF},
        "effectiveDateTime": "2025-04-02",
        "valueQuantity": {"value": 25, "unit": "%"},
    }


@pytest.mark.parametrize(
    "coding",
    [
        [{"system": LOINC, "code": "29593-1 "}],  # probe ki-code-trailing-space
        [{"system": "HTTP://LOINC.ORG", "code": "29593-1"}],  # probe ki-system-uppercase
        [{"system": " http://Loinc.org", "code": " 29593-1"}],
        {"system": LOINC, "code": "29593-1"},  # probe odd-ki-coding-object
    ],
)
def test_untidy_ki67_coding_is_read_as_ki67(coding: Any) -> None:
    fact = facts_for([*base_pnen_lm(), _ki67(coding)]).latest("ki67")
    assert fact is not None and fact.value.value == 25


@pytest.mark.parametrize(
    ("system", "code"),
    [
        ("http://loinc.org/", "29593-1"),  # a path is case-sensitive and part of the URI
        ("http://loinc.org", "29593"),
        ("http://loinc.org", "  "),
    ],
)
def test_a_different_coding_is_not_tidied_into_ki67(system: str, code: str) -> None:
    assert "ki67" not in terms().concepts_of({"coding": [{"system": system, "code": code}]})


def test_icd10cm_code_with_surrounding_space_and_lower_case_is_read() -> None:
    coding = {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": " c25.4 "}
    assert "pnen" in terms().concepts_of({"coding": [coding]})


@pytest.mark.parametrize("status", ["ACTIVE", "Active", " active"])
def test_medication_request_status_in_capitals_is_active(status: str) -> None:
    # Synthetic (probe 2026-11-27, med-status-uppercase).
    request = {
        "resourceType": "MedicationRequest",
        "id": "mr5",
        "status": status,
        "intent": "order",
        "authoredOn": "2026-02-01",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "68092"}]},
        "subject": {"reference": PATIENT_REF},
    }
    fact = facts_for([*base_pnen_lm(), request]).latest("medication:ssa")
    assert fact is not None and fact.value.active


def test_procedure_status_in_capitals_is_completed() -> None:
    procedure = {
        "resourceType": "Procedure",
        "id": "p1",
        "status": "COMPLETED",
        "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "48150"}]},
        "subject": {"reference": PATIENT_REF},
        "performedDateTime": "2025-04-01",
    }
    assert facts_for([*base_pnen_lm(), procedure]).has("procedure:pancreatoduodenectomy")


def test_e2e_drafted_drug_keeps_the_records_own_casing_in_the_card(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    # Synthetic, an Epic-style tall-man formulary display (probe 2026-11-27,
    # order-carboplatin-local-only).
    draft = {
        "resourceType": "MedicationRequest",
        "id": "d1",
        "status": "DRAFT",
        "intent": "order",
        "authoredOn": "2026-11-27",
        "medicationCodeableConcept": {
            "coding": [
                {
                    "system": "http://hospital.example/formulary",
                    "code": "CARBO450",
                    "display": "CARBOplatin 450 mg in NS 250 mL IVPB",
                }
            ]
        },
        "subject": {"reference": PATIENT_REF},
    }
    record = [*base_pnen_lm(), differentiation("well"), ki67(5, "primary")]
    request = hook_request(
        "order-sign", PATIENT_ID, prefetch=prefetch_for(record, prefetch_keys), drafts=[draft]
    )
    body = answered(client, "pnen-order-sign", request)
    card = next(c for c in body["cards"] if c["source"]["topic"]["code"] == "platinum-for-net")
    assert card["summary"].startswith("CARBOplatin 450 mg in NS 250 mL IVPB drafted")


@pytest.mark.parametrize(
    ("system", "code", "concept"),
    [
        # probe order-carboplatin-atc-lower
        ("http://www.whocc.no/atc", "l01xa02", "carboplatin"),
        ("http://www.cms.gov/Medicare/Coding/ICD10", "0ftg0zz", "pancreatectomy"),
    ],
)
def test_upper_case_code_systems_read_a_lower_case_code(
    system: str, code: str, concept: str
) -> None:
    assert concept in terms().concepts_of({"coding": [{"system": system, "code": code}]})
