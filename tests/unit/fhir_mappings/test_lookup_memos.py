"""Memoised look-ups answer as the uncached ones do, per terminology (a site's folder differs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fhir_mappings.narrative import is_pathology_report
from fhir_mappings.terminology import ICD10CM, LOINC, load_terminology
from tests.fhir_builders import cc, terms

# A site's own report code for pathology (no text that names pathology).
SITE_REPORT = ("urn:local:reports", "HISTO-1")


def _site_terms(tmp_path: Path) -> Any:
    """The shipped terminology plus a site ValueSet naming a local pathology report code."""
    site = {
        "resourceType": "ValueSet",
        "url": "http://pnen-cds.org/fhir/ValueSet/pathology-report",
        "compose": {"include": [{"system": SITE_REPORT[0], "concept": [{"code": SITE_REPORT[1]}]}]},
    }
    (tmp_path / "local-pathology-report.json").write_text(json.dumps(site))
    return load_terminology(tmp_path)


def _report(code: dict[str, Any], categories: Any = None) -> dict[str, Any]:
    report: dict[str, Any] = {"resourceType": "DiagnosticReport", "id": "r1", "code": code}
    if categories is not None:
        report["category"] = categories
    return report


def test_a_site_pathology_report_code_is_pathology_only_with_that_sites_terminology(
    tmp_path: Path,
) -> None:
    report = _report(cc(*SITE_REPORT))
    assert not is_pathology_report(report, terms())
    assert is_pathology_report(report, _site_terms(tmp_path))
    assert not is_pathology_report(report, terms()), "the shipped answer is kept apart"


def test_repeated_report_kinds_answer_as_the_first_time() -> None:
    pathology = _report(cc(LOINC, "60568-3", "Pathology Synoptic report"))
    imaging = _report(cc(LOINC, "79103-8", "CT Abdomen W contrast IV"), [cc("urn:x", "RAD")])
    by_name = _report({"text": "Surgical pathology report"})
    for _ in range(3):
        assert is_pathology_report(pathology, terms())
        assert not is_pathology_report(imaging, terms())
        assert is_pathology_report(by_name, terms())


def test_a_report_differing_only_by_its_category_is_judged_on_its_category() -> None:
    code = cc("urn:x", "REPORT-1", "Study report")
    plain = _report(code, [cc("urn:x", "RAD")])
    pathology = _report(code, [{"text": "Pathology"}])
    assert not is_pathology_report(plain, terms())
    assert is_pathology_report(pathology, terms())
    assert not is_pathology_report(plain, terms())


def test_prefix_matched_codes_answer_the_same_when_asked_again() -> None:
    loaded = terms()
    first = loaded.code_concepts(ICD10CM, "C78.7")
    assert "liver-metastasis" in first
    assert loaded.code_concepts(ICD10CM, "C78.7") == first
    assert loaded.concepts_of(cc(ICD10CM, "C787")) == first, "the undotted notation too"
    assert loaded.code_concepts(ICD10CM, "C79.51") != first
