"""The clinical knowledge: consensus rules over facts, returning recommendations (pure)."""

from __future__ import annotations

from consensus.patient import Patient
from consensus.recommendation import Indicator, Recommendation
from consensus.registry import Rule, RuleContext
from consensus.rules import all_rules
from consensus.settings import Settings

_ORDER = {indicator: i for i, indicator in enumerate(Indicator)}


def evaluate(ctx: RuleContext, rules: tuple[Rule, ...] | None = None) -> list[Recommendation]:
    """Run every rule for the hook; critical → warning → info, then by rule id."""
    fired = [rec for r in (rules or all_rules()) if (rec := r.run(ctx)) is not None]
    return sorted(fired, key=lambda rec: (_ORDER[rec.indicator], rec.rule.id))


__all__ = ["Patient", "Recommendation", "Rule", "RuleContext", "Settings", "evaluate"]
