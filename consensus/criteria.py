"""Three-valued criteria: met, not met or unknown, each with the evidence and the missing data."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import NamedTuple

from fhir_mappings.facts import Fact
from pnen_i18n import _


class Status(Enum):
    """Kleene truth values: unknown is never treated as met or as not met."""

    # Members are singletons compared by identity: hash them so too. Enum's own __hash__ is a
    # Python call (hash of the name), paid on every dict look-up keyed by a member.
    __hash__ = object.__hash__

    MET = "met"
    NOT_MET = "not met"
    UNKNOWN = "unknown"


MET, NOT_MET, UNKNOWN = Status.MET, Status.NOT_MET, Status.UNKNOWN


class Criterion(NamedTuple):
    """One named criterion, its status, the facts behind it and what data would settle it.

    A named tuple, not a frozen dataclass: rules build a hundred or more per request, and a
    frozen dataclass pays an `object.__setattr__` call per field for each (immutable either way).
    """

    name: str
    status: Status
    evidence: tuple[Fact, ...] = ()
    missing: tuple[str, ...] = ()
    note: str = ""
    datum: str = ""  # the open fact that would settle it, as "decisions waiting on data" name it
    needed: bool = True  # False: an alternative of its OR group is met, so it decides nothing

    @property
    def met(self) -> bool:
        """True only when known to be met."""
        return self.status is MET

    @property
    def not_met(self) -> bool:
        """True only when known not to be met."""
        return self.status is NOT_MET

    @property
    def unknown(self) -> bool:
        """True when the data do not settle it."""
        return self.status is UNKNOWN

    def named(self, name: str) -> Criterion:
        """The same criterion under another name."""
        return self._replace(name=name)

    @property
    def data_wanted(self) -> tuple[str, ...]:
        """The open facts that would settle it: its datum, else each missing item, else its name."""
        if self.status is not UNKNOWN or not self.needed:
            return ()
        if self.datum:
            return (self.datum,)
        return self.missing or (self.name,)


def known(name: str, value: bool, evidence: Iterable[Fact] = (), note: str = "") -> Criterion:
    """A criterion settled by the data."""
    return Criterion(name, MET if value else NOT_MET, tuple(evidence), (), note)


def unknown(name: str, missing: str | Iterable[str], evidence: Iterable[Fact] = ()) -> Criterion:
    """A criterion the data do not settle, naming what is missing."""
    needs = (missing,) if isinstance(missing, str) else tuple(missing)
    return Criterion(name, UNKNOWN, tuple(evidence), needs)


def evidence_of(criteria: Iterable[Criterion]) -> tuple[Fact, ...]:
    """Every fact behind the criteria, once each, in order (a card's *why*)."""
    return tuple(dict.fromkeys(f for c in criteria for f in c.evidence))


def missing_of(criteria: Iterable[Criterion]) -> tuple[str, ...]:
    """Every piece of data the criteria lack, once each, in order (a card's *missing data*)."""
    return tuple(dict.fromkeys(m for c in criteria if c.needed for m in c.missing))


def _merge(criteria: Iterable[Criterion]) -> tuple[tuple[Fact, ...], tuple[str, ...]]:
    items = tuple(criteria)
    return evidence_of(items), missing_of(items)


def all_of(name: str, *criteria: Criterion) -> Criterion:
    """Met when all are met; not met when any is not met (with that evidence); else unknown."""
    failed = [c for c in criteria if c.status is NOT_MET]
    if failed:
        evidence, _ = _merge(failed)
        return Criterion(name, NOT_MET, evidence)
    evidence, missing = _merge(criteria)
    if all(c.status is MET for c in criteria):
        return Criterion(name, MET, evidence)
    return Criterion(name, UNKNOWN, evidence, missing)


def any_of(name: str, *criteria: Criterion) -> Criterion:
    """Met when any is met (with that evidence); not met when all are not met; else unknown."""
    passed = [c for c in criteria if c.status is MET]
    if passed:
        evidence, _ = _merge(passed)
        return Criterion(name, MET, evidence)
    evidence, missing = _merge(criteria)
    if all(c.status is NOT_MET for c in criteria):
        return Criterion(name, NOT_MET, evidence)
    return Criterion(name, UNKNOWN, evidence, missing)


def alternatives(*criteria: Criterion) -> tuple[Criterion, ...]:
    """Rows of an OR group: once one is met, its unknown alternatives wait on nothing (CR-7)."""
    if not any(c.met for c in criteria):
        return criteria
    return tuple(
        c._replace(needed=False, note=c.note or _("not needed: an alternative is met"))
        if c.unknown
        else c
        for c in criteria
    )


def negate(name: str, criterion: Criterion) -> Criterion:
    """The opposite criterion; unknown stays unknown."""
    flipped = {MET: NOT_MET, NOT_MET: MET, UNKNOWN: UNKNOWN}[criterion.status]
    return criterion._replace(name=name, status=flipped)


def waiting_on(criteria: Iterable[Criterion]) -> tuple[str, ...]:
    """The open facts a decision waits on: none when a criterion is not met, else the unknowns'.

    A rule whose criteria are all met or unknown would fire (or fires with missing data) once
    these are recorded; one criterion known not met settles it whatever the unknowns show.
    """
    items = tuple(criteria)
    if any(c.status is NOT_MET for c in items):
        return ()
    return tuple(dict.fromkeys(d for c in items if c.status is UNKNOWN for d in c.data_wanted))
