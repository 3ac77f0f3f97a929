"""The dashboard's data: markers per unit, therapy periods, Ki-67 by site (hooks/dashboard.py)."""

from __future__ import annotations

from datetime import date

from cards import CardOptions
from hooks.dashboard import dashboard_data, ki67_by_site, markers, therapies, timeline
from hooks.evaluation import HookResult
from tests.fhir_builders import (
    LOINC,
    RXNORM,
    TODAY,
    days_ago,
    facts_for,
    ki67,
    medication,
    observation,
    procedure,
    study,
)


def _cga(value: float, unit: str, days: int, high: float | None = None) -> dict[str, object]:
    res = observation(
        (LOINC, "9811-1"), when=days_ago(days), valueQuantity={"value": value, "unit": unit}
    )
    if high is not None:
        res["referenceRange"] = [{"high": {"value": high, "unit": unit}}]
    return res


def test_cga_in_two_units_gives_two_series_never_one_mixed() -> None:
    facts = facts_for([_cga(120, "ng/mL", 100), _cga(40, "U/L", 50), _cga(150, "ng/mL", 10)])
    series = {(m["name"], m["unit"]): [p["value"] for p in m["points"]] for m in markers(facts)}
    assert series == {
        ("Chromogranin A", "ng/mL"): [120, 150],
        ("Chromogranin A", "U/L"): [40],
    }


def test_cga_with_an_upper_reference_limit_is_also_shown_as_a_multiple_of_it() -> None:
    facts = facts_for([_cga(300, "ng/mL", 10, high=100), _cga(90, "ng/mL", 5)])
    by_unit = {m["unit"]: m["points"] for m in markers(facts)}
    assert [p["value"] for p in by_unit["× upper reference limit"]] == [3.0]
    assert [p["value"] for p in by_unit["ng/mL"]] == [300, 90]


def test_an_active_therapy_runs_until_today_and_a_stopped_one_without_end_has_none() -> None:
    facts = facts_for(
        [
            medication((RXNORM, "68092"), start=days_ago(300), rid="ssa"),
            medication((RXNORM, "37776"), status="completed", start=days_ago(200), rid="tmz"),
        ]
    )
    periods = {t["ref"]: t for t in therapies(facts, TODAY)}
    assert periods["MedicationRequest/ssa"]["end"] == TODAY.isoformat()
    assert periods["MedicationRequest/ssa"]["endKnown"] is True
    assert periods["MedicationRequest/tmz"]["end"] is None
    assert periods["MedicationRequest/tmz"]["endKnown"] is False


def test_ki67_is_grouped_by_site_with_the_who_bands_at_3_and_20_percent() -> None:
    facts = facts_for([ki67(2.9, "primary"), ki67(20.1, "liver"), ki67(12)])
    data = ki67_by_site(facts)
    assert {site: [p["value"] for p in pts] for site, pts in data["series"].items()} == {
        "primary": [2.9],
        "liver metastasis": [20.1],
        "site not stated": [12],
    }
    assert [b["value"] for b in data["bands"]] == [3.0, 20.0]


def test_timeline_puts_biopsies_imaging_and_procedures_in_their_lanes() -> None:
    facts = facts_for(
        [
            procedure("eus-fnb", when=days_ago(300)),
            procedure("hepatectomy-parenchymal-sparing", when=days_ago(200)),
            study("pet-ssa", result="positive", when=days_ago(250)),
            ki67(8, "liver", when=days_ago(300)),
        ]
    )
    lanes = [(e["lane"], e.get("result"), e.get("site")) for e in timeline(facts, TODAY)]
    assert ("biopsy", None, None) in lanes and ("biopsy", None, "liver metastasis") in lanes
    assert ("imaging", "positive", None) in lanes and ("procedure", None, None) in lanes


def test_data_issues_are_listed_once_in_words() -> None:
    facts = facts_for([])
    issue = {"prefetchKey": "observations", "reference": "Observation/x", "problem": "no code"}
    data = dashboard_data(
        facts, HookResult([], (), ()), CardOptions(), date(2026, 1, 1), [issue, issue]
    )
    assert data["dataIssues"] == [issue]
    assert data["recommendations"] == [] and data["today"] == "2026-01-01"


def test_the_summary_on_the_dashboard_lists_the_decisions_waiting_on_data() -> None:
    import json
    from pathlib import Path

    from hooks.knowledge import load_knowledge
    from hooks.registry import SERVICES, evaluate_record
    from hooks.request import HookRequest

    bundle = json.loads(
        (Path(__file__).parents[2] / "fixtures" / "benchmark-pnen-patient.json").read_text()
    )
    items = [("file", e["resource"]) for e in bundle["entry"]]
    knowledge = load_knowledge()
    request = HookRequest("patient-view", "x", "bench-pnen", {}, None, None)
    facts, result = evaluate_record(
        SERVICES["pnen-patient-view"], request, items, knowledge, date(2026, 11, 27)
    )
    data = dashboard_data(facts, result, CardOptions(), date(2026, 11, 27))
    summary = next(r for r in data["recommendations"] if r["rule"] == "summary")
    resectability = [w for w in summary["waiting"] if w.startswith("resectability")]
    assert resectability and "Targeted therapy" in resectability[0]
    assert all("waiting" not in r for r in data["recommendations"] if r["rule"] != "summary")
