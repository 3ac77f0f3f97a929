"""adjuvant-ssa: curative-intent resection of type I liver metastases within the adjuvant window
(local default 6 calendar months from the liver resection, the last day included; C 14 (1))."""

from __future__ import annotations

from typing import Any

import pytest

from cards import CardOptions, build_card
from consensus import Recommendation
from consensus.recommendation import Indicator
from consensus.settings import Settings
from fhir_mappings.terminology import PNEN, RXNORM
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    PATIENT_REF,
    condition,
    differentiation,
    disease_status,
    enets,
    flag,
    ki67,
    liver_mets,
    medication,
    patient,
    pnen,
    procedure,
    study,
)
from tests.unit.consensus.dated import on, remission_condition, run_on

RULE = "adjuvant-ssa"
WORSENED, STABLE = "271299001", "359746009"
LANREOTIDE = (RXNORM, "68092")
WINDOW_POLICY = "adjuvant window after a curative-intent resection: 6 months (local policy"


def card_of(rec: Recommendation) -> dict[str, Any]:
    """The CDS Hooks card of a recommendation, checked against the schema and FHIR R4B."""
    card = build_card(rec, PATIENT_REF, CardOptions())
    assert_valid_response({"cards": [card]})
    assert len(card["summary"]) < 140
    return card


def type1(
    resection: str,
    *extra: dict[str, Any],
    ki: float | None = 8,
    ned: str | None = "auto",
    primary: bool = True,
    sstr: str | None = "positive",
    enets_type: str = "I",
    grade: str = "well",
) -> list[dict[str, Any]]:
    """A type I NET liver metastasis resected on `resection` with the primary, NED after it."""
    record = [
        patient(),
        pnen(onset="2024-01-01"),
        liver_mets(onset="2024-01-01"),
        differentiation(grade),
        enets(enets_type),
        procedure("hepatectomy-parenchymal-sparing", when=resection, rid="hepatectomy"),
    ]
    if primary:
        record.append(procedure("distal-pancreatectomy", when=resection, rid="primary"))
    if ki is not None:
        record.append(ki67(ki, "liver", when=resection))
    if ned is not None:
        record.append(flag("ned", True, when=resection if ned == "auto" else ned, rid="ned"))
    if sstr is not None:
        record.append(study("pet-ssa", result=sstr, when=on(8)))
    return [*record, *extra]


# --- positive -------------------------------------------------------------------------------
@pytest.mark.parametrize("ki", [2, 9.9, 10])
def test_adjuvant_ssa_after_curative_resection_with_ki67_at_most_10(ki: float) -> None:
    rec = run_on(type1(on(2), ki=ki))[RULE]
    assert rec.indicator is Indicator.INFO
    assert "octreotide LAR" in rec.summary and "observation" in rec.advice
    assert [[(a.type, a.order) for a in s.actions] for s in rec.suggestions] == [
        [("create", "octreotide-lar")],
        [("create", "lanreotide")],
    ]
    card = card_of(rec)
    assert WINDOW_POLICY in card["detail"]
    assert all(
        a["resource"]["resourceType"] == "MedicationRequest"
        for s in card["suggestions"]
        for a in s["actions"]
    )


def test_adjuvant_ssa_applies_to_a_pnen_in_remission() -> None:
    record = [r for r in type1(on(2)) if r.get("id") != "pnen-1"]
    assert RULE in run_on(record, remission_condition(on(1)))


# --- the adjuvant window (6 calendar months, the last day included) --------------------------
@pytest.mark.parametrize(
    ("days", "fires"),
    [
        pytest.param(-1, True, id="the-day-before-6-months"),
        pytest.param(0, True, id="6-months-exactly"),
        pytest.param(1, False, id="the-day-after-6-months"),
    ],
)
def test_adjuvant_ssa_window_is_6_months_from_the_liver_resection(days: int, fires: bool) -> None:
    assert (RULE in run_on(type1(on(6, days)))) is fires


def test_adjuvant_ssa_silent_11_years_after_surgery() -> None:
    assert RULE not in run_on(type1("2015-11-01"))


def test_adjuvant_ssa_window_is_a_configurable_local_default() -> None:
    record = type1(on(8))
    assert RULE not in run_on(record)
    rec = run_on(record, settings=Settings({"adjuvant-window-months": 9}))[RULE]
    assert "adjuvant window after a curative-intent resection: 9 months" in card_of(rec)["detail"]


def test_adjuvant_ssa_window_runs_from_the_latest_liver_resection() -> None:
    record = type1(on(20), procedure("hepatectomy-anatomic", when=on(3)), ned=on(3))
    assert RULE in run_on(record)


# --- negative -------------------------------------------------------------------------------
@pytest.mark.parametrize("ki", [10.1, 25])
def test_adjuvant_ssa_silent_with_ki67_above_10(ki: float) -> None:
    assert RULE not in run_on(type1(on(2), ki=ki))


def test_adjuvant_ssa_silent_when_sstr_negative() -> None:
    assert RULE not in run_on(type1(on(2), sstr="negative"))


def test_adjuvant_ssa_silent_with_an_active_ssa() -> None:
    assert RULE not in run_on(type1(on(2), medication(LANREOTIDE, start=on(1))))


def test_adjuvant_ssa_silent_with_the_primary_in_place() -> None:
    assert RULE not in run_on(type1(on(2), primary=False))


def test_adjuvant_ssa_silent_with_stable_disease_after_the_resection() -> None:
    assert RULE not in run_on(type1(on(2), disease_status(STABLE, when=on(1)), ned=None))


def test_adjuvant_ssa_silent_after_progression_following_ned() -> None:
    assert RULE not in run_on(type1(on(3), disease_status(WORSENED, when=on(1))))


def test_adjuvant_ssa_silent_for_type_ii_liver_metastases() -> None:
    assert RULE not in run_on(type1(on(2), enets_type="II"))


def test_adjuvant_ssa_silent_for_a_nec() -> None:
    assert RULE not in run_on(type1(on(2), grade="poorly"))


# --- unknown --------------------------------------------------------------------------------
def test_adjuvant_ssa_silent_when_ned_is_not_recorded_after_the_resection() -> None:
    assert RULE not in run_on(type1(on(2), ned=None))


def test_adjuvant_ssa_with_sstr_unknown_fires_naming_it_without_suggestions() -> None:
    rec = run_on(type1(on(2), sstr=None))[RULE]
    assert "if SSTR positive" in rec.summary
    assert rec.missing == ("SSTR status (SSTR2 IHC, 68Ga-SSA PET or SSTR scintigraphy result)",)
    assert rec.suggestions == ()
    card_of(rec)


def test_adjuvant_ssa_with_ki67_unknown_fires_naming_it() -> None:
    rec = run_on(type1(on(2), ki=None))[RULE]
    assert rec.missing == ("Ki-67 index",)


def test_adjuvant_ssa_for_insulinoma_cautions_and_suggests_no_ssa() -> None:
    rec = run_on(type1(on(2), condition(PNEN, "insulinoma")))[RULE]
    assert rec.suggestions == () and "hypoglycaemia" in rec.advice
