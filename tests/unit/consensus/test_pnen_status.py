"""pNEN status (consensus-rules.md definition): active or in remission; the rules for each."""

from __future__ import annotations

from typing import Any

import pytest

from consensus.patient import ACTIVE, REMISSION
from consensus.rules import all_rules
from fhir_mappings.terminology import ICD10CM
from tests.fhir_builders import (
    condition,
    differentiation,
    disease_status,
    flag,
    ki67,
    liver_mets,
    patient,
    pnen,
)
from tests.unit.consensus.dated import on, patient_on, remission_condition, run_on

WORSENED, STABLE, REMISSION_CODE = "271299001", "359746009", "550991000124107"
SURVEILLANCE = {"summary", "followup-imaging-due", "adjuvant-ssa", "adjuvant-continue-regimen"}


def in_remission(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """A well-differentiated G3 NET record without an active pNEN Condition (remission added)."""
    return [patient(), liver_mets(onset=on(60)), differentiation("well"), ki67(30), *extra]


def test_pnen_status_is_active_with_an_active_condition() -> None:
    p = patient_on([patient(), pnen(onset=on(30))])
    assert p.pnen_status == ACTIVE and p.has_pnen and not p.in_remission


def test_pnen_status_is_remission_with_a_remission_condition_only() -> None:
    fact = remission_condition(on(10))
    p = patient_on([patient()], fact)
    assert p.pnen_status == REMISSION and p.in_remission and p.has_pnen
    assert p.pnen_status_evidence[1] == fact


def test_pnen_status_is_unknown_without_a_pnen_condition() -> None:
    p = patient_on([patient(), flag("ned", True, when=on(3))])
    assert p.pnen_status is None and not p.has_pnen


def test_progression_after_the_remission_makes_the_pnen_active_again() -> None:
    p = patient_on([patient(), disease_status(WORSENED, when=on(2))], remission_condition(on(10)))
    assert p.pnen_status == ACTIVE


def test_progression_before_the_remission_leaves_it_in_remission() -> None:
    p = patient_on([patient(), disease_status(WORSENED, when=on(12))], remission_condition(on(10)))
    assert p.pnen_status == REMISSION


def test_a_new_metastasis_after_the_remission_makes_the_pnen_active_again() -> None:
    lung = condition(ICD10CM, "C78.0", onset=on(2), rid="lung-met")
    assert patient_on([patient(), lung], remission_condition(on(10))).pnen_status == ACTIVE


def test_ned_after_the_active_condition_puts_the_pnen_in_remission() -> None:
    p = patient_on([patient(), pnen(onset=on(40)), flag("ned", True, when=on(3), rid="ned")])
    assert p.pnen_status == REMISSION
    assert p.pnen_status_evidence[1] is not None
    assert p.pnen_status_evidence[1].ref == "Observation/ned"


@pytest.mark.parametrize("code", [REMISSION_CODE, "260415000"])
def test_remission_disease_status_after_the_active_condition_puts_it_in_remission(
    code: str,
) -> None:
    # 260415000 'Not detected': mCODE ConditionStatusTrendVS's no-evidence-of-disease value.
    record = [patient(), pnen(onset=on(40)), disease_status(code, when=on(3))]
    assert patient_on(record).pnen_status == REMISSION


def test_stable_disease_does_not_change_the_status() -> None:
    record = [disease_status(STABLE, when=on(1))]
    assert patient_on([patient(), *record], remission_condition(on(10))).pnen_status == REMISSION
    assert patient_on([patient(), pnen(onset=on(40)), *record]).pnen_status == ACTIVE


def test_ned_not_reached_after_the_remission_makes_it_active() -> None:
    ned_no = flag("ned", False, when=on(2))
    assert patient_on([patient(), ned_no], remission_condition(on(10))).pnen_status == ACTIVE


def test_progression_on_the_day_of_the_remission_outweighs_it() -> None:
    record = [patient(), disease_status(WORSENED, when=on(10))]
    assert patient_on(record, remission_condition(on(10))).pnen_status == ACTIVE


def test_an_undated_active_condition_outweighs_an_undated_remission() -> None:
    active = pnen()
    del active["onsetDateTime"]
    undated = remission_condition(on(0))._replace(when=None)
    assert patient_on([patient(), active], undated).pnen_status == ACTIVE


def test_the_surveillance_rules_and_the_summary_are_the_only_rules_run_in_remission() -> None:
    assert {r.info.id for r in all_rules() if r.info.in_remission} == SURVEILLANCE


def test_a_pnen_in_remission_gets_the_summary_saying_so_and_no_active_disease_cards() -> None:
    fired = run_on(in_remission(), remission_condition(on(10)))
    assert set(fired) == {"summary"}
    assert fired["summary"].summary.startswith("pNEN in remission with liver metastases:")


def test_the_same_record_with_an_active_pnen_gets_active_disease_cards() -> None:
    fired = run_on([*in_remission(), pnen(onset=on(60))])
    assert {"summary", "pet-ssa", "pet-fdg"} <= set(fired)
    assert "in remission" not in fired["summary"].summary


@pytest.mark.parametrize("status", ["remission", "inactive", "resolved"])
def test_every_remission_status_code_counts_as_remission(status: str) -> None:
    p = patient_on([patient()], remission_condition(on(10), status=status))
    assert p.pnen_status == REMISSION
