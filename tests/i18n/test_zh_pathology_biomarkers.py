"""zh-CN cards of the pathology (C 2–C 5) and serum-biomarker rules: Chinese, exact thresholds."""

from __future__ import annotations

from typing import Any

from cards import CardOptions, build_card
from consensus import Recommendation
from fhir_mappings.terminology import LOINC, PNEN, RXNORM
from pnen_i18n import use_locale
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    PATIENT_REF,
    base_pnen_lm,
    condition,
    days_ago,
    disease_status,
    ki67,
    medication,
    observation,
    pnen_obs,
    procedure,
    run,
)

WORSENED = "271299001"
OMEPRAZOLE = (RXNORM, "7646")
GASTRIN = (LOINC, "2333-3")


def zh(resources: list[dict[str, Any]]) -> dict[str, Recommendation]:
    """The recommendations fired for the record, worded in zh-CN."""
    with use_locale("zh-CN"):
        return run(resources)


def zh_card(rec: Recommendation) -> dict[str, Any]:
    """The zh-CN card, valid against the CDS Hooks schema, its summary under 140 characters."""
    with use_locale("zh-CN"):
        card = build_card(rec, PATIENT_REF, CardOptions())
    assert_valid_response({"cards": [card]})
    assert len(card["summary"]) < 140, card["summary"]
    return card


def gastrin_on_ppi() -> list[dict[str, Any]]:
    """A gastrin of 500 pg/mL (upper limit 100) 30 days ago, on omeprazole for 200 days."""
    result = observation(
        GASTRIN,
        when=days_ago(30),
        valueQuantity={"value": 500, "unit": "pg/mL"},
        referenceRange=[{"high": {"value": 100, "unit": "pg/mL"}}],
    )
    return [*base_pnen_lm(), result, medication(OMEPRAZOLE, start=days_ago(200))]


def test_zh_grade_discordance_names_both_grades_and_follows_the_higher_grade() -> None:
    record = [*base_pnen_lm(), ki67(2, "primary"), ki67(35, "liver")]
    rec = zh(record)["grade-discordant"]
    assert rec.summary == "分级不一致：原发灶 G1，肝转移灶 G3；按较高分级（G3）治疗"
    assert "临床治疗应以较高分级为依据：G3，由肝转移灶决定（共识问题 2）" in rec.advice
    card = zh_card(rec)
    assert card["source"]["topic"]["display"] == "原发灶与肝转移灶分级不一致"


def test_zh_biopsy_of_both_sites_names_the_site_lacking_a_grade() -> None:
    rec = zh([*base_pnen_lm(), ki67(8, "liver")])["biopsy-both-sites"]
    assert rec.summary == "建议对原发灶和肝转移灶均行活检：病历中无原发灶的 Ki-67 指数或分级"
    assert "（共识问题 5.2）" in rec.advice and "（共识问题 5.4）" in rec.advice
    assert [c.name for c in rec.criteria][-2:] == [
        "病历中有原发灶的 Ki-67 指数或分级",
        "病历中有肝转移灶的 Ki-67 指数或分级",
    ]
    card = zh_card(rec)
    assert (
        card["suggestions"][0]["label"] == "开具超声内镜引导下原发灶及肝转移灶细针活检（EUS-FNB）"
    )


def test_zh_rebiopsy_on_progression_without_fdg_pet_cites_question_2() -> None:
    record = [
        *base_pnen_lm(),
        ki67(8, "liver", when=days_ago(300)),
        procedure("eus-fnb", when=days_ago(300)),
        disease_status(WORSENED, when=days_ago(30)),
    ]
    rec = zh(record)["rebiopsy-progression"]
    assert rec.summary.startswith("最近一次活检后疾病进展：对原发灶和转移灶再次活检；")
    assert "病历中无 FDG PET" in rec.advice
    assert [c.name for c in rec.criteria] == [
        "最近一次疾病状态为疾病进展",
        "进展晚于最近一次组织学结果",
        "进展晚于最近一次活检",
    ]
    zh_card(rec)


def test_zh_g3_with_differentiation_unknown_lists_the_missing_data_in_chinese() -> None:
    rec = zh([*base_pnen_lm(), ki67(35, "liver")])["g3-net-vs-nec"]
    assert rec.summary.startswith("G3，分化程度未知：")
    assert "- 支持 G3 神经内分泌瘤：病历中无" in rec.advice
    assert rec.missing == (
        "形态学（高分化或低分化）",
        "SSTR2 表达（SSTR2 免疫组化或 68Ga-SSA PET）",
        "DAXX/ATRX/MEN1 及 TP53/RB1 状态",
        "CgA 免疫组化染色强度（G3 神经内分泌瘤中更强）",
    )
    zh_card(rec)


def test_zh_gastrin_on_a_ppi_keeps_every_threshold_of_the_review() -> None:
    rec = zh(gastrin_on_ppi())["gastrin-on-ppi"]
    assert rec.summary == (
        f"{days_ago(30)} 的胃泌素在使用 PPI 期间测得：停用 PPI ≥ 7 天（以 H2 受体拮抗剂过渡）后复查"
    )
    for exact in ("至少 7 天", "> 10 倍", "> 1000 pg/mL", "100 pg/mL", "≥ 120 pg/mL", "2 U/kg"):
        assert exact in rec.advice, exact
    assert "该结果为正常值上限的 5 倍" in rec.advice
    zh_card(rec)


def test_zh_gastrin_in_a_known_gastrinoma_keeps_the_ppi() -> None:
    gastrinoma = condition(PNEN, "gastrinoma", rid="gastrinoma")
    rec = zh([*gastrin_on_ppi(), gastrinoma])["gastrin-on-ppi"]
    assert "继续使用 PPI" in rec.summary and "停用 PPI ≥" not in rec.summary
    assert "此处不建议停药" in rec.advice
    zh_card(rec)


def test_zh_cga_on_a_ppi_names_the_confounder_and_the_review_section() -> None:
    cga = observation(
        (LOINC, "9811-1"), when=days_ago(30), valueQuantity={"value": 120, "unit": "ng/mL"}
    )
    record = [*base_pnen_lm(), cga, medication(OMEPRAZOLE, start=days_ago(200))]
    rec = zh(record)["cga-confounded"]
    assert rec.summary == f"{days_ago(30)} 的 CgA 结果不可靠，干扰因素：质子泵抑制剂（PPI）"
    assert "（综述：嗜铬粒蛋白 A）" in rec.advice
    assert rec.criteria[1].name == f"{days_ago(30)} 在用质子泵抑制剂（PPI）"
    zh_card(rec)


def test_zh_pp_rise_keeps_the_above_50_percent_threshold() -> None:
    record = [
        *base_pnen_lm(),
        pnen_obs(
            "pancreatic-polypeptide",
            when=days_ago(120),
            valueQuantity={"value": 100, "unit": "pg/mL"},
        ),
        pnen_obs(
            "pancreatic-polypeptide",
            when=days_ago(10),
            valueQuantity={"value": 180, "unit": "pg/mL"},
        ),
    ]
    rec = zh(record)["pp-rise"]
    assert rec.summary.startswith(f"胰多肽较 {days_ago(120)} 升高 80 %")
    assert "PP 升高 > 50 %" in rec.advice and "按相同单位比较" in rec.advice
    assert rec.criteria[0].name == "胰多肽（PP）升高 > 50 %（按相同单位）"
    card = zh_card(rec)
    assert [s["label"] for s in card["suggestions"]] == ["开具腹部/盆腔多期增强 CT"]
