"""H. Follow-up: followup-imaging-due (consensus-rules.md H; R Postoperative follow-up).

Dates are fixed (`dated.TODAY`) because the intervals are calendar months with the last day
included: a study exactly 12 months ago is not overdue, one 12 months and a day ago is.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from cards import CardOptions, build_card
from consensus import Recommendation
from consensus.recommendation import OS, SIGN, Indicator
from consensus.settings import Settings
from fhir_mappings.terminology import LOINC, PNEN
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    PATIENT_REF,
    cc,
    condition,
    disease_status,
    flag,
    ki67,
    liver_mets,
    medication,
    observation,
    patient,
    pnen,
    procedure,
    report,
    service_request,
    study,
)
from tests.unit.consensus.dated import enucleation, on, remission_condition, run_on

RULE = "followup-imaging-due"
WORSENED, STABLE = "271299001", "359746009"
LANREOTIDE = ("http://www.nlm.nih.gov/research/umls/rxnorm", "68092")


def card_of(rec: Recommendation) -> dict[str, Any]:
    """The CDS Hooks card of a recommendation, checked against the schema and FHIR R4B."""
    card = build_card(rec, PATIENT_REF, CardOptions())
    assert_valid_response({"cards": [card]})
    assert len(card["summary"]) < 140
    return card


def ct(when: str, **kw: Any) -> dict[str, Any]:
    """A contrast CT of abdomen and pelvis on a date."""
    return report(cc(LOINC, "36813-4", "CT abdomen and pelvis W contrast IV"), when=when, **kw)


def n_category(value: str) -> dict[str, Any]:
    """A pathological N category (LOINC 21900-6) as a string."""
    return observation((LOINC, "21900-6"), valueString=value)


def resected(
    surgery: str,
    *extra: dict[str, Any],
    liver: bool = True,
    ned: str | None = "auto",
    ki: float | None = 2,
    nodes: str | None = "N0",
) -> list[dict[str, Any]]:
    """A pNEN (with liver metastases unless `liver` is False) resected to NED on `surgery`.

    The primary (distal pancreatectomy) and, with liver metastases, a hepatectomy on the same day;
    NED recorded a month later unless `ned` is None or another date; low risk by default.
    """
    record = [
        patient(),
        pnen(onset="2015-01-01"),
        procedure("distal-pancreatectomy", when=surgery, rid="primary-resection"),
    ]
    if liver:
        record += [
            liver_mets(onset="2015-01-01"),
            procedure("hepatectomy-parenchymal-sparing", when=surgery, rid="resection"),
        ]
    if ned == "auto":
        ned = (date.fromisoformat(surgery) + timedelta(days=30)).isoformat()
    if ned is not None:
        record.append(flag("ned", True, when=ned, rid="ned"))
    if ki is not None:
        record.append(ki67(ki, "liver" if liver else "primary", when=surgery))
    if nodes is not None:
        record.append(n_category(nodes))
    return [*record, *extra]


def statuses(rec: Recommendation) -> dict[str, str]:
    """Criterion name → status value."""
    return {c.name: c.status.value for c in rec.criteria}


CURATIVE = "curative-intent resection (no known disease left)"


# --- positive -------------------------------------------------------------------------------
def test_followup_imaging_due_a_year_after_the_last_ct_in_year_two() -> None:
    rec = run_on(resected(on(30), ct(on(12, 1), rid="last-ct")))[RULE]
    assert rec.indicator is Indicator.INFO
    assert f"last {on(12, 1)}" in rec.summary and "interval 12 months" in rec.summary
    assert "The last study was in year 2 after surgery" in rec.advice
    assert [(a.type, a.order) for a in rec.suggestions[0].actions] == [
        ("create", "ct-abdomen-pelvis-multiphase")
    ]
    card = card_of(rec)
    resource = card["suggestions"][0]["actions"][0]["resource"]
    assert resource["code"]["coding"][0]["code"] == "ct-abdomen-pelvis-multiphase"
    assert "DiagnosticReport/last-ct" in card["detail"] and "Procedure/resection" in card["detail"]


def test_followup_imaging_due_when_no_study_since_the_surgery() -> None:
    rec = run_on(resected(on(13)))[RULE]
    assert f"none since the surgery of {on(13)}" in rec.summary
    assert statuses(rec)["abdominal CT or MRI within 12 months"] == "not met"
    assert statuses(rec)[CURATIVE] == "met"
    card_of(rec)


def test_followup_counts_a_primary_resection_when_no_liver_metastasis_was_recorded() -> None:
    assert RULE in run_on(resected(on(13), liver=False))


def test_followup_counts_an_enucleation_of_the_primary() -> None:
    record = [patient(), pnen(onset="2015-01-01"), flag("ned", True, when=on(12)), ki67(2)]
    record.append(n_category("N0"))
    assert RULE in run_on(record, enucleation(on(13)))


@pytest.mark.parametrize("liver_procedure", ["liver-ablation", "liver-transplant"])
def test_followup_counts_ablation_or_transplant_of_the_liver_metastases(
    liver_procedure: str,
) -> None:
    record = resected(on(13), procedure(liver_procedure, when=on(13)), liver=False)
    record.append(liver_mets(onset="2015-01-01"))
    assert RULE in run_on(record)


@pytest.mark.parametrize(("second_stage", "fires"), [(12, False), (13, True)])
def test_followup_staged_surgery_counts_from_the_second_stage(
    second_stage: int, fires: bool
) -> None:
    record = [
        patient(),
        pnen(onset="2015-01-01"),
        liver_mets(onset="2015-01-01"),
        procedure("distal-pancreatectomy", when=on(30)),
        procedure("hepatectomy-anatomic", when=on(second_stage), rid="second-stage"),
        flag("ned", True, when=on(second_stage, -20)),
        ki67(2, "liver"),
        n_category("N0"),
    ]
    assert (RULE in run_on(record)) is fires


def test_followup_ignores_imaging_before_the_surgery() -> None:
    rec = run_on(resected(on(13), ct(on(14))))[RULE]
    assert "none since the surgery" in rec.summary


def test_followup_counts_any_abdominal_mri() -> None:
    mri = report(cc(LOINC, "30670-4", "MR liver"), when=on(3))
    assert RULE not in run_on(resected(on(20), mri))


def test_followup_applies_to_a_pnen_in_remission() -> None:
    record = [r for r in resected(on(13)) if r.get("id") != "pnen-1"]
    rec = run_on(record, remission_condition(on(12)))[RULE]
    assert "The pNEN is recorded in remission." in rec.advice
    card_of(rec)


def test_followup_counts_a_remission_condition_after_the_surgery_as_ned() -> None:
    record = resected(on(13), ned=None)
    rec = run_on(record, remission_condition(on(12)))[RULE]
    assert statuses(rec)[CURATIVE] == "met"


# --- interval cut-offs (calendar months, the last day included) ------------------------------
@pytest.mark.parametrize(("days", "fires"), [(-1, False), (0, False), (1, True)])
def test_followup_interval_is_12_months_in_the_first_36_months(days: int, fires: bool) -> None:
    assert (RULE in run_on(resected(on(26), ct(on(12, days))))) is fires


@pytest.mark.parametrize(("days", "fires"), [(0, False), (1, True)])
def test_followup_first_interval_runs_from_the_surgery(days: int, fires: bool) -> None:
    assert (RULE in run_on(resected(on(12, days)))) is fires


@pytest.mark.parametrize(
    ("study_month", "days", "fires"),
    [
        pytest.param(35, 0, True, id="study-in-month-35-then-12-months"),
        pytest.param(36, 1, True, id="study-a-day-before-month-36-then-12-months"),
        pytest.param(36, 0, False, id="study-at-month-36-then-24-months"),
    ],
)
def test_followup_switches_to_24_months_after_the_first_36_calendar_months(
    study_month: int, days: int, fires: bool
) -> None:
    # Surgery 50 months ago; the study `study_month` months (minus `days`) after it.
    surgery = on(50)
    study_date = on(50 - study_month, days)
    assert (RULE in run_on(resected(surgery, ct(study_date)))) is fires


@pytest.mark.parametrize(("days", "fires"), [(0, False), (1, True)])
def test_followup_interval_is_24_months_in_years_four_to_ten(days: int, fires: bool) -> None:
    rec = run_on(resected(on(80), ct(on(24, days))))
    assert (RULE in rec) is fires
    if fires:
        assert "interval 24 months" in rec[RULE].summary
        assert "every two years in years 4–10" in rec[RULE].advice


@pytest.mark.parametrize(("days", "fires"), [(0, True), (1, False)])
def test_followup_stops_after_ten_years(days: int, fires: bool) -> None:
    assert (RULE in run_on(resected(on(120, days), ct(on(40))))) is fires


# --- high risk ------------------------------------------------------------------------------
@pytest.mark.parametrize(("ki", "fires"), [(5, False), (5.1, True)])
def test_followup_high_risk_from_ki67_above_5_percent(ki: float, fires: bool) -> None:
    rec = run_on(resected(on(26), ct(on(7)), ki=ki))
    assert (RULE in rec) is fires
    if fires:
        assert "interval 6 months" in rec[RULE].summary
        card = card_of(rec[RULE])
        assert "high-risk follow-up imaging interval: 6 months (local policy" in card["detail"]


@pytest.mark.parametrize(("days", "fires"), [(0, False), (1, True)])
def test_followup_high_risk_interval_is_6_months(days: int, fires: bool) -> None:
    assert (RULE in run_on(resected(on(26), ct(on(6, days)), ki=12))) is fires


@pytest.mark.parametrize("nodes", ["N1", "pN1"])
def test_followup_high_risk_from_positive_nodes(nodes: str) -> None:
    rec = run_on(resected(on(26), ct(on(7)), nodes=nodes))[RULE]
    assert statuses(rec)["high risk of recurrence (Ki-67 > 5 % or positive nodes)"] == "met"


def test_followup_high_risk_applies_in_later_years_too() -> None:
    assert RULE in run_on(resected(on(80), ct(on(7)), ki=8))


def test_followup_high_risk_interval_is_a_configurable_local_default() -> None:
    record = resected(on(26), ct(on(4)), ki=8)
    assert RULE not in run_on(record)
    assert RULE in run_on(record, settings=Settings({"followup-high-risk-months": 3}))


# --- unknown data ---------------------------------------------------------------------------
def test_followup_may_be_due_when_risk_is_unknown_and_only_the_short_interval_passed() -> None:
    rec = run_on(resected(on(26), ct(on(7)), ki=None, nodes=None))[RULE]
    assert rec.summary.startswith("Follow-up abdominal CT/MRI may be due (recurrence risk unknown)")
    assert "Ki-67 index" in rec.missing and "N category (TNM)" in rec.missing
    assert statuses(rec)["high risk of recurrence (Ki-67 > 5 % or positive nodes)"] == "unknown"
    card_of(rec)


def test_followup_due_when_risk_is_unknown_but_the_standard_interval_passed() -> None:
    rec = run_on(resected(on(26), ct(on(13)), ki=None, nodes="NX"))[RULE]
    assert rec.summary.startswith("Follow-up abdominal CT/MRI due:")
    assert "N category (recorded as NX)" in rec.missing
    card_of(rec)


def test_followup_risk_unknown_with_low_ki67_and_no_n_category() -> None:
    rec = run_on(resected(on(26), ct(on(7)), ki=3, nodes=None))[RULE]
    assert "may be due" in rec.summary and rec.missing == ("N category (TNM)",)


def test_followup_silent_when_ned_is_not_recorded_after_the_surgery() -> None:
    assert RULE not in run_on(resected(on(13), ned=None))


def test_followup_lists_undated_imaging_as_missing() -> None:
    undated = ct(on(1), rid="undated-ct")
    del undated["effectiveDateTime"]
    rec = run_on(resected(on(13), undated))[RULE]
    assert "date of the abdominal imaging study DiagnosticReport/undated-ct" in rec.missing


# --- negative: not a curative-intent resection -----------------------------------------------
def test_followup_silent_after_primary_only_resection_with_liver_metastases_left_in_place() -> None:
    # The patient: primary resected, type III liver metastases in place on lanreotide.
    record = [
        patient(),
        pnen(onset="2015-01-01"),
        liver_mets(onset="2015-01-01"),
        procedure("distal-pancreatectomy", when=on(30)),
        medication(LANREOTIDE, start=on(28)),
        disease_status(STABLE, when=on(6)),
        ki67(2, "liver"),
    ]
    assert RULE not in run_on(record)


def test_followup_silent_after_a_liver_resection_with_the_primary_in_place() -> None:
    record = [r for r in resected(on(13)) if r.get("id") != "primary-resection"]
    assert RULE not in run_on(record)


def test_followup_silent_when_ned_is_recorded_as_no() -> None:
    assert RULE not in run_on(resected(on(13), flag("ned", False, when=on(11)), ned=None))


def test_followup_silent_with_stable_disease_after_the_surgery() -> None:
    assert RULE not in run_on(resected(on(13), disease_status(STABLE, when=on(6)), ned=None))


def test_followup_silent_after_progression_following_ned() -> None:
    assert RULE not in run_on(resected(on(26), disease_status(WORSENED, when=on(3))))


def test_followup_counts_ned_recorded_after_a_progression() -> None:
    record = resected(on(26), disease_status(WORSENED, when=on(24)), ned=on(20))
    assert RULE in run_on(record)


def test_followup_silent_after_a_new_metastasis_recorded_after_the_surgery() -> None:
    lung = condition("http://hl7.org/fhir/sid/icd-10-cm", "C78.0", onset=on(3), rid="lung-met")
    assert RULE not in run_on(resected(on(26), lung))


def test_followup_silent_when_imaging_is_recent() -> None:
    assert RULE not in run_on(resected(on(26), ct(on(3))))


@pytest.mark.parametrize(
    "kind",
    ["not-completed", "only-planned"],
)
def test_followup_silent_without_a_completed_liver_resection(kind: str) -> None:
    record = [r for r in resected(on(13)) if r.get("id") != "resection"]
    if kind == "not-completed":
        record.append(procedure("hepatectomy-anatomic", status="in-progress", when=on(13)))
    else:
        record.append(service_request("hepatectomy-anatomic", status="active"))
    assert RULE not in run_on(record)


def test_followup_silent_with_an_undated_resection() -> None:
    record = resected(on(13))
    for resource in record:
        if resource.get("id") == "resection":
            del resource["performedDateTime"]
    assert RULE not in run_on(record)


def test_followup_silent_without_pnen() -> None:
    record = [r for r in resected(on(13)) if r.get("id") != "pnen-1"]
    assert RULE not in run_on(record)


# --- orders and hooks -----------------------------------------------------------------------
def test_followup_names_a_pending_imaging_order_instead_of_suggesting_one() -> None:
    order = service_request("ct-abdomen-pelvis-multiphase", status="active", rid="ct-order")
    rec = run_on(resected(on(13), order))[RULE]
    assert rec.suggestions == ()
    assert "ServiceRequest/ct-order" in [f.ref for f in rec.evidence]
    card_of(rec)


def test_followup_pet_ct_counts_as_abdominal_imaging() -> None:
    assert RULE not in run_on(resected(on(26), study("pet-ssa", when=on(3))))


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_followup_is_a_patient_view_rule_only(hook: str) -> None:
    draft = service_request(cc(PNEN, "pet-fdg"), rid="pet")
    assert RULE not in run_on(resected(on(13)), hook=hook, drafts=[draft])
