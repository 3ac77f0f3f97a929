"""Terminology is data: shipped ValueSets, prefix matching, and a site folder that extends them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhir_mappings.terminology import (
    ATC,
    ICD10CM,
    LOINC,
    SNOMED,
    TerminologyError,
    load_terminology,
)
from tests.fhir_builders import cc, facts_for, ki67, terms


def test_every_shipped_valueset_loads_with_codes_or_words() -> None:
    loaded = terms()
    assert len(loaded.concepts) > 100
    for name, codes in loaded.concepts.items():
        assert codes or loaded.words.get(name), name


@pytest.mark.parametrize(
    ("system", "code", "concept"),
    [
        (ICD10CM, "K29.30", "chronic-gastritis"),
        (ICD10CM, "K29.3", "chronic-gastritis"),
        (ATC, "A02BC01", "ppi"),
        (ATC, "H02AB06", "corticosteroid"),
        (ICD10CM, "C78.7", "liver-metastasis"),
    ],
)
def test_icd10_and_atc_codes_match_by_prefix(system: str, code: str, concept: str) -> None:
    assert concept in terms().code_concepts(system, code)


def test_snomed_codes_do_not_match_by_prefix() -> None:
    assert "liver-metastasis" not in terms().code_concepts(SNOMED, "9438100")
    assert "liver-metastasis" not in terms().code_concepts(SNOMED, "943810021")


def test_bone_metastasis_code_is_not_liver() -> None:
    assert "liver-metastasis" not in terms().concepts_of(cc(SNOMED, "94222008"))


def test_site_folder_adds_local_ki67_code_without_code_change(tmp_path: Path) -> None:
    site = {
        "resourceType": "ValueSet",
        "url": "http://pnen-cds.org/fhir/ValueSet/ki67",
        "compose": {"include": [{"system": "urn:local:lab", "concept": [{"code": "KI67X"}]}]},
    }
    (tmp_path / "local-ki67.json").write_text(json.dumps(site))
    extended = load_terminology(tmp_path)
    assert "ki67" in extended.code_concepts("urn:local:lab", "KI67X")
    assert "ki67" in extended.code_concepts(LOINC, "29593-1"), "shipped codes stay"
    assert "ki67" not in terms().code_concepts("urn:local:lab", "KI67X")


def test_broken_site_valueset_fails_at_start_up(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"resourceType": "ValueSet", "compose": {"include": [{}]}}')
    with pytest.raises(TerminologyError, match="bad.json"):
        load_terminology(tmp_path)


def test_missing_site_folder_fails_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(TerminologyError):
        load_terminology(tmp_path / "absent")


def test_local_code_is_unknown_without_the_site_folder() -> None:
    obs = ki67(15)
    obs["code"] = cc("urn:local:lab", "KI67X")
    assert not facts_for([obs]).has("ki67")
