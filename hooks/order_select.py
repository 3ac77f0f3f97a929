"""order-select: only the drafts the clinician has just selected count."""

from __future__ import annotations

from datetime import date

from fhir_mappings.facts import PatientFacts
from hooks.evaluation import HookResult, run_hook
from hooks.knowledge import Knowledge
from hooks.request import HookRequest

HOOK = "order-select"


def handle(
    request: HookRequest, facts: PatientFacts, knowledge: Knowledge, today: date
) -> HookResult:
    """Cards for the selected draft orders (context.selections)."""
    selected = set(request.selections)
    drafts = [
        d
        for d in request.draft_orders
        if isinstance(d, dict) and f"{d.get('resourceType')}/{d.get('id')}" in selected
    ]
    return run_hook(request, facts, knowledge, drafts, today)
