"""CR-16: an ENETS type recorded before the latest progression is shown dated, to re-assess."""

from __future__ import annotations

from typing import Any

from consensus import Recommendation
from tests.fhir_builders import days_ago, disease_status, enets, run
from tests.unit.consensus.test_systemic import card_of, mgmt, net_lm

WORSENED, STABLE = "271299001", "359746009"


def record(*extra: dict[str, Any], typed: int = 400) -> list[dict[str, Any]]:
    """A NET with type II liver metastases typed `typed` days ago and MGMT 1+."""
    return net_lm(enets("II", when=days_ago(typed), rid="enets-1"), mgmt("1+"), *extra)


def progression(days: int) -> dict[str, Any]:
    """Progression recorded `days` ago."""
    return disease_status(WORSENED, when=days_ago(days), rid=f"pd-{days}")


def test_cr16_preop_mgmt_does_not_headline_type_ii_typed_before_progression() -> None:
    rec = run(record(progression(30)))["preop-systemic-mgmt"]
    assert rec.summary.startswith(f"ENETS type II of {days_ago(400)} predates progression")
    assert "re-assess" in rec.summary and "TMZ-based" in rec.summary
    assert f"before the progression of {days_ago(30)}" in rec.advice
    assert any(f.ref == "Observation/pd-30" for f in rec.evidence)
    card_of(rec)


def test_cr16_preop_mgmt_keeps_the_plain_headline_when_typed_after_progression() -> None:
    rec = run(record(progression(500)))["preop-systemic-mgmt"]
    assert rec.summary.startswith("Type II liver metastases")
    assert "re-assess the type" not in rec.advice


def test_cr16_stable_disease_after_the_type_does_not_ask_for_re_assessment() -> None:
    rec = run(record(disease_status(STABLE, when=days_ago(30))))["preop-systemic-mgmt"]
    assert rec.summary.startswith("Type II liver metastases")


def test_cr16_liver_mri_card_dates_the_type_and_asks_to_re_assess_it() -> None:
    rec = run(record(progression(30)))["liver-mri-hepatobiliary"]
    assert rec.summary.startswith(f"ENETS type II of {days_ago(400)} predates progression")
    assert "re-assess the type on current imaging" in rec.advice
    card_of(rec)


def summary_of(resources: list[dict[str, Any]]) -> Recommendation:
    """The summary recommendation."""
    return run(resources)["summary"]


def test_cr16_summary_dates_a_type_recorded_before_progression() -> None:
    rec = summary_of(record(progression(30)))
    assert f"ENETS type II ({days_ago(400)}, re-assess)" in rec.summary
    line = next(x for x in rec.advice.splitlines() if x.startswith("- ENETS liver type:"))
    assert line.startswith(f"- ENETS liver type: II ({days_ago(400)}) — The ENETS type II")
    assert len(rec.summary) < 140


def test_cr16_summary_shows_a_current_type_plainly() -> None:
    rec = summary_of(record(typed=10))
    assert "ENETS type II" in rec.summary and "re-assess" not in rec.summary
