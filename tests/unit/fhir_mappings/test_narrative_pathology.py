"""Pathology reports whose Ki-67, mitoses, grade and differentiation exist only as text."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings.facts import (
    FROM_REPORT_TEXT,
    LIVER,
    PRELIMINARY,
    PRIMARY,
    UNKNOWN_SITE,
    Fact,
    PatientFacts,
    Quantity,
)
from fhir_mappings.narrative import MAX_MENTIONS, is_pathology_report
from fhir_mappings.observations import MappingOptions
from fhir_mappings.record import RecordMapper
from fhir_mappings.report_text import MAX_TEXT, html_text
from fhir_mappings.terminology import LOINC, SNOMED
from tests.fhir_builders import (
    PATIENT_ID,
    TODAY,
    cc,
    days_ago,
    facts_for,
    ki67,
    mitoses,
    patient,
    terms,
)
from tests.support.pathology_reports import (
    BREAST_SITE,
    LIVER_SITE,
    PANCREAS_TAIL,
    V2_0074,
    attachment,
    pathology_report,
    specimen,
)

TISSUE = ("ki67", "mitotic-count", "who-grade", "differentiation")


def read(*resources: dict[str, Any]) -> PatientFacts:
    """Facts of a record made of the given resources."""
    return facts_for(list(resources))


def only(resources: tuple[dict[str, Any], ...] | dict[str, Any], kind: str) -> Fact:
    """The single fact of a kind."""
    found = read(*(resources if isinstance(resources, tuple) else (resources,))).all(kind)
    assert len(found) == 1, found
    return found[0]


def problems(*resources: dict[str, Any]) -> list[str]:
    """The data issues' problems, in order."""
    return [issue.problem for issue in read(*resources).data_issues]


def tissue(facts: PatientFacts) -> list[Fact]:
    """Every tissue fact."""
    return [f for kind in TISSUE for f in facts.all(kind)]


# --- which reports are pathology -------------------------------------------------------------


@pytest.mark.parametrize(
    "report",
    [
        pytest.param(pathology_report(code=cc(LOINC, "11526-1")), id="LOINC-11526-1"),
        pytest.param(pathology_report(code=cc(LOINC, "22637-3")), id="LOINC-22637-3"),
        pytest.param(pathology_report(code=cc(LOINC, "60567-5")), id="LOINC-60567-5"),
        pytest.param(
            pathology_report(code={"text": "Report"}, category=[cc(V2_0074, "SP")]),
            id="category-SP",
        ),
        pytest.param(
            pathology_report(code={"text": "Surgical Pathology Report"}), id="name-pathology"
        ),
        pytest.param(pathology_report(code={"text": "病理诊断报告"}), id="name-chinese"),
    ],
)
def test_pathology_reports_are_recognised_by_code_category_or_name(report: dict[str, Any]) -> None:
    assert is_pathology_report(report, terms())


def test_a_lab_category_alone_does_not_make_a_report_pathology() -> None:
    report = pathology_report(code=cc(LOINC, "9811-1"), category=[cc(V2_0074, "LAB")])
    assert not is_pathology_report(report, terms())


# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Neuroendocrine tumor. Ki-67: 15%.", Quantity(15, "%")),
        ("Neuroendocrine tumor. Ki-67 index approximately 12% (hot spot).", Quantity(12, "%")),
        ("Neuroendocrine tumor. Ki-67 less than 1%.", Quantity(1, "%", "<")),
        ("Neuroendocrine tumor. Ki-67 <2%.", Quantity(2, "%", "<")),
        ("Neuroendocrine tumor. Ki-67: 20,5 %.", Quantity(20.5, "%")),
        ("Neuroendocrine tumor. Ki-67 (MIB-1) labeling index: 3.2%", Quantity(3.2, "%")),
        ("神经内分泌肿瘤，Ki-67 指数约 15%。", Quantity(15, "%")),
        ("神经内分泌肿瘤，Ki-67（+，约５％）。", Quantity(5, "%")),
        ("神经内分泌肿瘤，Ki-67 1%以下。", Quantity(1, "%", "<=")),
        ("Neuroendocrine tumor; 15% of tumour cells Ki-67 positive", Quantity(15, "%")),
    ],
)
def test_ki67_is_read_from_report_text_in_the_forms_labs_print(
    text: str, expected: Quantity
) -> None:
    fact = only(pathology_report(text), "ki67")
    assert fact.value == expected
    assert FROM_REPORT_TEXT in fact.flags


@pytest.mark.parametrize(
    "text", ["Neuroendocrine tumor. Ki-67 15-25%.", "胰腺神经内分泌瘤，Ki-67 指数 15-25%。"]
)
def test_a_ki67_range_in_text_keeps_both_ends_like_a_coded_range(text: str) -> None:
    fact = only(pathology_report(text), "ki67")
    assert fact.value == Quantity(25, "%", None, None, 15)
    assert fact.value.compare(">", 20) is None


@pytest.mark.parametrize("text", ["NET G2. Ki-67 150%.", "NET G2. Ki-67: -5%."])
def test_an_impossible_ki67_in_text_is_a_data_issue_not_evidence(text: str) -> None:
    report = pathology_report(text)
    assert not read(report).all("ki67")
    assert "report text: Ki-67 outside 0–100 %; not used" in problems(report)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Neuroendocrine tumor. Mitotic count: 3/2 mm2.", Quantity(3, "/2 mm²")),
        ("Neuroendocrine tumor. 3 mitoses per 2 mm².", Quantity(3, "/2 mm²")),
        ("Neuroendocrine tumor. Mitotic rate: <2 mitoses/2 mm2.", Quantity(2, "/2 mm²", "<")),
        ("神经内分泌肿瘤，核分裂象 3个/2mm²。", Quantity(3, "/2 mm²")),
        ("Neuroendocrine tumor. No mitoses identified.", Quantity(0, "/2 mm²")),
        ("神经内分泌肿瘤，未见核分裂象。", Quantity(0, "/2 mm²")),
    ],
)
def test_mitoses_are_read_per_2_mm2(text: str, expected: Quantity) -> None:
    assert only(pathology_report(text), "mitotic-count").value == expected


def test_mitoses_per_10_hpf_need_the_site_conversion_else_a_data_issue() -> None:
    report = pathology_report("Neuroendocrine tumor. Mitoses 4 per 10 HPF.")
    assert not read(report).all("mitotic-count")
    assert "report text: mitoses per 10 HPF need a site conversion; ignored" in problems(report)
    mapper = RecordMapper(terms(), MappingOptions(mitoses_per_10hpf_to_2mm2=0.5))
    facts = mapper.map(PATIENT_ID, [("reports", patient()), ("reports", report)], TODAY)
    (fact,) = facts.all("mitotic-count")
    assert fact.value == Quantity(2, "/2 mm²")


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        ("Well-differentiated neuroendocrine tumor, WHO grade 2.", 2),
        ("Neuroendocrine tumor, G1.", 1),
        ("神经内分泌肿瘤 G2。", 2),
        ("神经内分泌肿瘤（G3）。", 3),
        ("Neuroendocrine tumor. Histologic grade: II.", 2),
        ("胰腺神经内分泌肿瘤，WHO 2级。", 2),
    ],
)
def test_the_who_grade_is_read_from_text(text: str, grade: int) -> None:
    assert only(pathology_report(text), "who-grade").value == grade


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Well-differentiated neuroendocrine tumor, G2.", "well"),
        ("Poorly differentiated neuroendocrine carcinoma, small cell type.", "poorly"),
        ("Large cell neuroendocrine carcinoma.", "poorly"),
        ("高分化神经内分泌肿瘤 G1。", "well"),
        ("低分化神经内分泌癌。", "poorly"),
        ("神经内分泌癌（小细胞癌）。", "poorly"),
    ],
)
def test_differentiation_is_read_from_text(text: str, value: str) -> None:
    assert only(pathology_report(text), "differentiation").value == value


def test_a_well_differentiated_neuroendocrine_carcinoma_of_old_terminology_stays_well() -> None:
    report = pathology_report("Well-differentiated neuroendocrine carcinoma (WHO 2000).")
    assert only(report, "differentiation").value == "well"


@pytest.mark.parametrize(
    "text",
    [
        "Neuroendocrine tumor, G2.",
        "Neuroendocrine tumour (NET), WHO grade 3. Ki-67 index 25%",
        "NET G3, Ki-67 25%.",
        "胰腺神经内分泌肿瘤（NET，G3），Ki-67（+，约２５％）。",
        "胰腺神经内分泌瘤 G3，Ki-67 约 25%。",
    ],
)
def test_a_net_given_a_who_grade_is_well_differentiated(text: str) -> None:
    # WHO 2019: NET names the well-differentiated NENs (G1-G3); NEC the poorly differentiated.
    assert only(pathology_report(text), "differentiation").value == "well"


@pytest.mark.parametrize(
    "text",
    [
        "Neuroendocrine tumor.",  # no grade: the umbrella use of the words is common
        "胰腺神经内分泌肿瘤 G3。",  # 神经内分泌肿瘤 is the Chinese umbrella term NEN
        "Neuroendocrine tumor with nuclear grade 2 atypia.",
        "Neuroendocrine tumour G3 versus neuroendocrine carcinoma.",
    ],
)
def test_a_neoplasm_not_named_a_net_with_a_who_grade_sets_no_differentiation(text: str) -> None:
    assert not read(pathology_report(text)).all("differentiation")


def test_nuclear_or_gleason_grades_are_not_who_grades() -> None:
    report = pathology_report("Neuroendocrine tumor with nuclear grade 2 atypia.")
    assert not read(report).all("who-grade")
    assert "pathology report mentions a grade but it could not be read" not in problems(report)


# --- negated and advisory phrases ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Neuroendocrine tumor G2. No evidence of poorly differentiated neuroendocrine carcinoma.",
        "Neuroendocrine tumor G2. Negative for high-grade (poorly differentiated) component.",
        "神经内分泌肿瘤 G2，未见低分化成分。",
        "Neuroendocrine tumor G2. Consider poorly differentiated carcinoma in the differential.",
    ],
)
def test_negated_or_advisory_differentiation_creates_no_fact(text: str) -> None:
    # The NET G2 itself is well differentiated; the negated 'poorly' adds nothing.
    values = {f.value for f in read(pathology_report(text)).all("differentiation")}
    assert "poorly" not in values


@pytest.mark.parametrize(
    "text",
    [
        "Neuroendocrine tumor. Recommend Ki-67 staining on the resection specimen.",
        "Neuroendocrine tumor. Ki-67 not performed.",
        "Neuroendocrine tumor. Ki-67 pending, addendum to follow.",
        "神经内分泌肿瘤，建议加做 Ki-67。",
        "神经内分泌肿瘤，Ki-67 待回报。",
    ],
)
def test_advisory_or_pending_ki67_creates_neither_fact_nor_issue(text: str) -> None:
    report = pathology_report(text)
    assert not read(report).all("ki67")
    assert problems(report) == []


def test_a_ki67_quoted_from_a_prior_report_is_not_this_reports_result() -> None:
    report = pathology_report("Neuroendocrine tumor G2. Prior biopsy showed Ki-67 of 3%.")
    assert not read(report).all("ki67")


# --- mentions that could not be read ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "Neuroendocrine tumor. Ki-67: see comment",
            "pathology report mentions Ki-67 but the value could not be read",
        ),
        (
            "Neuroendocrine tumor. Mitoses: 3",
            "pathology report mentions mitoses but the count could not be read",
        ),
        (
            "Neuroendocrine tumor G1-G2.",
            "pathology report mentions a grade but it could not be read",
        ),
        (
            "Moderately differentiated neuroendocrine tumor.",
            "pathology report mentions differentiation but it could not be read as well or "
            "poorly differentiated",
        ),
    ],
)
def test_a_mention_the_service_cannot_read_is_a_data_issue(text: str, problem: str) -> None:
    report = pathology_report(text)
    assert not tissue(read(report))
    assert problem in problems(report)


def test_ki67_in_a_report_that_names_no_neuroendocrine_neoplasm_is_not_used() -> None:
    report = pathology_report("Invasive ductal carcinoma, Nottingham grade 3. Ki-67 30%.")
    assert not tissue(read(report))
    assert problems(report) == [
        "pathology report gives Ki-67 without naming a neuroendocrine neoplasm; not used"
    ]


def test_a_pathology_report_with_neither_results_nor_text_is_a_data_issue() -> None:
    report = pathology_report()
    assert problems(report) == [
        "pathology report has neither results nor text the service can read"
    ]


# --- where the text is -----------------------------------------------------------------------


def test_plain_text_presented_form_is_decoded_from_base64() -> None:
    report = pathology_report(presented=[attachment("Neuroendocrine tumor, G2. Ki-67: 8%.")])
    assert only(report, "ki67").value == Quantity(8, "%")


def test_html_presented_form_is_read_without_its_markup() -> None:
    markup = (
        "<html><style>td{color:red}</style><body><table><tr><td>Ki-67</td><td>14&nbsp;%</td>"
        "</tr></table><p>Well differentiated neuroendocrine tumor</p></body></html>"
    )
    report = pathology_report(presented=[attachment(markup, "text/html; charset=utf-8")])
    facts = read(report)
    assert facts.latest("ki67").value == Quantity(14, "%")  # type: ignore[union-attr]
    assert facts.latest("differentiation").value == "well"  # type: ignore[union-attr]


def test_html_text_drops_scripts_and_keeps_cells_apart() -> None:
    assert html_text("<script>var ki67 = 99;</script><td>A</td><td>B</td>").split() == ["A", "B"]


def test_a_gb18030_chinese_report_is_decoded() -> None:
    form = attachment("神经内分泌肿瘤 G2，Ki-67 指数约 15%", "text/plain", "gb18030")
    assert only(pathology_report(presented=[form]), "ki67").value == Quantity(15, "%")


@pytest.mark.parametrize(
    ("form", "problem"),
    [
        (
            {"contentType": "text/plain", "data": "not base64!"},
            "presentedForm[0].data: not valid base64; not read",
        ),
        (
            {"contentType": "application/pdf", "data": "JVBERi0xLjQK"},
            "presentedForm[0].contentType: application/pdf; not read",
        ),
        (
            {"contentType": "text/plain", "data": "QUFB" * (MAX_TEXT // 3 + 10)},
            f"presentedForm[0].data: larger than {MAX_TEXT // 1024} kB; not read",
        ),
    ],
)
def test_an_unreadable_attachment_is_a_data_issue(form: dict[str, Any], problem: str) -> None:
    assert problem in problems(pathology_report(presented=[form]))


def test_conclusion_code_display_is_read_like_the_conclusion() -> None:
    code = cc(SNOMED, "1286770005", "Neuroendocrine tumor, grade 2")
    report = pathology_report(conclusion_code=[code])
    assert only(report, "who-grade").value == 2


# --- site ------------------------------------------------------------------------------------


def test_the_site_comes_from_the_reports_specimen() -> None:
    records = (
        specimen("sp-liver", LIVER_SITE),
        pathology_report("Neuroendocrine tumor, Ki-67 12%.", specimens=("Specimen/sp-liver",)),
    )
    assert only(records, "ki67").site == LIVER


def test_the_specimen_wins_over_the_text_header() -> None:
    records = (
        specimen("sp-panc", PANCREAS_TAIL),
        pathology_report(
            "Liver, segment 6, core biopsy: NET, Ki-67 12%.", specimens=("Specimen/sp-panc",)
        ),
    )
    assert only(records, "ki67").site == PRIMARY


@pytest.mark.parametrize(
    ("text", "site"),
    [
        ("Liver, segment 6, core biopsy: metastatic well-differentiated NET, Ki-67 12%.", LIVER),
        ("Pancreas, tail, distal pancreatectomy: NET G1, Ki-67 2%.", PRIMARY),
        ("（肝S6穿刺）神经内分泌肿瘤，Ki-67 约 12%。", LIVER),
        ("（胰尾）神经内分泌肿瘤 G2，Ki-67 约 5%。", PRIMARY),
        ("胰腺神经内分泌肿瘤肝转移，Ki-67 约 12%。", LIVER),
        ("Lymph node, peripancreatic: metastatic NET, Ki-67 12%.", UNKNOWN_SITE),
        ("Neuroendocrine tumor, Ki-67 12%.", UNKNOWN_SITE),
        ("Metastatic NET. Pancreatic primary is likely. Ki-67 12%.", UNKNOWN_SITE),
    ],
)
def test_without_a_specimen_site_the_text_header_names_it(text: str, site: str) -> None:
    assert only(pathology_report(text), "ki67").site == site


def test_each_part_of_a_multi_part_report_keeps_its_own_site() -> None:
    text = (
        "A. Pancreas, tail, distal pancreatectomy: NET G1, Ki-67 2%.\n"
        "B. Liver, segment 6, wedge resection: metastatic NET G2, Ki-67 15%."
    )
    by_site = {f.site: f.value for f in read(pathology_report(text)).all("ki67")}
    assert by_site == {PRIMARY: Quantity(2, "%"), LIVER: Quantity(15, "%")}


def test_a_specimen_outside_pancreas_and_liver_falls_back_to_the_text() -> None:
    records = (
        specimen("sp-breast", BREAST_SITE),
        pathology_report("Liver, core biopsy: NET, Ki-67 9%.", specimens=("Specimen/sp-breast",)),
    )
    assert only(records, "ki67").site == LIVER


# --- coded results win -----------------------------------------------------------------------


def test_a_report_whose_result_observation_gives_ki67_is_not_read_for_ki67() -> None:
    coded = ki67(12, rid="ki67-coded")
    report = pathology_report(
        "Neuroendocrine tumor, G2. Ki-67 12%.", results=("Observation/ki67-coded",)
    )
    facts = read(coded, report)
    assert [f.ref for f in facts.all("ki67")] == ["Observation/ki67-coded"]
    assert [f.ref for f in facts.all("who-grade")] == [f"DiagnosticReport/{report['id']}"]


def test_a_coded_result_of_the_same_kind_date_and_site_is_the_same_result() -> None:
    when = days_ago(30)
    coded = ki67(12, "liver", when=when)
    report = pathology_report("Liver, biopsy: NET, Ki-67 12%.", when=when)
    assert [f.ref for f in read(coded, report).all("ki67")] == [coded_ref(coded)]


def test_a_text_result_of_another_date_is_a_separate_result() -> None:
    coded = ki67(4, "liver", when=days_ago(400))
    report = pathology_report("Liver, biopsy: NET, Ki-67 12%.", when=days_ago(30))
    assert len(read(coded, report).all("ki67")) == 2


def test_a_coded_mitotic_count_in_result_suppresses_the_unread_mention() -> None:
    coded = mitoses(3, rid="mit-coded")
    report = pathology_report(
        "Neuroendocrine tumor. Mitoses: see synoptic.", results=("Observation/mit-coded",)
    )
    assert problems(coded, report) == []


def coded_ref(resource: dict[str, Any]) -> str:
    """'Observation/<id>'."""
    return f"{resource['resourceType']}/{resource['id']}"


# --- status ----------------------------------------------------------------------------------


def test_a_preliminary_report_counts_and_is_flagged() -> None:
    fact = only(pathology_report("NET G2, Ki-67 8%.", status="preliminary"), "ki67")
    assert PRELIMINARY in fact.flags and FROM_REPORT_TEXT in fact.flags


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled", "registered"])
def test_a_report_that_does_not_count_gives_nothing(status: str) -> None:
    report = pathology_report("NET G2, Ki-67 8%.", status=status)
    assert not tissue(read(report)) and problems(report) == []


def test_text_facts_carry_the_report_date() -> None:
    fact = only(pathology_report("NET G2, Ki-67 8%.", when=days_ago(12)), "ki67")
    assert fact.when is not None and fact.when.isoformat() == days_ago(12)


def test_a_pdf_only_report_is_one_data_issue_not_two() -> None:
    report = pathology_report(presented=[{"contentType": "application/pdf", "data": "JVBERi0x"}])
    assert problems(report) == ["presentedForm[0].contentType: application/pdf; not read"]


def test_a_report_with_results_the_service_does_not_read_and_no_text_raises_nothing() -> None:
    report = pathology_report(results=("Observation/gross-description",))
    assert problems(report) == []


def test_a_presented_form_by_url_only_is_not_fetched() -> None:
    report = pathology_report(presented=[{"contentType": "text/plain", "url": "Binary/path-1"}])
    assert problems(report) == [
        "pathology report has neither results nor text the service can read"
    ]


def test_another_markers_value_after_a_comma_is_never_read_as_ki67() -> None:
    report = pathology_report("Neuroendocrine tumor. Ki-67 positive, chromogranin A 90%.")
    assert not read(report).all("ki67")
    assert "pathology report mentions Ki-67 but the value could not be read" in problems(report)


def test_a_long_ki67_phrase_is_read() -> None:
    text = "Neuroendocrine tumor. Ki-67 immunostain shows a proliferation index of 12%."
    assert only(pathology_report(text), "ki67").value == Quantity(12, "%")


def test_one_mitosis_per_2_mm2_is_read() -> None:
    text = "Neuroendocrine tumor. Mitotic activity: 1 mitosis per 2 mm2."
    assert only(pathology_report(text), "mitotic-count").value == Quantity(1, "/2 mm²")


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        ("Well-differentiated neuroendocrine tumor, low grade.", 1),
        ("Neuroendocrine tumor. Histologic grade: G2, intermediate grade.", 2),
        ("High-grade neuroendocrine carcinoma, large cell type.", 3),
    ],
)
def test_cap_grade_words_are_who_grades(text: str, grade: int) -> None:
    assert only(pathology_report(text), "who-grade").value == grade


def test_an_unclosed_script_hides_the_rest_of_the_markup() -> None:
    assert html_text("<p>NET G2</p><script>Ki-67 99%").split() == ["NET", "G2"]


def test_a_report_repeating_ki67_past_the_mention_budget_says_so() -> None:
    text = "Neuroendocrine tumor. " + "Ki-67 see comment, " * (MAX_MENTIONS + 5)
    assert problems(pathology_report(presented=[attachment(text)])) == [
        f"pathology report text: more than {MAX_MENTIONS} Ki-67 mentions; the rest not read",
        "pathology report mentions Ki-67 but the value could not be read",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "neuroendocrine " + "<" * 100_000,
        "neuroendocrine " + "<script " * 20_000,
        "neuroendocrine " + "no prior, recommend Ki-67 " * 5_000,
        "neuroendocrine " + "1" * 100_000,
    ],
    ids=["open-brackets", "open-scripts", "cues", "digits"],
)
def test_hostile_attachments_are_read_without_failing(text: str) -> None:
    report = pathology_report(presented=[attachment(text, "text/html")])
    assert not tissue(read(report))
