"""The text report an oncologist reads at the MDT: every fired rule with its criteria table."""

from __future__ import annotations

from datetime import date

from cards.report import ReportHeader, criteria_table, text_report
from cards.text import EN
from consensus.criteria import known, unknown
from consensus.recommendation import (
    PV,
    Indicator,
    Recommendation,
    RuleInfo,
    Suggestion,
    create,
    delete,
)
from fhir_mappings.facts import DataIssue, Fact, Quantity

INFO = RuleInfo(
    "transplant-milan",
    "Liver transplantation: Milan-NET criteria",
    frozenset({PV}),
    "C 12",
    "E. Surgery",
)
KI67 = Fact("ki67", Quantity(8, "%"), date(2026, 9, 10), "Observation/ki67-2", "Ki-67 8 % (liver)")
HEADER = ReportHeader("patient.json", "Patient/p", "patient-view", "2026-11-23")


def _rec() -> Recommendation:
    return Recommendation(
        rule=INFO,
        indicator=Indicator.WARNING,
        summary="Liver transplant referral: Milan-NET criteria not met (age < 60 years)",
        advice="Indications must be **strictly** controlled (C 12).\n\n- first point\n- second",
        evidence=(KI67,),
        criteria=(
            known("(2) Ki-67 < 10 %", True, (KI67,)),
            unknown("(4) liver tumour burden < 50 %", "liver tumour burden"),
            known("(6) age < 60 years", False, note="age 64 years"),
        ),
        missing=("liver tumour burden",),
        local_policy=("recent CgA: 90 days (local policy, configurable)",),
        suggestions=(
            Suggestion(
                "Replace TACE with TAE",
                (delete("ServiceRequest/t1", "Remove"), create("tae", "Order TAE")),
            ),
        ),
    )


def test_report_names_each_rule_its_source_and_indicator() -> None:
    report = text_report(HEADER, [_rec()])
    assert "Patient/p: 1 recommendation(s)" in report
    assert "1. [WARNING] Liver transplant referral" in report
    assert "Rule: transplant-milan — Liver transplantation: Milan-NET criteria" in report
    assert "question 12" in report and "questions 12" not in report
    assert "**" not in report, "markdown emphasis is removed for the terminal"


def test_report_shows_every_criterion_with_its_status_and_basis() -> None:
    lines = criteria_table(_rec().criteria, EN)
    assert lines[0].split() == ["Criterion", "Status", "Based", "on"]
    row = next(line for line in lines if line.strip().startswith("(4)"))
    assert "unknown" in row and "missing: liver tumour burden" in row
    row = next(line for line in lines if line.strip().startswith("(6)"))
    assert "not met" in row and "age 64 years" in row
    assert any("Observation/ki67-2" in line for line in lines)


def test_report_lists_evidence_missing_data_local_policy_and_orders() -> None:
    report = text_report(HEADER, [_rec()])
    assert "- Ki-67 8 % (liver), 2026-09-10, Observation/ki67-2" in report
    assert "Missing data:\n      - liver tumour burden" in report
    assert "Local policy:\n      - recent CgA: 90 days" in report
    assert "→ Replace TACE with TAE" in report
    assert "delete: ServiceRequest/t1" in report
    assert "create: ServiceRequest Transarterial embolisation (TAE) [tae]" in report


def test_report_lines_stay_within_the_page_width() -> None:
    report = text_report(HEADER, [_rec()])
    assert max(len(line) for line in report.splitlines()[3:]) <= 100


def test_empty_report_says_why_and_lists_data_issues() -> None:
    issue = DataIssue("observations", "Observation/broken", "valueQuantity: expected an object")
    report = text_report(HEADER, [], [issue])
    assert "No recommendations" in report
    assert "- Observation/broken (observations): valueQuantity: expected an object" in report
