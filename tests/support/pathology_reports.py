"""Builders for pathology DiagnosticReports and Specimens as pathology systems send them."""

from __future__ import annotations

import base64
import itertools
from typing import Any

from fhir_mappings.terminology import LOINC, SNOMED
from tests.fhir_builders import PATIENT_REF, cc, days_ago

V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
PATHOLOGY_STUDY = cc(LOINC, "11526-1", "Pathology study")
LIVER_SITE = cc(SNOMED, "10200004", "Liver structure")
PANCREAS_TAIL = cc(SNOMED, "73239005", "Structure of tail of pancreas")
BREAST_SITE = cc(SNOMED, "76752008", "Breast structure")
_ids = itertools.count(1)


def b64(text: str, encoding: str = "utf-8") -> str:
    """Base64 of a text, as an Attachment's `data` carries it."""
    return base64.b64encode(text.encode(encoding)).decode("ascii")


def attachment(
    text: str, content_type: str = "text/plain", encoding: str = "utf-8"
) -> dict[str, Any]:
    """A presentedForm Attachment with the text base64-encoded."""
    return {"contentType": content_type, "data": b64(text, encoding)}


def pathology_report(
    conclusion: str | None = None,
    *,
    code: dict[str, Any] | None = None,
    category: list[dict[str, Any]] | None = None,
    presented: list[dict[str, Any]] | None = None,
    conclusion_code: list[dict[str, Any]] | None = None,
    specimens: tuple[str, ...] = (),
    results: tuple[str, ...] = (),
    status: str = "final",
    when: str | None = None,
    rid: str | None = None,
) -> dict[str, Any]:
    """A pathology DiagnosticReport (LOINC 11526-1 unless another code is given)."""
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": rid or f"path-{next(_ids)}",
        "status": status,
        "subject": {"reference": PATIENT_REF},
        "code": code if code is not None else PATHOLOGY_STUDY,
        "effectiveDateTime": when or days_ago(30),
    }
    if category is not None:
        report["category"] = category
    if conclusion is not None:
        report["conclusion"] = conclusion
    if conclusion_code is not None:
        report["conclusionCode"] = conclusion_code
    if presented is not None:
        report["presentedForm"] = presented
    if specimens:
        report["specimen"] = [{"reference": ref} for ref in specimens]
    if results:
        report["result"] = [{"reference": ref} for ref in results]
    return report


def specimen(rid: str, site: dict[str, Any] | None) -> dict[str, Any]:
    """A Specimen collected from a body site (or without one)."""
    res: dict[str, Any] = {
        "resourceType": "Specimen",
        "id": rid,
        "subject": {"reference": PATIENT_REF},
    }
    if site is not None:
        res["collection"] = {"bodySite": site}
    return res
