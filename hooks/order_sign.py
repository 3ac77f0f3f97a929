"""order-sign: every draft order about to be signed counts, whatever its status on re-signing."""

from __future__ import annotations

from datetime import date

from fhir_mappings.facts import PatientFacts
from hooks.evaluation import HookResult, run_hook
from hooks.knowledge import Knowledge
from hooks.request import HookRequest

HOOK = "order-sign"


def handle(
    request: HookRequest, facts: PatientFacts, knowledge: Knowledge, today: date
) -> HookResult:
    """Cards for all drafts in context.draftOrders."""
    return run_hook(request, facts, knowledge, request.draft_orders, today)
