"""Results reported as bounds ('< 5 %', '> 25 %') decide only what every allowed value agrees on.

A bound is never read as the number it names (clinical review, finding 1): '< 5 %' is G1 or G2,
not G2; '> 5 %' does not meet 'Ki-67 < 10 %'; a remnant liver volume '> 25 %' leaves resectability
unknown. Where the bound settles the question it does ('< 2 %' is G1, '> 20 %' is G3).
"""

from __future__ import annotations

from typing import Any

import pytest

from consensus.patient import ki67_grades, mitotic_grades
from fhir_mappings.facts import LIVER, PRIMARY, Quantity
from tests.fhir_builders import (
    LOINC,
    base_pnen_lm,
    differentiation,
    enets,
    fired,
    flag,
    ki67,
    number,
    observation,
    patient_view,
    pnen_obs,
    run,
)


def bounded_ki67(value: float, comparator: str, site: str = "liver") -> dict[str, Any]:
    """A Ki-67 reported as a bound, e.g. '< 5 %' (valueQuantity.comparator)."""
    resource = ki67(value, site)
    resource["valueQuantity"]["comparator"] = comparator
    return resource


@pytest.mark.parametrize(
    ("comparator", "value", "grades"),
    [
        ("<", 2, (1, 1)),  # "< 2 %" is below 2: G1
        ("<", 3, (1, 1)),
        ("<=", 3, (1, 2)),
        ("<", 5, (1, 2)),  # could be 1 % (G1) or 4 % (G2)
        ("<=", 20, (1, 2)),
        ("<", 25, (1, 3)),
        (">", 5, (2, 3)),
        (">", 20, (3, 3)),
        (">=", 20, (2, 3)),
        (">=", 21, (3, 3)),
    ],
)
def test_a_ki67_bound_allows_only_the_grades_it_cannot_exclude(
    comparator: str, value: float, grades: tuple[int, int]
) -> None:
    assert ki67_grades(Quantity(value, "%", comparator)) == grades


@pytest.mark.parametrize(
    ("comparator", "value", "grades"),
    [("<", 2, (1, 1)), ("<", 10, (1, 2)), (">", 20, (3, 3)), (">=", 20, (2, 3))],
)
def test_a_mitotic_count_bound_allows_only_its_grades(
    comparator: str, value: float, grades: tuple[int, int]
) -> None:
    assert mitotic_grades(Quantity(value, "/2 mm²", comparator)) == grades


def test_a_bound_that_straddles_a_cut_off_leaves_the_site_grade_open() -> None:
    p = patient_view([*base_pnen_lm(), bounded_ki67(5, "<", "primary")])
    grade = p.site_grades[PRIMARY]
    assert grade.grade is None and (grade.low, grade.high) == (1, 2)
    assert grade.label == "G1–G2 (primary; exact value needed)"


def test_an_open_primary_grade_below_a_known_liver_grade_is_no_discordance() -> None:
    record = [
        *base_pnen_lm(),
        differentiation("well"),
        bounded_ki67(5, "<", "primary"),
        ki67(1.5, "liver"),
    ]
    assert "grade-discordant" not in fired(record)
    assert patient_view(record).grade is None, "G1 or G2 overall: not known"


def test_a_bound_that_settles_the_grade_still_grades() -> None:
    p = patient_view([*base_pnen_lm(), bounded_ki67(25, ">")])
    assert p.site_grades[LIVER].grade == 3 and p.grade == 3


def test_ki67_above_5_does_not_meet_ki67_below_10() -> None:
    criterion = patient_view([*base_pnen_lm(), bounded_ki67(5, ">")]).ki67_criterion(
        "highest Ki-67 < 10 %", "<", 10
    )
    assert criterion.unknown
    assert criterion.missing == ("exact Ki-67 (reported as > 5 %)",)


def test_ki67_above_5_gets_no_ssa_first_line_suggestion() -> None:
    record = [
        *base_pnen_lm(),
        differentiation("well"),
        bounded_ki67(5, ">"),
        flag("r0-r1-feasible", False),
        pnen_obs("sstr2-ihc", valueString="3+"),
    ]
    rec = run(record).get("ssa-first-line")
    assert rec is None or not rec.suggestions
    if rec is not None:
        assert any("exact Ki-67" in m for m in rec.missing)


def test_ki67_below_15_does_not_trigger_fdg_pet_as_above_10() -> None:
    record = [*base_pnen_lm(), differentiation("well"), bounded_ki67(15, "<")]
    assert "pet-fdg" not in fired(record)


def test_a_highest_ki67_test_uses_every_site() -> None:
    record = [*base_pnen_lm(), bounded_ki67(5, "<", "primary"), ki67(12, "liver")]
    p = patient_view(record)
    assert p.ki67_criterion("highest Ki-67 > 10 %", ">", 10).met  # the liver settles it
    assert p.ki67_criterion("highest Ki-67 < 10 %", "<", 10).not_met


def test_a_remnant_liver_volume_above_25_leaves_resectability_unknown() -> None:
    record = [
        *base_pnen_lm(),
        flag("r0-r1-feasible", True),
        pnen_obs(
            "remnant-liver-volume", valueQuantity={"value": 25, "unit": "%", "comparator": ">"}
        ),
    ]
    p = patient_view(record)
    assert p.remnant_ok.unknown
    assert p.remnant_ok.missing == ("exact expected remnant liver volume (%) (reported as > 25 %)",)
    assert p.resectability.unknown and p.advanced.unknown


@pytest.mark.parametrize(("value", "resectable"), [(35, True), (29, None)])
def test_a_remnant_bound_that_settles_the_threshold_decides(
    value: float, resectable: bool | None
) -> None:
    comparator = ">" if resectable else "<"
    record = [
        *base_pnen_lm(),
        flag("r0-r1-feasible", True),
        pnen_obs(
            "remnant-liver-volume",
            valueQuantity={"value": value, "unit": "%", "comparator": comparator},
        ),
    ]
    p = patient_view(record)
    if resectable:
        assert p.resectability.met
    else:
        assert p.resectability.not_met  # "< 29 %" is below 30 % whatever its value


def test_exact_values_are_unaffected() -> None:
    p = patient_view([*base_pnen_lm(), number("remnant-liver-volume", 30)])
    assert p.remnant_ok.met


@pytest.mark.parametrize(
    ("comparator", "value", "status"),
    [("<", 5, "met"), ("<=", 20, "met"), (">", 15, "unknown"), (">", 20, "not met")],
)
def test_g1_g2_is_decided_by_a_bound_only_when_every_allowed_grade_agrees(
    comparator: str, value: float, status: str
) -> None:
    record = [*base_pnen_lm(), differentiation("well"), bounded_ki67(value, comparator)]
    criterion = patient_view(record).g1_g2("G1–G2")
    assert criterion.status.value == status
    if status == "unknown":
        assert criterion.missing == (f"exact Ki-67 or mitotic count (reported as > {value:g} %)",)


def _egfr(value: float, comparator: str) -> dict[str, Any]:
    return observation(
        (LOINC, "33914-3"),
        valueQuantity={"value": value, "unit": "mL/min/1.73m2", "comparator": comparator},
    )


@pytest.mark.parametrize(
    ("comparator", "value", "status"),
    [(">", 90, "not met"), ("<", 15, "met"), ("<", 60, "unknown")],
)
def test_an_egfr_bound_decides_contrast_caution_only_when_it_settles_it(
    comparator: str, value: float, status: str
) -> None:
    record = [*base_pnen_lm(), enets("II"), _egfr(value, comparator)]
    rec = run(record)["liver-mri-hepatobiliary"]
    contrast = next(c for c in rec.criteria if c.name.startswith("contrast contraindicated"))
    assert contrast.status.value == status


@pytest.mark.parametrize(("comparator", "value", "listed"), [(">", 12, True), ("<", 15, False)])
def test_a_tmb_bound_is_actionable_only_when_it_is_surely_high(
    comparator: str, value: float, listed: bool
) -> None:
    tmb = observation(
        (LOINC, "94076-7"), valueQuantity={"value": value, "unit": "/Mb", "comparator": comparator}
    )
    assert ("molecular-actionable" in fired([*base_pnen_lm(), tmb])) is listed
