"""Facts possibly another cancer's: criteria evaluated with and without them (consensus side)."""

from __future__ import annotations

from consensus.patient import NET, Patient
from consensus.settings import Settings
from fhir_mappings.facts import (
    LIVER,
    POSSIBLY_OTHER_CANCER,
    PRIMARY,
    UNKNOWN_SITE,
    Fact,
    PatientFacts,
    Quantity,
    index_facts,
)
from tests.fhir_builders import TODAY

OTHER = (POSSIBLY_OTHER_CANCER,)
BREAST = Fact("other-cancer", "active", None, "Condition/breast", "breast")
PNEN = Fact("pnen", "pNEN", None, "Condition/p", "pNEN")
LIVER_METS = Fact("liver-metastasis", "LM", None, "Condition/lm", "liver metastases")


def ki67(value: float, ref: str, site: str = PRIMARY, flags: tuple[str, ...] = ()) -> Fact:
    return Fact("ki67", Quantity(value, "%"), TODAY, ref, f"Ki-67 {value:g} %", site, flags)


def view(*facts: Fact) -> Patient:
    record = PatientFacts("Patient/x", None, index_facts([PNEN, LIVER_METS, BREAST, *facts]))
    return Patient(record, TODAY, Settings())


def test_flagged_facts_are_not_the_pnens_own() -> None:
    p = view(ki67(2, "Observation/p"), ki67(30, "Observation/b", UNKNOWN_SITE, OTHER))
    assert [f.ref for f in p.facts.all("ki67")] == ["Observation/p"]
    assert [f.ref for f in p.possibly_other] == ["Observation/b"]
    assert p.highest_ki67 is not None and p.highest_ki67.ref == "Observation/p"


def test_lower_flagged_ki67_changes_no_grade() -> None:
    p = view(ki67(15, "Observation/p", LIVER), ki67(1, "Observation/b", UNKNOWN_SITE, OTHER))
    assert p.overall_grade is not None and p.overall_grade.grade == 2
    assert p.grade_contested == ()


def test_only_a_flagged_ki67_leaves_grade_unknown_and_says_why() -> None:
    p = view(ki67(30, "Observation/b", UNKNOWN_SITE, OTHER))
    assert p.overall_grade is None
    criterion = p.g1_g2("G1–G2")
    assert criterion.unknown
    assert criterion.missing == (
        "grade (Ki-67 or mitotic count)",
        "whether Ki-67 30 % (Observation/b) is the pNEN's: it may belong to the other cancer "
        "(breast, Condition/breast)",
    )


def test_flagged_poorly_differentiated_leaves_a_net_unknown() -> None:
    well = Fact("differentiation", "well", TODAY, "Observation/w", "well", PRIMARY)
    poorly = Fact(
        "differentiation", "poorly", TODAY, "Observation/q", "poorly", UNKNOWN_SITE, OTHER
    )
    assert view(ki67(2, "Observation/p"), well).differentiation[0] == NET
    kind, evidence = view(ki67(2, "Observation/p"), well, poorly).differentiation
    assert kind is None and poorly in evidence


def test_flagged_mitotic_count_contests_the_grade_like_ki67() -> None:
    mitoses = Fact(
        "mitotic-count", Quantity(25, "/2 mm²"), TODAY, "Observation/m", "m", UNKNOWN_SITE, OTHER
    )
    p = view(ki67(2, "Observation/p"), mitoses)
    grade = p.overall_grade
    assert grade is not None and (grade.low, grade.high) == (1, 3)
    assert "another cancer" in grade.label
