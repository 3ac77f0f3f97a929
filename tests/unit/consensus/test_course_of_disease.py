"""Course-of-disease definitions with missing dates: never guessed (clinical review 3, 5, 17)."""

from __future__ import annotations

from typing import Any

from consensus.recommendation import PV
from tests.fhir_builders import (
    ATC,
    RXNORM,
    SNOMED,
    base_pnen_lm,
    days_ago,
    differentiation,
    disease_status,
    enets,
    flag,
    ki67,
    liver_mets,
    medication,
    patient,
    patient_view,
    pnen,
    run,
    study,
)

WORSENED = "271299001"


def undated_ssa() -> dict[str, Any]:
    """An active lanreotide statement with no effective period (start unknown)."""
    statement = medication((RXNORM, "68092"), resource_type="MedicationStatement")
    del statement["effectivePeriod"]
    return statement


def advanced_net(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        *base_pnen_lm(),
        differentiation("well"),
        ki67(5, "liver"),
        flag("r0-r1-feasible", False),
        *extra,
    ]


def test_progression_with_an_undated_ssa_is_unknown_not_absent() -> None:
    p = patient_view(advanced_net(undated_ssa(), disease_status(WORSENED, when=days_ago(20))))
    criterion = p.progression_on_ssa
    assert criterion.unknown and criterion.missing == ("start date of the SSA",)


def test_progression_after_a_dated_ssa_start_is_met() -> None:
    ssa = medication((RXNORM, "68092"), start=days_ago(300))
    p = patient_view(advanced_net(ssa, disease_status(WORSENED, when=days_ago(20))))
    assert p.progression_on_ssa.met


def test_without_an_active_ssa_progression_on_ssa_is_not_met() -> None:
    p = patient_view(advanced_net(disease_status(WORSENED, when=days_ago(20))))
    criterion = p.progression_on_ssa
    assert criterion.not_met and criterion.note == "no active SSA recorded"


def test_targeted_therapy_with_an_undated_ssa_names_the_missing_start() -> None:
    record = advanced_net(
        undated_ssa(),
        disease_status(WORSENED, when=days_ago(20)),
        study("pet-ssa", result="positive"),
    )
    rec = run(record)["targeted-therapy"]
    statuses = {c.name: c.status.value for c in rec.criteria}
    assert statuses["progression on SSA"] == "unknown"
    assert "start date of the SSA" in rec.missing
    assert "if it followed the SSA start" in rec.advice


def test_prrt_with_an_undated_ssa_is_conditional() -> None:
    record = advanced_net(
        undated_ssa(),
        disease_status(WORSENED, when=days_ago(20)),
        study("pet-ssa", result="positive"),
    )
    rec = run(record)["prrt-candidate"]
    assert "SSA start not recorded" in rec.summary and "start date of the SSA" in rec.missing


def test_the_regimen_start_is_unknown_when_one_active_drug_has_no_start() -> None:
    tmz = medication((ATC, "L01AX03"), start=days_ago(60))
    p = patient_view(advanced_net(undated_ssa(), tmz))
    therapy, start = p.current_systemic
    assert len(therapy) == 2 and start is None


def test_rapid_progression_is_not_claimed_when_the_regimen_start_is_unknown() -> None:
    tmz = medication((ATC, "L01AX03"), start=days_ago(60))
    record = advanced_net(undated_ssa(), tmz, disease_status(WORSENED, when=days_ago(30)))
    assert "rebiopsy-inconsistent" not in run(record, hook=PV)


def test_the_diagnosis_date_prefers_condition_onsets_to_staging_observations() -> None:
    record = [
        patient(),
        pnen(onset=days_ago(400)),
        liver_mets(onset=days_ago(380)),
        enets("II", when=days_ago(100)),
    ]
    p = patient_view(record)
    assert p.pnen_lm_date is not None and (p.today - p.pnen_lm_date).days == 380


def test_the_diagnosis_date_falls_back_to_staging_when_no_metastasis_condition_is_dated() -> None:
    undated = liver_mets()
    del undated["onsetDateTime"]
    record = [patient(), pnen(onset=days_ago(400)), undated, enets("II", when=days_ago(100))]
    p = patient_view(record)
    assert p.pnen_lm_date is not None
    assert (p.today - p.pnen_lm_date).days == 100


def test_an_m1a_observation_does_not_predate_the_condition_onset() -> None:
    record = [
        patient(),
        pnen(onset=days_ago(400), body_site=(SNOMED, "73239005")),
        liver_mets(onset=days_ago(200)),
        enets("II", when=days_ago(390)),
    ]
    p = patient_view(record)
    assert p.pnen_lm_date is not None and (p.today - p.pnen_lm_date).days == 200
