"""H. Follow-up: followup-imaging-due (consensus-rules.md H; R Postoperative follow-up)."""

from __future__ import annotations

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
    base_pnen_lm,
    cc,
    days_ago,
    disease_status,
    fired,
    flag,
    ki67,
    observation,
    patient,
    pnen,
    procedure,
    report,
    run,
    service_request,
    study,
)

RULE = "followup-imaging-due"
WORSENED = "271299001"


def card_of(rec: Recommendation) -> dict[str, Any]:
    """The CDS Hooks card of a recommendation, checked against the schema and FHIR R4B."""
    card = build_card(rec, PATIENT_REF, CardOptions())
    assert_valid_response({"cards": [card]})
    assert len(card["summary"]) < 140
    return card


def ct(age: int, **kw: Any) -> dict[str, Any]:
    """A contrast CT of abdomen and pelvis `age` days ago."""
    return report(
        cc(LOINC, "36813-4", "CT abdomen and pelvis W contrast IV"), when=days_ago(age), **kw
    )


def n_category(value: str) -> dict[str, Any]:
    """A pathological N category (LOINC 21900-6) as a string."""
    return observation((LOINC, "21900-6"), valueString=value)


def resected(
    surgery_age: int,
    *extra: dict[str, Any],
    kind: str = "hepatectomy-parenchymal-sparing",
    ned_age: int | None = None,
    ki: float | None = 2,
    nodes: str | None = "N0",
) -> list[dict[str, Any]]:
    """pNEN-LM resected `surgery_age` days ago, NED recorded after it, low risk by default."""
    record = [
        *base_pnen_lm(),
        procedure(kind, when=days_ago(surgery_age), rid="resection"),
        *extra,
    ]
    if ned_age is not None or surgery_age:
        ned = ned_age if ned_age is not None else max(surgery_age - 30, 0)
        record.append(flag("ned", True, when=days_ago(ned), rid="ned"))
    if ki is not None:
        record.append(ki67(ki, "liver", when=days_ago(surgery_age)))
    if nodes is not None:
        record.append(n_category(nodes))
    return record


def statuses(rec: Recommendation) -> dict[str, str]:
    """Criterion name → status value."""
    return {c.name: c.status.value for c in rec.criteria}


# --- positive -------------------------------------------------------------------------------
def test_followup_imaging_due_a_year_after_the_last_ct_in_year_two() -> None:
    rec = run(resected(500, ct(366, rid="last-ct")))[RULE]
    assert rec.indicator is Indicator.INFO
    assert f"last {days_ago(366)}" in rec.summary and "interval 12 months" in rec.summary
    assert "The last study was in year 1 after surgery" in rec.advice
    assert [(a.type, a.order) for a in rec.suggestions[0].actions] == [
        ("create", "ct-abdomen-pelvis-multiphase")
    ]
    card = card_of(rec)
    resource = card["suggestions"][0]["actions"][0]["resource"]
    assert resource["code"]["coding"][0]["code"] == "ct-abdomen-pelvis-multiphase"
    assert "DiagnosticReport/last-ct" in card["detail"] and "Procedure/resection" in card["detail"]


def test_followup_imaging_due_when_no_study_since_the_resection() -> None:
    rec = run(resected(400))[RULE]
    assert f"none since the resection of {days_ago(400)}" in rec.summary
    assert statuses(rec)["abdominal CT or MRI within 12 months"] == "not met"
    card_of(rec)


def test_followup_counts_a_pancreatic_resection_followed_by_ned() -> None:
    assert RULE in fired(resected(400, kind="distal-pancreatectomy"))


def test_followup_counts_from_the_latest_resection() -> None:
    earlier = procedure("pancreatoduodenectomy", when=days_ago(2000))
    assert RULE not in fired(resected(300, earlier))
    assert RULE in fired(resected(400, earlier))


def test_followup_ignores_imaging_before_the_resection() -> None:
    rec = run(resected(400, ct(410)))[RULE]
    assert "none since the resection" in rec.summary


def test_followup_counts_any_abdominal_mri() -> None:
    mri = report(cc(LOINC, "30670-4", "MR liver"), when=days_ago(100))
    assert RULE not in fired(resected(500, mri))


# --- interval edges -------------------------------------------------------------------------
@pytest.mark.parametrize(("last", "fires"), [(365, False), (366, True)])
def test_followup_interval_is_12_months_in_years_one_to_three(last: int, fires: bool) -> None:
    assert (RULE in fired(resected(800, ct(last)))) is fires


@pytest.mark.parametrize(("surgery", "fires"), [(365, False), (366, True)])
def test_followup_first_interval_runs_from_the_resection(surgery: int, fires: bool) -> None:
    assert (RULE in fired(resected(surgery))) is fires


@pytest.mark.parametrize(
    ("study_after_surgery", "fires"),
    [
        pytest.param(1095, True, id="study-in-year-3-then-12-months"),
        pytest.param(1096, False, id="study-in-year-4-then-24-months"),
    ],
)
def test_followup_year_three_to_four_boundary(study_after_surgery: int, fires: bool) -> None:
    # Surgery 1500 days ago; the study was 405 or 404 days ago: overdue only under 12 months.
    assert (RULE in fired(resected(1500, ct(1500 - study_after_surgery)))) is fires


@pytest.mark.parametrize(("last", "fires"), [(731, False), (732, True)])
def test_followup_interval_is_24_months_in_years_four_to_ten(last: int, fires: bool) -> None:
    rec = run(resected(2500, ct(last)))
    assert (RULE in rec) is fires
    if fires:
        assert "interval 24 months" in rec[RULE].summary
        assert "every two years in years 4–10" in rec[RULE].advice


@pytest.mark.parametrize(("surgery", "fires"), [(3653, True), (3654, False)])
def test_followup_stops_after_ten_years(surgery: int, fires: bool) -> None:
    assert (RULE in fired(resected(surgery, ct(surgery - 2000)))) is fires


# --- high risk ------------------------------------------------------------------------------
@pytest.mark.parametrize(("ki", "fires"), [(5, False), (5.1, True)])
def test_followup_high_risk_from_ki67_above_5_percent(ki: float, fires: bool) -> None:
    rec = run(resected(800, ct(184), ki=ki))
    assert (RULE in rec) is fires
    if fires:
        assert "interval 6 months" in rec[RULE].summary
        card = card_of(rec[RULE])
        assert "high-risk follow-up imaging interval: 6 months (local policy" in card["detail"]


@pytest.mark.parametrize(("last", "fires"), [(183, False), (184, True)])
def test_followup_high_risk_interval_is_6_months(last: int, fires: bool) -> None:
    assert (RULE in fired(resected(800, ct(last), ki=12))) is fires


@pytest.mark.parametrize("nodes", ["N1", "pN1"])
def test_followup_high_risk_from_positive_nodes(nodes: str) -> None:
    rec = run(resected(800, ct(200), nodes=nodes))[RULE]
    assert statuses(rec)["high risk of recurrence (Ki-67 > 5 % or positive nodes)"] == "met"


def test_followup_high_risk_applies_in_later_years_too() -> None:
    assert RULE in fired(resected(2500, ct(200), ki=8))


def test_followup_high_risk_interval_is_a_configurable_local_default() -> None:
    record = resected(800, ct(100), ki=8)
    assert RULE not in fired(record)
    assert RULE in fired(record, settings=Settings({"followup-high-risk-months": 3}))


# --- unknown data ---------------------------------------------------------------------------
def test_followup_may_be_due_when_risk_is_unknown_and_only_the_short_interval_passed() -> None:
    rec = run(resected(800, ct(200), ki=None, nodes=None))[RULE]
    assert rec.summary.startswith("Follow-up abdominal CT/MRI may be due (recurrence risk unknown)")
    assert "Ki-67 index" in rec.missing and "N category (TNM)" in rec.missing
    assert statuses(rec)["high risk of recurrence (Ki-67 > 5 % or positive nodes)"] == "unknown"
    card_of(rec)


def test_followup_due_when_risk_is_unknown_but_the_standard_interval_passed() -> None:
    rec = run(resected(800, ct(400), ki=None, nodes="NX"))[RULE]
    assert rec.summary.startswith("Follow-up abdominal CT/MRI due:")
    assert "N category (recorded as NX)" in rec.missing
    card_of(rec)


def test_followup_risk_unknown_with_low_ki67_and_no_n_category() -> None:
    rec = run(resected(800, ct(200), ki=3, nodes=None))[RULE]
    assert "may be due" in rec.summary and rec.missing == ("N category (TNM)",)


def test_followup_fires_with_ned_missing_when_nothing_is_recorded_after_surgery() -> None:
    record = [
        *base_pnen_lm(),
        procedure("hepatectomy-anatomic", when=days_ago(400)),
        ki67(2),
        n_category("N0"),
    ]
    rec = run(record)[RULE]
    assert statuses(rec)["curative-intent resection (resection followed by NED)"] == "unknown"
    assert rec.missing == (f"NED after the resection of {days_ago(400)}",)
    assert "NED after the resection is not recorded" in rec.advice
    card_of(rec)


def test_followup_lists_undated_imaging_as_missing() -> None:
    undated = ct(10, rid="undated-ct")
    del undated["effectiveDateTime"]
    rec = run(resected(400, undated))[RULE]
    assert "date of the abdominal imaging study DiagnosticReport/undated-ct" in rec.missing


# --- negative -------------------------------------------------------------------------------
def test_followup_silent_when_ned_is_recorded_as_no() -> None:
    record = [
        *base_pnen_lm(),
        procedure("hepatectomy-anatomic", when=days_ago(400)),
        flag("ned", False, when=days_ago(350)),
    ]
    assert RULE not in fired(record)


def test_followup_silent_after_progression_following_ned() -> None:
    record = resected(800, disease_status(WORSENED, when=days_ago(100)), ned_age=700)
    assert RULE not in fired(record)


def test_followup_counts_ned_recorded_after_a_progression() -> None:
    record = resected(800, disease_status(WORSENED, when=days_ago(700)), ned_age=600)
    assert RULE in fired(record)


def test_followup_silent_when_imaging_is_recent() -> None:
    assert RULE not in fired(resected(800, ct(100)))


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(base_pnen_lm(), id="no-resection"),
        pytest.param(
            [*base_pnen_lm(), procedure("liver-ablation", when=days_ago(400))], id="ablation-only"
        ),
        pytest.param(
            [
                *base_pnen_lm(),
                procedure("hepatectomy-anatomic", status="in-progress", when=days_ago(400)),
            ],
            id="resection-not-completed",
        ),
        pytest.param(
            [*base_pnen_lm(), service_request("hepatectomy-anatomic", status="active")],
            id="resection-only-planned",
        ),
    ],
)
def test_followup_silent_without_a_completed_resection(record: list[dict[str, Any]]) -> None:
    assert RULE not in fired(record)


def test_followup_silent_with_an_undated_resection() -> None:
    surgery = procedure("hepatectomy-anatomic")
    del surgery["performedDateTime"]
    assert RULE not in fired([*base_pnen_lm(), surgery, flag("ned", True)])


def test_followup_silent_without_pnen() -> None:
    record = [
        patient(),
        procedure("hepatectomy-anatomic", when=days_ago(400)),
        flag("ned", True, when=days_ago(300)),
    ]
    assert RULE not in fired(record)


def test_followup_applies_to_pnen_without_liver_metastases() -> None:
    record = [
        patient(),
        pnen(),
        procedure("distal-pancreatectomy", when=days_ago(400)),
        flag("ned", True, when=days_ago(380)),
        ki67(2),
        n_category("N0"),
    ]
    assert RULE in fired(record)


# --- orders and hooks -----------------------------------------------------------------------
def test_followup_names_a_pending_imaging_order_instead_of_suggesting_one() -> None:
    order = service_request("ct-abdomen-pelvis-multiphase", status="active", rid="ct-order")
    rec = run(resected(400, order))[RULE]
    assert rec.suggestions == ()
    assert "ServiceRequest/ct-order" in [f.ref for f in rec.evidence]
    card_of(rec)


def test_followup_pet_ct_counts_as_abdominal_imaging() -> None:
    assert RULE not in fired(resected(800, study("pet-ssa", when=days_ago(100))))


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_followup_is_a_patient_view_rule_only(hook: str) -> None:
    draft = service_request(cc(PNEN, "pet-fdg"), rid="pet")
    assert RULE not in fired(resected(400), hook=hook, drafts=[draft])
