"""WHO 2019 grading and NET / NEC / G3-unknown classification (consensus-rules.md definitions)."""

from __future__ import annotations

from typing import Any

import pytest

from consensus.patient import (
    CONFLICT,
    G3_UNKNOWN,
    NEC,
    NET,
    ki67_grade,
    mitotic_grade,
)
from fhir_mappings.facts import LIVER, PRIMARY, UNKNOWN_SITE, Quantity
from fhir_mappings.terminology import LOINC, PNEN, SNOMED
from tests.fhir_builders import (
    base_pnen_lm,
    cc,
    coded,
    condition,
    days_ago,
    differentiation,
    ki67,
    mitoses,
    observation,
    patient_view,
    pnen_obs,
)

KI67 = (LOINC, "29593-1")
LIVER_SITE = {"coding": [{"system": SNOMED, "code": "10200004"}]}


def grade_at(site: str | None, value: str) -> dict[str, Any]:
    """A reported WHO grade ('G1'…'G3') at a site."""
    extra: dict[str, Any] = {}
    if site == "primary":
        extra["bodySite"] = {"coding": [{"system": SNOMED, "code": "15776009"}]}
    elif site == "liver":
        extra["bodySite"] = LIVER_SITE
    return pnen_obs("who-grade", **coded(PNEN, value), **extra)


def ki67_string(text: str) -> dict[str, Any]:
    """A Ki-67 given as valueString at the liver."""
    return observation(KI67, valueString=text, bodySite=LIVER_SITE)


# --- cut-offs ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "grade"),
    [(0, 1), (2.9, 1), (3, 2), (10, 2), (10.1, 2), (20, 2), (20.1, 3), (80, 3)],
)
def test_ki67_grade_at_and_around_each_cut_off(value: float, grade: int) -> None:
    assert ki67_grade(Quantity(value, "%")) == grade
    p = patient_view([*base_pnen_lm(), ki67(value, "liver")])
    assert p.site_grades[LIVER].grade == grade
    assert p.grade == grade


@pytest.mark.parametrize(
    ("value", "grade"),
    [(0, 1), (1.9, 1), (2, 2), (20, 2), (20.1, 3)],
)
def test_mitotic_grade_at_and_around_each_cut_off(value: float, grade: int) -> None:
    assert mitotic_grade(Quantity(value, "/2 mm²")) == grade
    p = patient_view([*base_pnen_lm(), mitoses(value, "primary")])
    assert p.site_grades[PRIMARY].grade == grade


@pytest.mark.parametrize(
    ("ki", "mitotic", "grade"),
    [(2, 5, 2), (15, 1, 2), (2, 25, 3), (25, 1, 3), (2, 1, 1), (15, 15, 2)],
)
def test_site_grade_is_the_higher_of_ki67_and_mitoses(
    ki: float, mitotic: float, grade: int
) -> None:
    p = patient_view([*base_pnen_lm(), ki67(ki, "liver"), mitoses(mitotic, "liver")])
    site = p.site_grades[LIVER]
    assert site.grade == grade
    assert {f.kind for f in site.evidence} == {"ki67", "mitotic-count"}


def test_reported_grade_is_ignored_where_the_site_has_a_ki67() -> None:
    p = patient_view([*base_pnen_lm(), ki67(5, "liver"), grade_at("liver", "G3")])
    assert p.site_grades[LIVER].grade == 2
    assert [f.kind for f in p.site_grades[LIVER].evidence] == ["ki67"]


def test_reported_grade_is_ignored_where_the_site_has_a_mitotic_count() -> None:
    p = patient_view([*base_pnen_lm(), mitoses(1, "primary"), grade_at("primary", "G2")])
    assert p.site_grades[PRIMARY].grade == 1


def test_reported_grade_is_used_where_the_site_has_neither() -> None:
    p = patient_view([*base_pnen_lm(), ki67(5, "liver"), grade_at("primary", "G3")])
    assert p.site_grades[PRIMARY].grade == 3
    assert p.site_grades[LIVER].grade == 2
    assert p.overall_grade is not None and p.overall_grade.site == PRIMARY


def test_overall_grade_is_the_highest_site_grade_including_unknown_site() -> None:
    p = patient_view([*base_pnen_lm(), ki67(2, "primary"), ki67(8, "liver"), ki67(30, None)])
    assert {s: g.grade for s, g in p.site_grades.items()} == {
        PRIMARY: 1,
        LIVER: 2,
        UNKNOWN_SITE: 3,
    }
    assert p.overall_grade is not None
    assert (p.overall_grade.grade, p.overall_grade.site) == (3, UNKNOWN_SITE)


def test_equal_site_grades_name_the_liver_as_the_site_that_sets_it() -> None:
    p = patient_view([*base_pnen_lm(), ki67(5, "primary"), ki67(12, "liver")])
    assert p.overall_grade is not None and p.overall_grade.label == "G2 (liver metastasis)"


def test_each_site_uses_its_most_recent_ki67() -> None:
    p = patient_view(
        [
            *base_pnen_lm(),
            ki67(30, "liver", when=days_ago(400)),
            ki67(5, "liver", when=days_ago(20)),
        ]
    )
    assert p.site_grades[LIVER].grade == 2
    assert p.highest_ki67 is not None and p.highest_ki67.value.value == 5


def test_highest_ki67_is_the_maximum_of_each_sites_latest() -> None:
    p = patient_view([*base_pnen_lm(), ki67(4, "primary"), ki67(14, "liver"), ki67(9, None)])
    assert p.highest_ki67 is not None and p.highest_ki67.value.value == 14


def test_no_grade_without_ki67_mitoses_or_reported_grade() -> None:
    p = patient_view(base_pnen_lm())
    assert p.site_grades == {}
    assert p.overall_grade is None and p.grade is None


# --- shapes of Ki-67 that grading must read right ----------------------------------------------
@pytest.mark.parametrize(
    ("text", "grade"),
    [("<2%", 1), ("< 2 %", 1), ("<3%", 1), ("3%", 2), (">20%", 3), ("20%", 2)],
)
def test_ki67_bounds_grade_on_the_correct_side(text: str, grade: int) -> None:
    p = patient_view([*base_pnen_lm(), ki67_string(text)])
    assert p.site_grades[LIVER].grade == grade


def test_ki67_below_2_percent_is_below_2() -> None:
    p = patient_view([*base_pnen_lm(), ki67_string("<2%")])
    fact = p.site_grades[LIVER].evidence[0]
    assert fact.value.effective < 2
    assert fact.text == "Ki-67 < 2 % (liver metastasis)"


@pytest.mark.parametrize(
    "resource",
    [
        ki67_string("10-25%"),
        observation(
            KI67,
            valueRange={"low": {"value": 10, "unit": "%"}, "high": {"value": 25, "unit": "%"}},
            bodySite=LIVER_SITE,
        ),
    ],
    ids=["string range", "valueRange"],
)
def test_ki67_range_straddling_20_percent_leaves_the_grade_g2_to_g3(
    resource: dict[str, Any],
) -> None:
    # consensus-rules.md: a range behaves like the bound of its two ends.
    p = patient_view([*base_pnen_lm(), resource])
    grade = p.site_grades[LIVER]
    assert (grade.low, grade.high, grade.grade) == (2, 3, None)
    assert grade.evidence[0].value.display() == "10–25 %"


@pytest.mark.parametrize(("printed", "grade"), [("5-10%", 2), ("21-30%", 3), ("1-2%", 1)])
def test_ki67_range_within_one_grade_sets_it(printed: str, grade: int) -> None:
    p = patient_view([*base_pnen_lm(), ki67_string(printed)])
    assert p.site_grades[LIVER].grade == grade


# --- NET / NEC / G3 differentiation unknown -----------------------------------------------------
NEC_CODE = (SNOMED, "1186869002")


@pytest.mark.parametrize(
    ("resources", "kind"),
    [
        ([differentiation("well"), ki67(5, "liver")], NET),
        ([differentiation("well"), ki67(40, "liver")], NET),
        ([differentiation("well")], NET),
        ([differentiation("poorly"), ki67(60, "liver")], NEC),
        ([differentiation("poorly"), ki67(15, "liver")], NEC),
        ([condition(*NEC_CODE), ki67(60, "liver")], NEC),
        ([condition(*NEC_CODE), ki67(5, "liver")], NEC),
        ([differentiation("well"), condition(*NEC_CODE)], CONFLICT),
        ([ki67(15, "liver")], NET),
        ([ki67(20, "liver")], NET),
        ([ki67(20.1, "liver")], G3_UNKNOWN),
        ([ki67(2, "primary"), ki67(25, "liver")], G3_UNKNOWN),
        ([ki67(25, None)], G3_UNKNOWN),
        ([ki67(15, "liver"), mitoses(21, "liver")], G3_UNKNOWN),
        ([ki67(15, "liver"), mitoses(20, "liver")], NET),
        ([grade_at("liver", "G3")], G3_UNKNOWN),
        ([grade_at("liver", "G2")], None),
        ([grade_at("liver", "G1")], None),
        ([mitoses(5, "liver")], None),
        ([], None),
    ],
    ids=[
        "well recorded",
        "well recorded with Ki-67 40",
        "well recorded without grade",
        "poorly recorded",
        "poorly recorded with Ki-67 15",
        "NEC code",
        "NEC code with Ki-67 5",
        "well recorded and NEC code",
        "Ki-67 15 inferred NET",
        "Ki-67 20 inferred NET",
        "Ki-67 20.1",
        "Ki-67 25 at one site",
        "Ki-67 25 site unknown",
        "mitoses 21",
        "mitoses 20",
        "reported G3 only",
        "reported G2 only",
        "reported G1 only",
        "mitoses only",
        "nothing",
    ],
)
def test_differentiation_classes(resources: list[dict[str, Any]], kind: str | None) -> None:
    p = patient_view([*base_pnen_lm(), *resources])
    assert p.differentiation[0] == kind


def test_net_inferred_from_ki67_cites_the_grading_facts() -> None:
    p = patient_view([*base_pnen_lm(), ki67(4, "primary"), ki67(15, "liver")])
    assert p.is_net and not p.is_nec and not p.is_g3_unknown
    assert sorted(f.value.value for f in p.differentiation[1]) == [4, 15]


def test_reported_grade_alone_leaves_differentiation_unknown() -> None:
    p = patient_view([*base_pnen_lm(), grade_at("liver", "G2")])
    assert p.grade == 2
    assert not p.is_net and not p.is_nec and not p.is_g3_unknown
    assert not p.is_net_g12


def test_net_g3_coded_needs_well_differentiated_recorded() -> None:
    recorded = patient_view([*base_pnen_lm(), differentiation("well"), ki67(30, "liver")])
    inferred = patient_view([*base_pnen_lm(), ki67(30, "liver")])
    assert recorded.is_net_g3
    assert not inferred.is_net_g3 and inferred.is_g3_unknown


def test_latest_recorded_differentiation_wins() -> None:
    p = patient_view(
        [
            *base_pnen_lm(),
            differentiation("well", when=days_ago(400)),
            differentiation("poorly", when=days_ago(10)),
            ki67(40, "liver"),
        ]
    )
    assert p.is_nec


# --- differentiation across sites (clinical review, finding 13) ---------------------------------
def _differentiation_at(value: str, site: str, days: int) -> dict[str, Any]:
    resource = differentiation(value, when=days_ago(days))
    resource["bodySite"] = cc(SNOMED, "10200004" if site == "liver" else "15776009")
    return resource


@pytest.mark.parametrize(("older", "newer"), [("well", "poorly"), ("poorly", "well")])
def test_well_at_one_site_and_poorly_at_the_other_is_a_conflict_whatever_the_order(
    older: str, newer: str
) -> None:
    record = [
        *base_pnen_lm(),
        _differentiation_at(older, "primary", 300),
        _differentiation_at(newer, "liver", 30),
    ]
    kind, evidence = patient_view(record).differentiation
    assert kind == CONFLICT and len(evidence) == 2


def test_a_site_re_read_keeps_only_its_latest_differentiation() -> None:
    record = [
        *base_pnen_lm(),
        _differentiation_at("poorly", "liver", 300),
        _differentiation_at("well", "liver", 30),
    ]
    assert patient_view(record).differentiation[0] == NET
