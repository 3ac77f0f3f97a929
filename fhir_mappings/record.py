"""A patient's FHIR record (resources grouped by prefetch key) → PatientFacts."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from fhir_mappings.conditions import map_allergy, map_condition
from fhir_mappings.facts import DataIssue, Fact, PatientFacts, index_facts
from fhir_mappings.medications import map_medication
from fhir_mappings.observations import (
    MappingOptions,
    SiteIndex,
    map_observation,
    map_specimen,
)
from fhir_mappings.orders import map_service_request
from fhir_mappings.procedures import map_procedure
from fhir_mappings.reports import map_report
from fhir_mappings.shape import (
    FHIR_ID,
    ShapeError,
    fhir_date,
    local_ref,
    ref_of,
    reference,
    versioned_ref,
)
from fhir_mappings.terminology import Terminology

log = logging.getLogger(__name__)

# (prefetch key, resource JSON)
Item = tuple[str, Any]
_FIRST = ("Patient", "Condition", "AllergyIntolerance", "Specimen")


@dataclass(frozen=True)
class RecordMapper:
    """Maps resources to facts with one terminology and one set of site options."""

    terms: Terminology
    options: MappingOptions = MappingOptions()

    def map(self, patient_id: str, items: Iterable[Item], today: date) -> PatientFacts:
        """All facts of one patient; malformed resources are skipped and reported."""
        facts: list[Fact] = []
        issues: list[DataIssue] = []
        used: list[str] = []
        birth_date: date | None = None
        seen: set[str] = set()
        valid = self._valid_resources(patient_id, items, issues, seen)
        first = [(k, r) for k, r in valid if r["resourceType"] in _FIRST]
        rest = [(k, r) for k, r in valid if r["resourceType"] not in _FIRST]
        specimens: dict[str, str] = {}

        def guarded(key: str, resource: dict[str, Any], work: Callable[[], list[Fact]]) -> None:
            try:
                produced = work()
            except ShapeError as exc:
                issues.append(DataIssue(key, ref_of(resource), str(exc)))
                return
            except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
                log.warning("unreadable resource %s: %s", ref_of(resource), type(exc).__name__)
                issues.append(DataIssue(key, ref_of(resource), "unreadable resource"))
                return
            if produced:
                facts.extend(produced)
                used.append(versioned_ref(resource))

        for key, resource in first:
            kind = resource["resourceType"]
            if kind == "Patient":
                try:
                    birth_date = fhir_date(resource, "birthDate")
                except ShapeError as exc:
                    issues.append(DataIssue(key, ref_of(resource), str(exc)))
                used.append(versioned_ref(resource))
            elif kind == "Condition":
                guarded(key, resource, partial(map_condition, resource, self.terms))
            elif kind == "AllergyIntolerance":
                guarded(key, resource, partial(map_allergy, resource, self.terms))
            elif kind == "Specimen":
                try:
                    site = map_specimen(resource, self.terms)
                except ShapeError as exc:
                    issues.append(DataIssue(key, ref_of(resource), str(exc)))
                    continue
                if site:
                    specimens[ref_of(resource)] = site
        sites = SiteIndex(
            specimens=specimens,
            primary_conditions=frozenset(f.ref for f in facts if f.kind == "pnen"),
            liver_conditions=frozenset(
                f.ref for f in facts if f.kind == "liver-metastasis" and f.ref.startswith("Cond")
            ),
        )
        for key, resource in rest:
            kind = resource["resourceType"]
            if kind == "Observation":
                guarded(key, resource, partial(self._observation, key, resource, sites, issues))
            elif kind == "DiagnosticReport":
                guarded(key, resource, partial(map_report, resource, self.terms))
            elif kind in ("MedicationRequest", "MedicationStatement"):
                guarded(key, resource, partial(map_medication, resource, self.terms, today))
            elif kind == "Procedure":
                guarded(key, resource, partial(map_procedure, resource, self.terms))
            elif kind == "ServiceRequest":
                guarded(key, resource, partial(map_service_request, resource, self.terms))
        return PatientFacts(
            patient_ref=f"Patient/{patient_id}",
            birth_date=birth_date,
            by_kind=index_facts(facts),
            data_issues=tuple(issues),
            resources_used=tuple(used),
        )

    def has_pnen(self, patient_id: str, items: Iterable[Item]) -> bool:
        """Whether the record has an active pNEN Condition (the cheap first look)."""
        conditions = [
            (k, r) for k, r in items if isinstance(r, dict) and r.get("resourceType") == "Condition"
        ]
        for _, resource in self._valid_resources(patient_id, conditions, [], set()):
            try:
                if any(f.kind == "pnen" for f in map_condition(resource, self.terms)):
                    return True
            except ShapeError:
                continue
        return False

    def _observation(
        self, key: str, resource: dict[str, Any], sites: SiteIndex, issues: list[DataIssue]
    ) -> list[Fact]:
        produced, problems = map_observation(resource, self.terms, sites, self.options)
        issues.extend(DataIssue(key, ref_of(resource), p) for p in problems)
        return produced

    @staticmethod
    def _valid_resources(
        patient_id: str, items: Iterable[Item], issues: list[DataIssue], seen: set[str]
    ) -> Sequence[tuple[str, dict[str, Any]]]:
        """Resources that are JSON objects with a type and an id, of this patient, once each."""
        valid: list[tuple[str, dict[str, Any]]] = []
        patient_ref = f"Patient/{patient_id}"
        for key, resource in items:
            if not isinstance(resource, dict):
                issues.append(DataIssue(key, "?", "resource: expected an object"))
                continue
            kind = resource.get("resourceType")
            rid = resource.get("id")
            if not isinstance(kind, str) or not kind:
                issues.append(DataIssue(key, "?", "resourceType: missing"))
                continue
            if not isinstance(rid, str) or not FHIR_ID.match(rid):
                issues.append(DataIssue(key, f"{kind}/?", "id: missing or not a FHIR id"))
                continue
            ref = f"{kind}/{rid}"
            if ref in seen:
                continue
            seen.add(ref)
            if kind == "Patient":
                if rid != patient_id:
                    issues.append(DataIssue(key, ref, "another patient than context.patientId"))
                    continue
            else:
                try:
                    subject = reference(resource, "subject") or reference(resource, "patient")
                except ShapeError as exc:
                    issues.append(DataIssue(key, ref, str(exc)))
                    continue
                target = subject if subject == patient_ref else local_ref(subject)
                if target and target.startswith("Patient/") and target != patient_ref:
                    issues.append(DataIssue(key, ref, "subject is another patient"))
                    continue
            valid.append((key, resource))
        return valid
