"""Issue 9 (cards) over HTTP: decisions waiting on data, grade history, stale evidence, summary
first, source labels and citations — every response schema-validated."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from cards.text import EN
from fhir_mappings.terminology import RXNORM
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    base_pnen_lm,
    days_ago,
    differentiation,
    disease_status,
    ki67,
    medication,
    procedure,
    study,
)
from tests.support.cds_requests import bundle_resources, hook_request, patient_id_of, prefetch_for

PV = "/cds-services/pnen-patient-view"
WORSENED = "271299001"
RESECTABILITY = "resectability of the liver metastases (R0/R1 feasibility, remnant liver volume)"


def _cards(client: FlaskClient, resources: list[dict[str, Any]], keys: list[str]) -> list[Any]:
    request = hook_request(
        "patient-view", patient_id_of(resources), prefetch=prefetch_for(resources, keys)
    )
    response = client.post(PV, json=request)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert_valid_response(body)
    cards: list[Any] = body["cards"]
    return cards


def _by_rule(cards: list[Any]) -> dict[str, Any]:
    return {c["source"]["topic"]["code"]: c for c in cards}


def test_decisions_waiting_on_data_for_the_benchmark_patient_over_http(
    client: FlaskClient, bench_pnen: dict[str, Any], prefetch_keys: list[str]
) -> None:
    cards = _cards(client, bundle_resources(bench_pnen), prefetch_keys)
    summary = cards[0]
    assert summary["source"]["topic"]["code"] == "summary", "summary first"
    detail = summary["detail"]
    assert "**Decisions waiting on data**" in detail
    line = next(x for x in detail.splitlines() if x.startswith(f"- {RESECTABILITY} — decides:"))
    assert "Targeted therapy: everolimus or sunitinib" in line and "PRRT candidate" in line
    codes = [c["source"]["topic"]["code"] for c in cards]
    assert "targeted-therapy" not in codes and "prrt-candidate" not in codes


def test_summary_first_with_status_course_and_therapy_over_http(
    client: FlaskClient, bench_pnen: dict[str, Any], prefetch_keys: list[str]
) -> None:
    cards = _cards(client, bundle_resources(bench_pnen), prefetch_keys)
    summary = cards[0]
    assert summary["source"]["topic"]["code"] == "summary"
    assert summary["summary"].startswith("pNEN active with liver metastases:")
    assert "progression 2026-05-06" in summary["summary"]
    assert "lanreotide since 2021-12-18, line 2" in summary["summary"]  # CAPTEM added: line 2
    assert len(summary["summary"]) < 140
    indicators = [c["indicator"] for c in cards[1:]]
    order = {"critical": 0, "warning": 1, "info": 2}
    assert indicators == sorted(indicators, key=order.__getitem__)


def test_stale_evidence_fdg_pet_over_http(
    client: FlaskClient, bench_pnen: dict[str, Any], prefetch_keys: list[str]
) -> None:
    # The benchmark FDG PET is of 2021-11-13: years old when the progression came.
    card = _by_rule(_cards(client, bundle_resources(bench_pnen), prefetch_keys))[
        "rebiopsy-progression"
    ]
    assert "FDG PET of 2021-11-13, " in card["detail"] and "months old" in card["detail"]
    created = [
        a["resource"]["code"]["coding"][0]["code"]
        for s in card["suggestions"]
        for a in s["actions"]
    ]
    assert created == ["pet-fdg"]


def test_grade_history_over_http(client: FlaskClient, prefetch_keys: list[str]) -> None:
    record = [
        *base_pnen_lm(),
        differentiation("well"),
        ki67(25, "liver", when=days_ago(600)),
        ki67(8, "liver", when=days_ago(60)),
    ]
    cards = _by_rule(_cards(client, record, prefetch_keys))
    course = f"liver G3 on {days_ago(600)}, G2 on {days_ago(60)}"
    assert course in cards["summary"]["summary"]
    assert course in cards["pet-ssa"]["detail"]


def test_card_text_source_label_and_citation_name_the_document_cited_over_http(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    lanreotide = (RXNORM, "68092")
    record = [
        *base_pnen_lm(),
        differentiation("well"),
        ki67(8, "liver", when=days_ago(300)),
        procedure("eus-fnb", when=days_ago(300)),
        study("pet-ssa", result="positive", when=days_ago(300)),
        medication(lanreotide, start=days_ago(400)),
        disease_status(WORSENED, when=days_ago(20)),
    ]
    cards = _by_rule(_cards(client, record, prefetch_keys))
    rebiopsy = cards["rebiopsy-progression"]  # C 2 only
    assert rebiopsy["source"]["label"] == EN["label_C"]
    assert "question 2.*" in rebiopsy["detail"] and "questions 2" not in rebiopsy["detail"]
    summary = cards["summary"]  # C and R
    assert summary["source"]["label"] == EN["label_both"]
    assert "section Staging and grading — Staging, Table 4" in summary["detail"]
