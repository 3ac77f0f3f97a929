"""The clinical knowledge: consensus rules over facts, returning recommendations (pure)."""

from __future__ import annotations

from consensus.patient import Patient
from consensus.recommendation import PV, Evaluation, Indicator, Recommendation, Waiting
from consensus.registry import Rule, RuleContext
from consensus.rules import all_rules
from consensus.settings import Settings

_ORDER = {indicator: i for i, indicator in enumerate(Indicator)}


def evaluate_rules(ctx: RuleContext, rules: tuple[Rule, ...] | None = None) -> list[Evaluation]:
    """Every rule that applies to the hook, by id: its criteria and, when it fires, its advice."""
    return [e for r in (rules or all_rules()) if (e := r.run(ctx)) is not None]


def decisions_waiting(evaluations: list[Evaluation]) -> tuple[Waiting, ...]:
    """One line per open fact that would settle patient-view rules, naming those rules.

    Derived from every rule's own criteria the same way (`Evaluation.waiting_on`): a rule counts
    when none of its criteria is known not met and at least one is unknown.
    """
    found: dict[str, list[Evaluation]] = {}
    for ev in evaluations:
        if PV in ev.rule.hooks:
            for datum in ev.waiting_on:
                found.setdefault(datum, []).append(ev)
    return tuple(Waiting(datum, tuple(e.rule for e in evs)) for datum, evs in found.items())


def order_key(rec: Recommendation) -> tuple[bool, int, str]:
    """Cards order: the summary first, then critical → warning → info, then by rule id."""
    return (not rec.digest, _ORDER[rec.indicator], rec.rule.id)


def evaluate(ctx: RuleContext, rules: tuple[Rule, ...] | None = None) -> list[Recommendation]:
    """Run every rule for the hook; the summary (with the decisions waiting on data) first."""
    evaluations = evaluate_rules(ctx, rules)
    waiting = decisions_waiting(evaluations)
    fired = [
        rec._replace(waiting=waiting) if rec.digest else rec
        for e in evaluations
        if (rec := e.recommendation) is not None
    ]
    return sorted(fired, key=order_key)


__all__ = [
    "Evaluation",
    "Patient",
    "Recommendation",
    "Rule",
    "RuleContext",
    "Settings",
    "Waiting",
    "decisions_waiting",
    "evaluate",
    "evaluate_rules",
]
