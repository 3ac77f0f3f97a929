"""Interop corpus: Conditions and Observations shaped as public examples and real systems send them.

Each case names its public source. mCODE cases are transcribed from the HL7 mCODE implementation
guide's FSH examples (github.com/HL7/fhir-mCODE-ig, input/fsh/EX_*.fsh) into FHIR JSON; where a
pNEN is needed, the example's shape is kept and its codes are substituted (said in the comment).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask.testing import FlaskClient

from fhir_mappings.facts import PatientFacts
from fhir_mappings.record import RecordMapper
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import PATIENT_ID, facts_for, terms
from tests.support.cds_requests import hook_request, prefetch_for

SCT = "http://snomed.info/sct"
LNC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3_OID = "urn:oid:2.16.840.1.113883.6.43.1"
HGNC = "http://www.genenames.org"
UCUM = "http://unitsofmeasure.org"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
HISTOLOGY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
SUBJECT = {"reference": f"Patient/{PATIENT_ID}"}
PV = "/cds-services/pnen-patient-view"


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _status(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _primary_cancer_condition(
    rid: str,
    code: dict[str, Any],
    *,
    morphology: dict[str, Any] | None = None,
    body_site: dict[str, Any] | None = None,
    clinical: str = "active",
    **extra: Any,
) -> dict[str, Any]:
    """An mCODE PrimaryCancerCondition as the IG's examples write it."""
    res: dict[str, Any] = {
        "resourceType": "Condition",
        "id": rid,
        "meta": {
            "profile": [
                "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-primary-cancer-condition"
            ]
        },
        "clinicalStatus": _status(CLINICAL, clinical),
        "verificationStatus": _status(VERIFICATION, "confirmed"),
        "category": [
            _status("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item")
        ],
        "code": code,
        "subject": SUBJECT,
        "onsetDateTime": "2019-04-01",
    }
    if morphology:
        res["extension"] = [{"url": HISTOLOGY, "valueCodeableConcept": morphology}]
    if body_site:
        res["bodySite"] = [body_site]
    res.update(extra)
    return res


def _observation(rid: str, code: dict[str, Any], **value: Any) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": code,
        "subject": SUBJECT,
        "effectiveDateTime": "2018-03-16",
    }
    res.update(value)
    return res


def _facts(*resources: dict[str, Any]) -> PatientFacts:
    return facts_for(list(resources))


# --- Conditions -----------------------------------------------------------------------------


def test_mcode_nsclc_primary_with_adenocarcinoma_morphology_is_not_a_pnen() -> None:
    # mCODE IG EX_Basic.fsh, primary-cancer-condition-nsclc (transcribed as is).
    res = _primary_cancer_condition(
        "primary-cancer-condition-nsclc",
        _coding(SCT, "254637007", "Non-small cell lung cancer (disorder)"),
        morphology=_coding(SCT, "1187332001", "Adenocarcinoma (morphologic abnormality)"),
        body_site=_coding(SCT, "39607008", "Lung structure (body structure)"),
        stage=[{"summary": _coding(SCT, "1222806003")}],
    )
    mapped = _facts(res)
    assert not mapped.has("pnen") and not mapped.has("tnm-stage")
    assert not mapped.data_issues


def test_mcode_primary_cancer_condition_shape_with_pancreas_and_net_g2_is_a_pnen() -> None:
    # mCODE IG EX_Basic.fsh primary-cancer-condition-nsclc shape; code, morphology and body site
    # substituted with SNOMED pancreas (15776009) and NET G2 (1286770005) from the mapping spec.
    res = _primary_cancer_condition(
        "pcc-pancreas",
        _coding(SCT, "15776009", "Pancreatic structure"),
        morphology=_coding(SCT, "1286770005", "Neuroendocrine tumor, grade 2"),
        body_site=_coding(SCT, "73239005", "Tail of pancreas"),
        stage=[{"summary": _coding(SCT, "1222806003")}],
    )
    mapped = _facts(res)
    assert mapped.has("pnen") and not mapped.has("nec-coded")
    assert mapped.latest("primary-location").value == "tail"  # type: ignore[union-attr]
    assert mapped.latest("tnm-stage").value == "IIIC"  # type: ignore[union-attr]


def test_mcode_breast_primary_in_remission_is_not_a_pnen_in_remission() -> None:
    # mCODE IG EX_ExtendedExample.fsh, primary-cancer-condition-jenny-m (clinicalStatus remission).
    res = _primary_cancer_condition(
        "primary-cancer-condition-jenny-m",
        _coding(SCT, "353431000119107", "Primary malignant neoplasm of female left breast"),
        morphology=_coding(SCT, "82711006", "Infiltrating duct carcinoma"),
        clinical="remission",
        onsetDateTime="2018-03-16",
        stage=[{"summary": _coding(SCT, "1222806003")}],
    )
    mapped = _facts(res)
    assert not mapped.has("pnen") and not mapped.has("pnen-remission")


def test_mcode_jenny_m_shape_as_a_pnen_in_remission() -> None:
    # mCODE IG EX_ExtendedExample.fsh primary-cancer-condition-jenny-m shape (remission), with
    # ICD-O-3 8240/3 under its OID in the mCODE extension and a pancreas body site substituted.
    res = _primary_cancer_condition(
        "pnen-remission-1",
        _coding(ICD10CM, "C25.1", "Malignant neoplasm of body of pancreas"),
        morphology=_coding(ICDO3_OID, "82403", "Neuroendocrine tumor, NOS"),
        body_site=_coding(SCT, "40133006", "Body of pancreas"),
        clinical="remission",
        abatementDateTime="2024-02-01",
    )
    mapped = _facts(res)
    fact = mapped.latest("pnen-remission")
    assert fact is not None and fact.value == "remission"
    assert fact.when is not None and fact.when.isoformat() == "2024-02-01"
    assert RecordMapper(terms()).has_pnen(PATIENT_ID, [("conditions", res)])


def test_mcode_secondary_cancer_condition_brain_is_extrahepatic() -> None:
    # mCODE IG EX_Basic.fsh, secondary-cancer-condition-brain-mets (transcribed as is).
    res = _primary_cancer_condition(
        "secondary-cancer-condition-brain-mets",
        _coding(SCT, "94225005", "Secondary malignant neoplasm of brain"),
        onsetDateTime="2019-05-01",
    )
    assert _facts(res).has("extrahepatic-metastasis")


def test_mcode_secondary_cancer_condition_with_liver_body_site_is_a_liver_metastasis() -> None:
    # mCODE IG SecondaryCancerCondition shape (EX_Basic.fsh) with SNOMED 128462008 and the liver
    # body site 10200004 (the mapping spec's liver code) substituted.
    res = _primary_cancer_condition(
        "scc-liver",
        _coding(SCT, "128462008", "Secondary malignant neoplastic disease"),
        body_site=_coding(SCT, "10200004", "Liver structure"),
        clinical="resolved",
    )
    mapped = _facts(res)
    assert mapped.has("liver-metastasis") and not mapped.has("extrahepatic-metastasis")


@pytest.mark.parametrize(
    ("code", "display", "kind"),
    [
        # ICD-10-CM 2024 tabular list, category C7B and C77-C79 (CMS public release).
        ("C7B.02", "Secondary carcinoid tumors of liver", "liver-metastasis"),
        ("C7B.03", "Secondary carcinoid tumors of bone", "extrahepatic-metastasis"),
        ("C77.2", "Secondary malignant neoplasm of intra-abdominal lymph nodes", "tnm-n"),
        (
            "C79.9",
            "Secondary malignant neoplasm of unspecified site",
            "extrahepatic-metastasis-unknown",
        ),
        (
            "C78.7",
            "Secondary malignant neoplasm of liver and intrahepatic bile duct",
            "liver-metastasis",
        ),
    ],
)
def test_icd10cm_secondary_codes_as_ehr_problem_lists_send_them(
    code: str, display: str, kind: str
) -> None:
    res = _primary_cancer_condition("sec", _coding(ICD10CM, code, display))
    assert set(_facts(res).by_kind) == {kind}


def test_ehr_problem_list_c7a1_with_pancreas_body_site_is_a_pnen_nec() -> None:
    # ICD-10-CM C7A.1 "Malignant poorly differentiated neuroendocrine tumors" (CMS tabular list);
    # the site in bodySite as US Core Condition allows.
    res = _primary_cancer_condition(
        "nec-c7a1",
        _coding(ICD10CM, "C7A.1", "Malignant poorly differentiated neuroendocrine tumors"),
        body_site=_coding(SCT, "64163001", "Head of pancreas"),
    )
    mapped = _facts(res)
    assert mapped.has("pnen") and mapped.latest("nec-coded").value == "nec"  # type: ignore[union-attr]


def test_cda_derived_icdo3_under_its_oid_with_topography_is_a_pnen() -> None:
    # ICD-O-3 OID 2.16.840.1.113883.6.43.1 (HL7 OID registry), morphology and topography as CDA
    # cancer registry feeds (NAACCR) send them: '82463' and 'C250'.
    res = _primary_cancer_condition(
        "cda-nec",
        _coding(ICDO3_OID, "82463", "Neuroendocrine carcinoma, NOS"),
        body_site=_coding(ICDO3_OID, "C250", "Head of pancreas"),
    )
    mapped = _facts(res)
    assert mapped.has("pnen") and mapped.has("nec-coded")


# --- Observations ---------------------------------------------------------------------------


def test_mcode_clinical_tnm_observations_of_jenny_m() -> None:
    # mCODE IG EX_ExtendedExample.fsh, tnm-clinical-{primary-tumor,regional-nodes,
    # distant-metastases}-category-jenny-m and tnm-clinical-stage-group-jenny-m.
    mapped = _facts(
        _observation(
            "t", _coding(SCT, "399504009"), valueCodeableConcept=_coding(SCT, "1228938002")
        ),
        _observation(
            "n", _coding(SCT, "399534004"), valueCodeableConcept=_coding(SCT, "1229967007")
        ),
        _observation(
            "m", _coding(SCT, "399387003"), valueCodeableConcept=_coding(SCT, "1229901006")
        ),
        _observation(
            "g", _coding(SCT, "399537006"), valueCodeableConcept=_coding(SCT, "1222769001")
        ),
    )
    values = {k: mapped.latest(k).value for k in ("tnm-t", "tnm-n", "tnm-m", "tnm-stage")}  # type: ignore[union-attr]
    assert values == {"tnm-t": "T3", "tnm-n": "N0", "tnm-m": "M0", "tnm-stage": "IIB"}
    assert not mapped.has("liver-metastasis")


def test_mcode_pathologic_m_not_applicable_gives_no_m_category() -> None:
    # mCODE IG EX_ExtendedExample.fsh, tnm-pathologic-distant-metastases-category-jenny-m:
    # pM valued with data-absent-reason not-applicable.
    res = _observation(
        "pm",
        _coding(SCT, "371497001"),
        valueCodeableConcept=_coding(
            "http://terminology.hl7.org/CodeSystem/data-absent-reason", "not-applicable"
        ),
    )
    mapped = _facts(res)
    assert not mapped.has("tnm-m") and not mapped.data_issues


def test_mcode_pathologic_tnm_with_loinc_codes_and_snomed_values() -> None:
    # mCODE IG EX_ExtendedExample.fsh tnm-pathologic-*-jenny-m, with the LOINC codes the example
    # keeps in comments (21899-0, 21900-6) and its SNOMED values (pT3, pN0).
    mapped = _facts(
        _observation(
            "pt", _coding(LNC, "21899-0"), valueCodeableConcept=_coding(SCT, "1229859000")
        ),
        _observation(
            "pn", _coding(LNC, "21900-6"), valueCodeableConcept=_coding(SCT, "1229947003")
        ),
    )
    assert mapped.latest("tnm-t").value == "T3"  # type: ignore[union-attr]
    assert mapped.latest("tnm-n").value == "N0"  # type: ignore[union-attr]


def test_cm1b_under_snomed_is_extrahepatic_and_cm1a_liver() -> None:
    # SNOMED values the mapping spec lists for mCODE TNMDistantMetastasesCategory.
    mapped = _facts(
        _observation(
            "m1a", _coding(SCT, "399387003"), valueCodeableConcept=_coding(SCT, "1229904003")
        ),
        _observation(
            "m1b", _coding(SCT, "399387003"), valueCodeableConcept=_coding(SCT, "1229907005")
        ),
    )
    assert mapped.has("liver-metastasis") and mapped.has("extrahepatic-metastasis")


def test_mcode_cancer_disease_status_improved() -> None:
    # mCODE IG EX_Basic.fsh, cancer-disease-status-improved (the profile fixes code LOINC 97509-4).
    res = _observation(
        "cancer-disease-status-improved",
        _coding(LNC, "97509-4"),
        valueCodeableConcept=_coding(SCT, "268910001", "Patient's condition improved (finding)"),
    )
    assert _facts(res).latest("disease-status").value == "improved"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("code", "display"),
    [
        # mCODE STU1/STU2 ConditionStatusTrendVS: 260415000 expresses no evidence of disease.
        ("260415000", "Not detected (qualifier)"),
        # A later mCODE draft of the same ValueSet ("better than 260415000").
        ("281900007", "No abnormality detected (finding)"),
    ],
)
def test_mcode_no_evidence_of_disease_status_is_remission(code: str, display: str) -> None:
    # Shape of the mCODE CancerDiseaseStatus profile (code LOINC 97509-4), value from the
    # IG's ConditionStatusTrendVS (github.com/HL7/fhir-mCODE-ig, input/fsh).
    res = _observation(
        "cancer-disease-status-ned",
        _coding(LNC, "97509-4"),
        valueCodeableConcept=_coding(SCT, code, display),
    )
    mapped = _facts(res)
    assert mapped.latest("disease-status").value == "remission"  # type: ignore[union-attr]
    assert not mapped.data_issues


def test_unrecognised_disease_status_value_is_a_data_issue_not_silence() -> None:
    res = _observation(
        "cds-local", _coding(LNC, "97509-4"), valueCodeableConcept={"text": "NED per tumour board"}
    )
    mapped = _facts(res)
    assert not mapped.has("disease-status")
    assert [i.problem for i in mapped.data_issues] == [
        "valueCodeableConcept: disease status text only not recognised; not used"
    ]


def test_mcode_genomic_variant_shape_with_men1_under_genenames_org() -> None:
    # mCODE IG EX_ExtendedExample.fsh genomic-variant-jenny-m shape (HGNC as
    # http://www.genenames.org with 'HGNC:nnnn'); PALB2 substituted with MEN1 HGNC:7010.
    res = _observation(
        "genomic-variant",
        _coding(LNC, "69548-6", "Genetic variant assessment"),
        valueCodeableConcept=_coding(LNC, "LA9633-4", "Present"),
        component=[
            {
                "code": _coding(LNC, "48018-6", "Gene studied [ID]"),
                "valueCodeableConcept": _coding(HGNC, "HGNC:7010", "MEN1"),
            }
        ],
    )
    assert _facts(res).latest("gene-alteration").value == ("MEN1", "alteration")  # type: ignore[union-attr]


def test_mcode_region_studied_bare_hgnc_numbers_name_the_genes() -> None:
    # mCODE IG EX_ExtendedExample.fsh genomic-region-studied-jenny-m writes bare HGNC numbers
    # ('1101' for BRCA2); a variant reported that way is read as that gene.
    res = _observation(
        "variant-bare",
        _coding(LNC, "69548-6"),
        valueCodeableConcept=_coding(LNC, "LA9633-4"),
        component=[
            {"code": _coding(LNC, "48018-6"), "valueCodeableConcept": _coding(HGNC, "2681", "DAXX")}
        ],
    )
    assert _facts(res).latest("gene-alteration").value == ("DAXX", "alteration")  # type: ignore[union-attr]


def test_lithuanian_lab_ig_ki67_example_in_ucum_percent() -> None:
    # HL7 Lithuania laboratory IG (HL7LT/ig-lt-lab), Observation-observation-ki67-proliferation-
    # example: LOINC 29593-1, value 25 % (UCUM), effective 2025-01-15.
    res = _observation(
        "observation-ki67-proliferation-example",
        _coding(LNC, "29593-1", "Cells.Ki-67 nuclear Ag/cells in Tissue by Immune stain"),
        effectiveDateTime="2025-01-15T11:00:00+02:00",
        valueQuantity={"value": 25, "unit": "%", "system": UCUM, "code": "%"},
    )
    q = _facts(res).latest("ki67").value  # type: ignore[union-attr]
    assert (q.value, q.unit) == (25, "%")


@pytest.mark.parametrize(
    ("printed", "value", "comparator"),
    [
        # Result strings as laboratory information systems print them in the valueString of
        # HL7 v2 ORU→FHIR conversions (ST results): a European decimal comma, a label, qualifiers.
        ("20,5 %", 20.5, None),
        ("Ki-67: 15%", 15.0, None),
        ("approximately 12% (hot spot)", 12.0, None),
        ("less than 1%", 1.0, "<"),
        ("<2%", 2.0, "<"),
        ("5-10%", 10.0, None),
    ],
)
def test_ki67_strings_as_labs_print_them(
    printed: str, value: float, comparator: str | None
) -> None:
    res = _observation("ki", _coding(LNC, "29593-1"), valueString=printed)
    q = _facts(res).latest("ki67").value  # type: ignore[union-attr]
    assert (q.value, q.comparator) == (value, comparator)


KI67_UNRECOGNISED = "Ki-67 result under an unrecognised code: add the code to a site ValueSet"


@pytest.mark.parametrize(
    "code",
    [
        # A hospital LIS code beside its display, as local lab feeds send it (held-out h23b).
        {
            "coding": [
                {
                    "system": "http://hospital.example.org/CodeSystem/lab",
                    "code": "KI67IDX",
                    "display": "Ki-67 proliferation index",
                }
            ],
            "text": "Ki-67 index",
        },
        {"coding": [{"display": "Ki-67"}]},  # a display-only coding (held-out h23c)
        {"text": "MIB-1 labelling index"},  # the Ki-67 antibody's name, text only
        {"text": "Ki67 (hot spot)"},
    ],
)
def test_ki67_under_an_unrecognised_code_is_a_data_issue_never_dropped(
    code: dict[str, Any],
) -> None:
    res = _observation("ki-local", code, valueQuantity={"value": 35, "unit": "%"})
    mapped = _facts(res)
    assert not mapped.has("ki67")
    assert [(i.reference, i.problem) for i in mapped.data_issues] == [
        ("Observation/ki-local", KI67_UNRECOGNISED)
    ]


def test_a_mitotic_count_under_a_local_code_is_a_data_issue() -> None:
    res = _observation(
        "mit-local",
        {"text": "Mitotic count per 2 mm2"},
        valueQuantity={"value": 3, "unit": "/2 mm2"},
    )
    assert [i.problem for i in _facts(res).data_issues] == [
        "mitotic count under an unrecognised code: add the code to a site ValueSet"
    ]


def test_an_unrecognised_observation_naming_no_tissue_result_raises_nothing() -> None:
    res = _observation(
        "bp", {"text": "Blood pressure"}, valueQuantity={"value": 120, "unit": "mm[Hg]"}
    )
    assert _facts(res).data_issues == ()


def test_ki67_of_150_percent_from_a_transcription_error_is_reported_not_used() -> None:
    # An impossible value as a mis-keyed LIS entry produces it (decimal point lost from '1.50').
    res = _observation("ki-150", _coding(LNC, "29593-1"), valueQuantity={"value": 150, "unit": "%"})
    mapped = _facts(res)
    assert not mapped.has("ki67")
    assert [i.reference for i in mapped.data_issues] == ["Observation/ki-150"]


def test_observation_without_status_from_a_partial_feed_is_reported() -> None:
    # US Core requires status; feeds that drop it must be reported, not silently ignored.
    res = _observation(
        "no-status", _coding(LNC, "29593-1"), valueQuantity={"value": 5, "unit": "%"}
    )
    del res["status"]
    assert [i.problem for i in _facts(res).data_issues] == ["status: missing; not used"]


# --- Whole patients over HTTP ---------------------------------------------------------------


def _pnen_with_liver_mets() -> list[dict[str, Any]]:
    patient = {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "1965-04-02"}
    primary = _primary_cancer_condition(
        "pnen-mcode",
        _coding(SCT, "15776009"),
        morphology=_coding(SCT, "1286770005"),
        body_site=_coding(SCT, "64163001"),
        onsetDateTime="2024-03-01",
    )
    liver = _primary_cancer_condition(
        "lm-c7b02", _coding(ICD10CM, "C7B.02"), onsetDateTime="2024-03-01"
    )
    return [patient, primary, liver]


def _post(client: FlaskClient, resources: list[dict[str, Any]], keys: list[str]) -> dict[str, Any]:
    request = hook_request("patient-view", PATIENT_ID, prefetch=prefetch_for(resources, keys))
    response = client.post(PV, json=request)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert_valid_response(body)
    return body


def test_mcode_coded_pnen_with_liver_metastases_gets_cards_over_http(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    body = _post(client, _pnen_with_liver_mets(), prefetch_keys)
    codes = {c["source"]["topic"]["code"] for c in body["cards"]}
    assert "summary" in codes and "staging-imaging" in codes


@pytest.mark.parametrize(
    ("where", "extreme"),
    [
        # issue 13 item 1: a MedicationRequest authoredOn 9999-12-31 and a Condition onset
        # 0001-01-01 ended in OverflowError and a 500.
        ("medication", "9999-12-31"),
        ("onset", "0001-01-01"),
    ],
)
def test_one_extreme_date_costs_no_cards_and_is_listed(
    client: FlaskClient, prefetch_keys: list[str], where: str, extreme: str
) -> None:
    resources = copy.deepcopy(_pnen_with_liver_mets())
    if where == "medication":
        resources.append(
            {
                "resourceType": "MedicationRequest",
                "id": "tmz-extreme",
                "status": "active",
                "intent": "order",
                "subject": SUBJECT,
                "medicationCodeableConcept": _coding(
                    "http://www.nlm.nih.gov/research/umls/rxnorm", "37776", "temozolomide"
                ),
                "authoredOn": extreme,
            }
        )
        bad = "MedicationRequest/tmz-extreme"
    else:
        resources[1]["onsetDateTime"] = extreme
        bad = "Condition/pnen-mcode"
    body = _post(client, resources, prefetch_keys)
    assert {c["source"]["topic"]["code"] for c in body["cards"]} >= {"summary"}
    issues = body["extension"]["org.pnen-cds.data-issues"]
    assert any(i["reference"] == bad and "date" in i["problem"] for i in issues)


def test_nec_coded_only_c7a1_with_pancreas_site_gets_nec_cards_over_http(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    # ICD-10-CM C7A.1 on an EHR problem list (CMS tabular list), the pancreas in bodySite, liver
    # metastases as C78.7: the most dangerous silence of issue 8.
    patient = {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "1960-02-02"}
    nec = _primary_cancer_condition(
        "nec-only-c7a1",
        _coding(ICD10CM, "C7A.1", "Malignant poorly differentiated neuroendocrine tumors"),
        body_site=_coding(SCT, "15776009", "Pancreatic structure"),
        onsetDateTime="2025-01-10",
    )
    liver = _primary_cancer_condition(
        "lm-c787", _coding(ICD10CM, "C78.7"), onsetDateTime="2025-01-10"
    )
    body = _post(client, [patient, nec, liver], prefetch_keys)
    codes = {c["source"]["topic"]["code"] for c in body["cards"]}
    assert {"summary", "nec-medical-first"} <= codes
