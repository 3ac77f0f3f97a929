"""Imaging reports: single-phase CT, SSTR PET kits, SSTR scintigraphy, asserted text only."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings.context import Sentence, asserted_text, sentences
from fhir_mappings.facts import BY_TEXT
from fhir_mappings.orders import classify_order
from fhir_mappings.terminology import LOINC, PNEN
from tests.fhir_builders import cc, facts_for, report, service_request, terms
from tests.support.pathology_reports import pathology_report

CT_AP_CONTRAST = cc(LOINC, "36813-4", "CT Abdomen and Pelvis W contrast IV")


def kinds(resource: dict[str, Any]) -> set[str]:
    """The imaging kinds a report maps to."""
    facts = facts_for([resource])
    return {k.split(":", 1)[1] for k in facts.by_kind if k.startswith("imaging:")}


# --- single-phase CT -------------------------------------------------------------------------


def test_a_contrast_ct_code_counts_as_the_multiphasic_staging_study() -> None:
    assert kinds(report(CT_AP_CONTRAST)) == {"ct-abdomen-multiphase", "abdominal-imaging"}


@pytest.mark.parametrize(
    "conclusion",
    [
        "Technique: portal venous phase only. No focal liver lesion.",
        "Single phase contrast-enhanced CT of the abdomen and pelvis.",
        "Single-phase study; liver metastases stable.",
    ],
)
def test_a_contrast_ct_reported_single_phase_is_abdominal_imaging_not_staging(
    conclusion: str,
) -> None:
    assert kinds(report(CT_AP_CONTRAST, conclusion=conclusion)) == {"abdominal-imaging"}


def test_a_single_phase_ct_keeps_its_coded_abdominal_imaging_unflagged() -> None:
    fact = facts_for([report(CT_AP_CONTRAST, conclusion="Single phase.")]).latest(
        "imaging:abdominal-imaging"
    )
    assert fact is not None and BY_TEXT not in fact.flags


def test_an_order_named_single_phase_is_not_the_staging_ct() -> None:
    found = classify_order(
        service_request({"text": "CT abdomen with contrast, single phase"}), terms()
    )
    assert found is not None
    assert "ct-abdomen-multiphase" not in found[0].kinds
    assert "abdominal-imaging" in found[0].kinds


# --- SSTR PET and SSTR scintigraphy ----------------------------------------------------------


@pytest.mark.parametrize("name", ["NETSPOT", "NETSPOT scan", "Detectnet PET"])
def test_a_report_named_after_an_sstr_pet_kit_is_an_sstr_pet(name: str) -> None:
    assert "pet-ssa" in kinds(report({"text": name}))


@pytest.mark.parametrize(
    "name",
    [
        "Octreoscan",
        "NM In-111 pentetreotide whole body SPECT/CT",
        "Somatostatin receptor scintigraphy",
        "SSTR scintigraphy (SRS)",
        "99mTc-HYNIC-TOC SPECT",
    ],
)
def test_sstr_scintigraphy_is_its_own_kind_never_an_sstr_pet(name: str) -> None:
    found = kinds(report({"text": name}, result="positive"))
    assert "sstr-scintigraphy" in found
    assert "pet-ssa" not in found


def test_sstr_scintigraphy_coded_with_the_project_code() -> None:
    assert kinds(report(cc(PNEN, "sstr-scintigraphy"))) == {"sstr-scintigraphy"}


def test_a_somatostatin_receptor_pet_is_still_an_sstr_pet() -> None:
    assert "pet-ssa" in kinds(report({"text": "Somatostatin receptor PET/CT"}))


# --- text the report does not assert ---------------------------------------------------------


@pytest.mark.parametrize(
    "conclusion",
    [
        "Hypervascular pancreatic tail lesion. Correlate with Ga-68 DOTATATE PET/CT.",
        "Hypervascular pancreatic tail lesion. Recommend 68Ga-DOTATATE PET/CT.",
        "Consider FDG PET if clinically indicated.",
        "Stable compared with prior DOTATATE PET.",
    ],
)
def test_advisory_or_comparison_mentions_in_a_ct_conclusion_are_no_study(conclusion: str) -> None:
    found = kinds(report(CT_AP_CONTRAST, conclusion=conclusion))
    assert not found & {"pet-ssa", "pet-fdg"}
    assert "ct-abdomen-multiphase" in found


def test_an_uncoded_report_reading_correlate_with_pet_is_no_study() -> None:
    assert (
        kinds(report({"text": "Outside report"}, conclusion="Correlate with DOTATATE PET."))
        == set()
    )


def test_a_ct_guided_biopsy_is_not_abdominal_imaging() -> None:
    assert kinds(report({"text": "CT-guided liver biopsy"})) == set()


@pytest.mark.parametrize(
    "text",
    [
        "Liver, CT-guided core biopsy: metastatic well-differentiated neuroendocrine tumor.",
        "Pancreas, EUS-FNB. Correlate with Ga-68 DOTATATE PET/CT.",
    ],
)
def test_a_pathology_report_is_never_an_imaging_study(text: str) -> None:
    assert kinds(pathology_report(text, code={"text": "Surgical pathology CT abdomen"})) == set()


# --- the context module ----------------------------------------------------------------------


def test_asserted_text_keeps_what_precedes_a_cue_in_its_clause() -> None:
    kept = asserted_text("Multiphase CT shows a lesion, no evidence of metastases")
    assert "Multiphase CT shows a lesion" in kept and "metastases" not in kept


def test_a_leading_cue_stops_at_a_comma() -> None:
    sentence = Sentence("no necrosis, Ki-67 15%")
    assert sentence.asserted(13, 18)
    assert not sentence.asserted(3, 11)


def test_a_trailing_cue_governs_what_precedes_it() -> None:
    sentence = Sentence("Ki-67 not performed")
    assert not sentence.asserted(0, 5)


def test_sentences_do_not_break_at_decimal_points_or_approx() -> None:
    assert sentences("Ki-67 approx. 12.5%. Mitoses 3") == ["Ki-67 approx. 12.5%", " Mitoses 3"]


def test_non_functional_in_chinese_is_not_a_negation() -> None:
    sentence = Sentence("无功能性胰腺神经内分泌肿瘤 G2")
    assert sentence.asserted(15, 17)


def test_a_chinese_ct_report_saying_portal_venous_phase_only_is_single_phase() -> None:
    ct = report(CT_AP_CONTRAST, conclusion="腹部增强CT（仅门静脉期）：胰尾占位，肝内多发转移。")
    assert kinds(ct) == {"abdominal-imaging"}


def test_a_chinese_ct_advising_dotatate_pet_names_no_pet() -> None:
    ct = report(CT_AP_CONTRAST, conclusion="胰尾富血供占位，建议行68Ga-DOTATATE PET/CT检查。")
    assert "pet-ssa" not in kinds(ct)


def test_chinese_octreotide_imaging_is_sstr_scintigraphy() -> None:
    assert "sstr-scintigraphy" in kinds(report({"text": "99mTc-奥曲肽显像"}))
