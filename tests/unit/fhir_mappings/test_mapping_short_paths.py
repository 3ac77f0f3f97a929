"""The mapping's short paths (serum markers, a subject naming the patient) read as the long ones."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings.facts import Fact, Quantity
from fhir_mappings.observations import title
from fhir_mappings.shape import ref_of
from fhir_mappings.terminology import LOINC
from pnen_i18n import use_locale
from tests.fhir_builders import PATIENT_ID, facts_for, observation, patient, terms

CGA = (LOINC, "9811-1")


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
@pytest.mark.parametrize(
    "value",
    [
        {"valueQuantity": {"value": 257, "unit": "ng/mL"}},
        {"valueQuantity": {"value": 85.25, "unit": "ug/L"}},
        {"valueQuantity": {"value": 12, "unit": "%"}},
        {"valueQuantity": {"value": 1234567, "unit": "ng/mL"}},
        {"valueQuantity": {"value": 0, "unit": "ng/mL"}},
        {"valueQuantity": {"value": 40}},
        {"valueQuantity": {"value": 40, "unit": "ng/mL "}},
        {"valueQuantity": {"value": 5, "unit": "ng/mL", "comparator": "<"}},
        {"valueRange": {"low": {"value": 15, "unit": "ng/mL"}, "high": {"value": 25}}},
        {"valueString": "<2 ng/mL"},
        {"valueInteger": 90},
    ],
)
def test_chromogranin_result_reads_as_its_name_then_its_printed_value(
    value: dict[str, Any], locale: str
) -> None:
    with use_locale(locale):
        fact = facts_for([observation(CGA, rid="cga-1", **value)]).latest("cga")
        assert fact is not None
        assert isinstance(fact.value, Quantity)
        assert fact.text == f"{title('cga', terms())} {fact.value.display()}"
    assert fact.ref == "Observation/cga-1"
    # Built field by field on the short path: every field is there, as the constructors give it.
    assert fact == Fact(*fact) and len(fact) == len(Fact._fields)
    assert fact.value == Quantity(*fact.value) and len(fact.value) == len(Quantity._fields)


def test_every_fact_and_used_resource_names_the_resource_as_ref_of_does() -> None:
    resources = [
        patient(),
        observation(CGA, rid="cga.2-x", valueQuantity={"value": 80, "unit": "ng/mL"}),
        observation(CGA, rid="cga-3", meta={"versionId": "4"}, valueQuantity={"value": 90}),
    ]
    facts = facts_for(resources)
    assert sorted(f.ref for f in facts.all("cga")) == sorted(ref_of(r) for r in resources[1:])
    assert facts.resources_used == (
        f"Patient/{PATIENT_ID}",
        "Observation/cga.2-x",
        "Observation/cga-3/_history/4",
    )


@pytest.mark.parametrize(
    ("subject", "problem"),
    [
        ({"reference": "Patient/someone-else"}, "subject is another patient"),
        ({"reference": f"https://ehr.example/fhir/Patient/{PATIENT_ID}/_history/2"}, None),
        ({"reference": "https://ehr.example/fhir/Patient/other/_history/2"}, "another patient"),
        ("Patient/someone-else", "subject: expected an object"),
        ({"reference": 7}, "subject.reference: expected a string"),
        (None, None),
    ],
)
def test_a_result_of_another_patient_is_reported_and_not_used(
    subject: Any, problem: str | None
) -> None:
    result = observation(CGA, rid="cga-4", valueQuantity={"value": 80, "unit": "ng/mL"})
    if subject is None:
        del result["subject"]
    else:
        result["subject"] = subject
    facts = facts_for([result])
    issues = [i.problem for i in facts.data_issues if i.reference == "Observation/cga-4"]
    if problem is None:
        assert facts.has("cga") and not issues
    else:
        assert not facts.has("cga")
        assert len(issues) == 1 and problem in issues[0]


@pytest.mark.parametrize(
    ("quantity", "problem"),
    [
        ([257], "valueQuantity: expected an object"),
        ({"value": "257", "unit": "ng/mL"}, "valueQuantity.value: expected a number"),
        ({"value": 257, "unit": 7}, "valueQuantity.unit: expected a string"),
        ({"value": 257, "unit": "", "code": 7}, "valueQuantity.code: expected a string"),
        ({"value": 257, "comparator": "~"}, "valueQuantity.comparator: not a FHIR comparator"),
        ({"value": 257, "comparator": 1}, "valueQuantity.comparator: expected a string"),
        ({"value": 257, "comparator": ["<"]}, "valueQuantity.comparator: expected a string"),
    ],
)
def test_chromogranin_quantity_of_a_wrong_shape_is_a_data_issue_naming_the_element(
    quantity: Any, problem: str
) -> None:
    facts = facts_for([observation(CGA, rid="cga-5", valueQuantity=quantity)])
    assert not facts.has("cga")
    assert [i.problem for i in facts.data_issues if i.reference == "Observation/cga-5"] == [problem]


@pytest.mark.parametrize(
    ("quantity", "unit"),
    [
        ({"value": 257, "unit": "", "code": "ng/mL"}, "ng/mL"),
        ({"value": 257, "code": "ug/L"}, "ng/mL"),
        ({"value": 257, "unit": "ng/mL", "code": 7}, "ng/mL"),
        ({"value": 257}, ""),
    ],
)
def test_chromogranin_unit_is_its_unit_else_its_code(quantity: dict[str, Any], unit: str) -> None:
    fact = facts_for([observation(CGA, valueQuantity=quantity)]).latest("cga")
    assert fact is not None and fact.value.unit == unit
