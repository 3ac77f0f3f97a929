"""The demo patients shipped with the package, with their dates moved to the day they are served."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from hooks.evaluation import HookResult
from hooks.knowledge import Knowledge, load_knowledge
from hooks.registry import SERVICES
from hooks.request import HookRequest

Resource = dict[str, Any]
HOOKS = ("patient-view", "order-select", "order-sign")
# A FHIR date or dateTime with a full day (partial dates such as "2024" are left as they are).
_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?$")


@dataclass(frozen=True)
class DemoPatient:
    """One demo patient: id, name, what it shows, its file, its draft orders and expected cards."""

    id: str
    name: str
    shows: str
    file: str
    drafts: tuple[Resource, ...]
    cards: dict[str, list[str]]

    @property
    def order_hooks(self) -> tuple[str, ...]:
        """The order hooks this patient has drafts for."""
        return ("order-select", "order-sign") if self.drafts else ()


@cache
def demo_patients() -> tuple[DemoPatient, ...]:
    """Every demo patient of pnen_demo/patients/index.json, in order."""
    raw = json.loads(_folder().joinpath("index.json").read_text(encoding="utf-8"))
    return tuple(
        DemoPatient(
            str(item["id"]),
            str(item["name"]),
            str(item["shows"]),
            str(item["file"]),
            tuple(item["drafts"]),
            {str(k): [str(r) for r in v] for k, v in item["cards"].items()},
        )
        for item in raw
    )


def _folder() -> Any:
    return resources.files("pnen_demo").joinpath("patients")


def shift_dates(value: Any, days: int) -> Any:
    """A copy of a FHIR JSON value with every full date and dateTime moved by `days`."""
    if isinstance(value, dict):
        return {k: shift_dates(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_dates(v, days) for v in value]
    if isinstance(value, str) and days and (match := _DATE.match(value)):
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:
            return value
        return (day + timedelta(days=days)).isoformat() + (match.group(2) or "")
    return value


def anchor_of(bundle: Resource) -> date:
    """The day the bundle's dates were written for (Bundle.timestamp)."""
    return datetime.fromisoformat(str(bundle["timestamp"]).replace("Z", "+00:00")).date()


def record_of(patient: DemoPatient, today: date) -> list[Resource]:
    """The patient's resources with dates as of `today`."""
    bundle = json.loads(_folder().joinpath(patient.file).read_text(encoding="utf-8"))
    days = (today - anchor_of(bundle)).days
    return [shift_dates(e["resource"], days) for e in bundle.get("entry") or []]


def drafts_of(patient: DemoPatient, today: date) -> list[Resource]:
    """The patient's draft orders, authored today (as the sandbox authors them)."""
    return [
        {**d, "authoredOn": today.isoformat()}
        if d["resourceType"] == "MedicationRequest"
        else dict(d)
        for d in patient.drafts
    ]


@cache
def _knowledge() -> Knowledge:
    return load_knowledge()


def evaluate(
    patient: DemoPatient, hook: str, today: date, knowledge: Knowledge | None = None
) -> HookResult:
    """The hook's result for the patient as the service computes it (every draft selected)."""
    knowledge = knowledge or _knowledge()
    drafts = tuple(drafts_of(patient, today)) if hook != "patient-view" else ()
    request = HookRequest(
        hook=hook,
        hook_instance="demo",
        patient_id=patient.id,
        prefetch={},
        fhir_server=None,
        access_token=None,
        draft_orders=drafts,
        selections=tuple(f"{d['resourceType']}/{d['id']}" for d in drafts),
    )
    service = next(s for s in SERVICES.values() if s.hook == hook)
    items = [("demo", r) for r in record_of(patient, today)]
    facts = knowledge.mapper.map(patient.id, items, today)
    return service.handler(request, facts, knowledge, today)


def expected_cards(patient: DemoPatient, today: date) -> dict[str, list[str]]:
    """The rule ids of the cards on each of the patient's hooks, in card order."""
    hooks = ("patient-view", *patient.order_hooks)
    return {hook: list(evaluate(patient, hook, today).rule_ids) for hook in hooks}
