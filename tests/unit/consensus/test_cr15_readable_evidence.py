"""CR-15: evidence lines name codes readably when the resource carries no display or text."""

from __future__ import annotations

from typing import Any

from fhir_mappings.terminology import ICD10CM, PNEN, SNOMED
from tests.fhir_builders import cc, condition, facts_for, liver_mets, pnen, procedure, report, study


def text_of(resources: list[dict[str, Any]], kind: str) -> str:
    """The text of the first fact of a kind."""
    return facts_for(resources).by_kind[kind][0].text


def test_cr15_pnen_without_display_is_named_from_the_valueset() -> None:
    assert text_of([pnen()], "pnen") == "Neuroendocrine neoplasm of pancreas"


def test_cr15_liver_metastasis_without_display_is_named_from_the_valueset() -> None:
    assert text_of([pnen(), liver_mets()], "liver-metastasis") == (
        "Metastatic malignant neoplasm to liver"
    )


def test_cr15_lung_metastasis_coded_c78_0_is_named_not_printed_as_its_code() -> None:
    lung = condition(ICD10CM, "C78.0", rid="lung-1")
    text = text_of([pnen(), lung], "extrahepatic-metastasis")
    assert text == "Secondary malignant neoplasm of lung"
    assert "C78.0" not in text


def test_cr15_a_condition_text_is_kept_when_the_record_has_one() -> None:
    named = pnen()
    named["code"] = cc(SNOMED, "1290080008", text="pNET of the tail")
    assert text_of([named], "pnen") == "pNET of the tail"


def test_cr15_sstr_pet_site_code_is_named_68ga_ssa_pet() -> None:
    text = text_of([pnen(), study("pet-ssa", result="positive")], "imaging:pet-ssa")
    assert text == "68Ga-SSA PET/CT: positive (tracer-avid)"


def test_cr15_eus_fnb_site_code_is_named_readably() -> None:
    text = text_of([pnen(), procedure("eus-fnb")], "procedure:eus-fnb")
    assert text == "EUS-guided fine-needle biopsy (completed)"


def test_cr15_positive_multiphase_ct_reads_disease_present_never_tracer_avid() -> None:
    ct = report(cc(PNEN, "ct-abdomen-pelvis-multiphase"), result="positive")
    text = text_of([pnen(), ct], "imaging:ct-abdomen-multiphase")
    assert text == "Multiphasic contrast CT abdomen/pelvis: positive (disease present)"
    assert "tracer-avid" not in text


def test_cr15_negative_and_uncoded_results_keep_their_wording() -> None:
    ct = report(cc(PNEN, "ct-abdomen-pelvis-multiphase"), result="negative")
    assert text_of([pnen(), ct], "imaging:ct-abdomen-multiphase").endswith(": negative")
    pet = study("pet-fdg")
    assert text_of([pnen(), pet], "imaging:pet-fdg").endswith("performed, result not coded")
