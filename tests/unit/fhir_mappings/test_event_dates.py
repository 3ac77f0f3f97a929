"""Event dates: impossible ones are data issues; an as-of reading ignores what came later."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fhir_mappings.facts import PatientFacts
from fhir_mappings.record import RecordMapper
from hooks.knowledge import load_knowledge
from hooks.registry import SERVICES, evaluate_record
from hooks.request import HookRequest
from tests.fhir_builders import (
    LOINC,
    PATIENT_ID,
    RXNORM,
    TODAY,
    facts_for,
    ki67,
    liver_mets,
    medication,
    observation,
    patient,
    pnen,
    service_request,
    terms,
)


def _issues(resources: list[dict[str, Any]]) -> dict[str, str]:
    return {i.reference: i.problem for i in facts_for(resources).data_issues}


def test_result_dated_tomorrow_is_used_for_time_zones() -> None:
    res = ki67(5, when=(TODAY + timedelta(days=1)).isoformat())
    assert facts_for([res]).has("ki67")


def test_result_dated_two_days_ahead_is_a_data_issue_and_not_used() -> None:
    res = ki67(5, rid="ki-future", when=(TODAY + timedelta(days=2)).isoformat())
    mapped = facts_for([res])
    assert not mapped.has("ki67")
    assert _issues([res]) == {"Observation/ki-future": "date in the future: not used"}


def test_result_dated_before_1900_is_a_data_issue_and_not_used() -> None:
    res = observation(
        (LOINC, "9811-1"),
        rid="cga-old",
        when="1899-12-31",
        valueQuantity={"value": 80, "unit": "ng/mL"},
    )
    assert not facts_for([res]).has("cga")
    assert _issues([res]) == {"Observation/cga-old": "date before 1900: not used"}


def test_result_dated_1900_is_used() -> None:
    res = observation(
        (LOINC, "9811-1"), when="1900-01-01", valueQuantity={"value": 80, "unit": "ng/mL"}
    )
    assert facts_for([res]).has("cga")


def test_medication_authored_on_9999_is_a_data_issue_and_not_used() -> None:
    res = medication((RXNORM, "37776"), rid="tmz-9999", start="9999-12-31")
    assert not facts_for([res]).has("medication:tmz")
    assert _issues([res]) == {"MedicationRequest/tmz-9999": "date in the future: not used"}


def test_a_period_end_in_9999_is_not_an_event() -> None:
    res = medication((RXNORM, "37776"), end="9999-12-31", resource_type="MedicationStatement")
    mapped = facts_for([res])
    assert mapped.has("medication:tmz") and not mapped.data_issues


def test_diagnosis_with_onset_0001_stays_undated_with_a_data_issue() -> None:
    mapped = facts_for([pnen(onset="0001-01-01")])
    fact = mapped.latest("pnen")
    assert fact is not None and fact.when is None
    assert mapped.data_issues[0].problem == "date before 1900: date not used"


def test_planned_order_dates_are_not_checked() -> None:
    res = service_request("pet-ssa", status="active")
    res["authoredOn"] = "2999-01-01"
    res["occurrenceDateTime"] = "2999-01-01"
    assert not facts_for([res]).data_issues


def _as_of(resources: list[dict[str, Any]], day: date) -> PatientFacts:
    items = [("test", r) for r in [patient(), *resources]]
    return RecordMapper(terms()).map(PATIENT_ID, items, day, as_of=True)


def test_as_of_ignores_and_counts_results_dated_later_without_data_issues() -> None:
    early = ki67(5, when="2024-01-10")
    late = ki67(25, when="2025-06-01")
    mapped = _as_of([pnen(onset="2023-01-01"), early, late], date(2024, 12, 31))
    assert [f.value.value for f in mapped.all("ki67")] == [5]
    assert mapped.ignored_after_as_of == 1
    assert not mapped.data_issues


def test_as_of_ignores_a_result_recorded_later_than_its_event() -> None:
    late_report = ki67(25, when="2024-06-01", issued="2025-02-01T00:00:00Z")
    mapped = _as_of([pnen(onset="2023-01-01"), late_report], date(2024, 12, 31))
    assert not mapped.has("ki67") and mapped.ignored_after_as_of == 1


def test_as_of_a_pnen_resolved_later_was_active_then() -> None:
    res = pnen(onset="2020-01-01", clinical_status="resolved", abatementDateTime="2025-03-01")
    mapped = _as_of([res], date(2024, 1, 1))
    assert mapped.has("pnen") and not mapped.has("pnen-remission")


def test_as_of_a_diagnosis_made_later_is_not_known() -> None:
    mapped = _as_of([pnen(onset="2025-01-01")], date(2024, 1, 1))
    assert not mapped.has("pnen") and mapped.ignored_after_as_of == 1


def test_evaluation_as_of_two_dates_gives_different_cards() -> None:
    knowledge = load_knowledge()
    service = SERVICES["pnen-patient-view"]
    request = HookRequest(
        hook="patient-view",
        hook_instance="as-of",
        patient_id=PATIENT_ID,
        prefetch={},
        fhir_server=None,
        access_token=None,
        draft_orders=(),
        selections=(),
    )
    record = [patient(), pnen(onset="2022-01-01"), liver_mets(onset="2024-06-01")]
    items = [("test", r) for r in record]
    _, before = evaluate_record(service, request, items, knowledge, date(2023, 1, 1), as_of=True)
    facts, after = evaluate_record(service, request, items, knowledge, date(2025, 1, 1), as_of=True)
    assert "liver-mri-hepatobiliary" not in before.rule_ids
    assert "summary" in before.rule_ids
    assert set(after.rule_ids) > set(before.rule_ids)
    assert facts.ignored_after_as_of == 0
