"""The ready-made requests of examples/: current, valid, and each gives the cards it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.cds_schema import assert_valid, assert_valid_response
from tests.support.cds_requests import bundle_resources
from tests.support.fhir_server import serve_fhir

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
PATIENT = ROOT / "tests" / "fixtures" / "benchmark-pnen-patient.json"
FEEDBACK_CARD = "8d0d4c5e-6a5e-4d7b-9a55-0f1d6c1a0f01"  # in examples/feedback.json and the README
SERVICE_OF_HOOK = {
    "patient-view": "pnen-patient-view",
    "order-select": "pnen-order-select",
    "order-sign": "pnen-order-sign",
}
# What each example is for (README, "Calling it").
PROMISED = {
    "patient-view.json": {"summary", "rebiopsy-progression", "cga-confounded"},
    "order-select.json": {"platinum-for-net"},
    "order-sign.json": {"platinum-for-net", "tae-over-tace", "cga-confounded"},
}


def _example(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return body


def _post(client: FlaskClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/cds-services/{SERVICE_OF_HOOK[body['hook']]}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer: dict[str, Any] = response.get_json()
    assert_valid_response(answer)
    return answer


def _rules(answer: dict[str, Any]) -> set[str]:
    return {card["source"]["topic"]["code"] for card in answer["cards"]}


def test_the_examples_are_what_the_request_builder_makes_today() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "update_examples.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_every_example_request_is_a_valid_cds_hooks_request(name: str) -> None:
    body = _example(name)
    if name == "draft-orders.json":
        assert body["resourceType"] == "Bundle"
        return
    assert_valid("feedback" if name == "feedback.json" else "request", body)


@pytest.mark.parametrize("name", sorted(PROMISED))
def test_each_example_request_gives_the_cards_it_promises(client: FlaskClient, name: str) -> None:
    assert PROMISED[name] <= _rules(_post(client, _example(name)))


def test_the_order_select_example_checks_only_the_selected_drafts(client: FlaskClient) -> None:
    rules = _rules(_post(client, _example("order-select.json")))
    assert "tae-over-tace" not in rules  # the TACE is drafted but not selected


def test_the_fhir_server_example_fetches_the_record_and_gives_the_same_cards(
    client: FlaskClient,
) -> None:
    body = _example("patient-view-fhirserver.json")
    assert "prefetch" not in body
    resources = bundle_resources(json.loads(PATIENT.read_text(encoding="utf-8")))
    with serve_fhir(resources) as (base, data):
        body["fhirServer"] = base  # the example names the README's port; the test picks a free one
        fetched = _post(client, body)
        assert data.requests, "the record was read from the FHIR server"
    assert _rules(fetched) == _rules(_post(client, _example("patient-view.json")))


def test_the_fhir_server_example_names_the_demo_s_fhir_server_and_a_demo_patient() -> None:
    from cds_service.cli import parser
    from pnen_demo.patients import demo_patients

    demo = parser().parse_args(["demo"])
    body = _example("patient-view-fhirserver.json")
    assert body["fhirServer"] == f"http://{demo.host}:{demo.fhir_port}/fhir"
    assert body["context"]["patientId"] in {p.id for p in demo_patients()}


def test_the_feedback_example_on_a_card_received_is_stored_and_reported(
    app: Flask, client: FlaskClient
) -> None:
    answer = _post(client, _example("patient-view.json"))
    # What the README's commands do: the uuid of a card that can be overridden, put in the example.
    card = next(c for c in answer["cards"] if "overrideReasons" in c)
    text = (EXAMPLES / "feedback.json").read_text(encoding="utf-8")
    assert FEEDBACK_CARD in text
    body = json.loads(text.replace(FEEDBACK_CARD, card["uuid"]))
    reason = body["feedback"][0]["overrideReason"]["reason"]
    assert reason in [{k: r[k] for k in ("system", "code")} for r in card["overrideReasons"]]
    response = client.post("/cds-services/pnen-patient-view/feedback", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    stats = app.extensions["pnen_cds"].store.feedback_report()
    rule = card["source"]["topic"]["code"]
    row = next(s for s in stats if s.rule_id == rule)
    assert (row.feedback, row.override_rate) == (1, 1.0)
