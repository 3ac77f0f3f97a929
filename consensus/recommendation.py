"""What a rule returns: a recommendation with its evidence, criteria and suggested orders."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from consensus.criteria import Criterion
from fhir_mappings.facts import Fact

PV = "patient-view"
OS = "order-select"
SIGN = "order-sign"
ALL_HOOKS = frozenset({PV, OS, SIGN})


class Indicator(Enum):
    """Card urgency; the order of the members is the order of cards in a response."""

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
class Recommendation:
    """A fired rule: what to do, why (facts and criteria), what is missing, and what to order."""

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


def create(order: str, description: str) -> Action:
    """An action that creates a draft order from the catalogue."""
    return Action("create", description, order=order)


def delete(resource_id: str, description: str) -> Action:
    """An action that removes a drafted order."""
    return Action("delete", description, resource_id=resource_id)
