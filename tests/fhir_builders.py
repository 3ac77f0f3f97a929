"""Builders for synthetic FHIR R4 resources and a one-call rule runner, for tests only."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from consensus import Recommendation, RuleContext, evaluate
from consensus.patient import Patient
from consensus.recommendation import PV
from consensus.settings import Settings
from fhir_mappings.facts import PatientFacts
from fhir_mappings.orders import map_drafts
from fhir_mappings.record import RecordMapper
from fhir_mappings.terminology import (  # noqa: F401 - re-exported for tests
    ATC,
    HGNC_SYSTEM,
    ICD10CM,
    ICDO3,
    LOINC,
    PNEN,
    RXNORM,
    SNOMED,
    Terminology,
    load_terminology,
)

PATIENT_ID = "test-patient"
PATIENT_REF = f"Patient/{PATIENT_ID}"
TODAY = date.today()
_ids = itertools.count(1)
_TERMS: Terminology | None = None


def terms() -> Terminology:
    """The shipped terminology, loaded once per test session."""
    global _TERMS
    if _TERMS is None:
        _TERMS = load_terminology()
    return _TERMS


def days_ago(days: int) -> str:
    """An ISO date `days` before today (tests never use fixed dates for time windows)."""
    return (TODAY - timedelta(days=days)).isoformat()


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def cc(
    system: str, code: str, display: str | None = None, text: str | None = None
) -> dict[str, Any]:
    """A CodeableConcept with one coding."""
    coding: dict[str, Any] = {"system": system, "code": code}
    if display:
        coding["display"] = display
    out: dict[str, Any] = {"coding": [coding]}
    if text:
        out["text"] = text
    return out


def patient(birth_date: str = "1970-01-01") -> dict[str, Any]:
    """The test patient."""
    return {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": birth_date}


def condition(
    system: str,
    code: str,
    *,
    onset: str | None = None,
    body_site: tuple[str, str] | None = None,
    clinical_status: str | None = "active",
    rid: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A Condition coded `system|code`."""
    res: dict[str, Any] = {
        "resourceType": "Condition",
        "id": rid or _id("cond"),
        "subject": {"reference": PATIENT_REF},
        "code": cc(system, code),
        "onsetDateTime": onset or days_ago(400),
    }
    if clinical_status:
        res["clinicalStatus"] = cc(
            "http://terminology.hl7.org/CodeSystem/condition-clinical", clinical_status
        )
    if body_site:
        res["bodySite"] = [cc(*body_site)]
    res.update(extra)
    return res


def pnen(**kw: Any) -> dict[str, Any]:
    """A pNEN Condition (SNOMED 1290080008)."""
    return condition(SNOMED, "1290080008", rid=kw.pop("rid", "pnen-1"), **kw)


def liver_mets(**kw: Any) -> dict[str, Any]:
    """A liver-metastasis Condition (SNOMED 94381002)."""
    return condition(SNOMED, "94381002", rid=kw.pop("rid", "lm-1"), **kw)


def observation(
    code: tuple[str, str],
    *,
    when: str | None = None,
    status: str = "final",
    rid: str | None = None,
    **value: Any,
) -> dict[str, Any]:
    """An Observation coded `code` with any value[x] / component / specimen given as keywords."""
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid or _id("obs"),
        "status": status,
        "subject": {"reference": PATIENT_REF},
        "code": cc(*code),
        "effectiveDateTime": when or days_ago(100),
    }
    res.update(value)
    return res


def pnen_obs(code: str, **kw: Any) -> dict[str, Any]:
    """An Observation with a project code (pnen-lm#code)."""
    return observation((PNEN, code), **kw)


def coded(system: str, code: str) -> dict[str, Any]:
    """valueCodeableConcept keyword argument."""
    return {"valueCodeableConcept": cc(system, code)}


def ki67(value: float, site: str | None = None, **kw: Any) -> dict[str, Any]:
    """A Ki-67 Observation in % at site 'primary' / 'liver' / None (unknown)."""
    extra: dict[str, Any] = {}
    if site == "primary":
        extra["bodySite"] = cc(SNOMED, "15776009", "Pancreas")
    elif site == "liver":
        extra["bodySite"] = cc(SNOMED, "10200004", "Liver")
    q = {
        "valueQuantity": {
            "value": value,
            "unit": "%",
            "system": "http://unitsofmeasure.org",
            "code": "%",
        }
    }
    return observation((LOINC, "29593-1"), **extra, **q, **kw)


def mitoses(value: float, site: str | None = None, **kw: Any) -> dict[str, Any]:
    """A mitotic count per 2 mm² at a site."""
    extra: dict[str, Any] = {}
    if site == "primary":
        extra["bodySite"] = cc(SNOMED, "15776009")
    elif site == "liver":
        extra["bodySite"] = cc(SNOMED, "10200004")
    q = {"valueQuantity": {"value": value, "unit": "/2 mm2"}}
    return pnen_obs("mitotic-count", **extra, **q, **kw)


def differentiation(value: str, **kw: Any) -> dict[str, Any]:
    """Differentiation 'well' or 'poorly'."""
    return pnen_obs("differentiation", **coded(PNEN, value), **kw)


def flag(code: str, value: bool, **kw: Any) -> dict[str, Any]:
    """A yes/no surgical-assessment Observation (valueBoolean)."""
    return pnen_obs(code, valueBoolean=value, **kw)


def number(code: str, value: float, unit: str = "%", **kw: Any) -> dict[str, Any]:
    """A numeric project Observation."""
    return pnen_obs(code, valueQuantity={"value": value, "unit": unit}, **kw)


def enets(type_: str, **kw: Any) -> dict[str, Any]:
    """ENETS liver-metastasis type 'I', 'II' or 'III'."""
    return pnen_obs("enets-liver-type", **coded(PNEN, f"type-{type_}"), **kw)


def disease_status(snomed: str, **kw: Any) -> dict[str, Any]:
    """mCODE disease status: 271299001 worsened, 359746009 stable, 268910001 improved."""
    return observation((LOINC, "97509-4"), **coded(SNOMED, snomed), **kw)


def report(
    code: dict[str, Any],
    *,
    when: str | None = None,
    result: str | None = None,
    status: str = "final",
    rid: str | None = None,
    conclusion: str | None = None,
) -> dict[str, Any]:
    """An imaging DiagnosticReport; result 'positive' / 'negative' / 'PD'."""
    res: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": rid or _id("dr"),
        "status": status,
        "subject": {"reference": PATIENT_REF},
        "code": code,
        "effectiveDateTime": when or days_ago(60),
    }
    if result == "positive":
        res["conclusionCode"] = [cc(SNOMED, "10828004", "Positive")]
    elif result == "negative":
        res["conclusionCode"] = [cc(SNOMED, "260385009", "Negative")]
    elif result == "PD":
        res["conclusionCode"] = [cc(PNEN, "PD", "Progressive disease")]
    if conclusion:
        res["conclusion"] = conclusion
    return res


def study(code: str, **kw: Any) -> dict[str, Any]:
    """An imaging report coded pnen-lm#code (pet-ssa, pet-fdg, ct-chest, …)."""
    return report(cc(PNEN, code), **kw)


def medication(
    code: tuple[str, str],
    *,
    status: str = "active",
    start: str | None = None,
    end: str | None = None,
    rid: str | None = None,
    resource_type: str = "MedicationRequest",
) -> dict[str, Any]:
    """A MedicationRequest (or MedicationStatement) coded `code`."""
    res: dict[str, Any] = {
        "resourceType": resource_type,
        "id": rid or _id("med"),
        "status": status,
        "subject": {"reference": PATIENT_REF},
        "medicationCodeableConcept": cc(*code),
    }
    if resource_type == "MedicationRequest":
        res["intent"] = "order"
        res["authoredOn"] = start or days_ago(200)
        if end:
            res["dispenseRequest"] = {"validityPeriod": {"end": end}}
    else:
        res["effectivePeriod"] = {"start": start or days_ago(200), **({"end": end} if end else {})}
    return res


def procedure(
    code: str, *, status: str = "completed", when: str | None = None, rid: str | None = None
) -> dict[str, Any]:
    """A Procedure coded pnen-lm#code."""
    return {
        "resourceType": "Procedure",
        "id": rid or _id("proc"),
        "status": status,
        "subject": {"reference": PATIENT_REF},
        "code": cc(PNEN, code),
        "performedDateTime": when or days_ago(300),
    }


def service_request(
    code: dict[str, Any] | str, *, status: str = "draft", rid: str | None = None
) -> dict[str, Any]:
    """A ServiceRequest (a pnen-lm code string or a CodeableConcept)."""
    concept = cc(PNEN, code) if isinstance(code, str) else code
    return {
        "resourceType": "ServiceRequest",
        "id": rid or _id("sr"),
        "status": status,
        "intent": "order",
        "subject": {"reference": PATIENT_REF},
        "code": concept,
    }


def facts_for(resources: Iterable[dict[str, Any]], today: date = TODAY) -> PatientFacts:
    """Map resources (the Patient is added when missing) to facts."""
    items = list(resources)
    if not any(r.get("resourceType") == "Patient" for r in items):
        items.insert(0, patient())
    return RecordMapper(terms()).map(PATIENT_ID, [("test", r) for r in items], today)


def patient_view(resources: Iterable[dict[str, Any]], settings: Settings | None = None) -> Patient:
    """The consensus view of a patient built from resources."""
    return Patient(facts_for(resources), TODAY, settings or Settings())


def run(
    resources: Iterable[dict[str, Any]],
    *,
    hook: str = PV,
    drafts: Sequence[dict[str, Any]] = (),
    settings: Settings | None = None,
) -> dict[str, Recommendation]:
    """Evaluate every rule; the fired recommendations by rule id."""
    mapped, _ = map_drafts(drafts, terms())
    ctx = RuleContext(hook, patient_view(resources, settings), mapped)
    return {rec.rule.id: rec for rec in evaluate(ctx)}


def fired(resources: Iterable[dict[str, Any]], **kw: Any) -> set[str]:
    """The ids of the rules that fire."""
    return set(run(resources, **kw))


def base_pnen_lm() -> list[dict[str, Any]]:
    """A minimal pNEN with liver metastases."""
    return [patient(), pnen(), liver_mets()]


def birth_date_for_age(years: int, days: int = 0) -> str:
    """A birth date that makes the patient `years` old today (`days` later: just under it)."""
    try:
        born = TODAY.replace(year=TODAY.year - years)
    except ValueError:  # 29 February in a non-leap year
        born = TODAY.replace(year=TODAY.year - years, day=28)
    return (born + timedelta(days=days)).isoformat()


def vessel_contact(**degrees: str) -> dict[str, Any]:
    """Vessel contact of the primary: SMV="abutment", SMA="none", … (pnen-lm codes)."""
    return pnen_obs(
        "vessel-contact",
        component=[
            {"code": cc(PNEN, vessel), "valueCodeableConcept": cc(PNEN, degree)}
            for vessel, degree in degrees.items()
        ],
    )


HGNC_IDS = {
    "RB1": "HGNC:9884",
    "TP53": "HGNC:11998",
    "BRCA2": "HGNC:1101",
    "DAXX": "HGNC:2681",
    "ATRX": "HGNC:886",
    "MEN1": "HGNC:7010",
    "NTRK1": "HGNC:8031",
    "NTRK2": "HGNC:8032",
    "NTRK3": "HGNC:8033",
    "RET": "HGNC:9967",
}


def variant(
    gene: str, *, present: bool = True, components: Sequence[dict[str, Any]] = (), **kw: Any
) -> dict[str, Any]:
    """LOINC 69548-6 genetic variant assessment: gene studied (HGNC) and present/absent."""
    value = cc(LOINC, "LA9633-4", "Present") if present else cc(LOINC, "LA9634-2", "Absent")
    gene_studied = {
        "code": cc(LOINC, "48018-6", "Gene studied [ID]"),
        "valueCodeableConcept": cc(HGNC_SYSTEM, HGNC_IDS[gene], gene),
    }
    return observation(
        (LOINC, "69548-6"),
        valueCodeableConcept=value,
        component=[gene_studied, *components],
        **kw,
    )
