"""Procedure → history facts (fhir-mapping.md, "Procedure")."""

from __future__ import annotations

from typing import Any

from fhir_mappings.facts import Fact
from fhir_mappings.observations import LABS
from fhir_mappings.shape import concept_text, fhir_date, obj, ref_of, string
from fhir_mappings.terminology import Terminology

PROCEDURE_KINDS = (
    "pancreatoduodenectomy",
    "distal-pancreatectomy",
    "pancreatectomy",
    "hepatectomy-parenchymal-sparing",
    "hepatectomy-anatomic",
    "liver-ablation",
    "tae",
    "tace",
    "liver-transplant",
    "eus-fnb",
    "eus-fna",
    "liver-biopsy-percutaneous",
    "eus-ablation",
    "liver-transplant-referral",
)
LAB_ORDER_KINDS = (
    *LABS,
    "mgmt-ihc",
    "sstr2-ihc",
    "ki67",
    "variant-assessment",
    "msi",
    "tmb",
    "pdl1-cps",
)


def map_procedure(procedure: dict[str, Any], terms: Terminology) -> list[Fact]:
    """A completed Procedure of a listed kind, one fact per kind."""
    if string(procedure, "status") != "completed":
        return []
    code = obj(procedure, "code")
    kinds = terms.concepts_of(code) & frozenset(PROCEDURE_KINDS)
    if not kinds:
        return []
    period = obj(procedure, "performedPeriod")
    when = fhir_date(procedure, "performedDateTime") or (
        fhir_date(period, "start", "performedPeriod.") if period else None
    )
    name = concept_text(code) or "procedure"
    return [
        Fact(f"procedure:{kind}", "completed", when, ref_of(procedure), f"{name} (completed)")
        for kind in sorted(kinds)
    ]
