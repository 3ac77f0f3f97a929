"""CR-8: the summary shows extrahepatic disease (M1a liver only, M1b extrahepatic, M1c both)."""

from __future__ import annotations

from typing import Any

from consensus import Recommendation
from fhir_mappings.terminology import ICD10CM, LOINC, SNOMED
from tests.fhir_builders import condition, ki67, liver_mets, observation, patient, pnen, run


def lung_met() -> dict[str, Any]:
    """A lung metastasis Condition coded ICD-10-CM C78.0 without a display."""
    return condition(ICD10CM, "C78.0", rid="lung-1", onset="2025-10-23")


def bone_met() -> dict[str, Any]:
    """A bone metastasis Condition coded SNOMED 94222008 without a display."""
    return condition(SNOMED, "94222008", rid="bone-1", onset="2025-11-02")


def summary_of(*resources: dict[str, Any]) -> Recommendation:
    """The summary recommendation for a G2 pNEN with the given extra resources."""
    return run([patient(), pnen(), ki67(8.0, "liver"), *resources])["summary"]


def line(rec: Recommendation, head: str) -> str:
    """The detail line starting with `head`."""
    return next(x for x in rec.advice.splitlines() if x.startswith(head))


def test_cr8_liver_and_lung_metastases_are_stage_iv_m1c_in_the_headline() -> None:
    rec = summary_of(liver_mets(), lung_met())
    assert "stage IV (M1c: liver + lung)" in rec.summary
    assert len(rec.summary) < 140
    assert line(rec, "- Stage:").startswith("- Stage: AJCC 8th stage IV (M1c: liver + lung)")


def test_cr8_extrahepatic_sites_are_listed_with_their_dates() -> None:
    rec = summary_of(liver_mets(), lung_met(), bone_met())
    assert line(rec, "- Extrahepatic metastases:") == (
        "- Extrahepatic metastases: lung (2025-10-23); bone (2025-11-02)"
    )
    assert "M1c: liver + lung + bone" in line(rec, "- Stage:")
    assert any(f.ref == "Condition/lung-1" for f in rec.evidence)


def test_cr8_liver_only_is_m1a_and_keeps_the_plain_stage_headline() -> None:
    rec = summary_of(liver_mets())
    assert "M1a: liver" in line(rec, "- Stage:")
    assert line(rec, "- Extrahepatic metastases:") == "- Extrahepatic metastases: none recorded"
    assert "stage IV," in rec.summary or rec.summary.endswith("stage IV")


def test_cr8_extrahepatic_only_is_m1b() -> None:
    rec = summary_of(lung_met())
    assert "stage IV (M1b: lung)" in rec.summary


def test_cr8_a_recorded_m1b_without_a_site_says_the_site_is_not_recorded() -> None:
    m1b = observation((LOINC, "21907-1"), valueString="M1b")
    rec = summary_of(liver_mets(), m1b)
    assert "M1c: liver + extrahepatic site not recorded" in line(rec, "- Stage:")


def test_cr8_a_metastasis_without_a_site_leaves_extrahepatic_disease_unknown() -> None:
    unsited = condition(ICD10CM, "C79.9", rid="unsited-1")
    rec = summary_of(liver_mets(), unsited)
    assert line(rec, "- Extrahepatic metastases:") == (
        "- Extrahepatic metastases: unknown (a metastasis is recorded without its site)"
    )
    assert "M1a: liver" in line(rec, "- Stage:")
