"""Systemic-therapy (F) and molecular (D) cards in Simplified Chinese: complete, valid, exact.

The English cards are covered by test_systemic.py, test_molecular.py and
test_platinum_for_net.py; these check that under zh-CN the text these rules write is Chinese,
keeps its thresholds and operators, and still makes schema-valid cards under 140 characters.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from cards import CardOptions, build_card
from consensus import Recommendation
from consensus.recommendation import SIGN
from fhir_mappings.terminology import PNEN
from pnen_i18n import use_locale
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import PATIENT_REF, condition, run, variant
from tests.unit.consensus.test_systemic import (
    CISPLATIN,
    ETOPOSIDE,
    PV_RULES,
    TMZ,
    draft,
    mgmt,
    net_lm,
    pv_records,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


def zh_card(rec: Recommendation) -> dict[str, Any]:
    """The zh-CN card, checked against the schema; its summary under 140 characters."""
    with use_locale("zh-CN"):
        card = build_card(rec, PATIENT_REF, CardOptions())
    assert_valid_response({"cards": [card]})
    assert len(card["summary"]) < 140
    return card


def in_both(
    records: list[dict[str, Any]], rule_id: str, **kw: Any
) -> tuple[Recommendation, Recommendation]:
    """The rule's recommendation in English and in zh-CN for the same record."""
    english = run(records, **kw)[rule_id]
    with use_locale("zh-CN"):
        chinese = run(records, **kw)[rule_id]
    return english, chinese


@pytest.mark.parametrize("rule_id", PV_RULES)
def test_systemic_patient_view_card_summary_and_advice_are_chinese(rule_id: str) -> None:
    english, chinese = in_both(pv_records()[rule_id], rule_id)
    assert chinese.summary != english.summary and CJK.search(chinese.summary)
    assert chinese.advice != english.advice and CJK.search(chinese.advice)
    assert [s.label for s in chinese.suggestions] != [s.label for s in english.suggestions] or (
        not english.suggestions
    )
    zh_card(chinese)


def test_ssa_first_line_in_chinese_keeps_ki67_below_10_percent_strictly() -> None:
    _english, chinese = in_both(pv_records()["ssa-first-line"], "ssa-first-line")
    assert "Ki-67 指数 < 10 %" in chinese.advice
    assert "兰瑞肽" in chinese.summary and "奥曲肽 LAR" in chinese.summary
    assert "最高 Ki-67 指数 < 10 %" in [c.name for c in chinese.criteria]


def test_adjuvant_ssa_in_chinese_keeps_ki67_at_most_10_percent_and_the_window() -> None:
    _english, chinese = in_both(pv_records()["adjuvant-ssa"], "adjuvant-ssa")
    names = [c.name for c in chinese.criteria]
    assert "最高 Ki-67 指数 ≤ 10 %" in names and "近 6 个月内行肝切除" in names
    assert "（共识问题 14（1））" in chinese.advice


def test_preop_conversion_in_chinese_keeps_the_90_percent_and_30_percent_thresholds() -> None:
    _english, chinese = in_both(net_lm(*pv_records()["preop-systemic-mgmt"]), "preop-systemic-mgmt")
    assert "> 90 %" in chinese.advice and "≥ 30 %" in chinese.advice
    assert "MGMT 1+" in chinese.summary and "STEM 或 CAPTEM" in chinese.summary


def test_functional_pnet_with_five_syndromes_names_them_in_chinese_under_140_characters() -> None:
    syndromes = ["gastrinoma", "vipoma", "glucagonoma", "acthoma", "somatostatinoma"]
    records = net_lm(*(condition(PNEN, s) for s in syndromes))
    english, chinese = in_both(records, "ssa-hormone-control")
    assert english.summary.startswith("Functional pNET (5 syndromes)")
    assert chinese.summary.startswith("功能性 pNET（ACTH 瘤, 胃泌素瘤, 胰高血糖素瘤, 生长抑素瘤")
    assert "血管活性肠肽瘤" in chinese.summary and "以 PPI 控制胃酸" in chinese.summary
    zh_card(chinese)


@pytest.mark.parametrize(
    ("score", "choice", "labels"),
    [
        ("1+", "考虑 CAPTEM", ["改为 CAPTEM（卡培他滨 + 替莫唑胺）"]),
        ("3+", "考虑索凡替尼或奥沙利铂", ["改为索凡替尼", "改为奥沙利铂 + 氟尿嘧啶"]),
        (None, "检测 MGMT 后再选择方案", ["开具 MGMT 免疫组化检测医嘱"]),
    ],
)
def test_platinum_for_net_in_chinese_offers_the_regimen_mgmt_points_to(
    score: str | None, choice: str, labels: list[str]
) -> None:
    records = net_lm(*([mgmt(score)] if score else []))
    drafts = [draft(CISPLATIN, "cis"), draft(ETOPOSIDE, "etop")]
    _english, chinese = in_both(records, "platinum-for-net", hook=SIGN, drafts=drafts)
    assert "草拟了" in chinese.summary and choice in chinese.summary
    assert [s.label for s in chinese.suggestions] == labels
    zh_card(chinese)


def test_temozolomide_with_mgmt_high_in_chinese_keeps_the_response_rates() -> None:
    drafts = [draft(TMZ, "tmz")]
    _english, chinese = in_both(net_lm(mgmt("2+")), "mgmt-tmz-mismatch", hook=SIGN, drafts=drafts)
    assert chinese.summary.startswith("MGMT 2+：") and "8–19 %" in chinese.summary
    assert "36–57 %" in chinese.advice and "30–53 %" in chinese.advice
    zh_card(chinese)


def test_rb1_alteration_in_chinese_points_to_platinum_and_to_reviewing_differentiation() -> None:
    _english, chinese = in_both(net_lm(variant("RB1")), "molecular-actionable")
    assert chinese.summary.startswith("可指导治疗的分子检测结果：RB1")
    assert "含铂化疗" in chinese.advice and "请复核分化程度（共识问题 4）" in chinese.advice
    zh_card(chinese)
