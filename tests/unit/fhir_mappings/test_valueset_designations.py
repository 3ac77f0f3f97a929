"""Shipped ValueSet displays in Simplified Chinese: every display has a zh-CN designation."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from fhir_mappings.terminology import ICD10CM, ICDO3, LOINC, RXNORM, SNOMED, load_terminology
from pnen_i18n import use_locale
from tests.fhir_builders import cc, condition, facts_for, observation

LOCAL = "http://hospital.example/fhir/CodeSystem/lab"


def _shipped_concepts() -> list[tuple[str, str, dict[str, Any]]]:
    """(file, system, concept) for every concept of every shipped ValueSet."""
    folder = resources.files("fhir_mappings") / "valuesets"
    found = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        data = json.loads(entry.read_text(encoding="utf-8"))
        if data.get("resourceType") != "ValueSet":
            continue
        for include in data["compose"]["include"]:
            for concept in include.get("concept", []):
                found.append((entry.name, include["system"], concept))
    return found


def test_every_shipped_display_has_exactly_one_zh_cn_designation() -> None:
    displayed = [(f, s, c) for f, s, c in _shipped_concepts() if "display" in c]
    assert len(displayed) >= 360
    for name, system, concept in displayed:
        chinese = [d for d in concept.get("designation", []) if d.get("language") == "zh-CN"]
        assert len(chinese) == 1, (name, system, concept["code"])
        value = chinese[0].get("value")
        assert isinstance(value, str) and value.strip(), (name, system, concept["code"])


@pytest.mark.parametrize(
    ("system", "code", "english", "chinese"),
    [
        (SNOMED, "1290080008", "Neuroendocrine neoplasm of pancreas", "胰腺神经内分泌肿瘤"),
        (SNOMED, "94381002", "Metastatic malignant neoplasm to liver", "肝继发恶性肿瘤"),
        (ICDO3, "8246/3", "Neuroendocrine carcinoma", "神经内分泌癌"),
        (LOINC, "9811-1", "Chromogranin A [Mass/volume]", "嗜铬粒蛋白 A [质量/体积]"),
        (RXNORM, "68092", "lanreotide", "兰瑞肽"),
        (ICD10CM, "C7B.02", "Secondary carcinoid tumors of liver", "肝继发性类癌"),
    ],
)
def test_code_without_display_reads_in_chinese_only_in_a_chinese_request(
    system: str, code: str, english: str, chinese: str
) -> None:
    terms = load_terminology()
    assert terms.display(system, code) == english
    assert terms.readable(cc(system, code)) == english
    with use_locale("zh-CN"):
        assert terms.display(system, code) == chinese
        assert terms.readable(cc(system, code)) == chinese
    assert terms.readable(cc(system, code)) == english


def test_display_sent_in_the_record_wins_over_the_chinese_designation() -> None:
    terms = load_terminology()
    with use_locale("zh-CN"):
        assert terms.readable(cc(RXNORM, "68092", "Somatuline Autogel")) == "Somatuline Autogel"


@pytest.mark.parametrize(
    ("code", "value", "kind", "expected"),
    [
        ("371497001", "1229904003", "tnm-m", "M1a"),
        ("399387003", "1229907005", "tnm-m", "M1b"),
        ("399504009", "1228938002", "tnm-t", "T3"),
        ("399534004", "1229967007", "tnm-n", "N0"),
        ("399537006", "1222769001", "tnm-stage", "IIB"),
        ("399588009", "1222806003", "tnm-stage", "IIIC"),
    ],
)
def test_coded_tnm_value_reads_the_same_category_in_a_chinese_request(
    code: str, value: str, kind: str, expected: str
) -> None:
    # A coded-only TNM value is read from the ValueSet display, which has a Chinese designation.
    res = observation((SNOMED, code), valueCodeableConcept=cc(SNOMED, value))
    with use_locale("zh-CN"):
        fact = facts_for([res]).latest(kind)
    assert fact is not None and fact.value == expected


def test_condition_value_stays_untranslated_while_its_evidence_text_is_chinese() -> None:
    res = condition(SNOMED, "94381002")
    english = facts_for([res]).all("liver-metastasis")
    with use_locale("zh-CN"):
        chinese = facts_for([res]).all("liver-metastasis")
    assert [f.value for f in chinese] == [f.value for f in english]
    assert [f.value for f in english] == ["Metastatic malignant neoplasm to liver"]
    assert [f.text for f in chinese] == ["肝继发恶性肿瘤"]


def test_site_folder_adds_a_chinese_designation_for_a_local_code(tmp_path: Path) -> None:
    site = {
        "resourceType": "ValueSet",
        "id": "local-cga",
        "compose": {
            "include": [
                {
                    "system": LOCAL,
                    "concept": [
                        {
                            "code": "CGA-S",
                            "display": "Serum chromogranin A",
                            "designation": [{"language": "zh-CN", "value": "血清嗜铬粒蛋白 A"}],
                        }
                    ],
                }
            ]
        },
    }
    (tmp_path / "local-cga.json").write_text(json.dumps(site), encoding="utf-8")
    assert load_terminology().display(LOCAL, "CGA-S") is None
    extended = load_terminology(tmp_path)
    assert extended.readable(cc(LOCAL, "CGA-S")) == "Serum chromogranin A"
    with use_locale("zh-CN"):
        assert extended.display(LOCAL, "CGA-S") == "血清嗜铬粒蛋白 A"
        assert extended.readable(cc(LOCAL, "CGA-S")) == "血清嗜铬粒蛋白 A"
        assert extended.display(SNOMED, "1290080008") == "胰腺神经内分泌肿瘤"
