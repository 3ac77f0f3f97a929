"""Interop corpus: imaging report and order titles of the real-world probe (2026-11-27).

Every record here is synthetic, shaped like the output of a Chinese hospital RIS/PACS (study
titles in Chinese, no LOINC code) as the probe found it (probe 2026-11-27,
/work/helpers/probe/probe-records, img-00, img-04, img-05). Cases assert the imaging facts; the
end-to-end case asserts the cards over HTTP.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from fhir_mappings.facts import BY_TEXT
from fhir_mappings.orders import map_drafts
from tests.fhir_builders import (
    PATIENT_ID,
    PATIENT_REF,
    base_pnen_lm,
    days_ago,
    differentiation,
    facts_for,
    ki67,
    report,
    terms,
)
from tests.support.cds_requests import answered, hook_request, prefetch_for


def _titled(title: str, conclusion: str | None = None) -> dict[str, Any]:
    """A radiology report with a title only (code.text), as the probe's RIS-shaped records."""
    return report({"text": title}, conclusion=conclusion, when=days_ago(30))


def _imaging(resources: list[dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    mapped = facts_for(resources)
    return {
        k.removeprefix("imaging:"): v[0].flags
        for k, v in mapped.by_kind.items()
        if k.startswith("imaging:")
    }


@pytest.mark.parametrize(
    ("title", "conclusion", "kinds"),
    [
        # probe img-00: upper-abdomen contrast CT, three phases
        (
            "上腹部增强CT（三期）",
            "胰尾占位，肝内多发转移。",
            {"ct-abdomen-multiphase", "abdominal-imaging"},
        ),
        ("胸腹部CT增强", None, {"ct-chest", "ct-abdomen-multiphase", "abdominal-imaging"}),
        ("胸部CT平扫", None, {"ct-chest"}),
        ("上腹部CT平扫", None, {"abdominal-imaging"}),
        ("腹部电子计算机断层扫描（增强）", None, {"ct-abdomen-multiphase", "abdominal-imaging"}),
        # probe img-04: 68Ga-DOTATATE with the Chinese name of PET/CT
        (
            "68Ga-DOTATATE 正电子发射计算机断层显像",
            "肝内多发病灶生长抑素受体高表达。",
            {"pet-ssa", "abdominal-imaging"},
        ),
        # probe img-05: somatostatin-receptor imaging by PET/CT
        ("生长抑素受体显像 PET/CT", "肝转移灶摄取增高。", {"pet-ssa", "abdominal-imaging"}),
        ("18F-氟代脱氧葡萄糖正电子发射计算机断层显像", None, {"pet-fdg", "abdominal-imaging"}),
        (
            "肝脏MRI增强（普美显）",
            None,
            {"mri-liver", "mri-liver-hepatobiliary", "abdominal-imaging"},
        ),
    ],
)
def test_chinese_study_titles_give_the_imaging_kind_by_text(
    title: str, conclusion: str | None, kinds: set[str]
) -> None:
    found = _imaging([*base_pnen_lm(), _titled(title, conclusion)])
    assert set(found) == kinds
    assert all(BY_TEXT in flags for flags in found.values())


@pytest.mark.parametrize(
    ("title", "kinds"),
    [
        # Octreoscan-type SSTR scintigraphy stays scintigraphy: no PET in the title.
        ("生长抑素受体显像（SPECT/CT）", {"sstr-scintigraphy"}),
        # The CT of a PET/CT title is not a diagnostic CT of the abdomen.
        ("正电子发射计算机断层显像 增强", set()),
    ],
)
def test_chinese_titles_that_are_not_the_study_asked_for(title: str, kinds: set[str]) -> None:
    assert set(_imaging([*base_pnen_lm(), _titled(title)])) == kinds


def test_chest_word_in_a_chinese_conclusion_does_not_make_a_chest_ct() -> None:
    found = _imaging([*base_pnen_lm(), _titled("上腹部增强CT", "少量胸腔积液。")])
    assert "ct-chest" not in found


def test_advice_for_an_sstr_pet_in_a_ct_conclusion_is_no_pet() -> None:
    found = _imaging([*base_pnen_lm(), _titled("上腹部增强CT", "建议行生长抑素受体PET/CT检查。")])
    assert "pet-ssa" not in found


def test_epic_abbreviated_abd_mri_title_is_abdominal_imaging() -> None:
    # Synthetic, an Epic-style title (probe 2026-11-27, img-09).
    found = _imaging([*base_pnen_lm(), _titled("MRI ABD W/WO CONTRAST (EOVIST)")])
    assert "abdominal-imaging" in found


def test_chinese_titled_draft_order_is_classified() -> None:
    draft = {
        "resourceType": "ServiceRequest",
        "id": "d1",
        "status": "draft",
        "intent": "order",
        "code": {"text": "68Ga-DOTATATE 正电子发射计算机断层显像"},
        "subject": {"reference": PATIENT_REF},
    }
    drafts, issues = map_drafts([draft], terms())
    assert not issues and drafts[0].order is not None
    assert "pet-ssa" in drafts[0].order.kinds


def test_e2e_chinese_titled_sstr_pet_and_staging_ct_satisfy_the_cards(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    # Synthetic, Chinese RIS titles (probe 2026-11-27, img-00, img-05).
    record = [*base_pnen_lm(), differentiation("well"), ki67(5, "primary")]

    def cards(resources: list[dict[str, Any]]) -> set[str]:
        prefetch = prefetch_for(resources, prefetch_keys)
        request = hook_request("patient-view", PATIENT_ID, prefetch=prefetch)
        body = answered(client, "pnen-patient-view", request)
        return {card["source"]["topic"]["code"] for card in body["cards"]}

    before = cards(record)
    assert "pet-ssa" in before
    studies = [
        _titled("生长抑素受体显像 PET/CT", "肝转移灶摄取增高。"),
        _titled("胸腹部增强CT（三期）"),
    ]
    after = cards([*record, *studies])
    assert "pet-ssa" not in after
    assert "staging-imaging" not in after
