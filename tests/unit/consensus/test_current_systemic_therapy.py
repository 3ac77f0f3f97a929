"""Current systemic therapy: start, latest change and line (consensus-rules.md definitions), and
`rebiopsy-inconsistent` counting rapid progression from the latest change of the regimen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from consensus.months import add_months
from fhir_mappings.terminology import RXNORM
from tests.fhir_builders import (
    cc,
    disease_status,
    ki67,
    liver_mets,
    medication,
    patient,
    pnen,
)
from tests.unit.consensus.dated import day, on, patient_on, run_on

RULE = "rebiopsy-inconsistent"
WORSENED = "271299001"
DRUGS = {
    "lanreotide": (RXNORM, "68092"),
    "everolimus": (RXNORM, "141704"),
    "capecitabine": (RXNORM, "194000"),
    "temozolomide": (RXNORM, "37776"),
    "sunitinib": (RXNORM, "357977"),
}


def drug(name: str, start: str | None, *, end: str | None = None, **kw: Any) -> dict[str, Any]:
    """A MedicationRequest for a named drug (active unless `status` says otherwise)."""
    res = medication(DRUGS[name], start=start, end=end, rid=kw.pop("rid", name), **kw)
    res["medicationCodeableConcept"] = cc(*DRUGS[name], name)
    if start is None:
        del res["authoredOn"]
    return res


def pnen_lm(*extra: dict[str, Any], ki: float = 8) -> list[dict[str, Any]]:
    """A pNEN with liver metastases diagnosed five years ago, graded G2 (or as `ki` says)."""
    return [
        patient(),
        pnen(onset=on(60)),
        liver_mets(onset=on(60)),
        ki67(ki, "liver", when=on(59)),
        *extra,
    ]


# --- current systemic therapy ----------------------------------------------------------------
def test_regimen_start_is_the_earliest_start_and_latest_change_the_latest() -> None:
    regimen = patient_on(pnen_lm(drug("lanreotide", on(30)), drug("everolimus", on(4)))).regimen
    assert regimen.start == day(on(30)) and regimen.latest_change == day(on(4))
    assert [f.ref for f in regimen.changed_by] == ["MedicationRequest/everolimus"]


def test_regimen_of_one_drug_changes_when_it_starts() -> None:
    regimen = patient_on(pnen_lm(drug("lanreotide", on(30)))).regimen
    assert regimen.start == regimen.latest_change == day(on(30)) and regimen.line == 1


def test_regimen_with_an_undated_running_drug_has_no_known_start_or_change() -> None:
    regimen = patient_on(pnen_lm(drug("lanreotide", on(30)), drug("everolimus", None))).regimen
    assert regimen.start is None and regimen.latest_change is None and regimen.line is None


def test_no_running_drug_is_no_current_regimen() -> None:
    regimen = patient_on(pnen_lm(drug("lanreotide", on(30), end=on(3), status="stopped"))).regimen
    assert regimen.drugs == () and regimen.line is None


def test_a_renewal_of_the_same_agent_is_not_a_change() -> None:
    record = pnen_lm(
        drug("lanreotide", on(30), end=on(12), status="completed", rid="lan-1"),
        drug("lanreotide", on(12), rid="lan-2"),
    )
    regimen = patient_on(record).regimen
    assert regimen.latest_change == day(on(30)) and regimen.line == 1


# --- line of therapy -------------------------------------------------------------------------
def test_an_agent_added_to_a_running_ssa_starts_the_second_line() -> None:
    assert (
        patient_on(pnen_lm(drug("lanreotide", on(30)), drug("everolimus", on(4)))).regimen.line == 2
    )


def test_drugs_started_within_30_days_form_one_line() -> None:
    record = pnen_lm(drug("capecitabine", on(6)), drug("temozolomide", on(6, -29)))
    assert patient_on(record).regimen.line == 1


@pytest.mark.parametrize(("days_apart", "line"), [(30, 1), (31, 2)])
def test_the_30_day_cut_off_of_a_regimen(days_apart: int, line: int) -> None:
    record = pnen_lm(drug("capecitabine", on(6)), drug("temozolomide", on(6, -days_apart)))
    assert patient_on(record).regimen.line == line


def test_the_line_counts_regimens_stopped_since_the_diagnosis() -> None:
    record = pnen_lm(
        drug("lanreotide", on(40), end=on(20), status="stopped"),
        drug("sunitinib", on(20), end=on(8), status="stopped"),
        drug("everolimus", on(8)),
    )
    assert patient_on(record).regimen.line == 3


def test_regimens_before_the_pnen_lm_diagnosis_do_not_count() -> None:
    record = pnen_lm(
        drug("sunitinib", on(70), end=on(65), status="stopped"), drug("everolimus", on(8))
    )
    assert patient_on(record).regimen.line == 1


def test_an_undated_past_drug_leaves_the_line_unknown() -> None:
    record = pnen_lm(
        drug("sunitinib", None, end=on(20), status="stopped"), drug("everolimus", on(8))
    )
    assert patient_on(record).regimen.line is None


# --- rebiopsy-inconsistent: rapid progression after the latest change --------------------------
def on_regimen(*drugs: dict[str, Any], progression: str, ki: float = 8) -> list[dict[str, Any]]:
    """The pNEN-LM on the given drugs, progressing on `progression`."""
    return pnen_lm(*drugs, disease_status(WORSENED, when=progression, rid="pd"), ki=ki)


def test_rapid_progression_after_an_agent_added_to_a_running_ssa_calls_for_rebiopsy() -> None:
    record = on_regimen(drug("lanreotide", on(30)), drug("everolimus", on(4)), progression=on(1))
    rec = run_on(record)[RULE]
    assert "after adding everolimus to lanreotide" in rec.advice
    assert {"MedicationRequest/everolimus", "Observation/pd"} <= {f.ref for f in rec.evidence}


def test_progression_long_after_the_ssa_start_and_before_the_addition_is_not_rapid() -> None:
    record = on_regimen(drug("lanreotide", on(30)), drug("everolimus", on(4)), progression=on(5))
    assert RULE not in run_on(record)


@pytest.mark.parametrize(
    ("months", "days", "fires"),
    [
        pytest.param(0, -1, True, id="the-day-after-the-change"),
        pytest.param(6, 1, True, id="a-day-before-6-months"),
        pytest.param(6, 0, True, id="6-months-exactly"),
        pytest.param(6, -1, False, id="the-day-after-6-months"),
        pytest.param(0, 0, False, id="on-the-day-of-the-change"),
    ],
)
def test_rapid_progression_window_is_6_calendar_months_from_the_latest_change(
    months: int, days: int, fires: bool
) -> None:
    # The change (everolimus added) was on 2026-01-27 (10 months before today).
    change = day(on(10))
    progression = add_months(change, months) - timedelta(days=days)
    record = on_regimen(
        drug("lanreotide", on(30)), drug("everolimus", on(10)), progression=progression.isoformat()
    )
    assert (RULE in run_on(record)) is fires


def test_rapid_progression_with_an_undated_added_agent_cannot_be_timed() -> None:
    record = on_regimen(drug("lanreotide", on(30)), drug("everolimus", None), progression=on(1))
    assert RULE not in run_on(record)


def test_rapid_progression_with_g3_is_consistent_with_the_grade() -> None:
    record = on_regimen(
        drug("lanreotide", on(30)), drug("everolimus", on(4)), progression=on(1), ki=30
    )
    assert RULE not in run_on(record)


def test_restarting_an_agent_after_a_break_of_over_30_days_is_a_change() -> None:
    record = pnen_lm(
        drug("lanreotide", on(30), end=on(14), status="stopped", rid="lan-1"),
        drug("lanreotide", on(12), rid="lan-2"),
    )
    regimen = patient_on(record).regimen
    assert regimen.latest_change == day(on(12)) and regimen.line == 2


def test_an_ssa_running_since_before_the_diagnosis_is_the_first_line_when_an_agent_is_added() -> (
    None
):
    record = pnen_lm(drug("lanreotide", on(70)), drug("everolimus", on(4)))
    assert patient_on(record).regimen.line == 2


def test_an_ssa_kept_after_an_added_agent_stopped_stays_in_that_line_clinical_review_cr_1() -> None:
    record = pnen_lm(
        drug("lanreotide", on(50)),
        drug("capecitabine", on(20), end=on(14), status="completed"),
        drug("temozolomide", on(20), end=on(14), status="completed"),
    )
    patient = patient_on(record)
    assert patient.regimen.line == 2  # lanreotide is line 2's maintenance, not line 1 again
    assert [f.value.name for f in patient.prior_regimens] == ["capecitabine", "temozolomide"]


def test_the_summary_lists_earlier_systemic_therapy_since_the_diagnosis() -> None:
    record = pnen_lm(
        drug("lanreotide", on(50)),
        drug("temozolomide", on(20), end=on(14), status="completed"),
    )
    summary = run_on(record)["summary"]
    assert "line 2" in summary.summary
    assert f"Earlier systemic therapy since the diagnosis: temozolomide {on(20)} to {on(14)}" in (
        summary.advice
    )
