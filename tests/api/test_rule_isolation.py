"""One rule's failure costs only that rule's card: a data issue names it, the others still fire."""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

from flask import Flask

from consensus.recommendation import Recommendation, RuleInfo
from consensus.registry import Rule, RuleContext
from tests.api.test_patient_view import EXPECTED_PNEN_RULES
from tests.cds_schema import assert_valid_response
from tests.support.cds_requests import (
    bundle_resources,
    hook_request,
    patient_id_of,
    prefetch_for,
)
from tests.support.logs import captured_logs

PV = "/cds-services/pnen-patient-view"
BROKEN = "liver-mri-hepatobiliary"


def _explode(ctx: RuleContext, info: RuleInfo) -> Recommendation | None:
    raise OverflowError("date value out of range")  # as an extreme date once made a rule fail


def _with_broken_rule(app: Flask, rule_id: str) -> None:
    """Replace one registered rule of the running app by one that raises."""
    runtime = app.extensions["pnen_cds"]
    rules = tuple(
        Rule(r.info, _explode) if r.info.id == rule_id else r for r in runtime.knowledge.rules
    )
    runtime.knowledge = dataclasses.replace(runtime.knowledge, rules=rules)


def _request(bench_pnen: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    resources = bundle_resources(bench_pnen)
    return hook_request(
        "patient-view", patient_id_of(resources), prefetch=prefetch_for(resources, keys)
    )


def test_a_rule_that_raises_is_a_data_issue_and_the_other_cards_still_come(
    app: Flask, bench_pnen: dict[str, Any], prefetch_keys: list[str]
) -> None:
    _with_broken_rule(app, BROKEN)
    with captured_logs() as lines:
        response = app.test_client().post(
            PV, json=_request(bench_pnen, prefetch_keys), headers={"X-Correlation-ID": "iso-1"}
        )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert_valid_response(body)
    fired = {card["source"]["topic"]["code"] for card in body["cards"]}
    assert fired == EXPECTED_PNEN_RULES - {BROKEN}
    assert {
        "prefetchKey": "rules",
        "reference": BROKEN,
        "problem": f"rule {BROKEN} could not be evaluated",
    } in body["extension"]["org.pnen-cds.data-issues"]
    logged = [json.loads(line) for line in lines]
    failure = next(e for e in logged if e["message"] == "rule could not be evaluated")
    assert failure["correlation_id"] == "iso-1"
    assert failure["rule"] == BROKEN and "OverflowError" in failure["trace"]


def test_without_a_failing_rule_there_is_no_rule_data_issue(
    client: Any, bench_pnen: dict[str, Any], prefetch_keys: list[str]
) -> None:
    body = client.post(PV, json=_request(bench_pnen, prefetch_keys)).get_json()
    issues = body.get("extension", {}).get("org.pnen-cds.data-issues", [])
    assert all(i["prefetchKey"] != "rules" for i in issues)
    assert {card["source"]["topic"]["code"] for card in body["cards"]} == EXPECTED_PNEN_RULES


def test_a_medication_authored_in_year_9999_does_not_cost_the_other_cards(
    client: Any, bench_pnen: dict[str, Any], prefetch_keys: list[str]
) -> None:
    bundle = copy.deepcopy(bench_pnen)
    resources = bundle_resources(bundle)
    medication = next(r for r in resources if r["resourceType"] == "MedicationRequest")
    medication["authoredOn"] = "9999-12-31"
    condition = next(r for r in resources if r["resourceType"] == "Condition")
    condition["onsetDateTime"] = "0001-01-01"
    response = client.post(PV, json=_request(bundle, prefetch_keys))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert_valid_response(body)
    assert "summary" in {card["source"]["topic"]["code"] for card in body["cards"]}


def test_each_call_reports_its_own_rule_failure_once_and_a_fixed_rule_set_none(
    app: Flask, bench_pnen: dict[str, Any], prefetch_keys: list[str]
) -> None:
    runtime = app.extensions["pnen_cds"]
    working = runtime.knowledge
    body = _request(bench_pnen, prefetch_keys)
    _with_broken_rule(app, BROKEN)
    for _ in range(2):  # the guards are built once per rule set; the failures are per call
        issues = (
            app.test_client()
            .post(PV, json=body)
            .get_json()["extension"]["org.pnen-cds.data-issues"]
        )
        assert [i["reference"] for i in issues if i["prefetchKey"] == "rules"] == [BROKEN]
    runtime.knowledge = working
    answer = app.test_client().post(PV, json=body).get_json()
    issues = answer.get("extension", {}).get("org.pnen-cds.data-issues", [])
    assert all(i["prefetchKey"] != "rules" for i in issues)
    assert {card["source"]["topic"]["code"] for card in answer["cards"]} == EXPECTED_PNEN_RULES
