"""Observation values as labs print them, TNM in SNOMED, impossible values and missing elements."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings.values import APPROXIMATE, decimal, value_from_text
from tests.fhir_builders import (
    LOINC,
    PNEN,
    SNOMED,
    cc,
    facts_for,
    observation,
    pnen_obs,
)

KI67 = (LOINC, "29593-1")


def _ki67_of(**value: Any) -> Any:
    fact = facts_for([observation(KI67, **value)]).latest("ki67")
    return fact.value if fact else None


@pytest.mark.parametrize(
    ("text", "value", "comparator"),
    [
        ("15%", 15.0, None),
        ("15 %", 15.0, None),
        ("Ki-67: 15%", 15.0, None),
        ("approximately 12% (hot spot)", 12.0, None),
        ("less than 1%", 1.0, "<"),
        ("<2%", 2.0, "<"),
        ("20,5 %", 20.5, None),
        ("≤ 3 %", 3.0, "<="),
    ],
)
def test_ki67_printed_forms_are_read(text: str, value: float, comparator: str | None) -> None:
    q = _ki67_of(valueString=text)
    assert (q.value, q.unit, q.comparator) == (value, "%", comparator)


def test_decimal_comma_ki67_20_5_is_g3_side_not_20() -> None:
    assert _ki67_of(valueString="20,5 %").compare(">", 20) is True


def test_range_5_to_10_percent_keeps_both_ends() -> None:
    fact = facts_for([observation(KI67, valueString="5-10%")]).latest("ki67")
    assert fact is not None and (fact.value.low, fact.value.value) == (5, 10)


def test_approximate_value_is_flagged() -> None:
    fact = facts_for([observation(KI67, valueString="approximately 12% (hot spot)")]).latest("ki67")
    assert fact is not None and APPROXIMATE in fact.flags


def test_unreadable_ki67_text_gives_no_value() -> None:
    assert _ki67_of(valueString="see report") is None


@pytest.mark.parametrize(("text", "value"), [("20,5", 20.5), ("1,250", 1250.0), ("12.5", 12.5)])
def test_decimal_reads_commas_as_decimal_or_thousands(text: str, value: float) -> None:
    assert decimal(text) == value


def test_value_from_text_refuses_two_numbers() -> None:
    assert value_from_text("15 20") is None


def test_ki67_as_a_ratio_of_cells_is_a_percentage() -> None:
    q = _ki67_of(valueRatio={"numerator": {"value": 150}, "denominator": {"value": 1000}})
    assert (q.value, q.unit) == (15.0, "%")


def test_ki67_as_an_integer_is_a_percentage() -> None:
    assert _ki67_of(valueInteger=7).value == 7.0


def test_mitoses_as_a_ratio_per_one_mm2_are_scaled_to_2_mm2() -> None:
    res = pnen_obs(
        "mitotic-count",
        valueRatio={"numerator": {"value": 3}, "denominator": {"value": 1, "unit": "mm2"}},
    )
    fact = facts_for([res]).latest("mitotic-count")
    assert fact is not None and fact.value.value == 6.0


@pytest.mark.parametrize(
    "value",
    [
        {"valueQuantity": {"value": 150, "unit": "%"}},
        {"valueQuantity": {"value": -5, "unit": "%"}},
        {"valueString": "150%"},
    ],
)
def test_impossible_ki67_is_a_data_issue_and_not_used(value: dict[str, Any]) -> None:
    mapped = facts_for([observation(KI67, rid="ki-bad", **value)])
    assert not mapped.has("ki67")
    assert [i.reference for i in mapped.data_issues] == ["Observation/ki-bad"]


def test_ki67_of_100_percent_is_possible() -> None:
    assert _ki67_of(valueQuantity={"value": 100, "unit": "%"}).value == 100


def test_negative_chromogranin_is_a_data_issue() -> None:
    res = observation(
        (LOINC, "9811-1"), rid="cga-neg", valueQuantity={"value": -3, "unit": "ng/mL"}
    )
    mapped = facts_for([res])
    assert not mapped.has("cga") and mapped.data_issues[0].reference == "Observation/cga-neg"


def test_negative_mitotic_count_is_a_data_issue() -> None:
    mapped = facts_for([pnen_obs("mitotic-count", valueInteger=-1)])
    assert not mapped.has("mitotic-count") and mapped.data_issues


def test_observation_without_status_is_a_data_issue() -> None:
    res = observation(KI67, rid="no-status", valueQuantity={"value": 5, "unit": "%"})
    del res["status"]
    mapped = facts_for([res])
    assert not mapped.has("ki67")
    assert mapped.data_issues[0].problem == "status: missing; not used"


def test_observation_without_code_is_a_data_issue() -> None:
    res = observation(KI67, rid="no-code", valueQuantity={"value": 5, "unit": "%"})
    del res["code"]
    mapped = facts_for([res])
    assert mapped.data_issues[0].problem == "code: missing; not used"


@pytest.mark.parametrize(
    ("code", "value", "kind", "expected"),
    [
        ("399387003", "1229901006", "tnm-m", "M0"),
        ("399387003", "1229903009", "tnm-m", "M1"),
        ("371497001", "1229904003", "tnm-m", "M1a"),
        ("399387003", "1229907005", "tnm-m", "M1b"),
        ("399504009", "1228938002", "tnm-t", "T3"),
        ("384625004", "1229859000", "tnm-t", "T3"),
        ("399534004", "1229967007", "tnm-n", "N0"),
        ("371494008", "1229947003", "tnm-n", "N0"),
        ("399537006", "1222769001", "tnm-stage", "IIB"),
        ("399588009", "1222806003", "tnm-stage", "IIIC"),
    ],
)
def test_snomed_tnm_categories_with_snomed_values(
    code: str, value: str, kind: str, expected: str
) -> None:
    fact = facts_for([observation((SNOMED, code), valueCodeableConcept=cc(SNOMED, value))]).latest(
        kind
    )
    assert fact is not None and fact.value == expected


def test_snomed_m1b_is_an_extrahepatic_metastasis() -> None:
    res = observation((SNOMED, "399387003"), valueCodeableConcept=cc(SNOMED, "1229907005"))
    assert facts_for([res]).has("extrahepatic-metastasis")


def test_loinc_tnm_with_an_unlisted_snomed_value_is_read_from_its_display() -> None:
    value = cc(SNOMED, "1229951000", "American Joint Committee on Cancer pN1 (qualifier value)")
    fact = facts_for([observation((LOINC, "21900-6"), valueCodeableConcept=value)]).latest("tnm-n")
    assert fact is not None and fact.value == "N1"


@pytest.mark.parametrize(("code", "grade"), [("54102005", 1), ("1663004", 2), ("61026006", 3)])
def test_generic_histologic_grade_gives_a_grade_never_a_differentiation(
    code: str, grade: int
) -> None:
    value = cc(SNOMED, code, "Grade 3: poorly differentiated")
    mapped = facts_for([observation((PNEN, "who-grade"), valueCodeableConcept=value)])
    fact = mapped.latest("who-grade")
    assert fact is not None and fact.value == grade
    assert not mapped.has("differentiation")


def test_generic_grade_3_under_a_differentiation_code_sets_no_differentiation() -> None:
    value = cc(SNOMED, "61026006", "Grade 3: poorly differentiated")
    mapped = facts_for([observation((PNEN, "differentiation"), valueCodeableConcept=value)])
    assert not mapped.has("differentiation")


@pytest.mark.parametrize(
    ("system", "code"),
    [
        ("http://www.genenames.org", "HGNC:7010"),
        ("http://www.genenames.org", "7010"),
        ("http://www.genenames.org/geneId", "HGNC:7010"),
    ],
)
def test_men1_gene_under_hgnc_uri_forms(system: str, code: str) -> None:
    res = observation(
        (LOINC, "69548-6"),
        valueCodeableConcept=cc(LOINC, "LA9633-4"),
        component=[{"code": cc(LOINC, "48018-6"), "valueCodeableConcept": cc(system, code)}],
    )
    fact = facts_for([res]).latest("gene-alteration")
    assert fact is not None and fact.value == ("MEN1", "alteration")


def test_unreadable_ki67_text_is_a_data_issue() -> None:
    mapped = facts_for([observation(KI67, rid="ki-text", valueString="see report")])
    assert [(i.reference, i.problem) for i in mapped.data_issues] == [
        (
            "Observation/ki-text",
            "valueString: Ki-67 proliferation index could not be read; not used",
        )
    ]


def test_unreadable_lab_text_is_a_data_issue() -> None:
    res = observation((LOINC, "9811-1"), rid="cga-text", valueString="hemolysed")
    mapped = facts_for([res])
    assert not mapped.has("cga") and mapped.data_issues[0].reference == "Observation/cga-text"


@pytest.mark.parametrize(
    ("text", "value", "comparator"),
    [
        ("Ki-67 index 15%", 15.0, None),
        ("MIB-1 10 %", 10.0, None),
        ("Ki67 labeling index approximately 3%", 3.0, None),
        ("Ki-67 < 2%", 2.0, "<"),
        ("15 percent", 15.0, None),
    ],
)
def test_ki67_named_before_its_value_without_a_colon(
    text: str, value: float, comparator: str | None
) -> None:
    q = _ki67_of(valueString=text)
    assert (q.value, q.unit, q.comparator) == (value, "%", comparator)
