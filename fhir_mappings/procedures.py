"""Procedure → history facts (fhir-mapping.md, "Procedure" and "Real-world shapes").

Codes come from the ValueSets of each kind: `pnen-lm` codes, CPT and SNOMED CT (see
docs/terminology.md). Decisions where the spec left room:
- CPT 48120 (excision of a pancreatic lesion) is an enucleation: a pancreatectomy for the rules
  that ask whether the primary was resected (curative-intent surgery of the primary).
- CPT 47120 (partial lobectomy: wedge and segmental resections) is parenchymal-sparing; 47122
  (trisegmentectomy), 47125 and 47130 (total left/right lobectomy) are anatomic.
- CPT 47000/47001 (needle biopsy of the liver, percutaneous or during another operation) and
  SNOMED 86259008 (biopsy of liver) are the liver biopsy the pathology rules read.
- CPT 37243 (embolisation of tumours, ischaemia or infarction in any organ) is TAE of the liver
  unless the resource's bodySite names another organ: CPT has no TAE- or TACE-specific code, and
  an embolisation recorded for a uterine fibroid must not count as liver-directed therapy.
"""

from __future__ import annotations

import re
from typing import Any

from fhir_mappings.facts import LIVER, Fact
from fhir_mappings.observations import LABS, body_site
from fhir_mappings.shape import all_text, fhir_date, obj, objects, ref_of, string
from fhir_mappings.terminology import Terminology
from pnen_i18n import _

PROCEDURE_KINDS = (
    "pancreatoduodenectomy",
    "distal-pancreatectomy",
    "pancreatectomy",
    "enucleation",
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
EMBOLISATION = "tumour-embolisation"
_KINDS = frozenset(PROCEDURE_KINDS)
_LIVER_WORDS = re.compile(r"\b(?:liver|hepatic|hepato\w*)\b", re.IGNORECASE)


def _in_liver_or_unsited(resource: dict[str, Any], terms: Terminology) -> bool:
    """No bodySite recorded, or one that is the liver (by code, else by its words)."""
    sites = objects(resource, "bodySite")
    if not sites:
        return True
    return any(
        body_site(site, terms) == LIVER or bool(_LIVER_WORDS.search(all_text(site)))
        for site in sites
    )


def procedure_kinds(resource: dict[str, Any], terms: Terminology) -> frozenset[str]:
    """The listed procedure kinds a Procedure's or ServiceRequest's code stands for."""
    concepts = terms.concepts_of(obj(resource, "code"))
    kinds = concepts & _KINDS
    if EMBOLISATION in concepts and _in_liver_or_unsited(resource, terms):
        kinds |= {"tae"}
    return kinds


def map_procedure(procedure: dict[str, Any], terms: Terminology) -> list[Fact]:
    """A completed Procedure of a listed kind, one fact per kind."""
    if string(procedure, "status") != "completed":
        return []
    kinds = procedure_kinds(procedure, terms)
    if not kinds:
        return []
    period = obj(procedure, "performedPeriod")
    when = fhir_date(procedure, "performedDateTime") or (
        fhir_date(period, "start", "performedPeriod.") if period else None
    )
    name = terms.readable(obj(procedure, "code")) or _("procedure")
    text = _("{name} (completed)", name=name)
    return [
        Fact(f"procedure:{kind}", "completed", when, ref_of(procedure), text)
        for kind in sorted(kinds)
    ]
