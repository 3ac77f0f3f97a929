"""Clinical facts: what the rules read; each keeps its value, date and FHIR source reference."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from pnen_i18n import N_, _

# Sites of a pathology result.
PRIMARY = "primary"
LIVER = "liver"
UNKNOWN_SITE = "unknown"

# Medication classes (fact kinds "medication:<class>"). Systemic antitumour therapy is the
# consensus-rules.md list for "current systemic therapy".
SYSTEMIC_THERAPY_CLASSES = (
    "tmz",
    "capecitabine",
    "s1",
    "fluorouracil",
    "ssa",
    "everolimus",
    "sunitinib",
    "surufatinib",
    "cisplatin",
    "carboplatin",
    "oxaliplatin",
    "etoposide",
    "prrt",
)
MEDICATION_CLASSES = (*SYSTEMIC_THERAPY_CLASSES, "ppi", "corticosteroid", "streptozocin")

# Flags a fact may carry into the card's evidence: canonical English for the logic, translated
# only where the evidence line is shown.
PRELIMINARY = N_("preliminary")
BY_TEXT = N_("recognised by text")
FROM_REPORT_TEXT = N_("read from report text")
POSSIBLY_OTHER_CANCER = N_("possibly another cancer's")

SYNDROME_NAMES: Mapping[str, str] = {
    "insulinoma": N_("insulinoma"),
    "gastrinoma": N_("gastrinoma"),
    "glucagonoma": N_("glucagonoma"),
    "vipoma": N_("vipoma"),
    "somatostatinoma": N_("somatostatinoma"),
    "acthoma": N_("acthoma"),
    "carcinoid-syndrome": N_("carcinoid-syndrome"),
}
"""A functional syndrome (a `functional` fact's value) by name, for `_()` where it is shown."""


_TESTS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class Quantity(NamedTuple):
    """A numeric result; `comparator` ('<', '<=', '>', '>=') bounds it instead of stating it.

    Facts and quantities are named tuples: immutable like frozen dataclasses, and several times
    cheaper to build, which matters because a record maps to hundreds of them per request.
    """

    value: float
    unit: str = ""
    comparator: str | None = None
    reference_high: float | None = None
    low: float | None = None
    """A reported range's low end ('15-25 %'); `value` is then its high end."""

    def compare(self, test: str, threshold: float) -> bool | None:
        """Whether the value passes `test` ('<', '<=', '>', '>=') against `threshold`.

        An exact value answers True or False. A bound ('< 5 %') answers only what every value it
        allows agrees on: '< 5' passes '< 10' (True), fails '> 10' (False), and leaves '< 3'
        unknown (None) — a reported bound is never read as the number it names.
        """
        v, c = self.value, self.comparator
        if c is None and self.low is not None:
            # A range behaves like the bound of its two ends: known only when both agree.
            at_low, at_high = _TESTS[test](self.low, threshold), _TESTS[test](v, threshold)
            return at_low if at_low == at_high else None
        if c is None:
            return _TESTS[test](v, threshold)
        if c in ("<", "<="):  # every value up to v (v itself excluded for '<')
            if test in ("<", "<="):
                return (
                    True
                    if v < threshold or (v == threshold and (c == "<" or test == "<="))
                    else None
                )
            return (
                False if v < threshold or (v == threshold and (c == "<" or test == ">")) else None
            )
        if test in (">", ">="):  # every value from v up (v itself excluded for '>')
            return (
                True if v > threshold or (v == threshold and (c == ">" or test == ">=")) else None
            )
        return False if v > threshold or (v == threshold and (c == ">" or test == "<")) else None

    @property
    def effective(self) -> float:
        """A point to rank results by: '<x' just below x, '>x' just above (not for thresholds)."""
        if self.comparator == "<":
            return self.value - 1e-9
        if self.comparator == ">":
            return self.value + 1e-9
        return self.value

    def display(self) -> str:
        """Human text such as '< 2 %' or '80 ng/mL'."""
        number = f"{self.value:g}" if self.low is None else f"{self.low:g}–{self.value:g}"
        prefix = f"{self.comparator} " if self.comparator else ""
        unit = self.unit
        if unit == "%":
            return f"{prefix}{number} %"
        return f"{prefix}{number} {unit}".rstrip()


@dataclass(frozen=True, slots=True)
class Medication:
    """A medication order or statement, classified by ingredient classes; `status` as in FHIR."""

    classes: frozenset[str]
    name: str
    active: bool
    start: date | None
    end: date | None
    status: str = ""


@dataclass(frozen=True, slots=True)
class Order:
    """A ServiceRequest or MedicationRequest that is planned or drafted."""

    kinds: frozenset[str]
    status: str
    resource_type: str
    name: str
    sites: frozenset[str] = frozenset()  # body sites named by the order (PRIMARY, LIVER)


@dataclass(frozen=True, slots=True)
class Draft:
    """An order drafted in the hook's context: its reference and what it orders (None: unknown)."""

    ref: str
    order: Order | None
    by_text: bool = False

    def as_fact(self) -> Fact:
        """The draft as card evidence: 'temozolomide (draft order), MedicationRequest/x'."""
        flags = (BY_TEXT,) if self.by_text else ()
        if self.order is None:
            text = _("order (draft order)")
        else:
            text = _("{order} (draft order)", order=self.order.name)
        return Fact("draft", self.order, None, self.ref, text, flags=flags)


class Fact(NamedTuple):
    """One clinical fact: kind, value, date, the FHIR reference it came from, and how it reads."""

    kind: str
    value: Any
    when: date | None
    ref: str
    text: str
    site: str = UNKNOWN_SITE
    flags: tuple[str, ...] = ()

    def evidence(self) -> str:
        """'Ki-67 25 % (liver), 2026-09-10, Observation/ki67-2' for a card's *why* section."""
        parts = [self.text]
        if self.when and self.when.isoformat() not in self.text:  # never the same date twice
            parts.append(self.when.isoformat())
        parts.append(self.ref)
        line = ", ".join(parts)
        if self.flags:
            line += f" [{'; '.join(_(flag) for flag in self.flags)}]"
        return line


@dataclass(frozen=True, slots=True)
class DataIssue:
    """A resource that was skipped or partly ignored, with the reason (never its contents)."""

    prefetch_key: str
    reference: str
    problem: str

    def as_json(self) -> dict[str, str]:
        """The CDS Hooks response extension shape."""
        return {
            "prefetchKey": self.prefetch_key,
            "reference": self.reference,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class PatientFacts:
    """Every fact known about one patient, indexed by kind (see KINDS in fhir_mappings.__init__)."""

    patient_ref: str
    birth_date: date | None
    by_kind: Mapping[str, tuple[Fact, ...]]
    data_issues: tuple[DataIssue, ...] = ()
    resources_used: tuple[str, ...] = ()
    missing_keys: tuple[str, ...] = field(default=())
    ignored_after_as_of: int = 0
    """Resources dated or recorded after the as-of date, left out of an as-of evaluation."""

    def all(self, kind: str) -> tuple[Fact, ...]:
        """All facts of a kind, oldest first (undated first)."""
        return self.by_kind.get(kind, ())

    def has(self, kind: str) -> bool:
        """True when at least one fact of the kind is on record."""
        return bool(self.by_kind.get(kind))

    def latest(self, kind: str, site: str | None = None) -> Fact | None:
        """The most recent fact of a kind (optionally at one site); None when there is none."""
        facts = self.all(kind)
        if site is not None:
            facts = tuple(f for f in facts if f.site == site)
        return facts[-1] if facts else None

    def age_on(self, day: date) -> int | None:
        """Age in whole years on a day, or None without a birth date."""
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _undated_first(fact: Fact) -> tuple[date, str]:
    return (fact.when or date.min, fact.ref)


# A group without undated facts sorts by (when, ref) read in C: no Python call per fact.
_DATED = operator.itemgetter(Fact._fields.index("when"), Fact._fields.index("ref"))


def index_facts(facts: Iterable[Fact]) -> dict[str, tuple[Fact, ...]]:
    """Group facts by kind, each group sorted by date (undated first, then by reference)."""
    groups: dict[str, list[Fact]] = {}
    undated: set[str] = set()
    for fact in facts:
        groups.setdefault(fact.kind, []).append(fact)
        if fact.when is None:
            undated.add(fact.kind)
    return {
        kind: tuple(sorted(items, key=_undated_first if kind in undated else _DATED))
        for kind, items in groups.items()
    }
