"""A. Summary: the one-line picture and AJCC staging (consensus-rules.md A; R Staging)."""

from __future__ import annotations

from typing import Any

import pytest

from cards import CardOptions, build_card
from consensus import Recommendation
from consensus.rules.summary import ajcc_stage
from fhir_mappings.terminology import ICDO3, LOINC
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    PATIENT_REF,
    condition,
    differentiation,
    ki67,
    liver_mets,
    mitoses,
    observation,
    patient,
    pnen,
    run,
)


def card_of(rec: Recommendation) -> dict[str, Any]:
    """The CDS Hooks card of a recommendation, checked against the schema and FHIR R4B."""
    card = build_card(rec, PATIENT_REF, CardOptions())
    assert_valid_response({"cards": [card]})
    return card


def tnm(t: str | None = None, n: str | None = None, m: str | None = None) -> list[dict[str, Any]]:
    """Clinical T, N and M categories (those given)."""
    codes = (("21905-5", t), ("21906-3", n), ("21907-1", m))
    return [observation((LOINC, code), valueString=value) for code, value in codes if value]


def stage_line(rec: Recommendation) -> str:
    """The '- Stage: …' line of the summary card."""
    return next(line for line in rec.advice.splitlines() if line.startswith("- Stage:"))


@pytest.mark.parametrize(
    ("t", "n", "m", "stage"),
    [
        ("T1", "N0", "M0", "I"),
        ("T1c", "N0", "M0", "I"),
        ("T2", "N0", "M0", "II"),
        ("T3", "N0", "M0", "II"),
        ("T4", "N0", "M0", "III"),
        ("T1", "N1", "M0", "III"),
        ("T3", "N1", "M0", "III"),
        ("TX", "N1", "M0", "III"),
        (None, "N1", "M0", "III"),
        (None, "N1a", "M0", "III"),
        ("T2", "N1", "M1a", "IV"),
        (None, None, "M1b", "IV"),
        ("T1", "N0", "M1c", "IV"),
        (None, "N0", "M0", None),
        ("TX", "N0", "M0", None),
        ("T2", "NX", "M0", None),
        ("T2", None, "M0", None),
        ("T2", "N1", None, None),
        ("T2", "N0", "MX", None),
        (None, None, None, None),
    ],
)
def test_ajcc_8th_edition_stage_group(
    t: str | None, n: str | None, m: str | None, stage: str | None
) -> None:
    assert ajcc_stage(t, n, m) == stage


def test_summary_stages_any_t_n1_m0_as_iii_without_a_t_category() -> None:
    record = [patient(), pnen(), differentiation("well"), ki67(5), *tnm(n="N1", m="M0")]
    rec = run(record)["summary"]
    assert "stage III" in rec.summary
    assert stage_line(rec) == "- Stage: AJCC 8th stage III (N1 M0)"
    card_of(rec)


def test_summary_stages_a_net_from_t_n_m() -> None:
    record = [patient(), pnen(), differentiation("well"), ki67(5), *tnm("T2", "N0", "M0")]
    rec = run(record)["summary"]
    assert "stage II" in rec.summary
    assert stage_line(rec) == "- Stage: AJCC 8th stage II (T2 N0 M0)"


def test_summary_stages_a_net_with_liver_metastases_iv() -> None:
    record = [patient(), pnen(), liver_mets(), differentiation("well"), ki67(5)]
    assert "stage IV" in run(record)["summary"].summary


@pytest.mark.parametrize(
    "grading",
    [
        pytest.param([ki67(40)], id="ki67-above-20"),
        pytest.param([ki67(8), mitoses(25)], id="mitoses-above-20"),
    ],
)
def test_summary_gives_no_net_stage_group_for_g3_with_differentiation_unknown(
    grading: list[dict[str, Any]],
) -> None:
    record = [patient(), pnen(), *grading, *tnm("T2", "N0", "M0")]
    rec = run(record)["summary"]
    assert "stage" not in rec.summary
    assert stage_line(rec).startswith("- Stage: T2 N0 M0 (G3 with differentiation unknown: it may")
    assert "no NET stage group" in stage_line(rec)
    card_of(rec)


def test_summary_gives_no_net_stage_group_for_g3_unknown_with_liver_metastases() -> None:
    record = [patient(), pnen(), liver_mets(), ki67(40)]
    rec = run(record)["summary"]
    assert "stage" not in rec.summary
    assert stage_line(rec).startswith("- Stage: TNM not recorded (G3 with differentiation unknown")


def test_summary_gives_no_net_stage_group_for_conflicting_differentiation() -> None:
    nec_code = condition(ICDO3, "8246/3", rid="nec")
    record = [
        patient(),
        pnen(),
        differentiation("well"),
        nec_code,
        ki67(30),
        *tnm("T4", "N0", "M0"),
    ]
    rec = run(record)["summary"]
    assert "stage" not in rec.summary
    assert stage_line(rec).startswith("- Stage: T4 N0 M0 (differentiation conflicting")


def test_summary_stages_nec_as_exocrine_pancreatic_cancer() -> None:
    record = [patient(), pnen(), differentiation("poorly"), ki67(60), *tnm(n="N1", m="M0")]
    rec = run(record)["summary"]
    assert "stage" not in rec.summary
    assert stage_line(rec) == (
        "- Stage: N1 M0 (NEC is staged as exocrine pancreatic cancer; no NET stage group)"
    )


def test_summary_silent_without_pnen() -> None:
    assert "summary" not in run([patient(), ki67(5)])
