"""The prefetch templates of the discovery document, generated from the loaded ValueSets."""

from __future__ import annotations

from dataclasses import dataclass

from fhir_mappings.observations import OBSERVATION_CONCEPTS
from fhir_mappings.terminology import Terminology

PATIENT = "{{context.patientId}}"
MAX_URL = 1800
CORE_KEYS = ("patient", "conditions")
"""Needed first: without a pNEN among the conditions nothing else is read."""


@dataclass(frozen=True)
class PrefetchPlan:
    """Prefetch key → FHIR query template, in the order the service reads them."""

    templates: dict[str, str]

    @property
    def core(self) -> dict[str, str]:
        """The keys that decide whether the patient has a pNEN at all."""
        return {k: v for k, v in self.templates.items() if k in CORE_KEYS}

    @property
    def rest(self) -> dict[str, str]:
        """The keys read only when a pNEN is present."""
        return {k: v for k, v in self.templates.items() if k not in CORE_KEYS}


def _observation_keys(terms: Terminology) -> dict[str, str]:
    prefix = f"Observation?patient={PATIENT}&code="
    tokens = [f"{system}|{code}" for system, code in terms.codes(OBSERVATION_CONCEPTS)]
    chunks: list[list[str]] = [[]]
    for token in tokens:
        candidate = ",".join([*chunks[-1], token])
        if chunks[-1] and len(prefix) + len(candidate) > MAX_URL:
            chunks.append([token])
        else:
            chunks[-1].append(token)
    keys = {}
    for i, chunk in enumerate(chunks):
        keys["observations" if i == 0 else f"observations{i + 1}"] = prefix + ",".join(chunk)
    return keys


def prefetch_plan(terms: Terminology) -> PrefetchPlan:
    """The same keys for all three services (fhir-mapping.md, "Prefetch templates")."""
    templates = {
        "patient": f"Patient/{PATIENT}",
        "conditions": f"Condition?patient={PATIENT}",
        **_observation_keys(terms),
        "specimens": f"Specimen?patient={PATIENT}",
        "reports": f"DiagnosticReport?patient={PATIENT}",
        "medications": f"MedicationRequest?patient={PATIENT}",
        "medicationstatements": f"MedicationStatement?patient={PATIENT}",
        "medicationadministrations": f"MedicationAdministration?patient={PATIENT}",
        # completed ones serve attribution only (a study ordered for another cancer): "planned"
        # stays draft, active and on-hold (fhir_mappings.orders)
        "servicerequests": (
            f"ServiceRequest?patient={PATIENT}&status=draft,active,on-hold,completed"
        ),
        "procedures": f"Procedure?patient={PATIENT}",
        "allergies": f"AllergyIntolerance?patient={PATIENT}",
    }
    return PrefetchPlan(templates)
