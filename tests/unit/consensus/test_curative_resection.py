"""Curative-intent resection (consensus-rules.md definition), as a three-valued criterion."""

from __future__ import annotations

from typing import Any

from fhir_mappings.terminology import ICD10CM
from tests.fhir_builders import (
    condition,
    disease_status,
    flag,
    liver_mets,
    patient,
    pnen,
    procedure,
)
from tests.unit.consensus.dated import day, enucleation, on, patient_on, remission_condition

WORSENED, STABLE, IMPROVED = "271299001", "359746009", "268910001"


def pnen_lm(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """A pNEN with liver metastases recorded long ago."""
    return [patient(), pnen(onset="2015-01-01"), liver_mets(onset="2015-01-01"), *extra]


def both_resected(when: str, *extra: dict[str, Any]) -> list[dict[str, Any]]:
    """Primary and liver metastases resected on `when`."""
    return pnen_lm(
        procedure("pancreatoduodenectomy", when=when, rid="whipple"),
        procedure("hepatectomy-anatomic", when=when, rid="hepatectomy"),
        *extra,
    )


def test_curative_resection_met_with_ned_after_resection_of_primary_and_liver() -> None:
    p = patient_on(both_resected(on(12), flag("ned", True, when=on(11), rid="ned")))
    assert p.curative_resection.met
    assert [f.ref for f in p.curative_resection.evidence] == [
        "Procedure/whipple",
        "Observation/ned",
    ]
    assert p.curative_surgery is not None and p.curative_surgery.when == day(on(12))


def test_curative_resection_not_met_with_liver_metastases_left_in_place() -> None:
    p = patient_on(pnen_lm(procedure("distal-pancreatectomy", when=on(12)), flag("ned", True)))
    assert p.curative_resection.not_met
    assert "liver metastases left in place" in p.curative_resection.note


def test_curative_resection_not_met_with_the_primary_in_place() -> None:
    p = patient_on(pnen_lm(procedure("hepatectomy-anatomic", when=on(12))))
    assert p.curative_resection.not_met and "primary in place" in p.curative_resection.note


def test_curative_resection_unknown_when_ned_is_not_recorded_after_it() -> None:
    p = patient_on(both_resected(on(12), flag("ned", True, when=on(13))))
    assert p.curative_resection.unknown
    assert p.curative_resection.missing == (
        f"NED (no evidence of disease) after the operation of {on(12)}",
    )


def test_curative_resection_counts_ned_recorded_on_the_day_of_the_surgery() -> None:
    assert patient_on(both_resected(on(12), flag("ned", True, when=on(12)))).curative_resection.met


def test_curative_resection_not_met_with_stable_or_improved_disease_after_it() -> None:
    for code in (STABLE, IMPROVED):
        p = patient_on(both_resected(on(12), disease_status(code, when=on(6))))
        assert p.curative_resection.not_met


def test_curative_resection_not_met_with_progression_after_ned() -> None:
    record = both_resected(
        on(12), flag("ned", True, when=on(11)), disease_status(WORSENED, when=on(2))
    )
    assert patient_on(record).curative_resection.not_met


def test_curative_resection_met_with_ned_after_a_progression() -> None:
    record = both_resected(
        on(12), disease_status(WORSENED, when=on(11)), flag("ned", True, when=on(2))
    )
    assert patient_on(record).curative_resection.met


def test_progression_on_the_day_of_ned_outweighs_it() -> None:
    record = both_resected(
        on(12), flag("ned", True, when=on(2)), disease_status(WORSENED, when=on(2))
    )
    assert patient_on(record).curative_resection.not_met


def test_curative_resection_not_met_with_a_metastasis_recorded_after_it() -> None:
    lung = condition(ICD10CM, "C78.0", onset=on(3))
    record = both_resected(on(12), flag("ned", True, when=on(11)), lung)
    assert patient_on(record).curative_resection.not_met


def test_curative_resection_met_by_a_remission_condition_after_it() -> None:
    p = patient_on(both_resected(on(12)), remission_condition(on(10)))
    assert p.curative_resection.met


def test_curative_resection_accepts_an_enucleation_of_the_primary() -> None:
    record = [patient(), pnen(onset="2015-01-01"), flag("ned", True, when=on(11))]
    assert patient_on(record, enucleation(on(12))).curative_resection.met


def test_curative_resection_without_liver_metastases_needs_only_the_primary() -> None:
    record = [
        patient(),
        pnen(),
        procedure("distal-pancreatectomy", when=on(12)),
        flag("ned", True, when=on(11)),
    ]
    assert patient_on(record).curative_resection.met


def test_curative_resection_is_dated_by_the_second_stage() -> None:
    record = pnen_lm(
        procedure("distal-pancreatectomy", when=on(20)),
        procedure("liver-ablation", when=on(12), rid="rfa"),
        flag("ned", True, when=on(15)),
    )
    p = patient_on(record)
    assert p.curative_resection.unknown  # the NED predates the second stage
    assert p.curative_surgery is not None and p.curative_surgery.ref == "Procedure/rfa"


def test_curative_resection_unknown_when_the_only_liver_operation_is_undated() -> None:
    undated = procedure("hepatectomy-anatomic", rid="undated")
    del undated["performedDateTime"]
    record = pnen_lm(procedure("distal-pancreatectomy", when=on(20)), undated)
    criterion = patient_on(record).curative_resection
    assert criterion.unknown and "Procedure/undated" in criterion.missing[0]


def test_curative_resection_not_met_without_any_operation() -> None:
    assert patient_on(pnen_lm(flag("ned", True))).curative_resection.not_met
