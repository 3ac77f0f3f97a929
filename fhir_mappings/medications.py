"""MedicationRequest / MedicationStatement → treatment facts (fhir-mapping.md, "Medication")."""

from __future__ import annotations

from datetime import date
from typing import Any

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
from fhir_mappings.terminology import Terminology


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
        raise ShapeError("medicationReference: contained Medication not found")
    if target is not None:
        display = string(target, "display", "medicationReference.")
        return {"text": display} if display else None
    return None


def classify_medication(
    concept: dict[str, Any] | None, terms: Terminology, use_text: bool = True
) -> tuple[frozenset[str], bool]:
    """Medication classes of a concept, and whether they were recognised by text only."""
    coded = terms.concepts_of(concept) & frozenset(MEDICATION_CLASSES)
    if coded or not use_text:
        return coded, False
    text = all_text(concept)
    by_text = frozenset(c for c in MEDICATION_CLASSES if text and terms.text_matches(c, text))
    return by_text, bool(by_text)


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


def medication_of(
    resource: dict[str, Any], terms: Terminology, today: date, use_text: bool = True
) -> tuple[Medication, bool] | None:
    """The Medication a request or statement describes, or None when it is of no listed class."""
    concept = medication_concept(resource)
    classes, by_text = classify_medication(concept, terms, use_text)
    if not classes:
        return None
    status = string(resource, "status")
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
    name = concept_text(concept) or "medication"
    return Medication(classes, name, active, start, end, status or ""), by_text


def map_medication(resource: dict[str, Any], terms: Terminology, today: date) -> list[Fact]:
    """One fact per medication class of a MedicationRequest or MedicationStatement."""
    found = medication_of(resource, terms, today)
    if found is None:
        return []
    medication, by_text = found
    state = "active" if medication.active else "not active"
    flags = (BY_TEXT,) if by_text else ()
    return [
        Fact(
            f"medication:{cls}",
            medication,
            medication.start,
            ref_of(resource),
            f"{medication.name} ({state}, started {medication.start or 'date unknown'})",
            flags=flags,
        )
        for cls in sorted(medication.classes)
    ]
