"""MedicationAdministration → treatment facts, read like MedicationStatements (Real-world shapes).

PRRT and infused chemotherapy are usually recorded as administrations, one per cycle. An
in-progress administration is current therapy; a completed (or stopped) one is treatment given on
its date. For systemic antitumour therapy, administrations of one class within 60 days of each
other form a course, which counts as running from its first cycle until 60 days after its last
(a single cycle is a course of one): between cycles the patient is still on that treatment. PPIs
and corticosteroids are not grouped: each administration is the day (or period) it was given.
Administrations not given (not-done, entered-in-error, unknown) create no fact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fhir_mappings.facts import BY_TEXT, SYSTEMIC_THERAPY_CLASSES, Fact, Medication
from fhir_mappings.medications import classified, medication_name
from fhir_mappings.shape import fhir_date, obj, ref_of, string
from fhir_mappings.terminology import Terminology
from pnen_i18n import _, ngettext

COURSE_GAP = timedelta(days=60)
# MedicationAdministration status → the MedicationStatement status it reads as.
_GIVEN = {
    "in-progress": "active",
    "on-hold": "on-hold",
    "completed": "completed",
    "stopped": "stopped",
}
_COURSE_CLASSES = frozenset(SYSTEMIC_THERAPY_CLASSES)


@dataclass(frozen=True)
class Dose:
    """One administration of a listed class: when, and whether it is still being given."""

    ref: str
    name: str
    classes: frozenset[str]
    status: str  # as a MedicationStatement status (active, on-hold, completed, stopped)
    start: date | None
    end: date | None
    by_text: bool
    route_flag: str | None

    @property
    def last_day(self) -> date | None:
        """The last day it was given (its period's end, else its date)."""
        return self.end or self.start


def read_administration(resource: dict[str, Any], terms: Terminology) -> Dose | None:
    """The dose a MedicationAdministration records, or None (not given, or of no listed class)."""
    status = _GIVEN.get((string(resource, "status") or "").strip().lower())  # 'COMPLETED' too
    if status is None:
        return None
    found = classified(resource, terms)
    if found is None:
        return None
    concept, classes, by_text, route_flag = found
    period = obj(resource, "effectivePeriod")
    start = fhir_date(resource, "effectiveDateTime") or (
        fhir_date(period, "start", "effectivePeriod.") if period else None
    )
    end = fhir_date(period, "end", "effectivePeriod.") if period else None
    name = medication_name(concept)
    return Dose(ref_of(resource), name, classes, status, start, end, by_text, route_flag)


def _running(dose: Dose, today: date) -> bool:
    """In progress, and its period (if any) not ended before today."""
    return dose.status == "active" and (dose.end is None or dose.end >= today)


def _flags(cls: str, doses: list[Dose]) -> tuple[str, ...]:
    flags = [BY_TEXT] if any(d.by_text for d in doses) else []
    if cls == "corticosteroid":
        flags += sorted({d.route_flag for d in doses if d.route_flag})
    return tuple(flags)


def _single_fact(cls: str, dose: Dose, today: date) -> Fact:
    """A dose on its own: current while in progress, otherwise given on its date (or period)."""
    active = _running(dose, today)
    end = dose.end if dose.status == "active" else dose.last_day
    medication = Medication(frozenset({cls}), dose.name, active, dose.start, end, dose.status)
    if active:
        evidence = _("{name} (in progress)", name=dose.name)
    elif dose.start is None:
        evidence = _("{name} (given on a date not recorded)", name=dose.name)
    else:
        evidence = _("{name} (given {date})", name=dose.name, date=dose.start.isoformat())
    return Fact(
        f"medication:{cls}", medication, dose.start, dose.ref, evidence, flags=_flags(cls, [dose])
    )


def _courses(dated: list[tuple[date, date, Dose]]) -> list[list[Dose]]:
    """(start, last day, dose) in courses: each starting within 60 days of the course so far."""
    courses: list[list[Dose]] = []
    course_last = date.min
    for start, last_day, dose in sorted(dated, key=lambda item: (item[0], item[1])):
        if courses and start - course_last <= COURSE_GAP:
            courses[-1].append(dose)
            course_last = max(course_last, last_day)
        else:
            courses.append([dose])
            course_last = last_day
    return courses


def _course_fact(cls: str, course: list[Dose], today: date) -> Fact:
    """A course: from its first cycle until 60 days after its last, or open while in progress."""
    first = min(d.start for d in course if d.start)
    last = max(d.last_day for d in course if d.last_day)
    running = any(_running(d, today) for d in course)
    until = last + COURSE_GAP
    active = running or until >= today
    name = course[-1].name
    medication = Medication(
        frozenset({cls}),
        name,
        active,
        first,
        None if running else until,
        "active" if active else "completed",
    )
    dates = {"name": name, "first": first.isoformat(), "last": last.isoformat()}
    if running:
        evidence = ngettext(
            "{name} ({n} administration, {first} to {last}; in progress)",
            "{name} ({n} administrations, {first} to {last}; in progress)",
            len(course),
            **dates,
        )
    else:
        evidence = ngettext(
            "{name} ({n} administration, {first} to {last}; counts as running until {until})",
            "{name} ({n} administrations, {first} to {last}; counts as running until {until})",
            len(course),
            until=until.isoformat(),
            **dates,
        )
    return Fact(
        f"medication:{cls}", medication, first, course[-1].ref, evidence, flags=_flags(cls, course)
    )


def map_administrations(doses: Iterable[Dose], today: date) -> list[Fact]:
    """Treatment facts of a patient's administrations: courses of systemic therapy, else doses."""
    by_class: dict[str, list[Dose]] = {}
    for dose in doses:
        for cls in dose.classes:
            by_class.setdefault(cls, []).append(dose)
    facts: list[Fact] = []
    for cls, given in sorted(by_class.items()):
        if cls not in _COURSE_CLASSES:
            facts.extend(_single_fact(cls, dose, today) for dose in given)
            continue
        dated = [(d.start, d.last_day or d.start, d) for d in given if d.start]
        facts.extend(_course_fact(cls, course, today) for course in _courses(dated))
        facts.extend(_single_fact(cls, d, today) for d in given if d.start is None)
    return facts
