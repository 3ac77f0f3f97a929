"""What every hook does once its drafts are chosen: facts → rules → cards."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Any

from cards import build_cards
from consensus import Patient, Recommendation, Rule, RuleContext, evaluate
from consensus.recommendation import Evaluation, RuleInfo
from fhir_mappings.attribution import ordered_for_other_cancer
from fhir_mappings.facts import DataIssue, PatientFacts
from fhir_mappings.orders import map_drafts
from hooks.knowledge import Knowledge
from hooks.request import HookRequest
from pnen_i18n import _

DATA_ISSUES = "org.pnen-cds.data-issues"
"""The response extension that lists resources skipped or partly ignored."""
RULES_KEY = "rules"
"""The data issues' prefetchKey for a rule that could not be evaluated (no resource to name)."""

log = logging.getLogger("hooks.evaluation")


@dataclass(frozen=True)
class HookResult:
    """The cards, the recommendations behind them, and the data issues to report."""

    cards: list[dict[str, Any]]
    recommendations: tuple[Recommendation, ...]
    data_issues: tuple[DataIssue, ...]

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The ids of the rules that fired, in card order."""
        return tuple(r.rule.id for r in self.recommendations)

    def response(self, earlier_issues: Sequence[DataIssue] = ()) -> dict[str, Any]:
        """The CDS Hooks response body; data issues (gathering's first) in the extension."""
        body: dict[str, Any] = {"cards": self.cards}
        earlier = set(earlier_issues)  # a set: a broken 10 000-resource bundle stays linear
        issues = [*earlier_issues, *(i for i in self.data_issues if i not in earlier)]
        if issues:
            body["extension"] = {DATA_ISSUES: [i.as_json() for i in issues]}
        return body


_FAILED: ContextVar[list[DataIssue] | None] = ContextVar("pnen_cds_failed_rules", default=None)
"""The data issues of the rules that failed in the current call (set by `run_hook`)."""
_GUARDED: tuple[tuple[Rule, ...], tuple[Rule, ...]] | None = None
"""The last rule set and its guarded rules: the wrappers are built once, not on every call."""


def _guard(inner: Rule) -> Rule:
    """The rule made to fail alone: an exception becomes a data issue, not a lost call."""

    def run(ctx: RuleContext, info: RuleInfo) -> Recommendation | Evaluation | None:
        try:
            return inner.evaluate(ctx, info)
        except Exception as exc:  # one rule's bug must never cost the other cards
            # The log adds the request's correlation id; the trace withholds messages.
            log.error("rule could not be evaluated", exc_info=exc, extra={"rule": info.id})
            failed = _FAILED.get()
            if failed is not None:
                failed.append(
                    DataIssue(
                        RULES_KEY, info.id, _("rule {rule} could not be evaluated", rule=info.id)
                    )
                )
            return None

    return Rule(inner.info, run)


def _isolated(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """The rules, each guarded (`_guard`); the failures go to the call's list (`_FAILED`)."""
    global _GUARDED
    cached = _GUARDED
    if cached is not None and cached[0] is rules:
        return cached[1]
    guarded = tuple(_guard(r) for r in rules)
    _GUARDED = (rules, guarded)  # holds `rules`: its identity cannot be reused meanwhile
    return guarded


def run_hook(
    request: HookRequest,
    facts: PatientFacts,
    knowledge: Knowledge,
    drafts: Sequence[Any],
    today: date,
) -> HookResult:
    """Evaluate the rules for this hook over the facts and the drafts in scope."""
    others = frozenset(f.ref for f in facts.all("other-cancer"))
    if others:  # an order for another cancer (e.g. restaging breast cancer) is not the pNEN's
        drafts = [d for d in drafts if not ordered_for_other_cancer(d, others, knowledge.terms)]
    mapped, issues = map_drafts(drafts, knowledge.terms)
    patient = Patient(facts, today, knowledge.settings)
    if patient.pnen_status is None:  # no pNEN, active or in remission: no cards
        return HookResult([], (), facts.data_issues + issues)
    ctx = RuleContext(request.hook, patient, mapped)
    failed: list[DataIssue] = []
    token = _FAILED.set(failed)
    try:
        recs = evaluate(ctx, _isolated(knowledge.rules))
    finally:
        _FAILED.reset(token)
    cards = build_cards(recs, request.patient_ref, knowledge.cards)
    return HookResult(cards, tuple(recs), facts.data_issues + issues + tuple(failed))
