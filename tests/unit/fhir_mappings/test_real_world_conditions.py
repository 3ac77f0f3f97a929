"""Cancer Conditions as mCODE and EHRs send them (fhir-mapping.md, "Real-world shapes")."""

from __future__ import annotations

from typing import Any

import pytest

from consensus.criteria import Status
from fhir_mappings.conditions import MCODE_HISTOLOGY
from fhir_mappings.record import RecordMapper
from tests.fhir_builders import (
    ICD10CM,
    ICDO3,
    SNOMED,
    cc,
    condition,
    facts_for,
    liver_mets,
    patient_view,
    pnen,
    terms,
)

ICDO3_OID = "urn:oid:2.16.840.1.113883.6.43.1"
PANCREAS = (SNOMED, "15776009")
LIVER = (SNOMED, "10200004")


def _with_morphology(res: dict[str, Any], system: str, code: str) -> dict[str, Any]:
    res["extension"] = [{"url": MCODE_HISTOLOGY, "valueCodeableConcept": cc(system, code)}]
    return res


def _kinds(*resources: dict[str, Any]) -> set[str]:
    return set(facts_for(resources).by_kind)


@pytest.mark.parametrize(
    "morphology", ["1286768001", "1286769009", "1286770005", "1286767006", "74364000", "128628002"]
)
def test_pancreas_site_code_with_snomed_nen_morphology_is_a_pnen(morphology: str) -> None:
    res = _with_morphology(condition(*PANCREAS), SNOMED, morphology)
    assert "pnen" in _kinds(res)


@pytest.mark.parametrize(
    ("morphology", "subtype"),
    [("1286767006", "nec"), ("74364000", "small-cell"), ("128628002", "large-cell")],
)
def test_snomed_nec_morphologies_give_the_nec_subtype(morphology: str, subtype: str) -> None:
    res = _with_morphology(condition(*PANCREAS), SNOMED, morphology)
    fact = facts_for([res]).latest("nec-coded")
    assert fact is not None and fact.value == subtype


def test_well_differentiated_net_morphology_is_not_nec() -> None:
    res = _with_morphology(condition(*PANCREAS), SNOMED, "1286769009")
    assert "nec-coded" not in _kinds(res)


@pytest.mark.parametrize(
    ("system", "code"),
    [(ICDO3, "8240/3"), (ICDO3, "82403"), (ICDO3_OID, "8240/3"), (ICDO3_OID, "82403")],
)
def test_icdo3_morphology_in_every_system_and_notation_with_c25_is_a_pnen(
    system: str, code: str
) -> None:
    res = condition(system, code, body_site=(ICDO3_OID, "C25.1"))
    assert "pnen" in _kinds(res)


def test_icdo3_topography_without_its_dot_is_pancreas() -> None:
    assert "pnen" in _kinds(condition(ICDO3, "8240/3", body_site=(ICDO3, "C251")))


def test_c7a1_with_a_pancreas_body_site_is_a_pnen_and_a_nec() -> None:
    kinds = _kinds(condition(ICD10CM, "C7A.1", body_site=PANCREAS))
    assert {"pnen", "nec-coded"} <= kinds


def test_c7a8_with_a_pancreas_body_site_is_a_pnen_but_not_a_nec() -> None:
    kinds = _kinds(condition(ICD10CM, "C7A.8", body_site=(SNOMED, "64163001")))
    assert "pnen" in kinds and "nec-coded" not in kinds
    location = facts_for([condition(ICD10CM, "C7A.8", body_site=(SNOMED, "64163001"))]).latest(
        "primary-location"
    )
    assert location is not None and location.value == "head"


def test_c7a8_without_a_body_site_is_not_a_pnen_and_is_reported() -> None:
    mapped = facts_for([condition(ICD10CM, "C7A.8", rid="net-nosite")])
    assert not mapped.has("pnen")
    assert any(i.reference == "Condition/net-nosite" for i in mapped.data_issues)


def test_c7a8_with_a_small_bowel_site_is_not_a_pnen() -> None:
    assert "pnen" not in _kinds(condition(ICD10CM, "C7A.8", body_site=(SNOMED, "30315005")))


@pytest.mark.parametrize(
    ("code", "site"),
    [("C7B.02", None), ("C7B.8", LIVER), ("C7B.00", LIVER), ("C7B8", LIVER)],
)
def test_secondary_neuroendocrine_codes_with_liver_are_liver_metastases(
    code: str, site: tuple[str, str] | None
) -> None:
    kinds = _kinds(condition(ICD10CM, code, body_site=site))
    assert "liver-metastasis" in kinds and "extrahepatic-metastasis" not in kinds


def test_mcode_secondary_cancer_condition_with_liver_body_site_is_a_liver_metastasis() -> None:
    assert "liver-metastasis" in _kinds(condition(SNOMED, "128462008", body_site=LIVER))


def test_c77_2_intra_abdominal_nodes_are_n1_never_extrahepatic() -> None:
    mapped = facts_for([condition(ICD10CM, "C77.2")])
    assert not mapped.has("extrahepatic-metastasis")
    fact = mapped.latest("tnm-n")
    assert fact is not None and fact.value == "N1"


@pytest.mark.parametrize("code", ["C77.1", "C77.9", "C79.51", "C79.89"])
def test_distant_node_and_other_site_codes_are_extrahepatic(code: str) -> None:
    assert "extrahepatic-metastasis" in _kinds(condition(ICD10CM, code))


def test_c79_9_unspecified_site_makes_extrahepatic_disease_unknown() -> None:
    mapped = facts_for([condition(ICD10CM, "C79.9")])
    assert not mapped.has("extrahepatic-metastasis")
    assert mapped.has("extrahepatic-metastasis-unknown")


def test_extrahepatic_criterion_is_unknown_with_only_a_c79_9_metastasis() -> None:
    p = patient_view([pnen(), liver_mets(), condition(ICD10CM, "C79.9")])
    criterion = p.no_extrahepatic("no extrahepatic metastasis")
    assert criterion.status is Status.UNKNOWN
    assert criterion.missing


def test_extrahepatic_criterion_is_not_met_with_a_bone_metastasis_and_a_c79_9() -> None:
    p = patient_view([pnen(), condition(ICD10CM, "C79.51"), condition(ICD10CM, "C79.9")])
    assert p.no_extrahepatic("x").status is Status.NOT_MET


def test_extrahepatic_criterion_is_met_without_any_metastasis_outside_the_liver() -> None:
    p = patient_view([pnen(), liver_mets()])
    assert p.no_extrahepatic("x").status is Status.MET


@pytest.mark.parametrize("status", ["remission", "inactive", "resolved"])
def test_pnen_in_remission_is_pnen_remission_not_pnen(status: str) -> None:
    res = pnen(clinical_status=status, abatementDateTime="2025-03-01", recordedDate="2020-01-01")
    mapped = facts_for([res])
    assert not mapped.has("pnen")
    fact = mapped.latest("pnen-remission")
    assert fact is not None and fact.value == status
    assert fact.when is not None and fact.when.isoformat() == "2025-03-01"


def test_remission_date_falls_back_to_recorded_date() -> None:
    fact = facts_for([pnen(clinical_status="remission", recordedDate="2024-05-02")]).latest(
        "pnen-remission"
    )
    assert fact is not None and fact.when is not None and fact.when.isoformat() == "2024-05-02"


def test_nec_in_remission_keeps_its_nec_code() -> None:
    res = condition(ICD10CM, "C7A.1", body_site=PANCREAS, clinical_status="remission")
    assert {"pnen-remission", "nec-coded"} <= _kinds(res)


def test_has_pnen_is_true_for_a_pnen_in_remission() -> None:
    res = pnen(clinical_status="resolved")
    assert RecordMapper(terms()).has_pnen("test-patient", [("conditions", res)])


def test_resolved_liver_metastasis_still_counts() -> None:
    assert "liver-metastasis" in _kinds(liver_mets(clinical_status="resolved"))


def test_refuted_liver_metastasis_does_not_count() -> None:
    res = liver_mets(
        verificationStatus=cc(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", "refuted"
        )
    )
    assert "liver-metastasis" not in _kinds(res)


def test_resolved_comorbidity_does_not_count() -> None:
    assert "comorbidity" not in _kinds(condition(ICD10CM, "K85.9", clinical_status="resolved"))


def test_condition_stage_summary_gives_the_stage_group() -> None:
    res = pnen(stage=[{"summary": cc(SNOMED, "1222806003")}])
    fact = facts_for([res]).latest("tnm-stage")
    assert fact is not None and fact.value == "IIIC"


def test_condition_stage_contained_assessment_gives_tnm_and_metastases() -> None:
    res = pnen(
        contained=[
            {
                "resourceType": "Observation",
                "id": "m",
                "status": "final",
                "code": cc(SNOMED, "399387003"),
                "valueCodeableConcept": cc(SNOMED, "1229904003"),
            }
        ],
        stage=[{"assessment": [{"reference": "#m"}]}],
    )
    mapped = facts_for([res])
    m = mapped.latest("tnm-m")
    assert m is not None and m.value == "M1a"
    assert mapped.has("liver-metastasis")


def test_condition_stage_summary_as_tnm_text() -> None:
    mapped = facts_for([pnen(stage=[{"summary": {"text": "pT2 pN1 cM0"}}])])
    values = {k: mapped.latest(k).value for k in ("tnm-t", "tnm-n", "tnm-m")}  # type: ignore[union-attr]
    assert values == {"tnm-t": "T2", "tnm-n": "N1", "tnm-m": "M0"}


def test_mcode_lung_small_cell_primary_is_not_a_pnen_nec() -> None:
    # A second cancer: small-cell lung carcinoma, the morphology in the mCODE extension.
    res = _with_morphology(
        condition(SNOMED, "254632001", body_site=(SNOMED, "39607008")), SNOMED, "74364000"
    )
    assert not _kinds(res) & {"pnen", "nec-coded"}


def test_c7a1_with_a_lung_body_site_is_neither_pnen_nor_its_nec() -> None:
    assert not _kinds(condition(ICD10CM, "C7A.1", body_site=(SNOMED, "39607008"))) & {
        "pnen",
        "nec-coded",
    }


def test_nec_code_alone_without_a_site_still_counts_as_a_nec_code() -> None:
    assert "nec-coded" in _kinds(condition(ICDO3, "8246/3"))


@pytest.mark.parametrize("topography", ["C22.0", "C220"])
def test_icdo3_liver_topography_makes_a_secondary_neuroendocrine_code_a_liver_metastasis(
    topography: str,
) -> None:
    res = condition(ICD10CM, "C7B.8", body_site=(ICDO3_OID, topography))
    assert "liver-metastasis" in _kinds(res)


def test_secondary_code_with_a_lung_body_site_is_extrahepatic() -> None:
    res = condition(SNOMED, "128462008", body_site=(SNOMED, "39607008"))
    assert "extrahepatic-metastasis" in _kinds(res)


def test_c7a1_alone_without_a_site_is_reported_not_silently_dropped() -> None:
    mapped = facts_for([condition(ICD10CM, "C7A.1", rid="c7a1-alone")])
    assert not mapped.has("pnen")
    assert [i.problem for i in mapped.data_issues] == [
        "a neuroendocrine neoplasm without a body site: not recognised as pancreatic"
    ]
