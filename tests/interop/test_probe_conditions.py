"""Interop corpus: Condition shapes of the real-world probe (2026-11-27).

Every record here is synthetic, shaped like EHR problem-list output as the probe found it
(probe 2026-11-27, /work/helpers/probe/probe-records): lower-case ICD-10-CM codes, metastasis
sites written only as text, statuses given as text or display only, an abatement without a
clinical status. Cases assert the facts produced or the data issue; the end-to-end case asserts
the cards over HTTP.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from fhir_mappings.facts import PatientFacts
from fhir_mappings.record import RecordMapper
from tests.fhir_builders import PATIENT_ID, facts_for, terms
from tests.support.cds_requests import answered, hook_request, prefetch_for

SCT = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
SUBJECT = {"reference": f"Patient/{PATIENT_ID}"}
PV = "/cds-services/pnen-patient-view"
TAIL = {"coding": [{"system": SCT, "code": "73239005", "display": "Tail of pancreas"}]}


def _condition(rid: str, system: str, code: str, **extra: Any) -> dict[str, Any]:
    """A problem-list Condition as the probe's EHR-shaped records write it."""
    res: dict[str, Any] = {
        "resourceType": "Condition",
        "id": rid,
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
        "code": {"coding": [{"system": system, "code": code}]},
        "subject": SUBJECT,
        "onsetDateTime": "2025-03-10",
        "recordedDate": "2025-03-12",
    }
    res.update(extra)
    return {k: v for k, v in res.items() if v is not None}


def _pnen(**extra: Any) -> dict[str, Any]:
    """ICD-10-CM C25.4 (malignant neoplasm of endocrine pancreas) in the pancreatic tail."""
    return _condition("pnen", ICD10CM, extra.pop("code", "C25.4"), bodySite=[TAIL], **extra)


def _problems(mapped: PatientFacts) -> list[str]:
    return [issue.problem for issue in mapped.data_issues]


# --- F6: ICD-10-CM codes in lower case ---------------------------------------------------------


@pytest.mark.parametrize("code", ["c25.4", "c254"])
def test_lower_case_icd10cm_endocrine_pancreas_code_is_a_pnen(code: str) -> None:
    # Synthetic, shaped like EHR problem-list output with lower-case ICD-10-CM (probe 2026-11-27,
    # cond-icd-lowercase-no-lm).
    mapped = facts_for([_pnen(code=code)])
    assert mapped.has("pnen") and not mapped.data_issues
    assert mapped.latest("primary-location").value == "tail"  # type: ignore[union-attr]


def test_lower_case_c78_7_is_a_liver_metastasis() -> None:
    # Synthetic, shaped like EHR problem-list output (probe 2026-11-27, cond-c787-lowercase).
    mapped = facts_for([_pnen(), _condition("lm", ICD10CM, "c78.7")])
    assert mapped.has("liver-metastasis") and not mapped.has("extrahepatic-metastasis")


def test_lower_case_c7b_8_with_a_lung_site_stays_extrahepatic() -> None:
    # Synthetic, the probe's problem-list shape (probe 2026-11-27), a lung site as text.
    met = _condition("met", ICD10CM, "c7b.8", bodySite=[{"text": "Lung"}])
    mapped = facts_for([_pnen(), met])
    assert mapped.latest("extrahepatic-metastasis").value == "lung"  # type: ignore[union-attr]


# --- F7: a secondary neuroendocrine tumour whose liver site is only text -----------------------


@pytest.mark.parametrize(
    ("system", "code", "site"),
    [
        (ICD10CM, "C7B.8", "Liver"),  # probe cond-livermet-c7b8-text-site
        (SCT, "128462008", "liver"),  # probe cond-livermet-secondary-text-site
        (ICD10CM, "C7B.8", "肝"),
    ],
)
def test_secondary_code_with_a_text_only_liver_site_is_a_liver_metastasis(
    system: str, code: str, site: str
) -> None:
    # Synthetic, shaped like EHR problem-list output with a free-text body site (probe 2026-11-27).
    met = _condition("lm", system, code, bodySite=[{"text": site}])
    mapped = facts_for([_pnen(), met])
    assert mapped.has("liver-metastasis")
    assert not mapped.has("extrahepatic-metastasis")


def test_c7a8_with_a_text_only_pancreas_site_is_a_pnen() -> None:
    # Synthetic, problem-list C7A.8 with a free-text site (probe 2026-11-27,
    # cond-c7a8-pancreas-text-bodysite).
    res = _condition("pnen", ICD10CM, "C7A.8", bodySite=[{"text": "pancreatic tail"}])
    mapped = facts_for([res])
    assert mapped.has("pnen") and not mapped.data_issues
    assert not mapped.has("primary-location")  # the text names no coded location


# --- F8: statuses as text or display only, and abatement without a status ----------------------


@pytest.mark.parametrize(
    "status",
    [
        {"text": "Resolved"},  # probe cond-status-text-only
        {"coding": [{"display": "Resolved"}]},  # probe cond-status-coded-display-only
        {"coding": [{"system": CLINICAL, "code": "Remission"}]},  # cond-status-uppercase-code
        {"text": "in remission"},
    ],
)
def test_pnen_resolved_by_text_display_or_capitalised_code_is_in_remission(
    status: dict[str, Any],
) -> None:
    # Synthetic, shaped like EHR problem-list output (probe 2026-11-27).
    mapped = facts_for([_pnen(clinicalStatus=status, abatementDateTime="2025-09-01")])
    assert not mapped.has("pnen")
    fact = mapped.latest("pnen-remission")
    assert fact is not None and fact.when is not None
    assert fact.when.isoformat() == "2025-09-01"
    assert not mapped.data_issues


def test_abated_pnen_without_a_clinical_status_is_inactive() -> None:
    # Synthetic (probe 2026-11-27, cond-pnen-abated-no-status): FHIR con-4 makes it not active.
    mapped = facts_for([_pnen(clinicalStatus=None, abatementDateTime="2025-09-01")])
    fact = mapped.latest("pnen-remission")
    assert fact is not None and fact.value == "inactive"
    assert "no clinical status recorded" in fact.text
    assert not mapped.has("pnen")


def test_pnen_without_status_or_abatement_is_still_active() -> None:
    mapped = facts_for([_pnen(clinicalStatus=None)])
    assert mapped.has("pnen") and not mapped.data_issues


def test_abated_pnen_without_status_was_active_before_its_abatement_as_of() -> None:
    res = _pnen(clinicalStatus=None, abatementDateTime="2025-09-01")
    items = [("conditions", res)]
    mapped = RecordMapper(terms()).map(PATIENT_ID, items, date(2025, 6, 1), as_of=True)
    assert mapped.has("pnen") and not mapped.has("pnen-remission")


def test_active_pnen_with_an_abatement_date_is_reported_as_contradictory() -> None:
    # Synthetic: clinicalStatus active and an abatementDateTime break FHIR con-4.
    mapped = facts_for([_pnen(abatementDateTime="2025-09-01")])
    assert mapped.has("pnen")
    assert any("contradicts itself" in p for p in _problems(mapped))


@pytest.mark.parametrize(
    "verification",
    [
        {"text": "entered in error"},  # probe cond-ver-text
        {"coding": [{"display": "Refuted"}]},
        {"coding": [{"system": VERIFICATION, "code": "Entered-In-Error"}]},
    ],
)
def test_pnen_entered_in_error_or_refuted_by_text_does_not_count(
    verification: dict[str, Any],
) -> None:
    # Synthetic, shaped like EHR problem-list output (probe 2026-11-27).
    mapped = facts_for([_pnen(verificationStatus=verification)])
    assert not mapped.has("pnen") and not mapped.has("pnen-remission")


def test_unreadable_clinical_status_text_of_a_pnen_is_a_data_issue() -> None:
    mapped = facts_for([_pnen(clinicalStatus={"text": "under follow-up"})])
    assert not mapped.has("pnen")
    assert "clinicalStatus: 'under follow-up' is not a status the service reads" in _problems(
        mapped
    )


def test_unreadable_verification_status_counts_and_is_a_data_issue() -> None:
    mapped = facts_for([_pnen(verificationStatus={"text": "per outside records"})])
    assert mapped.has("pnen")
    assert any("verificationStatus: 'per outside records'" in p for p in _problems(mapped))


def test_unreadable_status_of_an_unrelated_condition_is_no_data_issue() -> None:
    res = _condition("htn", ICD10CM, "I10", clinicalStatus={"text": "chronic"})
    assert not facts_for([_pnen(), res]).data_issues


# --- end to end over HTTP ----------------------------------------------------------------------


def _summary(client: FlaskClient, resources: list[dict[str, Any]], keys: list[str]) -> str:
    request = hook_request("patient-view", PATIENT_ID, prefetch=prefetch_for(resources, keys))
    body = answered(client, "pnen-patient-view", request)
    cards = {card["source"]["topic"]["code"]: card for card in body["cards"]}
    assert "summary" in cards
    return str(cards["summary"]["summary"])


def test_e2e_lower_case_codes_and_text_liver_site_give_a_pnen_with_liver_metastases(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    # Synthetic, shaped like EHR problem-list output (probe 2026-11-27, cond-icd-lowercase,
    # cond-livermet-c7b8-text-site).
    patient = {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "1966-03-02"}
    met = _condition("lm", ICD10CM, "c7b.8", bodySite=[{"text": "Liver"}])
    summary = _summary(client, [patient, _pnen(code="c25.4"), met], prefetch_keys)
    assert "with liver metastases" in summary and "M1b" not in summary


def test_e2e_pnen_resolved_only_by_text_is_in_remission(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    # Synthetic (probe 2026-11-27, cond-status-text-only).
    patient = {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "1966-03-02"}
    res = _pnen(clinicalStatus={"text": "Resolved"}, abatementDateTime="2025-09-01")
    assert "pNEN in remission" in _summary(client, [patient, res], prefetch_keys)


def test_status_coded_in_another_system_is_read_from_its_display() -> None:
    # Synthetic: a SNOMED 'Active' finding in clinicalStatus, as some problem lists send it.
    status = {"coding": [{"system": SCT, "code": "55561003", "display": "Active"}]}
    mapped = facts_for([_pnen(clinicalStatus=status)])
    assert mapped.has("pnen") and not mapped.data_issues


# --- re-probe 2026-11-27: fixes that must not be too eager -------------------------------------


@pytest.mark.parametrize("site", ["Hepatic flexure of colon", "结肠肝曲"])
def test_a_metastasis_at_the_hepatic_flexure_is_extrahepatic_not_the_liver(site: str) -> None:
    # synthetic, re-probe record n09c: the colon's hepatic flexure is no liver site.
    met = _condition("met", ICD10CM, "C7B.8", bodySite=[{"text": site}])
    mapped = facts_for([_pnen(), met])
    assert not mapped.all("liver-metastasis")
    assert [f.ref for f in mapped.all("extrahepatic-metastasis")] == ["Condition/met"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Active - on lanreotide", "pnen"),
        ("Resolved (2024)", "pnen-remission"),
        ("in remission: since 2023", "pnen-remission"),
    ],
)
def test_a_free_text_status_led_by_a_status_word_is_read(text: str, kind: str) -> None:
    # synthetic, re-probe record n09b: one free-text status must not drop the pNEN.
    mapped = facts_for([_pnen(clinicalStatus={"text": text})])
    assert [f.ref for f in mapped.all(kind)] == ["Condition/pnen"]
    assert not _problems(mapped)
