"""Issue 9 (cards): decisions waiting on data, grade history, stale evidence, the summary first."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from cards import CardOptions, build_card
from consensus import Recommendation, RuleContext, evaluate, evaluate_rules
from consensus.criteria import known, unknown, waiting_on
from consensus.months import whole_months
from consensus.patient import Patient
from consensus.recommendation import PV
from consensus.settings import Settings
from fhir_mappings.record import RecordMapper
from fhir_mappings.terminology import ICD10CM, LOINC, RXNORM
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    PATIENT_REF,
    base_pnen_lm,
    cc,
    condition,
    days_ago,
    differentiation,
    disease_status,
    enets,
    facts_for,
    flag,
    ki67,
    medication,
    number,
    patient,
    procedure,
    report,
    run,
    service_request,
    study,
    terms,
)

FIXTURES = Path(__file__).parent.parent.parent / "fixtures"
WORSENED = "271299001"
LANREOTIDE = (RXNORM, "68092", "lanreotide")
EVEROLIMUS = (RXNORM, "141704", "everolimus")
RESECTABILITY = "resectability of the liver metastases (R0/R1 feasibility, remnant liver volume)"
DAY = date(2026, 11, 27)


def card_of(rec: Recommendation) -> dict[str, Any]:
    """The CDS Hooks card of a recommendation, checked against the schema and FHIR R4B."""
    card = build_card(rec, PATIENT_REF, CardOptions())
    assert_valid_response({"cards": [card]})
    return card


def on_day(resources: list[dict[str, Any]], today: date = DAY) -> dict[str, Recommendation]:
    """Evaluate on a fixed day (calendar-month windows); the fired recommendations by rule id."""
    patient_ = Patient(facts_for(resources, today), today, Settings())
    return {r.rule.id: r for r in evaluate(RuleContext(PV, patient_))}


def progressing_on_ssa(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """A well-differentiated NET with liver metastases, SSTR PET positive, progressing on SSA."""
    return [
        *base_pnen_lm(),
        differentiation("well"),
        ki67(8, "liver"),
        study("pet-ssa", result="positive", when=days_ago(300)),
        medication(LANREOTIDE, start=days_ago(400), rid="ssa-1"),
        disease_status(WORSENED, when=days_ago(20)),
        *extra,
    ]


def benchmark() -> dict[str, Recommendation]:
    """The benchmark pNEN patient (progressed on lanreotide, SSTR positive), on 2026-11-27."""
    bundle = json.loads((FIXTURES / "benchmark-pnen-patient.json").read_text())
    items = [("file", e["resource"]) for e in bundle["entry"]]
    facts = RecordMapper(terms()).map("bench-pnen", items, DAY)
    ctx = RuleContext(PV, Patient(facts, DAY, Settings()))
    return {r.rule.id: r for r in evaluate(ctx)}


# --- 1. decisions waiting on data ------------------------------------------------------------
def test_decisions_waiting_on_data_name_resectability_for_targeted_and_prrt_on_benchmark() -> None:
    recs = benchmark()
    assert "targeted-therapy" not in recs and "prrt-candidate" not in recs
    waiting = {w.datum: [r.id for r in w.rules] for w in recs["summary"].waiting}
    assert RESECTABILITY in waiting
    assert {"targeted-therapy", "prrt-candidate"} <= set(waiting[RESECTABILITY])
    detail = card_of(recs["summary"])["detail"]
    assert "**Decisions waiting on data**" in detail
    line = next(x for x in detail.splitlines() if x.startswith(f"- {RESECTABILITY} — decides:"))
    assert "Targeted therapy: everolimus or sunitinib" in line and "PRRT candidate" in line


def test_decisions_waiting_on_data_merge_lines_for_the_same_fact() -> None:
    summary = run(progressing_on_ssa())["summary"]
    lines = [w.text for w in summary.waiting if w.datum == RESECTABILITY]
    assert len(lines) == 1
    assert "PRRT candidate" in lines[0]
    assert "Targeted therapy: everolimus or sunitinib" in lines[0]


def test_decisions_waiting_on_data_come_from_silent_rules_criteria() -> None:
    resources = progressing_on_ssa()
    ctx = RuleContext(PV, Patient(facts_for(resources), date.today(), Settings()))
    found = {e.rule.id: e for e in evaluate_rules(ctx)}
    targeted = found["targeted-therapy"]
    assert targeted.recommendation is None, "silent while advanced disease is unknown"
    assert targeted.waiting_on == (RESECTABILITY,)
    assert {c.name for c in targeted.criteria} >= {"advanced disease", "progression on SSA"}


def test_decisions_waiting_on_data_settled_once_resectability_is_recorded() -> None:
    recs = run(progressing_on_ssa(flag("r0-r1-feasible", False)))
    assert {"targeted-therapy", "prrt-candidate"} <= set(recs)
    assert all("liver metastases" not in w.datum for w in recs["summary"].waiting)


def test_decisions_waiting_on_data_skip_a_rule_with_a_criterion_not_met() -> None:
    met, open_ = known("a", True), unknown("b", "datum b")
    assert waiting_on([met, open_]) == ("datum b",)
    assert waiting_on([met, open_, known("c", False)]) == ()
    assert waiting_on([met]) == ()
    # Everolimus already running: targeted therapy is settled (not met), whatever resectability.
    recs = run(progressing_on_ssa(medication(EVEROLIMUS, start=days_ago(10))))
    for w in recs["summary"].waiting:
        assert "targeted-therapy" not in [r.id for r in w.rules]


def test_decisions_waiting_on_data_available_on_a_fired_recommendation() -> None:
    # PRRT fires with the SSTR PET result missing: its own decision waits on that result.
    record = [
        *base_pnen_lm(),
        differentiation("well"),
        ki67(8, "liver"),
        flag("r0-r1-feasible", False),
        medication(LANREOTIDE, start=days_ago(400)),
        disease_status(WORSENED, when=days_ago(20)),
    ]
    recs = run(record)
    assert recs["prrt-candidate"].waiting_on == ("68Ga-SSA PET/CT result",)
    assert any(w.datum == "68Ga-SSA PET/CT result" for w in recs["summary"].waiting)


# --- 2. grade history ------------------------------------------------------------------------
def graded_twice() -> list[dict[str, Any]]:
    """Liver Ki-67 25 % (G3) on 2025-03-01, then 8 % (G2) on 2026-09-10."""
    return [
        *base_pnen_lm(),
        differentiation("well"),
        ki67(25, "liver", when="2025-03-01"),
        ki67(8, "liver", when="2026-09-10"),
    ]


def test_grade_history_shows_an_earlier_higher_grade_at_the_same_site_with_its_date() -> None:
    p = Patient(facts_for(graded_twice(), DAY), DAY, Settings())
    liver = p.site_grades["liver"]
    assert liver.grade == 2, "the latest result sets the grade"
    assert liver.history == ("liver G3 on 2025-03-01, G2 on 2026-09-10",)
    assert "liver G3 on 2025-03-01, G2 on 2026-09-10" in (p.overall_grade or liver).label


def test_grade_history_shown_in_the_summary_and_where_the_grade_is_used() -> None:
    recs = on_day(graded_twice())
    course = "liver G3 on 2025-03-01, G2 on 2026-09-10"
    assert course in recs["summary"].summary
    assert course in card_of(recs["summary"])["detail"]
    pet_ssa = card_of(recs["pet-ssa"])["detail"]
    assert f"grade history: {course}" in pet_ssa


def test_grade_history_ignores_an_earlier_lower_grade() -> None:
    record = [
        *base_pnen_lm(),
        ki67(2, "liver", when="2025-03-01"),
        ki67(8, "liver", when="2026-09-10"),
    ]
    p = Patient(facts_for(record, DAY), DAY, Settings())
    assert p.site_grades["liver"].history == ()


def test_grade_history_ignores_a_higher_grade_at_another_site() -> None:
    record = [
        *base_pnen_lm(),
        ki67(25, "primary", when="2025-03-01"),
        ki67(8, "liver", when="2026-09-10"),
    ]
    p = Patient(facts_for(record, DAY), DAY, Settings())
    assert p.site_grades["liver"].history == ()
    assert p.site_grades["primary"].grade == 3


# --- 3. stale evidence ----------------------------------------------------------------------
def progressed_after_fdg(fdg_day: str) -> list[dict[str, Any]]:
    """Graded and biopsied in 2024, FDG PET on `fdg_day`, progression on 2026-11-20."""
    return [
        *base_pnen_lm(),
        differentiation("well"),
        ki67(8, "liver", when="2024-09-01"),
        procedure("eus-fnb", when="2024-09-01"),
        study("pet-fdg", result="positive", when=fdg_day),
        disease_status(WORSENED, when="2026-11-20"),
    ]


def test_stale_evidence_fdg_pet_named_with_its_age_and_a_fresh_one_suggested() -> None:
    rec = on_day(progressed_after_fdg("2024-10-02"))["rebiopsy-progression"]
    card = card_of(rec)
    assert "FDG PET of 2024-10-02, 25 months old" in card["detail"]
    creates = [
        a["resource"]["code"]["coding"][0]["code"]
        for s in card["suggestions"]
        for a in s["actions"]
    ]
    assert creates == ["pet-fdg"]
    assert any("a study guiding a procedure is stale: 6 months" in p for p in rec.local_policy)


def test_stale_evidence_whole_calendar_months() -> None:
    assert whole_months(date(2024, 10, 2), date(2026, 11, 27)) == 25
    assert whole_months(date(2026, 3, 1), date(2026, 9, 1)) == 6
    assert whole_months(date(2026, 3, 2), date(2026, 9, 1)) == 5


def test_stale_evidence_study_exactly_six_months_old_is_fresh() -> None:
    rec = on_day(progressed_after_fdg("2026-05-27"))["rebiopsy-progression"]
    assert "months old" not in rec.advice and rec.suggestions == ()


def test_stale_evidence_study_six_months_and_a_day_old_is_stale() -> None:
    rec = on_day(progressed_after_fdg("2026-05-26"))["rebiopsy-progression"]
    assert "FDG PET of 2026-05-26, 6 months old" in rec.advice
    assert rec.suggestions


def test_stale_evidence_no_fresh_study_suggested_when_one_is_planned() -> None:
    record = [*progressed_after_fdg("2024-10-02"), service_request("pet-fdg")]
    rec = on_day(record)["rebiopsy-progression"]
    assert "a new one is planned" in rec.advice and rec.suggestions == ()


def test_stale_evidence_imaging_behind_biopsy_both_sites_and_liver_biopsy_approach() -> None:
    record = [
        *base_pnen_lm(),
        enets("II"),
        ki67(8, "primary", when="2026-01-05"),
        study("ct-abdomen-pelvis-multiphase", when="2025-01-10"),
    ]
    recs = on_day(record)
    for rule_id in ("biopsy-both-sites", "liver-biopsy-approach"):
        card = card_of(recs[rule_id])
        assert "abdominal CT of 2025-01-10, 22 months old" in card["detail"], rule_id
        labels = [s["label"] for s in card["suggestions"]]
        assert "Order a fresh abdominal CT" in labels, rule_id
    assert card_of(recs["biopsy-both-sites"])["selectionBehavior"] == "any"


def test_stale_evidence_recent_imaging_adds_nothing() -> None:
    record = [
        *base_pnen_lm(),
        ki67(8, "primary"),
        study("ct-abdomen-pelvis-multiphase", when=days_ago(30)),
    ]
    recs = run(record)
    assert "months old" not in recs["liver-biopsy-approach"].advice
    assert recs["liver-biopsy-approach"].suggestions == ()


# --- 4. summary first, with status, course and therapy ---------------------------------------
def test_summary_first_among_cards_before_warnings() -> None:
    record = [
        *base_pnen_lm(),
        ki67(8, "liver", when=days_ago(300)),
        procedure("eus-fnb", when=days_ago(300)),
        disease_status(WORSENED, when=days_ago(30)),
    ]
    ctx = RuleContext(PV, Patient(facts_for(record), date.today(), Settings()))
    recs = evaluate(ctx)
    assert recs[0].rule.id == "summary"
    assert any(r.indicator.value == "warning" for r in recs[1:])


def test_summary_names_pnen_status_latest_disease_status_and_current_therapy_line() -> None:
    record = [
        *base_pnen_lm(),
        differentiation("well"),
        ki67(8, "liver"),
        medication(LANREOTIDE, start="2024-01-02"),
        disease_status(WORSENED, when="2026-09-10"),
    ]
    rec = on_day(record)["summary"]
    assert rec.summary.startswith("pNEN active with liver metastases:")
    assert "progression 2026-09-10" in rec.summary
    assert "on lanreotide since 2024-01-02, line 1" in rec.summary
    detail = card_of(rec)["detail"]
    assert "- pNEN status: active" in detail
    assert "- Latest disease status: progression (2026-09-10)" in detail
    assert "- Current systemic therapy: lanreotide since 2024-01-02, line 1" in detail


def test_summary_therapy_line_counts_an_agent_added_to_a_running_ssa_as_the_next_line() -> None:
    record = [
        patient(),
        condition(ICD10CM, "C25.4", onset="2023-01-01"),
        condition(ICD10CM, "C78.7", onset="2023-01-01"),
        medication(LANREOTIDE, start="2023-02-01"),
        medication(EVEROLIMUS, start="2025-06-01"),
    ]
    rec = on_day(record)["summary"]
    assert "line 2" in rec.summary
    assert "since 2023-02-01" in rec.summary, "the regimen starts with its earliest drug"


def test_summary_stays_under_140_characters_with_everything_recorded() -> None:
    record = [
        *graded_twice(),
        enets("III"),
        number("remnant-liver-volume", 20),
        study("pet-ssa", result="positive"),
        medication(LANREOTIDE, start="2024-01-02"),
        disease_status(WORSENED, when="2026-09-10"),
        condition(ICD10CM, "E16.1", rid="ins"),
    ]
    rec = on_day(record)["summary"]
    assert len(rec.summary) < 140
    assert not rec.summary.endswith("…")


# --- 5. card text -----------------------------------------------------------------------------
def test_card_text_medication_evidence_names_its_date_once() -> None:
    record = [*progressing_on_ssa(flag("r0-r1-feasible", False))]
    detail = card_of(run(record)["targeted-therapy"])["detail"]
    line = next(x for x in detail.splitlines() if "MedicationRequest/ssa-1" in x and x[:2] == "- ")
    assert line.count(days_ago(400)) == 1, line


def test_decisions_waiting_on_data_for_a_rule_with_either_of_two_indications() -> None:
    # MGMT IHC needs type II/III metastases or a progression: no progression, type unknown.
    summary = run([*base_pnen_lm(), differentiation("well"), ki67(8, "liver")])["summary"]
    waiting = {w.datum: [r.id for r in w.rules] for w in summary.waiting}
    assert "mgmt-test" in waiting["ENETS liver-metastasis type"]
    # Progression recorded: MGMT IHC fires on that alone.
    recs = run([*base_pnen_lm(), differentiation("well"), ki67(8, "liver"), enets("I")])
    assert all("mgmt-test" not in [r.id for r in w.rules] for w in recs["summary"].waiting)


def test_grade_history_shown_in_surgery_cards_that_use_the_grade() -> None:
    record = [*graded_twice(), flag("r0-r1-feasible", False)]
    recs = on_day(record)
    course = "grade history: liver G3 on 2025-03-01, G2 on 2026-09-10"
    for rule_id in ("primary-resection-low-priority", "pet-ssa"):
        assert course in card_of(recs[rule_id])["detail"], rule_id


def test_stale_evidence_a_recent_abdominal_study_of_any_kind_is_fresh_imaging() -> None:
    # An old multiphase CT, then a recent abdominal MRI: the biopsy is planned on fresh imaging.
    record = [
        *base_pnen_lm(),
        ki67(8, "primary"),
        study("ct-abdomen-pelvis-multiphase", when="2024-01-10"),
        report(cc(LOINC, "30670-4", "MR Liver"), when="2026-10-01"),
    ]
    rec = on_day(record)["liver-biopsy-approach"]
    assert "months old" not in rec.advice and rec.suggestions == ()


def test_grade_history_at_the_g3_cut_off() -> None:
    for earlier, shown in ((20, False), (20.5, True)):
        record = [
            *base_pnen_lm(),
            ki67(earlier, "liver", when="2025-03-01"),
            ki67(8, "liver", when="2026-09-10"),
        ]
        p = Patient(facts_for(record, DAY), DAY, Settings())
        assert bool(p.site_grades["liver"].history) is shown, earlier


def test_decisions_waiting_on_data_a_ki67_bound_across_10_percent_decides_fdg_pet() -> None:
    bound = ki67(15, "liver")
    bound["valueQuantity"]["comparator"] = "<"  # '< 15 %': G1–G2, and across the 10 % cut-off
    record = [*base_pnen_lm(), differentiation("well"), bound]
    recs = run(record)
    assert "pet-fdg" not in recs
    waiting = {w.datum: [r.id for r in w.rules] for w in recs["summary"].waiting}
    assert any("pet-fdg" in ids for ids in waiting.values()), waiting


def test_decisions_waiting_on_data_differentiation_decides_sstr_pet() -> None:
    recs = run([*base_pnen_lm()])  # nothing graded, nothing differentiated
    assert "pet-ssa" not in recs
    datum = "differentiation (well or poorly differentiated) or an exact Ki-67"
    waiting = {w.datum: [r.id for r in w.rules] for w in recs["summary"].waiting}
    assert "pet-ssa" in waiting[datum]


def test_decisions_waiting_on_data_ned_after_resection_decides_follow_up_imaging() -> None:
    # Primary and liver metastases resected, NED not recorded after it: no surveillance card,
    # and the summary says that recording NED would settle it (issue 9, item 1).
    record = [
        *base_pnen_lm(),
        procedure("pancreatoduodenectomy", when=days_ago(200)),
        procedure("hepatectomy-anatomic", when=days_ago(200)),
    ]
    recs = run(record)
    assert "followup-imaging-due" not in recs
    lines = [w for w in recs["summary"].waiting if w.datum.startswith("NED")]
    assert lines and "followup-imaging-due" in [r.id for r in lines[0].rules]
