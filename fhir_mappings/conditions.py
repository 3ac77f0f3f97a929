"""Condition and AllergyIntolerance → diagnosis facts (fhir-mapping.md, "Conditions")."""

from __future__ import annotations

from typing import Any

from fhir_mappings.facts import Fact
from fhir_mappings.shape import (
    concept_text,
    fhir_date,
    obj,
    objects,
    ref_of,
    status_code,
)
from fhir_mappings.terminology import Terminology

MCODE_HISTOLOGY = (
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
)
_ACTIVE = {None, "active", "recurrence", "relapse"}
_REFUTED = {"refuted", "entered-in-error"}
FUNCTIONAL_SYNDROMES = (
    "insulinoma",
    "gastrinoma",
    "glucagonoma",
    "vipoma",
    "somatostatinoma",
    "acthoma",
    "carcinoid-syndrome",
)
COMORBIDITIES = ("renal-failure", "liver-failure", "ibd", "chronic-gastritis", "pancreatitis")
_LOCATIONS = (
    ("site-pancreas-head", "head"),
    ("site-pancreas-body", "body"),
    ("site-pancreas-tail", "tail"),
    ("site-pancreas", "pancreas (location unknown)"),
)


def is_current(resource: dict[str, Any]) -> bool:
    """Active (or no clinical status) and not refuted or entered in error."""
    return (
        status_code(resource, "clinicalStatus") in _ACTIVE
        and status_code(resource, "verificationStatus") not in _REFUTED
    )


def _morphology_concepts(condition: dict[str, Any], terms: Terminology) -> frozenset[str]:
    found: frozenset[str] = frozenset()
    for ext in objects(condition, "extension"):
        if ext.get("url") == MCODE_HISTOLOGY:
            found = found | terms.concepts_of(obj(ext, "valueCodeableConcept", "extension."))
    return found


def map_condition(condition: dict[str, Any], terms: Terminology) -> list[Fact]:
    """Facts stated by one Condition (none when it is not current)."""
    if not is_current(condition):
        return []
    code = obj(condition, "code")
    concepts = terms.concepts_of(code) | _morphology_concepts(condition, terms)
    body_sites = objects(condition, "bodySite")
    sites: frozenset[str] = frozenset()
    for site in body_sites:
        sites = sites | terms.concepts_of(site)
    onset = fhir_date(condition, "onsetDateTime")
    period = obj(condition, "onsetPeriod")
    if onset is None and period is not None:
        onset = fhir_date(period, "start", "onsetPeriod.")
    when = onset or fhir_date(condition, "recordedDate")
    ref = ref_of(condition)
    label = concept_text(code) or "condition"
    facts: list[Fact] = []

    def add(kind: str, value: object, text: str) -> None:
        facts.append(Fact(kind=kind, value=value, when=when, ref=ref, text=text))

    neuroendocrine = "neuroendocrine-morphology" in concepts
    pancreatic = bool(sites & {"site-pancreas"}) or "pancreas-topography" in concepts
    is_pnen = (
        "pnen" in concepts
        or ("pancreas-malignancy" in concepts and neuroendocrine)
        or (neuroendocrine and pancreatic)
    )
    if is_pnen:
        add("pnen", label, label)
        for concept, location in _LOCATIONS:
            if concept in sites:
                add("primary-location", location, f"primary in the {location}")
                break
    if "nec" in concepts:
        subtype = (
            "small-cell"
            if "nec-small-cell" in concepts
            else "large-cell"
            if "nec-large-cell" in concepts
            else "nec"
        )
        add("nec-coded", subtype, f"{label} (neuroendocrine carcinoma code)")
    for syndrome in FUNCTIONAL_SYNDROMES:
        if syndrome in concepts:
            add("functional", syndrome, f"{label} ({syndrome})")
    if "non-functional" in concepts:
        add("non-functional", True, label)
    if "liver-metastasis" in concepts or (
        "secondary-malignancy" in concepts and "site-liver" in sites
    ):
        add("liver-metastasis", label, label)
    elif "extrahepatic-metastasis" in concepts or (
        "secondary-malignancy" in concepts and body_sites and "site-liver" not in sites
    ):
        add("extrahepatic-metastasis", label, label)
    for comorbidity in COMORBIDITIES:
        if comorbidity in concepts:
            add("comorbidity", comorbidity, label)
    return facts


def map_allergy(allergy: dict[str, Any], terms: Terminology) -> list[Fact]:
    """A current contrast allergy, or nothing."""
    if not is_current(allergy):
        return []
    code = obj(allergy, "code")
    if not terms.is_a(code, "contrast-allergy"):
        return []
    when = fhir_date(allergy, "recordedDate") or fhir_date(allergy, "onsetDateTime")
    text = concept_text(code) or "contrast allergy"
    return [Fact(kind="contrast-allergy", value=True, when=when, ref=ref_of(allergy), text=text)]
