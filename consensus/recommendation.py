"""What a rule returns: a recommendation with its evidence, criteria and suggested orders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from consensus.criteria import UNKNOWN, Criterion, evidence_of, missing_of, waiting_on
from fhir_mappings.facts import Fact
from pnen_i18n import _, joined

PV = "patient-view"
OS = "order-select"
SIGN = "order-sign"
ALL_HOOKS = frozenset({PV, OS, SIGN})


class Indicator(Enum):
    """Card urgency; the order of the members is the order of cards in a response."""

    # Members are singletons compared by identity: hash them so too. Enum's own __hash__ is a
    # Python call (hash of the name), paid on every dict look-up keyed by a member.
    __hash__ = object.__hash__

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class RuleInfo:
    """A rule's stable identity: id, title, hooks, source sections, and its area of the spec."""

    id: str
    title: str
    hooks: frozenset[str]
    citation: str
    area: str
    in_remission: bool = False  # also runs for a pNEN in remission (summary, surveillance)


@dataclass(frozen=True)
class Action:
    """Create an order from the catalogue (`order`), or delete a drafted one (`resource_id`)."""

    type: str
    description: str
    order: str | None = None
    resource_id: str | None = None


@dataclass(frozen=True)
class Suggestion:
    """One clickable suggestion: a label and its actions."""

    label: str
    actions: tuple[Action, ...]
    is_recommended: bool | None = None


@dataclass(frozen=True)
class Waiting:
    """A decision waiting on data: an open fact and the rules (ids, titles) it would settle."""

    datum: str
    rules: tuple[RuleInfo, ...]

    @property
    def text(self) -> str:
        """'resectability of the liver metastases (…) — decides: Targeted therapy; PRRT …'."""
        titles = joined(_(r.title) for r in self.rules)
        return _("{datum} — decides: {titles}", datum=self.datum, titles=titles)


class Recommendation(NamedTuple):
    """A fired rule: what to do, why (facts and criteria), what is missing, and what to order.

    `digest` marks the patient's summary: it comes first and lists the decisions waiting on data
    of every rule (`waiting`), filled in by the evaluation step. (A named tuple, like `Criterion`
    and `Evaluation`: immutable without a frozen dataclass's cost per field.)
    """

    rule: RuleInfo
    indicator: Indicator
    summary: str
    advice: str
    evidence: tuple[Fact, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    missing: tuple[str, ...] = ()
    local_policy: tuple[str, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    selection_behavior: str = "at-most-one"
    dashboard_link: bool = False
    digest: bool = False
    waiting: tuple[Waiting, ...] = ()

    @property
    def waiting_on(self) -> tuple[str, ...]:
        """The open facts this recommendation still waits on: its unknown criteria's data.

        It fired, so no criterion blocked it: rows shown as not met are the absences it fires on
        ("MGMT IHC on record: not met") or alternatives it did not need.
        """
        return tuple(
            dict.fromkeys(d for c in self.criteria if c.status is UNKNOWN for d in c.data_wanted)
        )


class Evaluation(NamedTuple):
    """What a rule found: its criteria, and its recommendation when it fires.

    A silent rule still shows its criteria, so that the decisions waiting on data can be derived
    from every rule the same way, fired or not. (A named tuple: one per rule per request.)
    """

    rule: RuleInfo
    criteria: tuple[Criterion, ...] = ()
    recommendation: Recommendation | None = None

    @property
    def waiting_on(self) -> tuple[str, ...]:
        """The open facts that would settle this rule.

        Fired: those its recommendation still waits on. Silent: the unknowns of the criteria it
        returned when none is known not met (it would fire once they are recorded as met).
        """
        if self.recommendation is not None:
            return self.recommendation.waiting_on
        return waiting_on(self.criteria)


def silent(rule: RuleInfo, criteria: Iterable[Criterion]) -> Evaluation:
    """A rule that does not fire, with the criteria it weighed."""
    return Evaluation(rule, tuple(criteria))


def recommend(
    rule: RuleInfo,
    indicator: Indicator,
    summary: str,
    advice: str,
    criteria: Iterable[Criterion] = (),
    *,
    evidence: Iterable[Fact] = (),
    missing: Iterable[str] = (),
    local_policy: tuple[str, ...] = (),
    suggestions: tuple[Suggestion, ...] = (),
    selection_behavior: str = "at-most-one",
    dashboard_link: bool = False,
    digest: bool = False,
) -> Recommendation:
    """A fired rule: its criteria's facts, then `evidence`; their missing data, then `missing`."""
    items = tuple(criteria)
    return Recommendation(
        rule=rule,
        indicator=indicator,
        summary=summary,
        advice=advice,
        evidence=tuple(dict.fromkeys((*evidence_of(items), *evidence))),
        criteria=items,
        missing=tuple(dict.fromkeys((*missing_of(items), *missing))),
        local_policy=local_policy,
        suggestions=suggestions,
        selection_behavior=selection_behavior,
        dashboard_link=dashboard_link,
        digest=digest,
    )


def create(order: str, description: str) -> Action:
    """An action that creates a draft order from the catalogue."""
    return Action("create", description, order=order)


def delete(resource_id: str, description: str) -> Action:
    """An action that removes a drafted order."""
    return Action("delete", description, resource_id=resource_id)
