"""zh-CN wording of the summary, imaging and follow-up rules: Chinese frames, same facts."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from cds_service.cli import evaluate_file
from cds_service.config import load_config
from consensus import Recommendation
from consensus.prose import percent, then
from pnen_i18n import use_locale
from tests.fhir_builders import base_pnen_lm, differentiation, ki67, run

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "pnen_demo" / "patients" / "bench-pnen.json"
AS_OF = date(2026, 11, 27)
# Words that stay as written in Chinese text: record content (the drug on record), tracer, assay and
# staging names, and abbreviations the consensus' Chinese text uses as they are.
KEPT = {"pNEN", "lanreotide", "NET", "ENETS", "SSTR", "MGMT", "AJCC"}


def _bench_summary(locale: str) -> Recommendation:
    with use_locale(locale):
        _ref, result, _ignored = evaluate_file(
            BENCH, "patient-view", (), load_config(environ={}), AS_OF, as_of=True
        )
    return next(r for r in result.recommendations if r.rule.id == "summary")


def _english_words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z][A-Za-z-]{2,}", text)) - KEPT


def test_benchmark_summary_card_reads_chinese_under_140_characters() -> None:
    rec = _bench_summary("zh-CN")
    assert len(rec.summary) < 140  # characters, not bytes
    assert rec.summary.startswith("pNEN（活动性）伴肝转移：NET G2，IV 期")
    assert _english_words(rec.summary) == set()


def test_benchmark_summary_lines_keep_the_facts_in_chinese_frames() -> None:
    advice = _bench_summary("zh-CN").advice
    assert "（共识问题 2）" in advice
    assert "- 分期：AJCC 第 8 版 IV 期（M1a：肝）" in advice
    assert "- 各部位 Ki-67 指数：肝转移灶 18 %（2025-10-18）; 原发灶 4 %（2021-09-29）" in advice
    assert "- 当前系统治疗：lanreotide，自 2021-12-18 起，治疗线数 2" in advice


def test_benchmark_summary_is_unchanged_in_english() -> None:
    rec = _bench_summary("en")
    assert rec.summary.startswith("pNEN active with liver metastases: NET G2, stage IV, ")
    assert "- Stage: AJCC 8th stage IV (M1a: liver)" in rec.advice


def test_fdg_pet_card_keeps_the_ki67_threshold_in_chinese() -> None:
    resources = [*base_pnen_lm(), ki67(15, site="liver"), differentiation("well")]
    with use_locale("zh-CN"):
        rec = run(resources)["pet-fdg"]
    assert rec.summary == "开具 18F-FDG PET/CT：Ki-67 指数 > 10 %；病历中无 FDG PET"
    assert "Ki-67 指数 > 10 %：部分 G2 及全部 G3" in rec.advice
    assert [s.label for s in rec.suggestions] == ["开具 18F-FDG PET/CT"]


@pytest.mark.parametrize(
    ("locale", "sentences", "expected"),
    [
        ("en", ("First.", "Second."), "First. Second."),
        ("zh-CN", ("第一。", "第二。"), "第一。第二。"),
    ],
)
def test_sentences_are_joined_as_the_locale_spaces_them(
    locale: str, sentences: tuple[str, str], expected: str
) -> None:
    with use_locale(locale):
        assert then("", *sentences) == expected
        assert percent(5) == "5 %"
