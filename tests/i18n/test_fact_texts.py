"""Fact texts and data issues speak the request's language; flags and values stay canonical."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings.facts import FROM_REPORT_TEXT, PRELIMINARY, Draft, PatientFacts
from fhir_mappings.observations import (
    BOOLEAN_ASSESSMENTS,
    LABS,
    NUMERIC_ASSESSMENTS,
    title,
)
from fhir_mappings.terminology import LOINC
from pnen_i18n import use_locale
from tests.fhir_builders import (
    disease_status,
    facts_for,
    flag,
    ki67,
    mitoses,
    observation,
    study,
    terms,
)
from tests.support.pathology_reports import pathology_report

MEASURED = (
    "ki67",
    "mitotic-count",
    *LABS,
    "egfr",
    *NUMERIC_ASSESSMENTS,
    *BOOLEAN_ASSESSMENTS,
    "pdl1-cps",
    "tmb",
)
"""Concepts whose shipped ValueSet title a fact text or a data issue prints."""


def in_chinese(*resources: dict[str, Any]) -> PatientFacts:
    """The facts of a record mapped inside a zh-CN request."""
    with use_locale("zh-CN"):
        return facts_for(list(resources))


def evidence_in_chinese(facts: PatientFacts, kind: str) -> str:
    """The evidence line of the single fact of a kind, shown in zh-CN."""
    (fact,) = facts.all(kind)
    with use_locale("zh-CN"):
        return fact.evidence()


def test_liver_ki67_evidence_reads_chinese_with_site_and_flag_but_keeps_the_flag_canonical() -> (
    None
):
    resource = ki67(25, site="liver", status="preliminary", rid="ki67-1", when="2026-09-10")
    facts = in_chinese(resource)
    (fact,) = facts.all("ki67")
    assert fact.flags == (PRELIMINARY,)
    assert evidence_in_chinese(facts, "ki67") == (
        "Ki-67 指数 25 %（肝转移灶）, 2026-09-10, Observation/ki67-1 [初步结果]"
    )


def test_english_evidence_is_the_message_id_itself() -> None:
    resource = ki67(25, site="liver", status="preliminary", rid="ki67-1", when="2026-09-10")
    (fact,) = facts_for([resource]).all("ki67")
    assert fact.evidence() == (
        "Ki-67 25 % (liver metastasis), 2026-09-10, Observation/ki67-1 [preliminary]"
    )


def test_primary_mitotic_count_keeps_its_number_and_unit_in_chinese() -> None:
    facts = in_chinese(mitoses(3, site="primary"))
    (fact,) = facts.all("mitotic-count")
    assert fact.text == "核分裂象 3 /2 mm²（原发灶）"


def test_progression_status_and_a_yes_no_assessment_read_chinese() -> None:
    facts = in_chinese(disease_status("271299001"), flag("r0-r1-feasible", False))
    assert facts.all("disease-status")[0].text == "疾病状态：疾病进展"
    assert facts.all("disease-status")[0].value == "progression"
    assert facts.all("r0-r1-feasible")[0].text == "R0/R1 切除可行性：否"


def test_a_positive_ssa_pet_reads_tracer_avid_in_chinese() -> None:
    facts = in_chinese(study("pet-ssa", result="positive"))
    (fact,) = facts.all("imaging:pet-ssa")
    assert fact.text.endswith("：阳性（示踪剂高摄取）")
    assert fact.value == "positive"


def test_a_ki67_read_from_report_text_reads_chinese_and_keeps_its_flag_canonical() -> None:
    facts = in_chinese(pathology_report("Pancreas, tail: neuroendocrine tumour, Ki-67 8%."))
    (fact,) = facts.all("ki67")
    assert fact.text.startswith("Ki-67 指数 8 %")
    assert FROM_REPORT_TEXT in fact.flags
    with use_locale("zh-CN"):
        assert "读取自报告文本" in fact.evidence()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"value": 120, "unit": "%"}, "Ki-67 指数：百分比不可能超过 100；未使用"),
        ({"value": "twelve", "unit": "%"}, "valueQuantity.value：应为数值"),
    ],
)
def test_an_impossible_or_malformed_ki67_is_a_chinese_data_issue(
    value: dict[str, Any], problem: str
) -> None:
    facts = in_chinese(observation((LOINC, "29593-1"), valueQuantity=value))
    assert not facts.all("ki67")
    assert [issue.problem for issue in facts.data_issues] == [problem]


def test_an_unknown_draft_order_reads_chinese() -> None:
    with use_locale("zh-CN"):
        assert Draft("ServiceRequest/x", None).as_fact().text == "医嘱（草拟医嘱）"


@pytest.mark.parametrize("kind", MEASURED)
def test_every_shipped_title_a_fact_text_prints_has_a_chinese_name(kind: str) -> None:
    english = title(kind, terms())
    with use_locale("zh-CN"):
        assert title(kind, terms()) != english


def test_a_site_valueset_title_is_shown_as_written() -> None:
    with use_locale("zh-CN"):
        assert title("a-site-concept", terms()) == "a-site-concept"
