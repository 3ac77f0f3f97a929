"""Three-valued criteria: unknown is never treated as met or as not met."""

from __future__ import annotations

from datetime import date

import pytest

from consensus.criteria import MET, NOT_MET, UNKNOWN, Status, all_of, any_of, known, negate, unknown
from fhir_mappings.facts import Fact

FACT = Fact("ki67", 5, date(2026, 1, 1), "Observation/1", "Ki-67 5 %")


def _c(status: Status) -> object:
    if status is MET:
        return known("a", True, [FACT])
    if status is NOT_MET:
        return known("a", False, [FACT])
    return unknown("a", "Ki-67")


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (MET, MET, MET),
        (MET, NOT_MET, NOT_MET),
        (MET, UNKNOWN, UNKNOWN),
        (NOT_MET, UNKNOWN, NOT_MET),
        (UNKNOWN, UNKNOWN, UNKNOWN),
    ],
)
def test_all_of_is_kleene_and(left: Status, right: Status, expected: Status) -> None:
    assert all_of("x", _c(left), _c(right)).status is expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        (MET, UNKNOWN, MET),
        (NOT_MET, NOT_MET, NOT_MET),
        (NOT_MET, UNKNOWN, UNKNOWN),
        (UNKNOWN, UNKNOWN, UNKNOWN),
    ],
)
def test_any_of_is_kleene_or(left: Status, right: Status, expected: Status) -> None:
    assert any_of("x", _c(left), _c(right)).status is expected  # type: ignore[arg-type]


def test_unknown_result_names_the_missing_data() -> None:
    combined = all_of("x", known("a", True, [FACT]), unknown("b", "remnant liver volume"))
    assert combined.unknown and combined.missing == ("remnant liver volume",)
    assert combined.evidence == (FACT,)


def test_negate_keeps_unknown_unknown() -> None:
    assert negate("not b", unknown("b", "x")).unknown
    assert negate("not b", known("b", True)).not_met
