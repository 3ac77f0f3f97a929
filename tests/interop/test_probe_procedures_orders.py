"""Interop corpus: procedure, order and medication shapes of the real-world probe (2026-11-27).

Every record here is synthetic, shaped like EHR output as the probe found it (probe 2026-11-27,
/work/helpers/probe/probe-records): ICD-10-PCS surgical history, procedures named only in text,
a CPT embolisation whose text says TACE, medications referenced rather than contained. Cases
assert the facts produced or the data issue; the end-to-end cases assert the cards over HTTP.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from fhir_mappings.facts import BY_TEXT, PatientFacts
from tests.fhir_builders import (
    PATIENT_ID,
    PATIENT_REF,
    base_pnen_lm,
    differentiation,
    facts_for,
    ki67,
    patient,
)
from tests.support.cds_requests import answered, hook_request, prefetch_for

PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
CPT = "http://www.ama-assn.org/go/cpt"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SCT = "http://snomed.info/sct"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
LOCAL = "http://hospital.example/fhir/CodeSystem/surgery"


def _procedure(
    system: str | None, code: str | None, display: str, text: str | None = None
) -> dict[str, Any]:
    """A completed Procedure as the probe's EHR-shaped surgical history writes it."""
    concept: dict[str, Any] = {}
    if system and code:
        concept["coding"] = [{"system": system, "code": code, "display": display}]
    if text:
        concept["text"] = text
    return {
        "resourceType": "Procedure",
        "id": "surgery",
        "status": "completed",
        "performedDateTime": "2025-04-01",
        "code": concept,
        "subject": {"reference": PATIENT_REF},
    }


def _procedures(mapped: PatientFacts) -> dict[str, tuple[str, ...]]:
    return {
        k.removeprefix("procedure:"): v[0].flags
        for k, v in mapped.by_kind.items()
        if k.startswith("procedure:")
    }


# --- F15: ICD-10-PCS and text-only surgical history ---------------------------------------------


@pytest.mark.parametrize(
    ("code", "display", "text", "kind"),
    [
        # probe proc-pcs-whipple-in-remission: PCS total resection, text "Whipple"
        ("0FTG0ZZ", "Resection of Pancreas, Open Approach", "Whipple", "pancreatoduodenectomy"),
        # probe proc-icd10pcs: PCS excision of the pancreas, text names the distal resection
        (
            "0FBG0ZZ",
            "Excision of Pancreas, Open Approach",
            "Distal pancreatectomy with splenectomy",
            "distal-pancreatectomy",
        ),
        (
            "0FBG4ZZ",
            "Excision of Pancreas, Percutaneous Endoscopic Approach",
            None,
            "pancreatectomy",
        ),
        ("0FTG0ZZ", "Resection of Pancreas, Open Approach", None, "pancreatectomy"),
        (
            "0FB10ZZ",
            "Excision of Right Lobe Liver, Open Approach",
            None,
            "hepatectomy-parenchymal-sparing",
        ),
        ("0FT20ZZ", "Resection of Left Lobe Liver, Open Approach", None, "hepatectomy-anatomic"),
        ("0F503ZZ", "Destruction of Liver, Percutaneous Approach", None, "liver-ablation"),
        (
            "0FB03ZX",
            "Excision of Liver, Percutaneous Approach, Diagnostic",
            None,
            "liver-biopsy-percutaneous",
        ),
        (
            "0FY00Z0",
            "Transplantation of Liver, Allogeneic, Open Approach",
            None,
            "liver-transplant",
        ),
        (
            "0F5G8ZZ",
            "Destruction of Pancreas, Via Natural or Artificial Opening Endoscopic",
            None,
            "eus-ablation",
        ),
    ],
)
def test_icd10pcs_surgical_history_gives_the_procedure_kind(
    code: str, display: str, text: str | None, kind: str
) -> None:
    # Synthetic, shaped like EHR surgical history coded in ICD-10-PCS (probe 2026-11-27).
    mapped = facts_for([_procedure(PCS, code, display, text)])
    assert _procedures(mapped) == {kind: ()}
    fact = mapped.latest(f"procedure:{kind}")
    assert fact is not None and fact.when == date(2025, 4, 1)


def test_icd10pcs_under_its_oid_is_read() -> None:
    # Synthetic, CDA-derived feeds name ICD-10-PCS by its OID 2.16.840.1.113883.6.4.
    res = _procedure("urn:oid:2.16.840.1.113883.6.4", "0FTG0ZZ", "Resection of Pancreas")
    assert _procedures(facts_for([res])) == {"pancreatectomy": ()}


def test_diagnostic_excision_of_the_pancreas_is_no_resection() -> None:
    # 0FBG3ZX: percutaneous pancreas biopsy (qualifier X, diagnostic).
    res = _procedure(PCS, "0FBG3ZX", "Excision of Pancreas, Percutaneous Approach, Diagnostic")
    assert _procedures(facts_for([res])) == {}


@pytest.mark.parametrize(
    ("system", "code", "text", "kind"),
    [
        (None, None, "Whipple", "pancreatoduodenectomy"),  # probe proc-whipple-text
        (LOCAL, "S-4411", "Pylorus-preserving pancreaticoduodenectomy", "pancreatoduodenectomy"),
        (None, None, "Laparoscopic distal pancreatectomy", "distal-pancreatectomy"),
        (None, None, "TACE, segment VII", "tace"),
    ],
)
def test_procedure_named_only_in_text_counts_flagged_by_text(
    system: str | None, code: str | None, text: str, kind: str
) -> None:
    # Synthetic, shaped like EHR surgical history with a local or no code (probe 2026-11-27).
    mapped = facts_for([_procedure(system, code, text, text)])
    assert _procedures(mapped) == {kind: (BY_TEXT,)}


@pytest.mark.parametrize(
    "text",
    ["Whipple's disease work-up", "Whipple triad assessment", "Distal pancreatitis drainage"],
)
def test_procedure_text_without_a_listed_procedure_is_none(text: str) -> None:
    assert _procedures(facts_for([_procedure(None, None, text, text)])) == {}


def test_cpt_embolisation_whose_text_says_chemoembolization_is_a_tace() -> None:
    # Synthetic, CPT 37243 with the order's own text (probe 2026-11-27, order-tace-cpt-text).
    res = _procedure(
        CPT,
        "37243",
        "Vascular embolization or occlusion; for tumors",
        "Chemoembolization (TACE) of liver metastases",
    )
    assert _procedures(facts_for([res])) == {"tace": ()}
    bland = _procedure(CPT, "37243", "Vascular embolization or occlusion; for tumors")
    assert _procedures(facts_for([bland])) == {"tae": ()}


# --- end to end over HTTP ----------------------------------------------------------------------


def _cards(client: FlaskClient, path: str, request: dict[str, Any]) -> set[str]:
    body = answered(client, path.removeprefix("/cds-services/"), request)
    return {card["source"]["topic"]["code"] for card in body["cards"]}


def _pnen_in_remission() -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": "pnen",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "remission"}]},
        "code": {"coding": [{"system": ICD10CM, "code": "C25.4"}]},
        "bodySite": [{"coding": [{"system": SCT, "code": "73239005"}]}],
        "onsetDateTime": "2025-03-10",
        "abatementDateTime": "2025-05-01",
        "subject": {"reference": PATIENT_REF},
    }


@pytest.mark.parametrize(
    ("system", "code", "text"),
    [(PCS, "0FTG0ZZ", "Whipple"), (None, None, "Whipple"), (CPT, "48150", "Whipple")],
)
def test_e2e_pcs_or_text_whipple_in_remission_makes_follow_up_imaging_due(
    client: FlaskClient, prefetch_keys: list[str], system: str | None, code: str | None, text: str
) -> None:
    # Synthetic (probe 2026-11-27, proc-pcs-whipple-in-remission; CPT 48150 is its control).
    record = [patient("1966-03-02"), _pnen_in_remission(), _procedure(system, code, text, text)]
    request = hook_request("patient-view", PATIENT_ID, prefetch=prefetch_for(record, prefetch_keys))
    assert "followup-imaging-due" in _cards(client, "/cds-services/pnen-patient-view", request)


@pytest.mark.parametrize(("text", "fires"), [("Chemoembolization (TACE)", True), (None, False)])
def test_e2e_cpt_embolisation_draft_named_tace_gets_the_tae_preference(
    client: FlaskClient, prefetch_keys: list[str], text: str | None, fires: bool
) -> None:
    # Synthetic, a ServiceRequest draft coded CPT 37243 with the order's text (probe 2026-11-27,
    # order-tace-cpt-text).
    concept: dict[str, Any] = {
        "coding": [
            {"system": CPT, "code": "37243", "display": "Vascular embolization or occlusion"}
        ]
    }
    if text:
        concept["text"] = text
    draft = {
        "resourceType": "ServiceRequest",
        "id": "draft-tace",
        "status": "draft",
        "intent": "order",
        "code": concept,
        "subject": {"reference": PATIENT_REF},
    }
    record = [*base_pnen_lm(), differentiation("well"), ki67(5, "primary")]
    request = hook_request(
        "order-sign", PATIENT_ID, prefetch=prefetch_for(record, prefetch_keys), drafts=[draft]
    )
    cards = _cards(client, "/cds-services/pnen-order-sign", request)
    assert ("tae-over-tace" in cards) is fires


# --- F14: a medication referenced, not contained ------------------------------------------------

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NOT_CONTAINED = "medication not readable: its Medication is not contained"


def _referenced(rid: str, reference: dict[str, Any], status: str = "active") -> dict[str, Any]:
    """A MedicationRequest naming its drug by medicationReference (probe 2026-11-27)."""
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "authoredOn": "2026-02-01",
        "medicationReference": reference,
        "subject": {"reference": PATIENT_REF},
    }


def _bundle_medication() -> dict[str, Any]:
    return {
        "resourceType": "Medication",
        "id": "med-ever",
        "code": {
            "coding": [
                {
                    "system": RXNORM,
                    "code": "845512",
                    "display": "everolimus 10 MG Oral Tablet [Afinitor]",
                }
            ]
        },
    }


def test_medication_referenced_outside_the_request_is_a_data_issue_naming_the_request() -> None:
    # Synthetic, shaped like EHR output with Medications as separate resources (probe 2026-11-27,
    # med-external-medication-ref): only contained Medications are resolved (fhir-mapping.md).
    request = _referenced("mr2", {"reference": "Medication/med-ever"})
    mapped = facts_for([*base_pnen_lm(), _bundle_medication(), request])
    assert not any(k.startswith("medication:") for k in mapped.by_kind)
    assert [(i.reference, i.problem) for i in mapped.data_issues] == [
        ("MedicationRequest/mr2", NOT_CONTAINED)
    ]


def test_medication_referenced_with_a_display_is_read_by_its_name() -> None:
    # Synthetic (probe 2026-11-27, med-unresolved-ref): the reference's display names the drug.
    request = _referenced("mr3", {"reference": "Medication/x", "display": "Sutent 37.5 mg capsule"})
    mapped = facts_for([*base_pnen_lm(), request])
    fact = mapped.latest("medication:sunitinib")
    assert fact is not None and BY_TEXT in fact.flags
    assert not mapped.data_issues


def test_contained_medication_is_resolved_without_a_data_issue() -> None:
    request = _referenced("mr4", {"reference": "#m"})
    request["contained"] = [dict(_bundle_medication(), id="m")]
    mapped = facts_for([*base_pnen_lm(), request])
    assert mapped.has("medication:everolimus") and not mapped.data_issues


def test_referenced_medication_of_a_patient_without_pnen_is_no_data_issue() -> None:
    request = _referenced("mr5", {"reference": "Medication/med-ever"})
    assert not facts_for([patient(), request]).data_issues


def test_e2e_order_sign_draft_with_a_referenced_medication_is_named_as_a_data_issue(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    # Synthetic (probe 2026-11-27, order-cisplatin-sbd-ref): a cisplatin draft written as a
    # reference to a Medication elsewhere in the request.
    draft = _referenced("d1", {"reference": "Medication/m-cis"}, status="draft")
    record = [*base_pnen_lm(), differentiation("well"), ki67(5, "primary")]
    request = hook_request(
        "order-sign", PATIENT_ID, prefetch=prefetch_for(record, prefetch_keys), drafts=[draft]
    )
    body = answered(client, "pnen-order-sign", request)
    issues = body["extension"]["org.pnen-cds.data-issues"]
    assert {"reference": "MedicationRequest/d1", "problem": NOT_CONTAINED}.items() <= next(
        i for i in issues if i["reference"] == "MedicationRequest/d1"
    ).items()


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("腹腔镜下胰十二指肠切除术", "pancreatoduodenectomy"),
        ("保脾胰体尾切除术", "distal-pancreatectomy"),
        ("经肝动脉化疗栓塞术（TACE）", "tace"),
        ("经肝动脉栓塞术", "tae"),
        ("同种异体原位肝移植术", "liver-transplant"),
    ],
)
def test_procedure_named_in_chinese_counts_flagged_by_text(text: str, kind: str) -> None:
    # Synthetic, a Chinese hospital's surgical history with a local code (probe 2026-11-27 shape).
    mapped = facts_for([_procedure(LOCAL, "S-1", text, text)])
    assert _procedures(mapped) == {kind: (BY_TEXT,)}


@pytest.mark.parametrize(
    "text",
    [
        "Exploratory laparotomy; Whipple aborted (SMA encasement), unresectable",
        "Attempted distal pancreatectomy, not performed",
        "剖腹探查，胰十二指肠切除术中止",
    ],
)
def test_an_operation_the_text_says_was_not_done_is_no_resection(text: str) -> None:
    # synthetic, re-probe record n10a: a completed laparotomy whose Whipple was aborted.
    mapped = facts_for([_procedure(None, None, "", text)])
    assert not _procedures(mapped)
