"""MedicationRequest / MedicationStatement → treatment facts (fhir-mapping.md, "Medication").

Decisions where the spec left room:
- Corticosteroids count only when systemic (consensus-rules.md `cga-confounded`: "systemic
  corticosteroid"). A code in the `corticosteroid` ValueSet (ATC H02AB, corticosteroids for
  systemic use, and any code a site adds there) is systemic by definition. An ingredient
  recognised by name only (hydrocortisone, prednisolone, …) is judged by its route
  (`MedicationRequest.dosageInstruction[].route`, `MedicationStatement.dosage[].route`, coded or
  text, ValueSets `route-systemic` / `route-local`), and when no route is recorded or recognised,
  by the product's text and the contained Medication's form (tablet, injection … vs cream, eye
  drops, inhaler, nasal spray, foam, enema …). Only local routes or forms → not a corticosteroid
  fact at all (a topical or ophthalmic steroid does not confound CgA); a systemic one anywhere
  → it counts (systemic wins over local: either may be meant, and a missed confounder costs more
  than a needless caution). Neither → it still counts, flagged "route not recorded" (or "route
  not recognised") in the card's evidence.
- An RxNorm clinical drug (SCD/SBD) found in the shipped table (fhir_mappings/tables) counts as
  its ingredient, recognised by code. The table lists systemic dose forms only for the
  corticosteroids, so those need no route.
- PRRT by text needs an unambiguous name (ValueSet `prrt`) or a somatostatin-receptor peptide
  named with a therapeutic radionuclide: "lutetium" alone is also PSMA therapy (Pluvicto), and
  "DOTATATE" alone is also the gallium-68 PET tracer.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fhir_mappings.drug_table import clinical_drugs
from fhir_mappings.facts import BY_TEXT, MEDICATION_CLASSES, Fact, Medication
from fhir_mappings.shape import (
    ShapeError,
    all_text,
    concept_text,
    fhir_date,
    obj,
    objects,
    ref_of,
    string,
)
from fhir_mappings.terminology import RXNORM, Terminology
from pnen_i18n import N_, _

# Evidence flags (canonical; `Fact.evidence()` translates them where they are shown).
ROUTE_NOT_RECORDED = N_("route not recorded")
ROUTE_NOT_RECOGNISED = N_("route not recognised")
SYSTEMIC, LOCAL = "route-systemic", "route-local"
_ROUTE_CONCEPTS = frozenset({SYSTEMIC, LOCAL})
_CLASSES = frozenset(MEDICATION_CLASSES)
# Hyphens, slashes and brackets separate words for the PRRT check ("[177Lu]Lu-DOTA-TATE").
_SEPARATORS = re.compile(r"[-/\[\]()]+")


def medication_concept(resource: dict[str, Any]) -> dict[str, Any] | None:
    """The medication CodeableConcept, resolving a reference to a contained Medication."""
    concept = obj(resource, "medicationCodeableConcept")
    if concept is not None:
        return concept
    target = obj(resource, "medicationReference")
    ref = string(target, "reference", "medicationReference.") if target else None
    if ref and ref.startswith("#"):
        for contained in objects(resource, "contained"):
            if contained.get("id") == ref[1:] and contained.get("resourceType") == "Medication":
                return obj(contained, "code", "contained.")
        raise ShapeError(_("medicationReference: contained Medication not found"))
    if target is not None:
        display = string(target, "display", "medicationReference.")
        return {"text": display} if display else None
    return None


def _ingredient_classes(concept: dict[str, Any] | None, terms: Terminology) -> frozenset[str]:
    """Classes of the ingredients of the RxNorm clinical drugs (shipped table) a concept codes."""
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if not isinstance(codings, list):
        return frozenset()
    table = clinical_drugs()
    found: set[str] = set()
    for coding in codings:
        if not isinstance(coding, dict) or coding.get("system") != RXNORM:
            continue
        drug = table.get(str(coding.get("code")))
        if drug is None:
            continue
        classes = terms.code_concepts(RXNORM, drug.ingredient) & _CLASSES
        # A class whose ValueSet lists no RxNorm code (corticosteroids) is found by the name.
        found |= classes or {c for c in _CLASSES if terms.text_matches(c, drug.ingredient_name)}
    return frozenset(found)


def medication_name(concept: dict[str, Any] | None) -> str:
    """How a medication reads in evidence: its text or a display, else its tabled RxNorm name."""
    codings = concept.get("coding") if isinstance(concept, dict) else None
    codings = [c for c in codings if isinstance(c, dict)] if isinstance(codings, list) else []
    named = (
        isinstance(concept, dict) and concept.get("text") or any(c.get("display") for c in codings)
    )
    if not named:
        table = clinical_drugs()
        for coding in codings:
            drug = table.get(str(coding.get("code"))) if coding.get("system") == RXNORM else None
            if drug is not None:
                return drug.name
    return concept_text(concept) or _("medication")


def _prrt_by_parts(text: str, terms: Terminology) -> bool:
    """A somatostatin-receptor peptide named with a therapeutic radionuclide."""
    plain = _SEPARATORS.sub(" ", text)
    return terms.text_matches("sstr-peptide", plain) and terms.text_matches(
        "therapeutic-radionuclide", plain
    )


def classify_medication(
    concept: dict[str, Any] | None, terms: Terminology, use_text: bool = True
) -> tuple[frozenset[str], bool]:
    """Medication classes of a concept, and whether they were recognised by text only."""
    coded = terms.concepts_of(concept) & _CLASSES or _ingredient_classes(concept, terms)
    if coded or not use_text:
        return coded, False
    text = all_text(concept)
    if not text:
        return frozenset(), False
    found = {c for c in MEDICATION_CLASSES if terms.text_matches(c, text)}
    if "prrt" not in found and _prrt_by_parts(text, terms):
        found.add("prrt")
    return frozenset(found), bool(found)


def unreadable_medication(resource: dict[str, Any]) -> str | None:
    """The data issue for a medication resource that gave no fact and names no drug, or None.

    A `medicationReference` to a Medication that is not contained (the spec resolves contained
    ones only; references are never fetched) and has no display, or a concept coded only by
    RxNorm codes of no listed class. A drug named in a display or text was read (of no class the
    rules use), and reporting every named unrelated drug would bury the issues that matter.
    """
    if obj(resource, "medicationCodeableConcept") is None:
        target = obj(resource, "medicationReference")
        ref = string(target, "reference", "medicationReference.") if target else None
        named = string(target, "display", "medicationReference.") if target else None
        if target is not None and not named and not (ref and ref.startswith("#")):
            return _("medication not readable: its Medication is not contained")
    return unrecognised_rxnorm(resource)


def unrecognised_rxnorm(resource: dict[str, Any]) -> str | None:
    """The data issue for a medication coded only by RxNorm codes, unnamed, of no listed class."""
    concept = medication_concept(resource)
    codings = concept.get("coding") if isinstance(concept, dict) else None
    if not isinstance(codings, list) or not codings or all_text(concept):
        return None
    codes = [c.get("code") for c in codings if isinstance(c, dict)]
    systems = {c.get("system") for c in codings if isinstance(c, dict)}
    if systems != {RXNORM} or not all(isinstance(code, str) and code for code in codes):
        return None
    shown = ", ".join(sorted(set(map(str, codes))))
    return _(
        "medication RxNorm {codes} not recognised: a site may add it to a ValueSet", codes=shown
    )


def _end_date(resource: dict[str, Any]) -> date | None:
    ends: list[date] = []
    dispense = obj(resource, "dispenseRequest")
    validity = obj(dispense, "validityPeriod", "dispenseRequest.") if dispense else None
    if validity:
        end = fhir_date(validity, "end", "dispenseRequest.validityPeriod.")
        if end:
            ends.append(end)
    for i, dosage in enumerate(objects(resource, "dosageInstruction")):
        timing = obj(dosage, "timing", f"dosageInstruction[{i}].")
        repeat = obj(timing, "repeat", f"dosageInstruction[{i}].timing.") if timing else None
        bounds = obj(repeat, "boundsPeriod", "timing.repeat.") if repeat else None
        if bounds:
            end = fhir_date(bounds, "end", "timing.repeat.boundsPeriod.")
            if end:
                ends.append(end)
    period = obj(resource, "effectivePeriod")
    if period:
        end = fhir_date(period, "end", "effectivePeriod.")
        if end:
            ends.append(end)
    return max(ends) if ends else None


def _route_kinds(concept: dict[str, Any] | None, terms: Terminology) -> frozenset[str]:
    """Systemic and/or local, from a route or form's codes, else from its words."""
    coded = terms.concepts_of(concept) & _ROUTE_CONCEPTS
    if coded:
        return coded
    text = all_text(concept)
    return frozenset(c for c in _ROUTE_CONCEPTS if text and terms.text_matches(c, text))


def _routes(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """The recorded routes: dosageInstruction[] (request), dosage[] (statement), dosage (given)."""
    kind = resource.get("resourceType")
    if kind == "MedicationAdministration":
        dosage = obj(resource, "dosage")
        route = obj(dosage, "route", "dosage.") if dosage else None
        return [route] if route else []
    key = "dosage" if kind == "MedicationStatement" else "dosageInstruction"
    return [
        route
        for i, dosage in enumerate(objects(resource, key))
        if (route := obj(dosage, "route", f"{key}[{i}]."))
    ]


def _systemic(
    resource: dict[str, Any], concept: dict[str, Any] | None, terms: Terminology
) -> tuple[bool, str | None]:
    """Whether a medication known by name only is taken systemically, and the flag to show."""
    routes = _routes(resource)
    kinds = frozenset().union(*(_route_kinds(route, terms) for route in routes))
    if not kinds:  # no route the terminology knows: the product's name and form may tell
        forms = [
            obj(m, "form", "contained.")
            for m in objects(resource, "contained")
            if m.get("resourceType") == "Medication"
        ]
        kinds = frozenset().union(*(_route_kinds(c, terms) for c in (concept, *forms)))
    if SYSTEMIC in kinds:
        return True, None
    if LOCAL in kinds:
        return False, None
    return True, ROUTE_NOT_RECOGNISED if routes else ROUTE_NOT_RECORDED


def classified(
    resource: dict[str, Any], terms: Terminology, use_text: bool = True
) -> tuple[dict[str, Any] | None, frozenset[str], bool, str | None] | None:
    """A medication resource's concept, classes, whether by text, and corticosteroid route flag.

    None when it is of no listed class (a local-only corticosteroid included).
    """
    concept = medication_concept(resource)
    classes, by_text = classify_medication(concept, terms, use_text)
    route_flag = None
    if "corticosteroid" in classes and by_text:
        systemic, route_flag = _systemic(resource, concept, terms)
        if not systemic:
            classes -= {"corticosteroid"}
    if not classes:
        return None
    return concept, classes, by_text, route_flag


def medication_of(
    resource: dict[str, Any], terms: Terminology, today: date, use_text: bool = True
) -> tuple[Medication, bool, str | None] | None:
    """The Medication a request or statement describes, or None when it is of no listed class.

    Also whether it was recognised by text, and the corticosteroid's route flag (if any).
    """
    found = classified(resource, terms, use_text)
    if found is None:
        return None
    concept, classes, by_text, route_flag = found
    # Status codes are lower case; 'ACTIVE' as some systems send it means nothing else.
    status = (string(resource, "status") or "").strip().lower() or None
    kind = resource.get("resourceType")
    end = _end_date(resource)
    period = obj(resource, "effectivePeriod")
    start = (
        fhir_date(resource, "authoredOn")
        or (fhir_date(period, "start", "effectivePeriod.") if period else None)
        or fhir_date(resource, "effectiveDateTime")
    )
    listed = status in ({"active", "on-hold"} if kind == "MedicationRequest" else {"active"})
    active = listed and (end is None or end >= today)
    name = medication_name(concept)
    return Medication(classes, name, active, start, end, status or ""), by_text, route_flag


def map_medication(resource: dict[str, Any], terms: Terminology, today: date) -> list[Fact]:
    """One fact per medication class of a MedicationRequest or MedicationStatement."""
    found = medication_of(resource, terms, today)
    if found is None:
        return []
    medication, by_text, route_flag = found
    flags = (BY_TEXT,) if by_text else ()
    text = _medication_text(medication)
    return [
        Fact(
            f"medication:{cls}",
            medication,
            medication.start,
            ref_of(resource),
            text,
            flags=(*flags, route_flag) if route_flag and cls == "corticosteroid" else flags,
        )
        for cls in sorted(medication.classes)
    ]


def _medication_text(medication: Medication) -> str:
    """How a medication order or statement reads in evidence: its state and start date."""
    name, start = medication.name, medication.start
    if start is None:
        if medication.active:
            return _("{name} (active, started date unknown)", name=name)
        return _("{name} (not active, started date unknown)", name=name)
    if medication.active:
        return _("{name} (active, started {start})", name=name, start=start.isoformat())
    return _("{name} (not active, started {start})", name=name, start=start.isoformat())
