"""Observations the molecular and surgical rules read: MGMT, SSTR2, variants, MSI, TMB, PD-L1,
vessel contact, yes/no and numeric surgical assessments."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings.terminology import LOINC, PNEN, SNOMED
from tests.fhir_builders import (
    cc,
    coded,
    facts_for,
    number,
    observation,
    pnen_obs,
    variant,
    vessel_contact,
)


def values(resource: dict[str, Any], kind: str) -> list[Any]:
    """The values of the facts of one kind that a resource maps to."""
    return [f.value for f in facts_for([resource]).all(kind)]


# --- MGMT IHC -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("0", 0),
        ("1+", 1),
        ("2", 2),
        ("2+", 2),
        ("3", 3),
        ("3+", 3),
        ("2 +", 2),
        ("negative", 0),
        ("Negative", 0),
        ("loss", 0),
        ("Loss", 0),
    ],
)
def test_mgmt_score_read_from_value_string(text: str, score: int) -> None:
    assert values(pnen_obs("mgmt-ihc", valueString=text), "mgmt") == [score]


@pytest.mark.parametrize("code", ["0", "1+", "2+", "3+"])
def test_mgmt_score_read_from_project_code(code: str) -> None:
    expected = int(code.rstrip("+"))
    assert values(pnen_obs("mgmt-ihc", **coded(PNEN, code)), "mgmt") == [expected]


def test_mgmt_score_read_from_concept_text_alone() -> None:
    assert values(pnen_obs("mgmt-ihc", valueCodeableConcept={"text": "3+"}), "mgmt") == [3]


@pytest.mark.parametrize("text", ["4+", "weak", "equivocal", ""])
def test_mgmt_unreadable_value_gives_no_fact(text: str) -> None:
    assert values(pnen_obs("mgmt-ihc", valueString=text), "mgmt") == []


def test_mgmt_fact_text_names_the_score() -> None:
    fact = facts_for([pnen_obs("mgmt-ihc", valueString="2")]).all("mgmt")[0]
    assert fact.text == "MGMT IHC 2+"
    fact0 = facts_for([pnen_obs("mgmt-ihc", valueString="loss")]).all("mgmt")[0]
    assert fact0.text == "MGMT IHC 0"


def test_mgmt_preliminary_result_counts_and_is_flagged() -> None:
    fact = facts_for([pnen_obs("mgmt-ihc", valueString="1+", status="preliminary")]).all("mgmt")
    assert fact[0].value == 1 and fact[0].flags


def test_mgmt_entered_in_error_never_counts() -> None:
    assert values(pnen_obs("mgmt-ihc", valueString="3+", status="entered-in-error"), "mgmt") == []


# --- SSTR2 IHC ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (coded(SNOMED, "10828004"), "positive"),
        (coded(SNOMED, "260385009"), "negative"),
        ({"valueString": "Positive"}, "positive"),
        ({"valueString": "negative"}, "negative"),
        ({"valueString": "0"}, "0"),
        ({"valueString": "1+"}, "1+"),
        ({"valueString": "2"}, "2+"),
        ({"valueString": "3+"}, "3+"),
        (coded(PNEN, "3+"), "3+"),
    ],
)
def test_sstr2_ihc_forms(value: dict[str, Any], expected: str) -> None:
    assert values(pnen_obs("sstr2-ihc", **value), "sstr2-ihc") == [expected]


# --- genetic variant assessment -------------------------------------------------------------
@pytest.mark.parametrize(
    "gene", ["RB1", "TP53", "BRCA2", "DAXX", "ATRX", "MEN1", "NTRK1", "NTRK2", "NTRK3", "RET"]
)
def test_variant_present_with_hgnc_gene_studied_is_an_alteration(gene: str) -> None:
    assert values(variant(gene), "gene-alteration") == [(gene, "alteration")]


def test_variant_absent_gives_no_alteration() -> None:
    assert values(variant("RB1", present=False), "gene-alteration") == []


def test_variant_present_by_text_counts() -> None:
    obs = variant("BRCA2")
    obs["valueCodeableConcept"] = {"text": "Present"}
    assert values(obs, "gene-alteration") == [("BRCA2", "alteration")]


def test_variant_gene_by_display_only_counts() -> None:
    obs = variant("RB1")
    obs["component"][0]["valueCodeableConcept"] = {"text": "RB1"}
    assert values(obs, "gene-alteration") == [("RB1", "alteration")]


def test_variant_gene_not_listed_gives_no_alteration() -> None:
    obs = variant("RB1")
    obs["component"][0]["valueCodeableConcept"] = {"text": "KRAS"}
    assert values(obs, "gene-alteration") == []


def test_fusion_said_only_where_the_report_says_fusion() -> None:
    fusion = variant(
        "NTRK1",
        components=[
            {
                "code": cc(LOINC, "81252-9", "Discrete genetic variant"),
                "valueCodeableConcept": {"text": "TPM3-NTRK1 fusion"},
            }
        ],
    )
    coded_fusion = variant(
        "RET",
        components=[
            {
                "code": cc(LOINC, "48019-4", "DNA change type"),
                "valueCodeableConcept": cc(
                    "http://sequenceontology.org", "SO:0001565", "gene_fusion"
                ),
            }
        ],
    )
    point = variant(
        "RET",
        components=[
            {
                "code": cc(LOINC, "48004-6", "DNA change (c.HGVS)"),
                "valueCodeableConcept": {"text": "c.2753T>C"},
            }
        ],
    )
    assert values(fusion, "gene-alteration") == [("NTRK1", "fusion")]
    assert values(coded_fusion, "gene-alteration") == [("RET", "fusion")]
    assert values(point, "gene-alteration") == [("RET", "alteration")]
    assert values(variant("NTRK2"), "gene-alteration") == [("NTRK2", "alteration")]


def test_fusion_fact_text_reads_as_a_finding() -> None:
    obs = variant("NTRK3", components=[{"code": {"text": "Fusion"}, "valueString": "ETV6"}])
    assert facts_for([obs]).all("gene-alteration")[0].text == "NTRK3 fusion present"


# --- MSI, TMB, PD-L1 CPS --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (coded(LOINC, "LA26203-2"), "MSI-H"),
        ({"valueString": "MSI-H"}, "MSI-H"),
        ({"valueString": "MSI-High"}, "MSI-H"),
        ({"valueString": "MSS"}, "MSS"),
        ({"valueString": "MSI-L"}, "MSI-L"),
    ],
)
def test_msi_result(value: dict[str, Any], expected: str) -> None:
    assert values(observation((LOINC, "81695-9"), **value), "msi") == [expected]


def test_tmb_is_a_quantity_in_mutations_per_megabase() -> None:
    obs = observation((LOINC, "94076-7"), valueQuantity={"value": 9.9, "unit": "/Mb"})
    (q,) = values(obs, "tmb")
    assert (q.value, q.unit) == (9.9, "/Mb")


@pytest.mark.parametrize(
    ("value", "effective_at_least_1"),
    [
        ({"valueQuantity": {"value": 1, "unit": "{score}"}}, True),
        ({"valueInteger": 5}, True),
        ({"valueQuantity": {"value": 0.9}}, False),
        ({"valueString": "<1"}, False),
        ({"valueString": "≥1"}, True),
    ],
)
def test_pdl1_cps_forms(value: dict[str, Any], effective_at_least_1: bool) -> None:
    (q,) = values(pnen_obs("pdl1-cps", **value), "pdl1-cps")
    assert (q.effective >= 1) is effective_at_least_1


# --- vessel contact ---------------------------------------------------------------------------
def test_vessel_contact_one_fact_per_vessel_component() -> None:
    obs = vessel_contact(SMV="abutment", PV="occlusion", SMA="none", CT="encasement", CHA="none")
    assert values(obs, "vessel-contact") == [
        ("SMV", "abutment"),
        ("PV", "occlusion"),
        ("SMA", "none"),
        ("CT", "encasement"),
        ("CHA", "none"),
    ]


def test_vessel_contact_ignores_unknown_vessels_degrees_and_systems() -> None:
    obs = vessel_contact(SMV="abutment", IVC="encasement", CT="touching")
    obs["component"].append({"code": cc(SNOMED, "SMA"), **coded(PNEN, "encasement")})
    obs["component"].append({"code": cc(PNEN, "CHA"), **coded(SNOMED, "encasement")})
    assert values(obs, "vessel-contact") == [("SMV", "abutment")]


def test_vessel_contact_fact_text_names_vessel_and_degree() -> None:
    fact = facts_for([vessel_contact(SMA="abutment")]).all("vessel-contact")[0]
    assert fact.text == "SMA: abutment"


# --- surgical assessments -------------------------------------------------------------------
BOOLEAN_KINDS = [
    "r0-r1-feasible",
    "ned",
    "ned-achievable",
    "cytoreduction-90-achievable",
    "most-lesions-within-2cm-of-surface",
    "confined-to-one-lobe",
    "major-vessel-invasion",
    "hormone-symptoms-refractory",
    "splenic-vessel-invasion",
    "tumor-thrombus",
    "high-nodal-risk",
    "primary-resectable",
]


@pytest.mark.parametrize("kind", BOOLEAN_KINDS)
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"valueBoolean": True}, True),
        ({"valueBoolean": False}, False),
        (coded(SNOMED, "373066001"), True),
        (coded(SNOMED, "373067005"), False),
    ],
)
def test_boolean_assessment_as_value_boolean_or_snomed_yes_no(
    kind: str, value: dict[str, Any], expected: bool
) -> None:
    assert values(pnen_obs(kind, **value), kind) == [expected]


@pytest.mark.parametrize("value", [{"valueString": "maybe"}, coded(SNOMED, "261665006")])
def test_boolean_assessment_neither_yes_nor_no_is_left_unknown(value: dict[str, Any]) -> None:
    assert values(pnen_obs("ned", **value), "ned") == []


@pytest.mark.parametrize(
    "kind",
    [
        "remnant-liver-volume",
        "liver-tumor-burden",
        "deep-lesion-count",
        "liver-segments-involved",
        "primary-tumor-size",
    ],
)
def test_numeric_assessment_is_a_quantity(kind: str) -> None:
    (q,) = values(number(kind, 29.9), kind)
    assert q.value == 29.9


def test_numeric_assessment_as_integer() -> None:
    (q,) = values(pnen_obs("deep-lesion-count", valueInteger=6), "deep-lesion-count")
    assert q.value == 6


def test_primary_tumour_size_in_cm_is_converted_to_mm() -> None:
    facts = facts_for([number("primary-tumor-size", 2.1, unit="cm")]).all("primary-tumor-size")
    assert (facts[0].value.value, facts[0].value.unit) == (21, "mm")
    assert "converted from cm" in facts[0].flags


def test_primary_tumour_size_in_mm_is_kept() -> None:
    (q,) = values(number("primary-tumor-size", 20, unit="mm"), "primary-tumor-size")
    assert (q.value, q.unit) == (20, "mm")
