"""Interop corpus: procedures and medications shaped the way mCODE, US Core and EHRs send them.

Each case names the public material whose shape it follows; codes and values are synthetic or
the ones those examples use. Cases assert the facts produced; the end-to-end cases assert the
cards over HTTP, with prefetch and fetched from a loopback FHIR server.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from fhir_mappings.facts import PatientFacts
from fhir_mappings.terminology import ICD10CM, RXNORM, SNOMED
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    PATIENT_ID,
    PATIENT_REF,
    TODAY,
    base_pnen_lm,
    birth_date_for_age,
    condition,
    days_ago,
    differentiation,
    disease_status,
    facts_for,
    flag,
    ki67,
    liver_mets,
    medication,
    patient,
    patient_view,
    pnen,
    study,
)
from tests.support.cds_requests import hook_request, prefetch_for
from tests.support.fhir_server import serve_fhir

CPT = "http://www.ama-assn.org/go/cpt"
PV = "/cds-services/pnen-patient-view"
MCODE_INTENT = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-procedure-intent"
# An EHR-local code system next to the standard one, as vendors send them (an OID namespace).
LOCAL = "urn:oid:1.2.840.114350.1.13.0.1.7.2.696580"


def kinds(facts: PatientFacts, prefix: str) -> dict[str, list[date | None]]:
    """Fact kinds with this prefix ('procedure:', 'planned:', 'medication:') and their dates."""
    return {
        k.removeprefix(prefix): [f.when for f in v]
        for k, v in facts.by_kind.items()
        if k.startswith(prefix)
    }


def coding(system: str, code: str, display: str) -> dict[str, str]:
    """One Coding."""
    return {"system": system, "code": code, "display": display}


# --- procedures --------------------------------------------------------------------------------
def test_mcode_surgical_procedure_coded_in_snomed_is_a_pancreatoduodenectomy() -> None:
    # Source: HL7 mCODE IG, EX_ExtendedExample.fsh `cancer-related-surgical-procedure-jenny-m`
    # (CancerRelatedSurgicalProcedure: SNOMED code, performedDateTime, reasonReference, bodySite,
    # treatment-intent extension); here SNOMED 116241004 pancreaticoduodenectomy, head of pancreas.
    procedure = {
        "resourceType": "Procedure",
        "id": "cancer-related-surgical-procedure-whipple",
        "extension": [
            {
                "url": MCODE_INTENT,
                "valueCodeableConcept": {
                    "coding": [coding(SNOMED, "373808002", "Curative - procedure intent")]
                },
            }
        ],
        "status": "completed",
        "code": {"coding": [coding(SNOMED, "116241004", "Pancreaticoduodenectomy (procedure)")]},
        "subject": {"reference": PATIENT_REF},
        "performedDateTime": "2024-04-01",
        "reasonReference": [{"reference": "Condition/primary-cancer-condition-pnen"}],
        "bodySite": [{"coding": [coding(SNOMED, "64163001", "Head of pancreas")]}],
    }
    found = kinds(facts_for([procedure]), "procedure:")
    assert found == {"pancreatoduodenectomy": [date(2024, 4, 1)]}


def test_us_core_procedure_with_several_codings_and_text_reads_the_cpt_code() -> None:
    # Source: HL7 US Core IG example `Procedure-rehab.json` (a standard coding with a version, a
    # second coding from another system, and code.text); here CPT 48140 with an EHR-local code.
    procedure = {
        "resourceType": "Procedure",
        "id": "distal-pancreatectomy-uscore",
        "status": "completed",
        "code": {
            "coding": [
                coding(CPT, "48140", "Pancreatectomy, distal subtotal") | {"version": "2024"},
                coding(LOCAL, "83041", "LAPAROSCOPIC DISTAL PANCREATECTOMY W SPLENECTOMY"),
            ],
            "text": "Laparoscopic distal pancreatectomy with splenectomy",
        },
        "subject": {"reference": PATIENT_REF, "display": "Amy Shaw"},
        "performedDateTime": "2023-09-14T08:15:00-05:00",
    }
    assert kinds(facts_for([procedure]), "procedure:") == {
        "distal-pancreatectomy": [date(2023, 9, 14)]
    }


def cpt_procedure(code: str, display: str, **extra: Any) -> dict[str, Any]:
    """A completed Procedure with one CPT coding (US Core Procedure minimum: status, code,
    subject, performed[x])."""
    return {
        "resourceType": "Procedure",
        "id": f"cpt-{code}",
        "status": "completed",
        "code": {"coding": [coding(CPT, code, display)], "text": display},
        "subject": {"reference": PATIENT_REF},
        "performedDateTime": "2025-02-03",
        **extra,
    }


def test_cpt_enucleation_counts_as_resection_of_the_primary() -> None:
    # Source: US Core Procedure profile shape (CPT is in the US Core procedure code binding);
    # CPT 48120 "Excision of lesion of pancreas (eg, cyst, adenoma)".
    enucleation = cpt_procedure("48120", "Excision of lesion of pancreas")
    assert kinds(facts_for([enucleation]), "procedure:") == {"enucleation": [date(2025, 2, 3)]}
    assert not patient_view([*base_pnen_lm(), enucleation]).primary_in_place


@pytest.mark.parametrize(
    ("code", "display", "kind"),
    [
        (
            "47120",
            "Hepatectomy, resection of liver; partial lobectomy",
            "hepatectomy-parenchymal-sparing",
        ),
        ("47122", "Hepatectomy, resection of liver; trisegmentectomy", "hepatectomy-anatomic"),
        ("47130", "Hepatectomy, resection of liver; total right lobectomy", "hepatectomy-anatomic"),
    ],
)
def test_cpt_hepatectomy_codes_split_partial_from_anatomic(
    code: str, display: str, kind: str
) -> None:
    # Source: US Core Procedure profile shape; CPT 47120–47130 descriptors.
    assert kinds(facts_for([cpt_procedure(code, display)]), "procedure:") == {
        kind: [date(2025, 2, 3)]
    }


def test_cpt_percutaneous_rfa_recorded_over_a_period_is_dated_by_its_start() -> None:
    # Source: FHIR R4 Procedure (performedPeriod) with US Core's CPT binding; CPT 47382.
    ablation = cpt_procedure(
        "47382", "Ablation, 1 or more liver tumor(s), percutaneous, radiofrequency"
    )
    del ablation["performedDateTime"]
    ablation["performedPeriod"] = {"start": "2025-03-10T09:00:00Z", "end": "2025-03-10T11:30:00Z"}
    assert kinds(facts_for([ablation]), "procedure:") == {"liver-ablation": [date(2025, 3, 10)]}


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        ({"coding": [coding(SNOMED, "10200004", "Liver structure")]}, {"tae": [date(2025, 2, 3)]}),
        ({"coding": [coding(SNOMED, "35039007", "Uterine structure")]}, {}),
    ],
)
def test_cpt_embolisation_is_liver_tae_only_when_not_sited_elsewhere(
    site: dict[str, Any], expected: dict[str, Any]
) -> None:
    # Source: US Core Procedure shape with bodySite (as in mCODE CancerRelatedSurgicalProcedure);
    # CPT 37243 covers any organ: a uterine fibroid embolisation is not liver-directed therapy.
    procedure = cpt_procedure("37243", "Vascular embolization; for tumors", bodySite=[site])
    assert kinds(facts_for([procedure]), "procedure:") == expected


def test_us_core_service_request_for_a_cpt_liver_biopsy_is_planned() -> None:
    # Source: HL7 US Core ServiceRequest profile (status, intent, code, subject, authoredOn);
    # CPT 47000 "Biopsy of liver, needle; percutaneous".
    order = {
        "resourceType": "ServiceRequest",
        "id": "liver-biopsy-order",
        "status": "active",
        "intent": "order",
        "category": [{"coding": [coding(SNOMED, "387713003", "Surgical procedure")]}],
        "code": {"coding": [coding(CPT, "47000", "Biopsy of liver, needle; percutaneous")]},
        "subject": {"reference": PATIENT_REF},
        "authoredOn": "2025-05-02",
    }
    assert kinds(facts_for([order]), "planned:") == {
        "liver-biopsy-percutaneous": [date(2025, 5, 2)]
    }


def test_a_procedure_not_done_is_no_surgical_history() -> None:
    # Source: FHIR R4 Procedure status "not-done" with statusReason (US Core must-support status).
    procedure = cpt_procedure("48150", "Whipple-type procedure with pancreatojejunostomy")
    procedure["status"] = "not-done"
    procedure["statusReason"] = {"text": "Patient declined"}
    assert kinds(facts_for([procedure]), "procedure:") == {}


# --- medications -------------------------------------------------------------------------------
def test_mcode_completed_cisplatin_request_coded_as_a_clinical_drug_is_not_current() -> None:
    # Source: HL7 mCODE IG, EX_Basic.fsh `cancer-related-medication-request-cisplatin`
    # (status completed, RxNorm 309311 "cisplatin 1 MG/ML Injectable Solution", IV route).
    request = {
        "resourceType": "MedicationRequest",
        "id": "cancer-related-medication-request-cisplatin",
        "status": "completed",
        "intent": "order",
        "authoredOn": "2019-04-01",
        "medicationCodeableConcept": {
            "coding": [coding(RXNORM, "309311", "cisplatin 1 MG/ML Injectable Solution")]
        },
        "subject": {"reference": PATIENT_REF},
        "dosageInstruction": [
            {
                "text": "calculate absolute dose on day of administration.",
                "route": {"coding": [coding(SNOMED, "47625008", "Intravenous use")]},
                "timing": {"event": ["2019-06-15"], "repeat": {"count": 1}},
            }
        ],
    }
    fact = kinds(facts_for([request]), "medication:")
    assert fact == {"cisplatin": [date(2019, 4, 1)]}
    assert not facts_for([request]).by_kind["medication:cisplatin"][0].value.active


def mcode_administration(
    rid: str, rxnorm: tuple[str, str], days: int, **extra: Any
) -> dict[str, Any]:
    """HL7 mCODE IG, EX_ExtendedExample.fsh `cancer-related-medication-admin-doxorubicin-jenny-m`
    shape: completed, outpatient category, RxNorm medicationCodeableConcept, effectiveDateTime,
    dosage.dose and dosage.route (IV)."""
    return {
        "resourceType": "MedicationAdministration",
        "id": rid,
        "status": "completed",
        "category": {
            "coding": [
                coding(
                    "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                    "outpatient",
                    "Outpatient",
                )
            ]
        },
        "medicationCodeableConcept": {"coding": [coding(RXNORM, *rxnorm)]},
        "subject": {"reference": PATIENT_REF},
        "effectiveDateTime": days_ago(days),
        "dosage": {
            "dose": {"value": 7.4, "unit": "GBq"},
            "route": {"coding": [coding(SNOMED, "47625008", "Intravenous route")]},
        },
        **extra,
    }


def test_mcode_shaped_chemotherapy_administration_runs_60_days_past_its_date() -> None:
    # Source: mCODE `cancer-related-medication-admin-doxorubicin-jenny-m` shape, cisplatin 309311.
    given = mcode_administration("cis-c1", ("309311", "cisplatin 1 MG/ML Injectable Solution"), 20)
    fact = facts_for([given]).by_kind["medication:cisplatin"][0]
    assert fact.value.active
    assert fact.value.end == TODAY - timedelta(days=20) + timedelta(days=60)


def test_four_prrt_cycles_eight_weeks_apart_are_one_course() -> None:
    # Source: mCODE MedicationAdministration shape; NETTER-1 schedule (4 cycles every 8 weeks),
    # Lutathera product RxNorm 1999687 as shipped in the prrt ValueSet.
    cycles = [
        mcode_administration(f"lu-c{n}", ("1999687", "Lutathera"), 10 + 56 * (3 - n))
        for n in range(4)
    ]
    facts = facts_for(cycles).by_kind["medication:prrt"]
    assert len(facts) == 1
    assert facts[0].value.active and facts[0].value.start == TODAY - timedelta(days=178)
    assert facts[0].ref == "MedicationAdministration/lu-c3"


def test_r4_in_progress_infusion_of_a_contained_medication_is_current_prrt() -> None:
    # Source: FHIR R4 example MedicationAdministration `medadmin0301` shape (contained Medication
    # referenced as #id, status in-progress, effectivePeriod with a start only, dosage.route IV).
    given = {
        "resourceType": "MedicationAdministration",
        "id": "medadmin-lutathera",
        "contained": [
            {
                "resourceType": "Medication",
                "id": "med0301",
                "code": {
                    "coding": [coding(RXNORM, "1999682", "lutetium Lu 177 dotatate")],
                    "text": "Lutathera 370 MBq/mL injection",
                },
            }
        ],
        "status": "in-progress",
        "medicationReference": {"reference": "#med0301"},
        "subject": {"reference": PATIENT_REF},
        "effectivePeriod": {"start": f"{TODAY.isoformat()}T08:30:00Z"},
        "dosage": {"route": {"coding": [coding(SNOMED, "47625008", "Intravenous route")]}},
    }
    fact = facts_for([given]).by_kind["medication:prrt"][0]
    assert fact.value.active and fact.value.end is None


@pytest.mark.parametrize(
    "text",
    [
        # Source: FDA label name of Pluvicto (PSMA-directed): not PRRT for NET.
        "lutetium Lu 177 vipivotide tetraxetan injection (PLUVICTO)",
        # Source: FDA label name of NETSPOT, the 68Ga-DOTATATE PET kit: a diagnostic tracer.
        "kit for the preparation of gallium Ga 68 dotatate injection (NETSPOT)",
        # Source: FDA label name of Detectnet, 64Cu-DOTATATE PET tracer.
        "copper Cu 64 dotatate injection (DETECTNET)",
    ],
)
def test_psma_lutetium_and_dotatate_pet_tracers_given_are_not_prrt(text: str) -> None:
    # Shape: mCODE MedicationAdministration with a text-only medication (no RxNorm code sent).
    given = mcode_administration("tracer", ("0", text), 5)
    given["medicationCodeableConcept"] = {"text": text}
    assert "medication:prrt" not in facts_for([given]).by_kind


@pytest.mark.parametrize(
    ("code", "display", "cls"),
    [
        ("198051", "omeprazole 20 MG Delayed Release Oral Capsule", "ppi"),
        ("312617", "prednisone 5 MG Oral Tablet", "corticosteroid"),
        ("845507", "everolimus 10 MG Oral Tablet", "everolimus"),
        ("616289", "sunitinib 50 MG Oral Capsule", "sunitinib"),
    ],
)
def test_us_core_statement_coded_with_a_clinical_drug_code_only(
    code: str, display: str, cls: str
) -> None:
    # Source: US Core MedicationRequest/MedicationStatement shape with an RxNorm SCD coding and no
    # ingredient coding (the SCD codes as listed in RxNorm; the display is dropped to show the
    # code alone decides).
    statement = {
        "resourceType": "MedicationStatement",
        "id": f"ms-{code}",
        "status": "active",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]},
        "subject": {"reference": PATIENT_REF},
        "effectivePeriod": {"start": "2025-01-01"},
    }
    fact = facts_for([statement]).by_kind[f"medication:{cls}"][0]
    assert fact.value.active and fact.flags == (), display


@pytest.mark.parametrize("code", ["313210", "313211", "700883"])
def test_temozolomide_capsule_coded_by_its_clinical_drug_code_only_is_tmz(code: str) -> None:
    # Source: fhir-mapping.md's own example (313210, temozolomide 250 MG Oral Capsule) and the
    # RxCUIs openFDA's NDC directory gives single-strength temozolomide capsule products; a
    # draft US Core MedicationRequest with the SCD coding only, no display or text.
    draft = {
        "resourceType": "MedicationRequest",
        "id": f"tmz-{code}",
        "status": "active",
        "intent": "order",
        "authoredOn": "2026-09-01",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]},
        "subject": {"reference": PATIENT_REF},
    }
    mapped = facts_for([pnen(), draft])
    fact = mapped.by_kind["medication:tmz"][0]
    assert fact.flags == () and "temozolomide" in fact.value.name
    assert not mapped.data_issues


@pytest.mark.parametrize("code", ["312069", "749817", "749818"])
def test_ssa_coded_by_a_clinical_drug_code_only_is_an_ssa(code: str) -> None:
    # Held-out review h42 shape: an SSA MedicationStatement with one RxNorm clinical-drug coding
    # (octreotide 0.1 MG/ML vial, lanreotide syringe generic and Somatuline Depot), as openFDA's
    # NDC directory gives those RxCUIs.
    statement = {
        "resourceType": "MedicationStatement",
        "id": f"ssa-{code}",
        "status": "active",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]},
        "subject": {"reference": PATIENT_REF},
        "effectivePeriod": {"start": "2025-06-01"},
    }
    mapped = facts_for([pnen(), statement])
    assert mapped.by_kind["medication:ssa"][0].value.active
    assert not mapped.data_issues


def _code_only(kind: str, code: str, rid: str) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": kind,
        "id": rid,
        "status": "active" if kind != "MedicationAdministration" else "completed",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]},
        "subject": {"reference": PATIENT_REF},
    }
    if kind == "MedicationRequest":
        res["intent"] = "order"
    if kind == "MedicationAdministration":
        res["effectiveDateTime"] = days_ago(10)
    return res


@pytest.mark.parametrize(
    "kind", ["MedicationRequest", "MedicationStatement", "MedicationAdministration"]
)
def test_unknown_code_only_rxnorm_drug_of_a_pnen_patient_is_a_data_issue(kind: str) -> None:
    # The h42 shape of the held-out review (an SSA as a code-only RxNorm clinical drug not in
    # the shipped table; 1312469 is illustrative): it must not vanish silently.
    mapped = facts_for([pnen(), _code_only(kind, "1312469", "ssa-scd")])
    assert [(i.reference, i.problem) for i in mapped.data_issues] == [
        (
            f"{kind}/ssa-scd",
            "medication RxNorm 1312469 not recognised: a site may add it to a ValueSet",
        )
    ]


def test_unknown_rxnorm_drug_is_no_data_issue_without_a_pnen_or_with_a_name() -> None:
    no_pnen = facts_for([_code_only("MedicationStatement", "1312469", "ms-1")])
    named = _code_only("MedicationStatement", "1312469", "ms-2")
    named["medicationCodeableConcept"]["coding"][0]["display"] = "metformin 500 MG Oral Tablet"
    assert not no_pnen.data_issues
    assert not facts_for([pnen(), named]).data_issues


# --- end to end over HTTP -------------------------------------------------------------------
def _cards(client: FlaskClient, request: dict[str, Any]) -> set[str]:
    response = client.post(PV, json=request)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert_valid_response(body)
    return {card["source"]["topic"]["code"] for card in body["cards"]}


def progressing_on_ssa() -> list[dict[str, Any]]:
    """Advanced pNET (lung metastasis) progressing on lanreotide, SSTR PET avid."""
    return [
        *base_pnen_lm(),
        differentiation("well"),
        ki67(8, "liver"),
        condition(ICD10CM, "C78.0", rid="lung-met"),
        medication((RXNORM, "68092", "lanreotide"), start=days_ago(400), rid="ssa-1"),
        disease_status("271299001", when=days_ago(20)),
        study("pet-ssa", result="positive", when=days_ago(90)),
    ]


def prrt_cycles(last: int) -> list[dict[str, Any]]:
    """Two Lutathera cycles as mCODE-shaped administrations, the last `last` days ago."""
    return [
        mcode_administration(f"lu-{n}", ("1999687", "Lutathera"), last + 56 * n) for n in (1, 0)
    ]


def test_e2e_prrt_recorded_as_administrations_stops_the_prrt_suggestion_with_prefetch(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    assert "medicationadministrations" in prefetch_keys
    record = progressing_on_ssa()
    before = hook_request("patient-view", PATIENT_ID, prefetch=prefetch_for(record, prefetch_keys))
    assert "prrt-candidate" in _cards(client, before)
    on_prrt = [*record, *prrt_cycles(30)]
    during = hook_request("patient-view", PATIENT_ID, prefetch=prefetch_for(on_prrt, prefetch_keys))
    assert "prrt-candidate" not in _cards(client, during)
    finished = [*record, *prrt_cycles(200)]
    after = hook_request("patient-view", PATIENT_ID, prefetch=prefetch_for(finished, prefetch_keys))
    assert "prrt-candidate" in _cards(client, after)


def test_e2e_prrt_administrations_are_fetched_from_the_fhir_server(client: FlaskClient) -> None:
    with serve_fhir([*progressing_on_ssa(), *prrt_cycles(30)]) as (base, data):
        cards = _cards(client, hook_request("patient-view", PATIENT_ID, fhir_server=base))
        paths = list(data.requests)
    fetched = {p.split("?")[0].rsplit("/", 1)[-1] for p in paths}
    assert "MedicationAdministration" in fetched
    assert "summary" in cards and "prrt-candidate" not in cards


def unresectable_net() -> list[dict[str, Any]]:
    """Non-functional well-differentiated NET G1/G2 with unresectable liver metastases."""
    return [
        patient(birth_date_for_age(70)),
        pnen(),
        liver_mets(),
        differentiation("well"),
        ki67(8, "liver"),
        flag("r0-r1-feasible", False),
    ]


@pytest.mark.parametrize(
    ("code", "display"),
    [
        ("48150", "Whipple-type procedure with pancreatojejunostomy"),
        ("48120", "Excision of lesion of pancreas"),
    ],
)
def test_e2e_cpt_coded_surgical_history_removes_the_primary_resection_card(
    client: FlaskClient, prefetch_keys: list[str], code: str, display: str
) -> None:
    # Source: US Core Procedure shape with CPT; the surgical history of an EHR problem list.
    record = unresectable_net()
    with_primary = hook_request(
        "patient-view", PATIENT_ID, prefetch=prefetch_for(record, prefetch_keys)
    )
    assert "primary-resection-low-priority" in _cards(client, with_primary)
    operated = [*record, cpt_procedure(code, display)]
    resected = hook_request(
        "patient-view", PATIENT_ID, prefetch=prefetch_for(operated, prefetch_keys)
    )
    assert "primary-resection-low-priority" not in _cards(client, resected)


@pytest.mark.parametrize(("code", "fires"), [("48150", True), ("48100", False)])
def test_e2e_a_cpt_coded_draft_whipple_is_read_on_order_select(
    client: FlaskClient, prefetch_keys: list[str], code: str, fires: bool
) -> None:
    # Source: US Core ServiceRequest shape (status draft, intent order, CPT code) as an EHR puts
    # a surgical order in context.draftOrders; 48100 (open pancreas biopsy) is no resection.
    draft = {
        "resourceType": "ServiceRequest",
        "id": "draft-surgery",
        "status": "draft",
        "intent": "order",
        "code": {"coding": [coding(CPT, code, "pancreas surgery")]},
        "subject": {"reference": PATIENT_REF},
    }
    request = hook_request(
        "order-select",
        PATIENT_ID,
        prefetch=prefetch_for(unresectable_net(), prefetch_keys),
        drafts=[draft],
    )
    response = client.post("/cds-services/pnen-order-select", json=request)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert_valid_response(body)
    cards = {card["source"]["topic"]["code"] for card in body["cards"]}
    assert ("primary-resection-low-priority" in cards) is fires
