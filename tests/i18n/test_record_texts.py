"""The record mapping's evidence lines and data issues read in Chinese under zh-CN.

Each test maps a synthetic record twice, in English and in zh-CN: the fact kinds and values (what
the rules read) must not change with the language, only the texts people read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fhir_mappings.facts import PatientFacts
from fhir_mappings.terminology import ICD10CM, RXNORM, SNOMED
from pnen_i18n import use_locale
from tests.fhir_builders import (
    PATIENT_REF,
    cc,
    condition,
    days_ago,
    facts_for,
    ki67,
    medication,
    pnen,
    procedure,
    service_request,
)

TEMOZOLOMIDE = (RXNORM, "37776", "temozolomide")


def _both(resources: Iterable[dict[str, Any]]) -> tuple[PatientFacts, PatientFacts]:
    """The record's facts in English and in zh-CN."""
    items = list(resources)
    with use_locale("en"):
        english = facts_for(items)
    with use_locale("zh-CN"):
        chinese = facts_for(items)
    return english, chinese


def _text(facts: PatientFacts, kind: str) -> str:
    found = facts.all(kind)
    assert len(found) == 1, (kind, found)
    return found[0].text


def _same_logic(english: PatientFacts, chinese: PatientFacts) -> None:
    """Kinds, values, dates, references and flags are the same in both languages."""

    def logic(facts: PatientFacts) -> set[tuple[Any, ...]]:
        return {
            (f.kind, repr(f.value), f.when, f.ref, f.flags)
            for fs in facts.by_kind.values()
            for f in fs
            if f.kind not in ("other-cancer-result",)  # its value is the linking reference
        }

    assert logic(english) == logic(chinese)


def _administration(day: int, status: str = "completed") -> dict[str, Any]:
    return {
        "resourceType": "MedicationAdministration",
        "id": f"ma-{day}",
        "status": status,
        "subject": {"reference": PATIENT_REF},
        "medicationCodeableConcept": cc(*TEMOZOLOMIDE),
        "effectiveDateTime": days_ago(day),
    }


def test_pnen_in_remission_and_its_tail_location_read_in_chinese() -> None:
    tail = (SNOMED, "73239005")
    english, chinese = _both([pnen(clinical_status="remission", body_site=tail)])
    assert _text(english, "pnen-remission").endswith(" (remission)")
    assert _text(chinese, "pnen-remission").endswith("（缓解）")
    assert _text(english, "primary-location") == "primary in the tail"
    assert _text(chinese, "primary-location") == "原发灶位于胰尾"
    assert [f.value for f in chinese.all("primary-location")] == ["tail"]
    _same_logic(english, chinese)


def test_insulinoma_regional_nodes_and_unknown_metastasis_site_read_in_chinese() -> None:
    english, chinese = _both(
        [
            pnen(),
            condition("http://pnen-cds.org/fhir/CodeSystem/pnen-lm", "insulinoma", rid="ins"),
            condition(ICD10CM, "C77.2", rid="nodes"),
            condition(ICD10CM, "C79.9", rid="mets"),
        ]
    )
    # The code's display and the syndrome's name agree: named once ("胰岛素瘤（胰岛素瘤）" before)
    assert _text(english, "functional") == "Insulinoma"
    assert _text(chinese, "functional") == "胰岛素瘤"
    assert _text(chinese, "tnm-n").endswith("（区域淋巴结：N1）")
    unknown = _text(chinese, "extrahepatic-metastasis-unknown")
    assert unknown.endswith("（未记录部位：肝外转移情况未知）")
    _same_logic(english, chinese)


def test_procedure_medication_and_planned_order_read_in_chinese() -> None:
    started = days_ago(200)
    english, chinese = _both(
        [
            pnen(),
            procedure("pancreatoduodenectomy"),
            medication(TEMOZOLOMIDE, start=started),
            service_request("pet-fdg", status="active"),
        ]
    )
    assert _text(english, "medication:tmz") == f"temozolomide (active, started {started})"
    assert _text(chinese, "medication:tmz") == f"temozolomide（在用，{started} 开始）"
    assert _text(chinese, "procedure:pancreatoduodenectomy").endswith("（已完成）")
    assert _text(chinese, "planned:pet-fdg").endswith("（已生效）")
    _same_logic(english, chinese)


def test_course_of_two_temozolomide_cycles_counts_administrations_in_chinese() -> None:
    english, chinese = _both([pnen(), _administration(100), _administration(70)])
    first, last = days_ago(100), days_ago(70)
    assert _text(english, "medication:tmz").startswith(
        f"temozolomide (2 administrations, {first} to {last}; counts as running until "
    )
    assert _text(chinese, "medication:tmz").startswith(
        f"temozolomide（给药 2 次，{first} 至 {last}；视为持续用药至 "
    )
    _same_logic(english, chinese)


def test_result_of_another_cancer_is_set_aside_with_a_chinese_reason() -> None:
    breast = condition(ICD10CM, "C50.911", rid="breast")
    result = ki67(30, focus=[{"reference": "Condition/breast"}], rid="ki67-breast")
    english, chinese = _both([pnen(), breast, result])
    assert _text(english, "other-cancer-result") == (
        "result of another cancer (breast, Condition/breast)"
    )
    assert (
        _text(chinese, "other-cancer-result")
        == "属于其他恶性肿瘤（乳腺，Condition/breast）的检查结果"
    )
    assert _text(chinese, "other-cancer") == "乳腺"
    assert not chinese.has("ki67")
    _same_logic(english, chinese)


def test_data_issues_of_future_dates_other_patients_and_unknown_drugs_read_in_chinese() -> None:
    future = condition(SNOMED, "94381002", rid="lm-future", onsetDateTime=days_ago(-30))
    stranger = ki67(12, rid="ki67-other", subject={"reference": "Patient/someone-else"})
    unknown = medication((RXNORM, "999999"), rid="med-unknown")
    unknown["medicationCodeableConcept"] = {"coding": [{"system": RXNORM, "code": "999999"}]}
    english, chinese = _both([pnen(), future, stranger, unknown])
    assert [i.problem for i in english.data_issues] == [
        "subject is another patient",
        "medication RxNorm 999999 not recognised: a site may add it to a ValueSet",
        "date in the future: date not used",
    ]
    assert [i.problem for i in chinese.data_issues] == [
        "subject 为其他患者",
        "药物 RxNorm 999999 未能识别：医院可将其加入 ValueSet",
        "日期为未来日期：该日期不予采用",
    ]
    assert [i.reference for i in english.data_issues] == [i.reference for i in chinese.data_issues]


def test_a_syndrome_recorded_under_another_name_keeps_both() -> None:
    ze = condition("http://pnen-cds.org/fhir/CodeSystem/pnen-lm", "gastrinoma", rid="ze")
    ze["code"]["text"] = "Zollinger-Ellison syndrome"
    english, chinese = _both([pnen(), ze])
    assert _text(english, "functional") == "Zollinger-Ellison syndrome (gastrinoma)"
    assert _text(chinese, "functional") == "Zollinger-Ellison syndrome（胃泌素瘤）"
