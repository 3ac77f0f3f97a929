"""Interop corpus: pathology Observation values as laboratory and pathology systems print them.

Every case here is synthetic, shaped like LIS / pathology-system output found by the real-world
probe of 2026-11-27 (its findings F1-F3, F9-F11, F18). The rule each case checks: a value is read
as what it says (a range is a range, a cell count a percentage, a per-mm² count is scaled), and a
value the service cannot read for certain is a data issue naming the resource, never a guess and
never silence.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from consensus.patient import ki67_grades, mitotic_grades
from fhir_mappings.facts import PatientFacts
from tests.fhir_builders import PATIENT_ID, facts_for
from tests.support.cds_requests import answered, hook_request, prefetch_for

SCT = "http://snomed.info/sct"
LNC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
PNEN = "http://pnen-cds.org/fhir/CodeSystem/pnen-lm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SUBJECT = {"reference": f"Patient/{PATIENT_ID}"}
KI67 = {"coding": [{"system": LNC, "code": "29593-1"}]}
PV = "/cds-services/pnen-patient-view"


def _pnen_code(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": PNEN, "code": code, "display": display}]}


MITOSES = _pnen_code("mitotic-count", "Mitotic count")
GRADE = _pnen_code("who-grade", "WHO grade")
DIFFERENTIATION = _pnen_code("differentiation", "Differentiation")
MGMT = _pnen_code("mgmt-ihc", "MGMT IHC")
SSTR2 = _pnen_code("sstr2-ihc", "SSTR2 IHC")


def _observation(rid: str, code: dict[str, Any], **value: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": code,
        "subject": SUBJECT,
        "effectiveDateTime": "2025-04-02",
    }
    res.update(value)
    return res


def _facts(res: dict[str, Any]) -> PatientFacts:
    return facts_for([res])


def _problems(mapped: PatientFacts) -> list[tuple[str, str]]:
    return [(i.reference, i.problem) for i in mapped.data_issues]


def _unread(rid: str, element: str, test: str) -> list[tuple[str, str]]:
    return [(f"Observation/{rid}", f"{element}: {test} could not be read; not used")]


# --- Ki-67 (F1, F2, F18) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "low", "high", "grades"),
    [
        # synthetic, shaped like LIS output printing the percent sign on both ends (probe
        # 2026-11-27, F1): both ends are bounds, never the low end alone.
        ("2%-5%", 2.0, 5.0, (1, 2)),  # straddles 3 %: G1 or G2
        ("15%-25%", 15.0, 25.0, (2, 3)),  # straddles 20 %: G2 or G3
        ("1% - 2.5%", 1.0, 2.5, (1, 1)),  # below 3 % at both ends: G1
        ("3%–20%", 3.0, 20.0, (2, 2)),  # both ends within G2's 3–20 %
        ("2-5%", 2.0, 5.0, (1, 2)),  # the form read before: unchanged
    ],
)
def test_ki67_range_printed_with_percent_on_both_ends_keeps_both_bounds(
    printed: str, low: float, high: float, grades: tuple[int, int]
) -> None:
    fact = _facts(_observation("ki", KI67, valueString=printed)).latest("ki67")
    assert fact is not None
    assert (fact.value.low, fact.value.value, fact.value.unit) == (low, high, "%")
    assert ki67_grades(fact.value) == grades


@pytest.mark.parametrize(
    ("printed", "percent", "grade"),
    [
        # synthetic, shaped like a digital-pathology counter's output (probe 2026-11-27, F2):
        # positive cells over counted cells, the percentage in brackets.
        ("50/2000 cells (2.5%)", 2.5, 1),
        ("60/2000 cells (3%)", 3.0, 2),  # at the G2 cut-off
        ("150 of 1000 cells", 15.0, 2),
        ("420/2000 cells (21%)", 21.0, 3),  # just above 20 %: G3
    ],
)
def test_ki67_printed_as_a_cell_count_is_its_percentage_not_the_count(
    printed: str, percent: float, grade: int
) -> None:
    mapped = _facts(_observation("ki", KI67, valueString=printed))
    fact = mapped.latest("ki67")
    assert fact is not None and (fact.value.value, fact.value.unit) == (percent, "%")
    assert ki67_grades(fact.value) == (grade, grade)
    assert not mapped.data_issues


def test_ki67_cell_count_disagreeing_with_its_printed_percentage_is_a_data_issue() -> None:
    # synthetic, shaped like a counter export with a mis-keyed percentage (probe 2026-11-27).
    mapped = _facts(_observation("ki", KI67, valueString="50/2000 cells (25%)"))
    assert not mapped.has("ki67")
    assert _problems(mapped) == _unread("ki", "valueString", "Ki-67 proliferation index")


@pytest.mark.parametrize("unit", ["cells", "/1 mm2", "HPF"])
def test_ki67_quantity_in_a_unit_that_is_no_percentage_is_a_data_issue(unit: str) -> None:
    # synthetic, shaped like an LIS that sent the counted cells' unit (probe 2026-11-27, F2).
    mapped = _facts(_observation("ki", KI67, valueQuantity={"value": 12, "unit": unit}))
    assert not mapped.has("ki67")
    assert _problems(mapped) == _unread("ki", "valueQuantity", "Ki-67 proliferation index")


@pytest.mark.parametrize(
    "value",
    [
        {"valueString": "0.25"},  # synthetic LIS string, probe 2026-11-27 (F18): 0.25 % or 25 %?
        {"valueQuantity": {"value": 0.4}},
    ],
)
def test_ki67_below_1_without_a_unit_is_a_data_issue_not_a_guess(value: dict[str, Any]) -> None:
    mapped = _facts(_observation("ki", KI67, **value))
    assert not mapped.has("ki67")
    element = next(iter(value))
    assert _problems(mapped) == [
        (
            "Observation/ki",
            f"{element}: Ki-67 below 1 without a unit may be a fraction or a percentage; not used",
        )
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"valueString": "< 1"}, (1.0, "<")),  # '< 1' as a fraction says nothing: a percentage
        ({"valueQuantity": {"value": 0.25, "unit": "1"}}, (25.0, None)),  # a declared fraction
        ({"valueInteger": 7}, (7.0, None)),
        ({"valueString": "30 % (hot spot 500 cells)"}, (30.0, None)),
    ],
)
def test_ki67_with_an_unambiguous_unit_or_none_needed_is_still_read(
    value: dict[str, Any], expected: tuple[float, str | None]
) -> None:
    mapped = _facts(_observation("ki", KI67, **value))
    fact = mapped.latest("ki67")
    assert fact is not None and (fact.value.value, fact.value.comparator) == expected
    assert not mapped.data_issues


def test_ki67_valuerange_with_low_above_high_is_a_data_issue_not_swapped() -> None:
    # synthetic, shaped like an interface that swapped the range ends (probe 2026-11-27, F18).
    res = _observation(
        "ki",
        KI67,
        valueRange={"low": {"value": 30, "unit": "%"}, "high": {"value": 5, "unit": "%"}},
    )
    mapped = _facts(res)
    assert not mapped.has("ki67")
    assert _problems(mapped) == [("Observation/ki", "valueRange: low is above high; not used")]


def test_observation_status_in_capitals_is_reported_not_silently_dropped() -> None:
    # synthetic, shaped like a feed that capitalises codes (probe 2026-11-27, F18). FHIR codes
    # are case-sensitive and the mapping spec lists lower-case statuses only: not read, reported.
    res = _observation("ki", KI67, status="Final", valueQuantity={"value": 25, "unit": "%"})
    mapped = _facts(res)
    assert not mapped.has("ki67")
    assert _problems(mapped) == [
        ("Observation/ki", "status: not an Observation status code; not used")
    ]


def test_effective_date_in_year_10000_is_not_a_fhir_date() -> None:
    # synthetic, probe 2026-11-27 (F18): was reported as "date before 1900" (year read as 1000).
    res = _observation(
        "ki", KI67, effectiveDateTime="10000-01-01", valueQuantity={"value": 5, "unit": "%"}
    )
    assert _problems(_facts(res)) == [("Observation/ki", "effectiveDateTime: not a FHIR date")]


# --- mitotic count (F3, F18) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "per_2mm2", "grade"),
    [
        # synthetic, shaped like pathology systems that count per mm² (probe 2026-11-27, F3).
        ({"valueQuantity": {"value": 12, "unit": "/mm2"}}, 24.0, 3),
        ({"valueString": "12 per mm²"}, 24.0, 3),
        ({"valueQuantity": {"value": 10, "unit": "/mm2"}}, 20.0, 2),  # at the G2/G3 cut-off
        ({"valueQuantity": {"value": 1, "unit": "per mm2"}}, 2.0, 2),  # at the G1/G2 cut-off
        ({"valueQuantity": {"value": 0.5, "unit": "/mm2"}}, 1.0, 1),
        ({"valueQuantity": {"value": 30, "unit": "/10 mm2"}}, 6.0, 2),
        ({"valueString": "25 per 2 mm²"}, 25.0, 3),
        ({"valueString": "3 mitoses/2 mm2"}, 3.0, 2),
    ],
)
def test_mitoses_per_mm2_are_scaled_to_per_2_mm2(
    value: dict[str, Any], per_2mm2: float, grade: int
) -> None:
    mapped = _facts(_observation("mit", MITOSES, **value))
    fact = mapped.latest("mitotic-count")
    assert fact is not None and (fact.value.value, fact.value.unit) == (per_2mm2, "/2 mm²")
    assert mitotic_grades(fact.value) == (grade, grade)
    assert not mapped.data_issues


@pytest.mark.parametrize(
    "value",
    [
        # synthetic, probe 2026-11-27 (F3): a count with no unit may be per 2 mm² or per 10 HPF.
        {"valueQuantity": {"value": 25}},
        {"valueInteger": 4},
        {"valueString": "25"},
        {"valueQuantity": {"value": 4, "unit": "cells"}},
    ],
)
def test_mitotic_count_without_an_area_unit_is_a_data_issue_not_assumed(
    value: dict[str, Any],
) -> None:
    mapped = _facts(_observation("mit", MITOSES, **value))
    assert not mapped.has("mitotic-count")
    element = next(iter(value))
    assert _problems(mapped) == [
        (
            "Observation/mit",
            f"{element}: mitotic count without a unit per mm² or per 10 HPF; not used",
        )
    ]


def test_mitoses_per_50_hpf_are_named_as_such_and_ignored() -> None:
    # synthetic, probe 2026-11-27 (F18): the data issue said "per 10 HPF".
    mapped = _facts(_observation("mit", MITOSES, valueString="25 per 50 HPF"))
    assert not mapped.has("mitotic-count")
    assert _problems(mapped) == [
        (
            "Observation/mit",
            "valueString: mitoses per 50 HPF cannot be converted to per 2 mm²; ignored",
        )
    ]


# --- reported grade and differentiation (F10) -------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "grade"),
    [
        # synthetic, shaped like pathology-system result strings (probe 2026-11-27, F10).
        ("G3 (WHO 2019)", 3),
        ("grade II", 2),
        ("II", 2),
        ("Grade III", 3),
        ("G2", 2),
    ],
)
def test_reported_who_grade_in_roman_numerals_or_with_a_remark_is_read(
    printed: str, grade: int
) -> None:
    mapped = _facts(_observation("g", GRADE, valueString=printed))
    assert mapped.latest("who-grade").value == grade  # type: ignore[union-attr]
    assert not mapped.data_issues


@pytest.mark.parametrize(
    ("printed", "value"),
    [
        ("high grade / poorly differentiated", "poorly"),  # synthetic, probe 2026-11-27 (F10)
        ("Well-differentiated", "well"),
    ],
)
def test_differentiation_named_within_a_phrase_is_read(printed: str, value: str) -> None:
    mapped = _facts(_observation("d", DIFFERENTIATION, valueString=printed))
    assert mapped.latest("differentiation").value == value  # type: ignore[union-attr]
    assert not mapped.data_issues


@pytest.mark.parametrize(
    ("code", "printed", "test"),
    [
        # synthetic, probe 2026-11-27 (F10): words with no WHO 2019 grade or NEN differentiation.
        (GRADE, "intermediate grade", "WHO grade (reported)"),
        (DIFFERENTIATION, "moderately differentiated", "Differentiation"),
        (DIFFERENTIATION, "not poorly differentiated", "Differentiation"),
    ],
)
def test_grade_or_differentiation_that_cannot_be_read_is_a_data_issue(
    code: dict[str, Any], printed: str, test: str
) -> None:
    mapped = _facts(_observation("g", code, valueString=printed))
    assert not mapped.has("who-grade") and not mapped.has("differentiation")
    assert _problems(mapped) == _unread("g", "valueString", test)


# --- MGMT and SSTR2 IHC (F9) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("printed", "score"),
    [
        # synthetic, shaped like IHC result strings of pathology systems (probe 2026-11-27, F9).
        ("Loss of expression (0)", 0),
        ("Loss of expression", 0),
        ("negative (0)", 0),
        ("1+ (weak, 10%)", 1),
        ("Score: 2", 2),
        ("3+ in 80% of tumour cells", 3),
        ("negative", 0),  # controls: the exact tokens read before
        ("2+", 2),
    ],
)
def test_mgmt_ihc_printed_with_its_score_or_a_loss_is_read(printed: str, score: int) -> None:
    mapped = _facts(_observation("mg", MGMT, valueString=printed))
    assert mapped.latest("mgmt").value == score  # type: ignore[union-attr]
    assert not mapped.data_issues


@pytest.mark.parametrize(
    "printed",
    [
        # synthetic, probe 2026-11-27 (F9): no single 0–3+ score can be read without guessing.
        "retained",
        "partial loss",
        "heterogeneous 2+/3+",
        "positive",
        "not lost",
        "0-1+",
        "no loss",
        "MGMT deficient",
    ],
)
def test_mgmt_ihc_without_one_readable_score_is_a_data_issue(printed: str) -> None:
    mapped = _facts(_observation("mg", MGMT, valueString=printed))
    assert not mapped.has("mgmt")
    assert _problems(mapped) == _unread("mg", "valueString", "MGMT immunohistochemistry")


def test_mgmt_valued_only_by_a_code_outside_the_scores_is_a_data_issue() -> None:
    # A LOINC answer code without text ('LA9634-2' Absent): its digits are no IHC score.
    value = {"coding": [{"system": LNC, "code": "LA9634-2"}]}
    mapped = _facts(_observation("mg", MGMT, valueCodeableConcept=value))
    assert not mapped.has("mgmt")
    assert _problems(mapped) == _unread("mg", "valueCodeableConcept", "MGMT immunohistochemistry")


@pytest.mark.parametrize(
    ("printed", "value"),
    [
        # synthetic, shaped like IHC result strings (probe 2026-11-27, F9), English and Chinese.
        ("Positive (3+, >80% of cells)", "3+"),
        ("strongly positive", "positive"),
        ("not detected", "negative"),
        ("阳性（+++）", "positive"),
        ("weak (1+)", "1+"),
        ("Score 2", "2+"),
        ("positive", "positive"),  # control
    ],
)
def test_sstr2_ihc_printed_as_words_or_a_score_is_read(printed: str, value: str) -> None:
    mapped = _facts(_observation("ss", SSTR2, valueString=printed))
    assert mapped.latest("sstr2-ihc").value == value  # type: ignore[union-attr]
    assert not mapped.data_issues


@pytest.mark.parametrize("printed", ["Positiv", "not positive", "negative (3+)"])
def test_sstr2_ihc_that_cannot_be_read_is_a_data_issue(printed: str) -> None:
    mapped = _facts(_observation("ss", SSTR2, valueString=printed))
    assert not mapped.has("sstr2-ihc")
    assert _problems(mapped) == _unread("ss", "valueString", "SSTR2 immunohistochemistry")


# --- a recognised result whose value cannot be read (F11) -------------------------------------


@pytest.mark.parametrize(
    ("value", "element"),
    [
        # synthetic, shaped like LIS feeds (probe 2026-11-27, F11): the result as concept text,
        # only in a note, only an interpretation flag, or only in locally coded components.
        ({"valueCodeableConcept": {"text": "25%"}}, "valueCodeableConcept"),
        ({"note": [{"text": "Ki-67 index 25% (hot spot)"}]}, "value[x]"),
        ({"interpretation": [{"coding": [{"code": "H"}]}]}, "value[x]"),
        (
            {
                "component": [
                    {
                        "code": {
                            "coding": [{"system": "http://hospital.example/lab", "code": "HS"}]
                        },
                        "valueQuantity": {"value": 25, "unit": "%"},
                    }
                ]
            },
            "value[x]",
        ),
    ],
)
def test_ki67_observation_whose_value_cannot_be_read_is_a_data_issue(
    value: dict[str, Any], element: str
) -> None:
    mapped = _facts(_observation("ki", KI67, **value))
    assert not mapped.has("ki67")
    assert _problems(mapped) == _unread("ki", element, "Ki-67 proliferation index")


def test_ki67_stated_absent_by_data_absent_reason_raises_no_data_issue() -> None:
    reason = {"coding": [{"code": "not-performed"}]}
    mapped = _facts(_observation("ki", KI67, dataAbsentReason=reason))
    assert not mapped.has("ki67") and not mapped.data_issues


def test_ki67_panel_read_from_its_ki67_component_raises_no_data_issue() -> None:
    res = _observation(
        "panel", KI67, component=[{"code": KI67, "valueQuantity": {"value": 12, "unit": "%"}}]
    )
    mapped = _facts(res)
    assert mapped.latest("ki67").value.value == 12  # type: ignore[union-attr]
    assert not mapped.data_issues


def test_chromogranin_printed_with_thousands_separator_and_decimals_is_read() -> None:
    # synthetic, shaped like an LIS string result (probe 2026-11-27 record cga-thousands): was
    # a data issue; a comma before three digits and a point is a thousands separator.
    res = _observation(
        "cga", {"coding": [{"system": LNC, "code": "9811-1"}]}, valueString="1,234.5 ng/mL"
    )
    mapped = _facts(res)
    q = mapped.latest("cga").value  # type: ignore[union-attr]
    assert (q.value, q.unit) == (1234.5, "ng/mL") and not mapped.data_issues


# --- whole patients over HTTP -----------------------------------------------------------------


def _record(*results: dict[str, Any]) -> list[dict[str, Any]]:
    """A pNEN with liver metastases, Ki-67 '2%-5%', progressing on lanreotide, and `results`."""
    patient = {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "1966-03-02"}
    active = {"coding": [{"code": "active"}]}
    pnen = {
        "resourceType": "Condition",
        "id": "pnen",
        "clinicalStatus": active,
        "code": {"coding": [{"system": ICD10CM, "code": "C25.4"}]},
        "bodySite": [{"coding": [{"system": SCT, "code": "73239005"}]}],
        "subject": SUBJECT,
        "onsetDateTime": "2025-03-10",
    }
    liver = {
        "resourceType": "Condition",
        "id": "lm",
        "clinicalStatus": active,
        "code": {"coding": [{"system": ICD10CM, "code": "C78.7"}]},
        "subject": SUBJECT,
        "onsetDateTime": "2025-03-10",
    }
    status = _observation(
        "ds",
        {"coding": [{"system": LNC, "code": "97509-4"}]},
        effectiveDateTime="2026-10-02",
        valueCodeableConcept={"coding": [{"system": SCT, "code": "271299001"}]},
    )
    ssa = {
        "resourceType": "MedicationRequest",
        "id": "ssa",
        "status": "active",
        "intent": "order",
        "subject": SUBJECT,
        "authoredOn": "2025-05-01",
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "68092"}]},
    }
    ki = _observation(
        "ki", KI67, valueString="2%-5%", bodySite={"coding": [{"system": SCT, "code": "15776009"}]}
    )
    return [patient, pnen, liver, status, ssa, ki, *results]


def _post(client: FlaskClient, resources: list[dict[str, Any]], keys: list[str]) -> dict[str, Any]:
    request = hook_request("patient-view", PATIENT_ID, prefetch=prefetch_for(resources, keys))
    return answered(client, "pnen-patient-view", request)


def _topics(body: dict[str, Any]) -> set[str]:
    return {c["source"]["topic"]["code"] for c in body["cards"]}


def test_mgmt_loss_of_expression_counts_as_tested_over_http(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    # synthetic, probe 2026-11-27 record mgmt-loss-progression: MGMT 'Loss of expression (0)'
    # with progression on SSA was shown "MGMT: not tested" and asked for the test again.
    mgmt = _observation(
        "mg", MGMT, effectiveDateTime="2025-04-10", valueString="Loss of expression (0)"
    )
    body = _post(client, _record(mgmt), prefetch_keys)
    assert "mgmt-test" not in _topics(body)
    summary = next(c for c in body["cards"] if c["source"]["topic"]["code"] == "summary")
    assert "MGMT: 0" in summary["detail"] and "2–5 %" in summary["detail"]
    assert "org.pnen-cds.data-issues" not in body.get("extension", {})


def test_mgmt_retained_without_a_score_is_listed_and_the_test_still_asked_over_http(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    # synthetic, probe 2026-11-27 record mgmt-00: 'retained' gives no 0–3+ score.
    mgmt = _observation("mg", MGMT, effectiveDateTime="2025-04-10", valueString="retained")
    body = _post(client, _record(mgmt), prefetch_keys)
    assert "mgmt-test" in _topics(body)
    issues = body["extension"]["org.pnen-cds.data-issues"]
    assert [(i["reference"], i["problem"]) for i in issues] == _unread(
        "mg", "valueString", "MGMT immunohistochemistry"
    )
    # The result is on record: the cards say it could not be read, never "no result on record".
    cards = {c["source"]["topic"]["code"]: c for c in body["cards"]}
    test = cards["mgmt-test"]
    assert test["summary"] == (
        "MGMT result on record could not be read: check it, else test MGMT by IHC"
    )
    assert "could not be read (Observation/mg): read it in the record" in test["detail"]
    assert "| MGMT IHC on record | **not met** |" in test["detail"]
    assert "on record, could not be read" in test["detail"]
    assert "- MGMT: on record, could not be read (Observation/mg)" in cards["summary"]["detail"]


def test_an_unreadable_tissue_result_is_a_fact_of_its_own_kind_for_the_rules() -> None:
    # The data issue names it; the fact lets the rules say "on record, not readable".
    mapped = _facts(_observation("mg", MGMT, valueString="retained"))
    (unread,) = mapped.all("unread-result")
    assert (unread.value, unread.ref) == ("mgmt-ihc", "Observation/mg")
    assert not mapped.all("mgmt")


def test_a_value_stated_absent_is_no_unread_result() -> None:
    absent = _observation("ki", KI67, dataAbsentReason={"coding": [{"code": "not-performed"}]})
    assert not _facts(absent).all("unread-result")
