"""The patient definitions speak the request's locale while their logic keeps canonical values."""

from __future__ import annotations

from datetime import timedelta

from consensus.criteria import waiting_on
from consensus.patient import G3_UNKNOWN, Patient
from consensus.record_notes import unreadable_lines
from consensus.settings import Settings
from fhir_mappings.facts import (
    LIVER,
    PRIMARY,
    DataIssue,
    Fact,
    PatientFacts,
    Quantity,
    index_facts,
)
from pnen_i18n import use_locale
from tests.fhir_builders import TODAY

PNEN = Fact("pnen", "pNEN", None, "Condition/p", "pNEN")
LIVER_METS = Fact("liver-metastasis", "LM", None, "Condition/lm", "liver metastases")
RESECTABILITY_ZH = "肝转移灶的可切除性（R0/R1 切除可行性、剩余肝体积）"


def ki67(value: float, ref: str, site: str, days_ago: int = 0) -> Fact:
    when = TODAY - timedelta(days=days_ago)
    return Fact("ki67", Quantity(value, "%"), when, ref, f"Ki-67 {value:g} %", site)


def view(*facts: Fact) -> Patient:
    record = PatientFacts("Patient/x", None, index_facts([PNEN, LIVER_METS, *facts]))
    return Patient(record, TODAY, Settings())


def test_resectability_datum_is_chinese_and_the_same_for_every_criterion_waiting_on_it() -> None:
    with use_locale("zh-CN"):
        p = view()
        resectable, advanced = p.resectability, p.advanced
    assert resectable.unknown and advanced.unknown
    assert resectable.name == "肝转移灶可切除" and advanced.name == "晚期疾病"
    # Decisions waiting on data merge by their datum: both criteria name the same one.
    assert waiting_on([resectable, advanced]) == (RESECTABILITY_ZH,)


def test_resectability_datum_stays_english_without_a_locale() -> None:
    p = view()
    assert p.resectability.datum == (
        "resectability of the liver metastases (R0/R1 feasibility, remnant liver volume)"
    )


def test_g3_differentiation_class_stays_canonical_in_chinese() -> None:
    with use_locale("zh-CN"):
        p = view(ki67(35, "Observation/k", LIVER))
        kind = p.differentiation[0]
        label = p.overall_grade.label if p.overall_grade else ""
    assert kind == G3_UNKNOWN and p.is_g3_unknown
    assert label == "G3（肝转移灶）"


def test_grade_history_is_written_in_chinese_with_iso_dates() -> None:
    earlier = ki67(25, "Observation/old", LIVER, days_ago=400)
    with use_locale("zh-CN"):
        p = view(earlier, ki67(12, "Observation/new", LIVER))
        grade = p.overall_grade
        assert grade is not None
        note = grade.history_note
    old_day, new_day = earlier.when, TODAY
    assert note == f"分级变化：肝转移灶：{old_day} 为 G3，{new_day} 为 G2"


def test_unknown_ki67_names_the_chinese_missing_datum() -> None:
    with use_locale("zh-CN"):
        criterion = view(ki67(4, "Observation/p", PRIMARY)).ki67_criterion("Ki-67 < 10 %", "<", 10)
        missing = view().ki67_criterion("Ki-67 < 10 %", "<", 10).missing
    assert criterion.met
    assert missing == ("Ki-67 指数",)


def test_local_policy_line_takes_its_unit_from_the_catalogue() -> None:
    settings = Settings({"recent-marker-days": 30})
    with use_locale("zh-CN"):
        chinese = settings.describe("recent-marker-days")
    assert chinese == "近期嗜铬粒蛋白 A（CgA）或胃泌素结果的时间范围：30 天（本院规定，可配置）"
    assert settings.describe("recent-marker-days") == (
        "a recent CgA or gastrin result: 30 days (local policy, configurable)"
    )
    assert Settings().describe("sstr2-ihc-positive-score") == (
        "SSTR2 IHC score counted as positive: 2+ (local policy, configurable)"
    )


def test_unreadable_results_are_counted_in_chinese_with_the_rest_summed_up() -> None:
    issues = tuple(DataIssue("observations", f"Observation/o{i}", "x") for i in range(7))
    record = PatientFacts("Patient/x", None, index_facts([PNEN]), data_issues=issues)
    p = Patient(record, TODAY, Settings())
    with use_locale("zh-CN"):
        (line,) = unreadable_lines(p)
    listed = ", ".join(f"Observation/o{i}" for i in range(5))
    assert line == (
        f"- 7 项结果未能完整读取：{listed} 等（另有 2 项）（未能读取的内容未被使用；见数据问题）"
    )
