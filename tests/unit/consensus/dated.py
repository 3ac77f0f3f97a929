"""A fixed-date rule runner (calendar-month cut-offs need a known today) and hand-built facts.

Facts of kinds the FHIR mapping does not produce yet (`pnen-remission`, `procedure:enucleation`)
are built with the `Fact` type and added to the mapped record, as the shared interface defines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from consensus import Recommendation, RuleContext, evaluate
from consensus.months import add_months
from consensus.patient import Patient
from consensus.recommendation import PV
from consensus.settings import Settings
from fhir_mappings.facts import Fact, index_facts
from fhir_mappings.orders import map_drafts
from tests.fhir_builders import facts_for, terms

TODAY = date(2026, 11, 27)


def on(months: int = 0, days: int = 0, *, today: date = TODAY) -> str:
    """The ISO date `months` calendar months and then `days` days before `today`."""
    return (add_months(today, -months) - timedelta(days=days)).isoformat()


def day(iso: str) -> date:
    """An ISO date string as a date."""
    return date.fromisoformat(iso)


def remission_condition(
    when: str, ref: str = "Condition/pnen-r", status: str = "remission"
) -> Fact:
    """A pNEN Condition in remission (kind `pnen-remission`), dated by its abatement."""
    return Fact("pnen-remission", status, day(when), ref, f"pancreatic NET ({status})")


def enucleation(when: str, ref: str = "Procedure/enucleation") -> Fact:
    """A completed enucleation of the primary (kind `procedure:enucleation`)."""
    return Fact("procedure:enucleation", "completed", day(when), ref, "Enucleation (completed)")


def patient_on(
    resources: Iterable[dict[str, Any]],
    *extra: Fact,
    today: date = TODAY,
    settings: Settings | None = None,
) -> Patient:
    """The consensus view of the record as of `today`, with hand-built facts added."""
    facts = facts_for(resources, today)
    if extra:
        every = [f for group in facts.by_kind.values() for f in group]
        facts = replace(facts, by_kind=index_facts([*every, *extra]))
    return Patient(facts, today, settings or Settings())


def run_on(
    resources: Iterable[dict[str, Any]],
    *extra: Fact,
    today: date = TODAY,
    hook: str = PV,
    drafts: Iterable[dict[str, Any]] = (),
    settings: Settings | None = None,
) -> dict[str, Recommendation]:
    """Every rule as of `today`: the fired recommendations by rule id."""
    mapped, _ = map_drafts(list(drafts), terms())
    p = patient_on(resources, *extra, today=today, settings=settings)
    return {rec.rule.id: rec for rec in evaluate(RuleContext(hook, p, mapped))}
