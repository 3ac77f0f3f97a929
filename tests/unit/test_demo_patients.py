"""The demo patients shipped with the package: each one's cards on its hooks, whatever the day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from consensus.rules import all_rules
from pnen_demo.patients import (
    DemoPatient,
    demo_patients,
    drafts_of,
    evaluate,
    record_of,
    shift_dates,
)
from tests.cds_schema import assert_valid_response

TODAY = date.today()
PATIENTS = demo_patients()
CASES = [
    pytest.param(p, hook, id=f"{p.id}-{hook}")
    for p in PATIENTS
    for hook in ("patient-view", *p.order_hooks)
]


@pytest.mark.parametrize(("patient", "hook"), CASES)
def test_demo_patient_gets_the_cards_listed_in_the_index(patient: DemoPatient, hook: str) -> None:
    result = evaluate(patient, hook, TODAY)
    assert list(result.rule_ids) == patient.cards[hook]
    assert_valid_response(result.response())


@pytest.mark.parametrize("days", [1, 200, 1000])
def test_demo_patients_read_the_same_on_a_later_day(days: int) -> None:
    later = TODAY + timedelta(days=days)
    for patient in PATIENTS:
        for hook in ("patient-view", *patient.order_hooks):
            assert list(evaluate(patient, hook, later).rule_ids) == patient.cards[hook], patient.id


def test_there_are_at_least_ten_demo_patients_with_unique_ids() -> None:
    ids = [p.id for p in PATIENTS]
    assert len(ids) >= 10 and len(set(ids)) == len(ids)


def test_demo_patients_cover_every_rule_family() -> None:
    area_of = {r.info.id: r.info.area for r in all_rules()}
    fired = {rule for p in PATIENTS for rules in p.cards.values() for rule in rules}
    assert {area_of[r] for r in fired} == set(area_of.values())


def test_the_sandbox_drafts_fire_their_order_cards() -> None:
    by_id = {p.id: p for p in PATIENTS}
    assert "mgmt-tmz-mismatch" in by_id["demo-mgmt-tmz"].cards["order-select"]
    assert "pet-tracer-mismatch" in by_id["demo-nec"].cards["order-sign"]
    assert "tae-over-tace" in by_id["demo-tace"].cards["order-sign"]
    (tmz,) = drafts_of(by_id["demo-mgmt-tmz"], TODAY)
    assert tmz["id"] == "request-123" and tmz["authoredOn"] == TODAY.isoformat()


def test_the_patient_without_pnen_gets_no_cards_on_any_hook() -> None:
    patient = next(p for p in PATIENTS if p.id == "demo-non-pnen")
    assert all(cards == [] for cards in patient.cards.values())


def test_every_resource_id_is_unique_across_the_demo_server() -> None:
    refs = [f"{r['resourceType']}/{r['id']}" for p in PATIENTS for r in record_of(p, TODAY)]
    assert len(refs) == len(set(refs))


def test_every_resource_belongs_to_its_patient() -> None:
    for patient in PATIENTS:
        for resource in record_of(patient, TODAY):
            subject = resource.get("subject") or resource.get("patient")
            if resource["resourceType"] == "Patient":
                assert resource["id"] == patient.id
            else:
                assert subject == {"reference": f"Patient/{patient.id}"}, resource["id"]


@pytest.mark.parametrize(
    ("value", "days", "shifted"),
    [
        ("2026-01-31", 1, "2026-02-01"),
        ("2026-01-31T08:30:00Z", 30, "2026-03-02T08:30:00Z"),
        ("2026-03-01T08:30:00+08:00", -1, "2026-02-28T08:30:00+08:00"),
        ("2026", 400, "2026"),
        ("2026-02", 400, "2026-02"),
        ("N0", 10, "N0"),
    ],
)
def test_dates_move_by_whole_days_and_partial_dates_stay(
    value: str, days: int, shifted: str
) -> None:
    assert shift_dates({"a": [{"b": value}]}, days) == {"a": [{"b": shifted}]}
