"""What every hook does once its drafts are chosen: facts → rules → cards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from cards import build_cards
from consensus import Patient, RuleContext, evaluate
from fhir_mappings.facts import DataIssue, PatientFacts
from fhir_mappings.orders import map_drafts
from hooks.knowledge import Knowledge
from hooks.request import HookRequest


@dataclass(frozen=True)
class HookResult:
    """The cards, the rules that fired, and the data issues to report."""

    cards: list[dict[str, Any]]
    rule_ids: tuple[str, ...]
    data_issues: tuple[DataIssue, ...]


def run_hook(
    request: HookRequest,
    facts: PatientFacts,
    knowledge: Knowledge,
    drafts: Sequence[Any],
    today: date,
) -> HookResult:
    """Evaluate the rules for this hook over the facts and the drafts in scope."""
    mapped, issues = map_drafts(drafts, knowledge.terms)
    patient = Patient(facts, today, knowledge.settings)
    if not patient.has_pnen:
        return HookResult([], (), facts.data_issues + issues)
    ctx = RuleContext(request.hook, patient, mapped)
    recs = evaluate(ctx, knowledge.rules)
    cards = build_cards(recs, request.patient_ref, knowledge.cards)
    return HookResult(cards, tuple(r.rule.id for r in recs), facts.data_issues + issues)
