"""Terminology is data: shipped ValueSets, prefix matching, and a site folder that extends them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhir_mappings.terminology import (
    ATC,
    HGNC_SYSTEM,
    ICD10CM,
    ICDO3,
    LOINC,
    SNOMED,
    TerminologyError,
    load_terminology,
    normal_code,
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


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [
        (ICDO3, "82403", "8240/3"),
        (ICDO3, "8240/3", "8240/3"),
        (ICDO3, "C250", "C25.0"),
        (ICD10CM, "C7A1", "C7A.1"),
        (ICD10CM, "c7b02", "C7B.02"),
        (ICD10CM, "C25", "C25"),
        (ICD10CM, "c25.4", "C25.4"),
        (ICD10CM, "c7a.1", "C7A.1"),
        (ICDO3, "c25.0", "C25.0"),
        (HGNC_SYSTEM, "7010", "HGNC:7010"),
        (SNOMED, "82403", "82403"),
    ],
)
def test_codes_sent_in_another_notation_are_normalised(
    system: str, code: str, expected: str
) -> None:
    assert normal_code(system, code) == expected


@pytest.mark.parametrize(
    ("system", "canonical"),
    [
        ("urn:oid:2.16.840.1.113883.6.43.1", ICDO3),
        ("urn:oid:2.16.840.1.113883.6.90", ICD10CM),
        ("urn:oid:2.16.840.1.113883.6.96", SNOMED),
        ("urn:oid:2.16.840.1.113883.6.1", LOINC),
        ("http://www.genenames.org", HGNC_SYSTEM),
    ],
)
def test_shipped_naming_systems_map_other_identifiers_to_the_valueset_uri(
    system: str, canonical: str
) -> None:
    assert terms().canonical(system, "x")[0] == canonical


def test_site_folder_naming_system_adds_a_local_alias(tmp_path: Path) -> None:
    naming = {
        "resourceType": "NamingSystem",
        "uniqueId": [
            {"type": "uri", "value": LOINC, "preferred": True},
            {"type": "uri", "value": "http://hospital.example/loinc"},
        ],
    }
    (tmp_path / "naming-local-loinc.json").write_text(json.dumps(naming))
    extended = load_terminology(tmp_path)
    assert "ki67" in extended.concepts_of(cc("http://hospital.example/loinc", "29593-1"))


def test_naming_system_without_a_preferred_uri_fails_at_start_up(tmp_path: Path) -> None:
    naming = {"resourceType": "NamingSystem", "uniqueId": [{"type": "oid", "value": "1.2.3"}]}
    (tmp_path / "bad.json").write_text(json.dumps(naming))
    with pytest.raises(TerminologyError, match="preferred uri"):
        load_terminology(tmp_path)


def test_site_folder_adds_snomed_and_local_mitotic_count_codes(tmp_path: Path) -> None:
    site = {
        "resourceType": "ValueSet",
        "url": "http://pnen-cds.org/fhir/ValueSet/mitotic-count",
        "compose": {
            "include": [
                {"system": "urn:local:lab", "concept": [{"code": "MITOSES-2MM2"}]},
                {"system": SNOMED, "concept": [{"code": "999000001"}]},
            ]
        },
    }
    (tmp_path / "local-mitoses.json").write_text(json.dumps(site))
    extended = load_terminology(tmp_path)
    assert "mitotic-count" in extended.code_concepts("urn:local:lab", "MITOSES-2MM2")
    assert "mitotic-count" in extended.code_concepts(SNOMED, "999000001")


def test_valueset_displays_are_kept_for_value_tables() -> None:
    assert terms().display(SNOMED, "1229904003") == (
        "American Joint Committee on Cancer cM1a (qualifier value)"
    )
