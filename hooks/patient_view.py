"""patient-view: the whole record, no orders."""

from __future__ import annotations

from datetime import date

from fhir_mappings.facts import PatientFacts
from hooks.evaluation import HookResult, run_hook
from hooks.knowledge import Knowledge
from hooks.request import HookRequest

HOOK = "patient-view"


def handle(
    request: HookRequest, facts: PatientFacts, knowledge: Knowledge, today: date
) -> HookResult:
    """Cards for opening the chart."""
    return run_hook(request, facts, knowledge, (), today)
