"""Conditions → diagnosis facts (fhir-mapping.md, "Conditions")."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings.conditions import MCODE_HISTOLOGY
from tests.fhir_builders import (
    ICD10CM,
    ICDO3,
    PNEN,
    SNOMED,
    cc,
    condition,
    facts_for,
)


def _kinds(resource: dict[str, Any]) -> set[str]:
    return set(facts_for([resource]).by_kind)


@pytest.mark.parametrize(
    ("system", "code"),
    [
        (SNOMED, "1290080008"),
        (SNOMED, "254611009"),
        (SNOMED, "1186869002"),
        (SNOMED, "1186735007"),
        (ICD10CM, "C25.4"),
    ],
)
def test_pnen_codes_are_recognised(system: str, code: str) -> None:
    assert "pnen" in _kinds(condition(system, code))


def test_pancreatic_cancer_code_alone_is_not_pnen() -> None:
    assert "pnen" not in _kinds(condition(ICD10CM, "C25.2"))


def test_pancreatic_cancer_code_with_neuroendocrine_morphology_is_pnen() -> None:
    res = condition(ICD10CM, "C25.2")
    res["extension"] = [{"url": MCODE_HISTOLOGY, "valueCodeableConcept": cc(ICDO3, "8240/3")}]
    assert "pnen" in _kinds(res)


def test_icdo_morphology_with_pancreas_topography_is_pnen() -> None:
    res = condition(ICDO3, "8240/3", body_site=(ICDO3, "C25.2"))
    assert "pnen" in _kinds(res)


@pytest.mark.parametrize(
    ("system", "code", "subtype"),
    [
        (SNOMED, "1186869002", "nec"),
        (ICDO3, "8041/3", "small-cell"),
        (ICDO3, "8013/3", "large-cell"),
    ],
)
def test_nec_codes_and_subtypes(system: str, code: str, subtype: str) -> None:
    facts = facts_for([condition(system, code)])
    assert facts.latest("nec-coded") is not None
    assert facts.latest("nec-coded").value == subtype  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("system", "code", "syndrome"),
    [
        (ICDO3, "8151/3", "insulinoma"),
        (ICD10CM, "E16.1", "insulinoma"),
        (PNEN, "gastrinoma", "gastrinoma"),
        (ICD10CM, "E16.4", "gastrinoma"),
        (ICD10CM, "E16.3", "glucagonoma"),
        (PNEN, "vipoma", "vipoma"),
        (ICDO3, "8156/3", "somatostatinoma"),
        (PNEN, "acthoma", "acthoma"),
        (ICD10CM, "E34.01", "carcinoid-syndrome"),
    ],
)
def test_functional_syndromes(system: str, code: str, syndrome: str) -> None:
    facts = facts_for([condition(system, code)])
    assert [f.value for f in facts.all("functional")] == [syndrome]


@pytest.mark.parametrize(
    ("system", "code", "site"),
    [
        (SNOMED, "94381002", None),
        (ICD10CM, "C78.7", None),
        (ICD10CM, "C7B.02", None),
        (ICD10CM, "C7B.8", (SNOMED, "10200004")),
        (SNOMED, "128462008", (SNOMED, "10200004")),
    ],
)
def test_liver_metastasis_codes(system: str, code: str, site: tuple[str, str] | None) -> None:
    assert "liver-metastasis" in _kinds(condition(system, code, body_site=site))


@pytest.mark.parametrize(
    ("system", "code", "site"),
    [
        (SNOMED, "94222008", None),
        (ICD10CM, "C78.01", None),
        (ICD10CM, "C79.51", None),
        (ICD10CM, "C7B.03", None),
        (SNOMED, "128462008", (SNOMED, "39607008")),
    ],
)
def test_extrahepatic_metastasis_codes(
    system: str, code: str, site: tuple[str, str] | None
) -> None:
    kinds = _kinds(condition(system, code, body_site=site))
    assert "extrahepatic-metastasis" in kinds and "liver-metastasis" not in kinds


def test_secondary_cancer_without_site_is_neither() -> None:
    kinds = _kinds(condition(SNOMED, "128462008"))
    assert not kinds & {"liver-metastasis", "extrahepatic-metastasis"}


@pytest.mark.parametrize("status", ["resolved", "inactive", "remission"])
def test_inactive_conditions_do_not_count(status: str) -> None:
    assert not _kinds(condition(SNOMED, "1290080008", clinical_status=status)) & {"pnen"}


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_refuted_conditions_do_not_count(verification: str) -> None:
    res = condition(SNOMED, "1290080008")
    res["verificationStatus"] = cc(
        "http://terminology.hl7.org/CodeSystem/condition-ver-status", verification
    )
    assert "pnen" not in _kinds(res)


def test_condition_without_clinical_status_counts() -> None:
    assert "pnen" in _kinds(condition(SNOMED, "1290080008", clinical_status=None))


@pytest.mark.parametrize(
    ("code", "location"),
    [("64163001", "head"), ("40133006", "body"), ("73239005", "tail")],
)
def test_primary_location_from_body_site(code: str, location: str) -> None:
    facts = facts_for([condition(SNOMED, "1290080008", body_site=(SNOMED, code))])
    assert facts.latest("primary-location").value == location  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("code", "comorbidity"),
    [
        ("N18.5", "renal-failure"),
        ("K74.60", "liver-failure"),
        ("K50.90", "ibd"),
        ("K29.50", "chronic-gastritis"),
        ("K86.1", "pancreatitis"),
    ],
)
def test_comorbidities(code: str, comorbidity: str) -> None:
    facts = facts_for([condition(ICD10CM, code)])
    assert [f.value for f in facts.all("comorbidity")] == [comorbidity]


def test_onset_falls_back_to_recorded_date() -> None:
    res = condition(SNOMED, "1290080008")
    del res["onsetDateTime"]
    res["recordedDate"] = "2024-03-05"
    assert str(facts_for([res]).latest("pnen").when) == "2024-03-05"  # type: ignore[union-attr]


def test_malformed_condition_is_skipped_and_reported() -> None:
    res = condition(SNOMED, "1290080008")
    res["bodySite"] = "pancreas"
    facts = facts_for([res])
    assert not facts.has("pnen")
    assert [(i.reference, i.problem) for i in facts.data_issues] == [
        (f"Condition/{res['id']}", "bodySite: expected an array")
    ]
