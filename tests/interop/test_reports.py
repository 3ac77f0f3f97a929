"""Interop corpus: pathology and imaging DiagnosticReports shaped as real systems send them.

Each case names its source. Report texts are synthetic, written in the phrasing the named systems
and templates print; no case copies patient data.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from fhir_mappings.facts import FROM_REPORT_TEXT, LIVER, PRIMARY, Quantity
from fhir_mappings.terminology import LOINC, PNEN, SNOMED
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    PATIENT_ID,
    base_pnen_lm,
    cc,
    days_ago,
    differentiation,
    facts_for,
    fired,
    ki67,
    report,
    run,
)
from tests.support.cds_requests import answered, hook_request, prefetch_for
from tests.support.fhir_server import serve_fhir
from tests.support.pathology_reports import (
    LIVER_SITE,
    PANCREAS_TAIL,
    V2_0074,
    attachment,
    pathology_report,
    specimen,
)

# US Core DiagnosticReport Profile for Report and Note exchange: category LOINC LP7839-6 "Pathology"
# (with LP29684-5 Radiology, LP29708-2 Cardiology), the report as a base64 presentedForm.
US_CORE_PATHOLOGY = [cc(LOINC, "LP7839-6", "Pathology")]
# HL7 SDC electronic Cancer Checklist (eCC) examples: category LP7839-6, code LOINC 60568-3.
SYNOPTIC = cc(LOINC, "60568-3", "Pathology Synoptic report")
# HL7 v2 ORU^R01 pathology feeds: OBR-4 11529-5^Surgical Pathology Report^LN, category
# v2-0074 SP; converted to FHIR as DiagnosticReport.code / category.
SURGICAL_PATHOLOGY = cc(LOINC, "11529-5", "Surgical Pathology Report")
V2_SP = [cc(V2_0074, "SP", "Surgical Pathology")]
CT_AP_CONTRAST = cc(LOINC, "36813-4", "CT Abdomen and Pelvis W contrast IV")


def one(resources: list[dict[str, Any]], kind: str) -> Any:
    """The value of the single fact of a kind."""
    found = facts_for(resources).all(kind)
    assert len(found) == 1, found
    return found[0]


def problems(resources: list[dict[str, Any]]) -> list[str]:
    """The data issues raised."""
    return [i.problem for i in facts_for(resources).data_issues]


def imaging_kinds(resource: dict[str, Any]) -> set[str]:
    """Imaging kinds a report maps to."""
    return {k[8:] for k in facts_for([resource]).by_kind if k.startswith("imaging:")}


# --- narrative pathology ---------------------------------------------------------------------


def test_us_core_pathology_note_with_plain_text_presented_form() -> None:
    # US Core DiagnosticReport Note: category LP7839-6, report text in presentedForm (base64).
    text = (
        "FINAL DIAGNOSIS:\n"
        "Liver, segment 6, core biopsy:\n"
        "- Metastatic well-differentiated neuroendocrine tumor, WHO grade 2.\n"
        "- Ki-67 proliferation index: approximately 12% (hot spot).\n"
    )
    record = [
        pathology_report(
            code={"text": "Pathology report"},
            category=US_CORE_PATHOLOGY,
            presented=[attachment(text)],
        )
    ]
    fact = one(record, "ki67")
    assert fact.value == Quantity(12, "%") and fact.site == LIVER
    assert FROM_REPORT_TEXT in fact.flags
    assert one(record, "who-grade").value == 2
    assert one(record, "differentiation").value == "well"


def test_sdc_ecc_synoptic_pancreas_endocrine_report_ignores_grade_definitions() -> None:
    # HL7 SDC eCC example shape (category LP7839-6, code 60568-3); lines as the CAP Pancreas
    # (Endocrine) protocol prints them: the chosen grade is followed by its WHO definition.
    text = (
        "Tumor Site: Pancreatic tail\n"
        "Histologic Type: Well-differentiated neuroendocrine tumor\n"
        "Histologic Grade: G2, intermediate grade (2-20 mitoses/2 mm2 and/or 3%-20% Ki-67 index)\n"
        "Mitotic Rate: 4 mitoses/2 mm2\n"
        "Ki-67 Labeling Index: 7 %\n"
    )
    record = [
        specimen("sp-tail", PANCREAS_TAIL),
        pathology_report(
            code=SYNOPTIC,
            category=US_CORE_PATHOLOGY,
            presented=[attachment(text)],
            specimens=("Specimen/sp-tail",),
        ),
    ]
    assert one(record, "ki67").value == Quantity(7, "%")
    assert one(record, "mitotic-count").value == Quantity(4, "/2 mm²")
    assert one(record, "ki67").site == PRIMARY


def test_hl7_v2_surgical_pathology_report_in_capitals() -> None:
    # HL7 v2 ORU pathology feed converted to FHIR: OBR-4 11529-5, v2-0074 SP, OBX FT text in the
    # capitals many laboratory systems print.
    text = (
        "LIVER, SEGMENT 6, CORE BIOPSY: METASTATIC WELL-DIFFERENTIATED NEUROENDOCRINE TUMOR, "
        "WHO GRADE 2. KI-67 PROLIFERATION INDEX: 12%. MITOTIC COUNT: 3 PER 2 MM2."
    )
    record = [pathology_report(text, code=SURGICAL_PATHOLOGY, category=V2_SP)]
    assert one(record, "ki67").value == Quantity(12, "%")
    assert one(record, "ki67").site == LIVER
    assert one(record, "mitotic-count").value == Quantity(3, "/2 mm²")
    assert one(record, "who-grade").value == 2


def test_html_presented_form_as_lis_exports_print_it() -> None:
    # Laboratory information systems export the signed report as text/html (presentedForm).
    markup = (
        "<html><body><h3>Final Diagnosis</h3><p>Pancreas, tail, distal pancreatectomy:</p>"
        "<ul><li>Well differentiated neuroendocrine tumor, G1</li>"
        "<li>Ki-67 index: &lt;2%</li><li>Mitoses: &lt;2/2 mm&sup2;</li></ul></body></html>"
    )
    record = [pathology_report(presented=[attachment(markup, "text/html")])]
    assert one(record, "ki67").value == Quantity(2, "%", "<")
    assert one(record, "ki67").site == PRIMARY
    assert one(record, "mitotic-count").value == Quantity(2, "/2 mm²", "<")


@pytest.mark.parametrize(
    ("text", "ki", "site"),
    [
        # Chinese hospital pathology systems: 病理诊断 line with the site in brackets, then the
        # 免疫组化 (IHC) line in the 'marker(result)' form.
        (
            "病理诊断：（胰体尾）神经内分泌肿瘤，G2。\n免疫组化：CgA(+)，Syn(+)，CD56(+)，"
            "Ki-67(约5%+)，SSTR2(3+)。",
            Quantity(5, "%"),
            PRIMARY,
        ),
        (
            "病理诊断：（肝S6穿刺）转移性高分化神经内分泌肿瘤，WHO 2级。Ki-67 指数约 15％，"
            "核分裂象 3个/2mm²。",
            Quantity(15, "%"),
            LIVER,
        ),
        ("（胰头）神经内分泌肿瘤 G1，Ki-67<1%，未见核分裂象。", Quantity(1, "%", "<"), PRIMARY),
    ],
)
def test_chinese_pathology_reports(text: str, ki: Quantity, site: str) -> None:
    record = [pathology_report(text, code={"text": "病理诊断报告"})]
    fact = one(record, "ki67")
    assert (fact.value, fact.site) == (ki, site)


def test_european_lab_decimal_comma_is_a_decimal() -> None:
    # European laboratory systems print a decimal comma: "20,5 %" is 20.5 % (G3), never 20 %.
    record = [pathology_report("Neuroendocrine tumour. Ki-67: 20,5 %.")]
    assert one(record, "ki67").value == Quantity(20.5, "%")


def test_ki67_in_conclusion_code_text_only() -> None:
    # Pathology systems that send a coded diagnosis with the grade only in its display.
    code = cc(SNOMED, "1286770005", "Neuroendocrine tumor, grade 2")
    record = [pathology_report(code=SURGICAL_PATHOLOGY, conclusion_code=[code])]
    assert one(record, "who-grade").value == 2


def test_mitoses_per_10_hpf_as_older_reports_print_them_are_reported_not_guessed() -> None:
    # Pre-2017 WHO grading printed mitoses per 10 high-power fields.
    record = [pathology_report("Neuroendocrine tumor, G2. Mitoses: 4/10 HPF.")]
    assert not facts_for(record).all("mitotic-count")
    assert "report text: mitoses per 10 HPF need a site conversion; ignored" in problems(record)


# --- negated, advisory, unreadable ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # Radiology-style advice copied into pathology comments.
        "Neuroendocrine tumor, G2. Correlate with Ga-68 DOTATATE PET/CT.",
        # CAP comment phrasing for a component that was looked for and not found.
        "Well-differentiated NET. No evidence of a poorly differentiated component.",
        "Well-differentiated NET. Negative for high-grade neuroendocrine carcinoma.",
    ],
)
def test_negated_or_advisory_phrases_create_no_fact(text: str) -> None:
    facts = facts_for([pathology_report(text)])
    assert not facts.all("imaging:pet-ssa")
    assert [f.value for f in facts.all("differentiation")] in ([], ["well"])


def test_a_ki67_the_service_cannot_read_is_reported() -> None:
    # Reports that defer the value to a comment section the feed did not send.
    record = [
        pathology_report("Neuroendocrine tumor. Ki-67: see comment.", code=SURGICAL_PATHOLOGY)
    ]
    assert "pathology report mentions Ki-67 but the value could not be read" in problems(record)


def test_a_pdf_only_pathology_report_is_reported() -> None:
    # Vendor portals often send the signed report only as application/pdf.
    form = {"contentType": "application/pdf", "data": "JVBERi0xLjQK"}
    record = [pathology_report(presented=[form], code=SURGICAL_PATHOLOGY)]
    assert "presentedForm[0].contentType: application/pdf; not read" in problems(record)


def test_a_breast_pathology_ki67_never_becomes_the_pnens() -> None:
    # Breast pathology reports print Ki-67 too (St Gallen); without a neuroendocrine diagnosis the
    # value is not the pNEN's.
    text = "Breast, left, core biopsy: invasive ductal carcinoma, Nottingham grade 3. Ki-67 30%."
    record = [pathology_report(text, code=SURGICAL_PATHOLOGY)]
    assert not facts_for(record).all("ki67")
    assert any("without naming a neuroendocrine neoplasm" in p for p in problems(record))


def test_a_ct_guided_biopsy_pathology_report_is_not_abdominal_imaging() -> None:
    # Pathology reports name the guidance of the biopsy ("CT-guided"); that is no imaging study.
    text = "Liver, CT-guided core biopsy: metastatic well-differentiated NET, Ki-67 9%."
    assert imaging_kinds(pathology_report(text, code=SURGICAL_PATHOLOGY)) == set()


def test_coded_results_beside_the_text_are_not_counted_twice() -> None:
    # HL7 pathology IGs link structured result Observations from DiagnosticReport.result.
    coded = ki67(12, "liver", rid="ki67-structured", when=days_ago(30))
    record = [
        coded,
        pathology_report(
            "Liver, biopsy: NET G2, Ki-67 12%.",
            when=days_ago(30),
            results=("Observation/ki67-structured",),
        ),
    ]
    assert [f.ref for f in facts_for(record).all("ki67")] == ["Observation/ki67-structured"]


# --- imaging ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "technique",
    [
        # Radiology report technique sections as RIS templates print them.
        "TECHNIQUE: Axial CT images of the abdomen and pelvis in the portal venous phase only "
        "following IV contrast.",
        "Single phase contrast-enhanced CT abdomen and pelvis.",
    ],
)
def test_single_phase_ct_is_abdominal_imaging_not_the_staging_study(technique: str) -> None:
    assert imaging_kinds(report(CT_AP_CONTRAST, conclusion=technique)) == {"abdominal-imaging"}


def test_netspot_report_title_is_an_sstr_pet() -> None:
    # NETSPOT prescribing information: kit for the preparation of gallium Ga 68 dotatate.
    assert "pet-ssa" in imaging_kinds(report({"text": "NETSPOT PET/CT skull base to mid-thigh"}))


def test_octreoscan_is_sstr_scintigraphy_not_sstr_pet() -> None:
    # Octreoscan prescribing information: kit for indium In 111 pentetreotide (scintigraphy).
    found = imaging_kinds(
        report({"text": "Octreoscan whole body with SPECT/CT"}, result="positive")
    )
    assert "sstr-scintigraphy" in found and "pet-ssa" not in found


def test_ct_recommending_dotatate_pet_is_no_sstr_pet() -> None:
    # Radiology impressions advise the next study: "Correlate with Ga-68 DOTATATE PET/CT".
    conclusion = "3.1 cm hypervascular pancreatic tail mass. Correlate with Ga-68 DOTATATE PET/CT."
    assert "pet-ssa" not in imaging_kinds(report(CT_AP_CONTRAST, conclusion=conclusion))


# --- whole patients --------------------------------------------------------------------------


def text_only_patient() -> list[dict[str, Any]]:
    """pNEN with liver metastases whose pathology exists only as report text (two specimens)."""
    return [
        *base_pnen_lm(),
        specimen("sp-liver", LIVER_SITE),
        specimen("sp-tail", PANCREAS_TAIL),
        pathology_report(
            "Liver, segment 6, core biopsy: metastatic well-differentiated neuroendocrine tumor, "
            "G2. Ki-67 approximately 12% (hot spot). Mitoses 3 per 2 mm2.",
            code=SURGICAL_PATHOLOGY,
            category=V2_SP,
            specimens=("Specimen/sp-liver",),
            rid="path-liver",
        ),
        pathology_report(
            "（胰尾）神经内分泌肿瘤，G2，Ki-67 约 4%。",
            code={"text": "病理诊断报告"},
            specimens=("Specimen/sp-tail",),
            rid="path-tail",
        ),
    ]


def test_text_only_pathology_patient_gets_grade_based_cards() -> None:
    ids = fired(text_only_patient())
    # Both sites have a Ki-67: no biopsy of both sites asked; Ki-67 12 % > 10 %: FDG PET.
    assert "biopsy-both-sites" not in ids
    assert "pet-fdg" in ids
    assert "pet-ssa" in ids  # a NET with no SSTR PET on record


def test_text_only_pathology_evidence_says_it_was_read_from_text() -> None:
    rec = run(text_only_patient())["pet-fdg"]
    assert any(FROM_REPORT_TEXT in f.flags for f in rec.evidence)


def test_text_only_pathology_patient_over_http(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    resources = text_only_patient()
    request = hook_request(
        "patient-view", "test-patient", prefetch=prefetch_for(resources, prefetch_keys)
    )
    response = client.post("/cds-services/pnen-patient-view", json=request)
    assert response.status_code == 200
    body = response.get_json()
    assert_valid_response(body)
    codes = {card["source"]["topic"]["code"] for card in body["cards"]}
    assert "pet-fdg" in codes and "biopsy-both-sites" not in codes
    summary = next(c for c in body["cards"] if c["source"]["topic"]["code"] == "summary")
    assert "12 %" in summary["detail"]


def test_a_positive_octreoscan_patient_gets_ssa_but_still_the_sstr_pet_card() -> None:
    octreoscan = report(cc(PNEN, "sstr-scintigraphy", "Octreoscan"), result="positive")
    lung = {
        "resourceType": "Condition",
        "id": "lung-met",
        "subject": {"reference": "Patient/test-patient"},
        "code": cc("http://hl7.org/fhir/sid/icd-10-cm", "C78.0"),
    }
    record = [*base_pnen_lm(), differentiation("well"), ki67(4, "liver"), lung, octreoscan]
    ids = fired(record)
    assert "ssa-first-line" in ids and "pet-ssa" in ids


def test_an_unreadable_pathology_report_is_named_in_the_response_over_http(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    # A report deferring Ki-67 to a comment the feed did not carry (HL7 v2 pathology feed shape).
    unreadable = pathology_report(
        "Neuroendocrine tumor, G2. Ki-67: see comment.",
        code=SURGICAL_PATHOLOGY,
        category=V2_SP,
        rid="path-unreadable",
    )
    resources = [*base_pnen_lm(), unreadable]
    request = hook_request(
        "patient-view", "test-patient", prefetch=prefetch_for(resources, prefetch_keys)
    )
    body = client.post("/cds-services/pnen-patient-view", json=request).get_json()
    assert_valid_response(body)
    issues = body["extension"]["org.pnen-cds.data-issues"]
    assert {
        "prefetchKey": "reports",
        "reference": "DiagnosticReport/path-unreadable",
        "problem": "pathology report mentions Ki-67 but the value could not be read",
    } in issues


def test_text_only_pathology_patient_fetched_from_the_fhir_server(client: FlaskClient) -> None:
    with serve_fhir(text_only_patient()) as (base, _):
        request = hook_request("patient-view", "test-patient", fhir_server=base)
        body = client.post("/cds-services/pnen-patient-view", json=request).get_json()
    assert_valid_response(body)
    codes = {card["source"]["topic"]["code"] for card in body["cards"]}
    assert "pet-fdg" in codes and "biopsy-both-sites" not in codes


# --- probe 2026-11-27: two cancers in one report, Chinese and HTML variants -------------------
# Synthetic reports shaped like multi-part surgical pathology reports (one report, several
# specimens A., B., …) and Chinese / HTML LIS exports, written by an independent tester.

OTHER_PART = (
    "pathology report: a part about another tumour gives Ki-67, mitoses or a grade; not used for "
    "the pNEN"
)


@pytest.mark.parametrize(
    "text",
    [
        "A. Pancreas tail: well-differentiated neuroendocrine tumour, Ki-67 2%. "
        "B. Sigmoid colon: adenocarcinoma, Ki-67 70%.",
        "A. Sigmoid colon, resection: adenocarcinoma, Ki-67 70%. "
        "B. Pancreas tail, biopsy: well-differentiated neuroendocrine tumour, Ki-67 2%.",
        # the other tumour's values in the next sentence of its part
        "A. Pancreas tail: well-differentiated neuroendocrine tumour. Ki-67 2%. "
        "B. Sigmoid colon: moderately differentiated adenocarcinoma. Ki-67 70%. Mitoses 30/2 mm2.",
    ],
)
def test_a_report_of_two_cancers_gives_the_pnen_only_its_own_part(text: str) -> None:
    record = [pathology_report(text, code=SURGICAL_PATHOLOGY)]
    assert one(record, "ki67").value == Quantity(2, "%")
    assert one(record, "ki67").site == PRIMARY
    assert not facts_for(record).all("mitotic-count")
    assert OTHER_PART in problems(record)


def test_an_incidental_gist_in_the_same_report_keeps_the_nets_ki67() -> None:
    text = (
        "Pancreas tail: well-differentiated neuroendocrine tumour, G1, Ki-67 1%. "
        "Incidental: gastrointestinal stromal tumour of stomach, Ki-67 30%."
    )
    record = [pathology_report(text, code=SURGICAL_PATHOLOGY)]
    assert one(record, "ki67").value == Quantity(1, "%")
    assert OTHER_PART in problems(record)


@pytest.mark.parametrize(
    "text",
    [
        # a negated other tumour changes nothing
        "Pancreas, tail: well-differentiated neuroendocrine tumour. No adenocarcinoma component. "
        "Ki-67 4%.",
        # a mixed neoplasm names both: the NEN is in it, read as before
        "Pancreas: mixed neuroendocrine-non-neuroendocrine neoplasm (adenocarcinoma and NET), "
        "Ki-67 4%.",
    ],
)
def test_a_report_naming_the_nen_with_another_tumour_is_still_read(text: str) -> None:
    record = [pathology_report(text, code=SURGICAL_PATHOLOGY)]
    assert one(record, "ki67").value == Quantity(4, "%")
    assert OTHER_PART not in problems(record)


@pytest.mark.parametrize(
    ("text", "ki"),
    [
        ("病理诊断：（胰尾）神经内分泌肿瘤。Ki-67指数：8%。", Quantity(8, "%")),
        ("病理诊断：（胰尾）神经内分泌肿瘤，G2。Ki-67指数约8%。", Quantity(8, "%")),
        # U+2011 (non-breaking hyphen) as word processors insert it
        ("Well differentiated neuroendocrine tumour. Ki\u201167 index: 25%", Quantity(25, "%")),
        ("Neuroendocrine tumour of the pancreas. Ki-67: 20 per cent.", Quantity(20, "%")),
        ("Neuroendocrine tumour of the pancreas. Ki-67: 25 percent.", Quantity(25, "%")),
    ],
)
def test_ki67_written_as_chinese_and_word_processor_reports_print_it(
    text: str, ki: Quantity
) -> None:
    record = [pathology_report(text, code={"text": "病理诊断报告"})]
    assert one(record, "ki67").value == ki


@pytest.mark.parametrize(
    "markup",
    [
        "<p>Well differentiated neuroendocrine tumour.</p><p>Ki&#8209;67 index: 25%</p>",
        "<p>Well differentiated neuroendocrine tumour.</p><p>Ki<span>-</span>67 index: "
        "<b>25</b>%</p>",
    ],
)
def test_html_inline_markup_inside_the_label_or_value_is_read(markup: str) -> None:
    record = [pathology_report(presented=[attachment(markup, "text/html")])]
    assert one(record, "ki67").value == Quantity(25, "%")


def test_two_cancer_report_over_http_gives_no_fdg_pet_and_names_the_part(
    client: FlaskClient,
) -> None:
    text = (
        "A. Pancreas tail: well-differentiated neuroendocrine tumour, Ki-67 2%. "
        "B. Sigmoid colon: adenocarcinoma, Ki-67 70%."
    )
    resources = [*base_pnen_lm(), pathology_report(text, code=SURGICAL_PATHOLOGY, rid="pr-two")]
    keys = list(client.get("/cds-services").get_json()["services"][0]["prefetch"])
    request = hook_request("patient-view", PATIENT_ID, prefetch=prefetch_for(resources, keys))
    data = answered(client, "pnen-patient-view", request)
    cards = {c["source"]["topic"]["code"]: c for c in data["cards"]}
    assert "pet-fdg" not in cards
    assert "NET G1" in cards["summary"]["summary"]
    issues = data["extension"]["org.pnen-cds.data-issues"]
    assert {"reference": "DiagnosticReport/pr-two", "problem": OTHER_PART}.items() <= next(
        i for i in issues if i["reference"] == "DiagnosticReport/pr-two"
    ).items()


@pytest.mark.parametrize(
    ("text", "ki", "site"),
    [
        # re-probe n01: another tumour excluded in the NET's own report
        (
            "Pancreas, tail: well-differentiated neuroendocrine tumour. Acinar cell carcinoma is "
            "excluded by negative trypsin staining. Ki-67 index 25%.",
            Quantity(25, "%"),
            PRIMARY,
        ),
        # re-probe n03: IHC against a colorectal metastasis
        (
            "Liver, segment 6, core biopsy: metastatic well-differentiated neuroendocrine tumour. "
            "CDX2 negative, CK20 negative, against metastatic colorectal adenocarcinoma. "
            "Ki-67 index 22%.",
            Quantity(22, "%"),
            LIVER,
        ),
        # re-probe n14: the same in Chinese
        (
            "（肝穿刺）转移性高分化神经内分泌肿瘤。CDX2(-)，不支持结直肠腺癌转移。Ki-67约20%。",
            Quantity(20, "%"),
            LIVER,
        ),
        # the NET's part named first: a later differential sets aside no later sentence
        (
            "Pancreas, tail: well-differentiated neuroendocrine tumour. Differential includes "
            "acinar cell carcinoma. Ki-67 4%.",
            Quantity(4, "%"),
            PRIMARY,
        ),
    ],
)
def test_another_tumour_excluded_or_weighed_in_the_nets_report_keeps_its_values(
    text: str, ki: Quantity, site: str
) -> None:
    record = [pathology_report(text, code=SURGICAL_PATHOLOGY)]
    fact = one(record, "ki67")
    assert (fact.value, fact.site) == (ki, site)
    assert OTHER_PART not in problems(record)
