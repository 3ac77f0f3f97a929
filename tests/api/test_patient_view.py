"""End to end over HTTP: the benchmark patients, with prefetch and from a loopback FHIR server."""

from __future__ import annotations

import copy
from typing import Any

from flask.testing import FlaskClient

from tests.cds_schema import assert_valid, assert_valid_response
from tests.support.cds_requests import (
    bundle_resources,
    hook_request,
    patient_id_of,
    prefetch_for,
    searchset,
)
from tests.support.fhir_server import serve_fhir

PV = "/cds-services/pnen-patient-view"
# Benchmark pNEN (ENETS II, Ki-67 4 % primary / 18 % liver, well differentiated, MGMT 1+, SSTR and
# FDG PET positive, on lanreotide + omeprazole, CgA last month, latest status worsened):
EXPECTED_PNEN_RULES = {
    "summary",  # pNEN present
    "liver-mri-hepatobiliary",  # ENETS type II, no hepatobiliary-contrast liver MRI on record
    "rebiopsy-progression",  # progression after the latest tissue result and biopsy
    "preop-systemic-mgmt",  # type II, resectability unknown, no liver resection, no NED
    "cga-confounded",  # CgA within 90 days while a PPI and an SSA are active
}


def _rule_ids(body: dict[str, Any]) -> list[str]:
    return [card["source"]["topic"]["code"] for card in body["cards"]]


def _post(client: FlaskClient, request: dict[str, Any]) -> dict[str, Any]:
    response = client.post(PV, json=request)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert_valid_response(body)
    return body


def test_discovery_lists_three_services_with_prefetch(client: FlaskClient) -> None:
    body = client.get("/cds-services").get_json()
    assert_valid("discovery", body)
    hooks = {s["id"]: s["hook"] for s in body["services"]}
    assert hooks == {
        "pnen-patient-view": "patient-view",
        "pnen-order-select": "order-select",
        "pnen-order-sign": "order-sign",
    }
    for service in body["services"]:
        prefetch = service["prefetch"]
        assert prefetch["patient"] == "Patient/{{context.patientId}}"
        assert prefetch["specimens"] == "Specimen?patient={{context.patientId}}"
        assert "http://loinc.org|29593-1" in " ".join(prefetch.values())
        assert all(len(q) <= 1900 for q in prefetch.values())


def test_benchmark_pnen_patient_with_prefetch(
    client: FlaskClient, bench_pnen: dict[str, Any], prefetch_keys: list[str]
) -> None:
    resources = bundle_resources(bench_pnen)
    request = hook_request(
        "patient-view", patient_id_of(resources), prefetch=prefetch_for(resources, prefetch_keys)
    )
    body = _post(client, request)
    ids = _rule_ids(body)
    assert set(ids) == EXPECTED_PNEN_RULES
    assert len(ids) == len(set(ids)), "a rule fires at most once"
    assert ids[0] == "summary", "the summary card comes first"
    order = {"critical": 0, "warning": 1, "info": 2}
    keys = [(order[c["indicator"]], c["source"]["topic"]["code"]) for c in body["cards"][1:]]
    assert keys == sorted(keys)
    summary = next(c for c in body["cards"] if c["source"]["topic"]["code"] == "summary")
    assert "G2" in summary["summary"] and "liver" in summary["detail"]


def test_benchmark_pnen_patient_without_prefetch_from_fhir_server(
    client: FlaskClient, bench_pnen: dict[str, Any]
) -> None:
    resources = bundle_resources(bench_pnen)
    with serve_fhir(resources, page_size=20) as (base, data):
        data.required_token = "secret-token"
        request = hook_request(
            "patient-view", patient_id_of(resources), fhir_server=base, token="secret-token"
        )
        body = _post(client, request)
        assert any("_page=1" in path for path in data.requests), "pages were followed"
    assert set(_rule_ids(body)) == EXPECTED_PNEN_RULES


def test_paginated_prefetch_bundle_is_followed_on_the_fhir_server(
    client: FlaskClient, bench_pnen: dict[str, Any], prefetch_keys: list[str]
) -> None:
    resources = bundle_resources(bench_pnen)
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    prefetch = prefetch_for(resources, prefetch_keys)
    with serve_fhir(resources, page_size=20) as (base, _):
        first = searchset(observations[:20])
        first["link"] = [
            {"relation": "next", "url": f"{base}/Observation?patient=bench-pnen&_page=1"}
        ]
        prefetch["observations"] = first
        request = hook_request("patient-view", "bench-pnen", prefetch=prefetch, fhir_server=base)
        body = _post(client, request)
    assert set(_rule_ids(body)) == EXPECTED_PNEN_RULES


def test_unreachable_fhir_server_is_a_412(client: FlaskClient) -> None:
    request = hook_request("patient-view", "p1", fhir_server="http://127.0.0.1:9/fhir", token="t")
    response = client.post(PV, json=request)
    assert response.status_code == 412
    assert "conditions" in response.get_json()["missing"]


def test_fhir_server_refusing_the_token_is_a_412(
    client: FlaskClient, bench_pnen: dict[str, Any]
) -> None:
    resources = bundle_resources(bench_pnen)
    with serve_fhir(resources) as (base, data):
        data.required_token = "right"
        request = hook_request("patient-view", "bench-pnen", fhir_server=base, token="wrong")
        response = client.post(PV, json=request)
    assert response.status_code == 412


def test_patient_without_pnen_gets_no_cards(
    client: FlaskClient, bench_other: dict[str, Any], prefetch_keys: list[str]
) -> None:
    resources = bundle_resources(bench_other)
    request = hook_request(
        "patient-view", patient_id_of(resources), prefetch=prefetch_for(resources, prefetch_keys)
    )
    assert _post(client, request) == {"cards": []}


def test_patient_without_pnen_costs_one_small_look(
    client: FlaskClient, bench_other: dict[str, Any]
) -> None:
    resources = bundle_resources(bench_other)
    with serve_fhir(resources) as (base, data):
        body = _post(client, hook_request("patient-view", "bench-other", fhir_server=base))
        paths = list(data.requests)
    assert body == {"cards": []}
    assert sorted(p.split("?")[0].split("/")[2] for p in paths) == ["Condition", "Patient"]


def test_repeated_hook_instance_is_evaluated_normally(
    client: FlaskClient, bench_pnen: dict[str, Any], prefetch_keys: list[str]
) -> None:
    resources = bundle_resources(bench_pnen)
    request = hook_request(
        "patient-view", "bench-pnen", prefetch=prefetch_for(resources, prefetch_keys)
    )
    first = _post(client, request)
    second = _post(client, copy.deepcopy(request))
    assert _rule_ids(first) == _rule_ids(second)


def test_another_patients_resources_in_prefetch_are_skipped(
    client: FlaskClient, bench_pnen: dict[str, Any], prefetch_keys: list[str]
) -> None:
    resources = bundle_resources(bench_pnen)
    prefetch = prefetch_for(resources, prefetch_keys)
    request = hook_request("patient-view", "someone-else", prefetch=prefetch)
    request["prefetch"]["patient"] = {"resourceType": "Patient", "id": "someone-else"}
    body = _post(client, request)
    assert body["cards"] == []
    problems = {i["problem"] for i in body["extension"]["org.pnen-cds.data-issues"]}
    assert problems == {"subject is another patient"}


def test_cors_headers_on_get_post_errors_and_preflight(client: FlaskClient) -> None:
    origin = {"Origin": "https://sandbox.cds-hooks.org"}
    preflight = client.options(PV, headers={**origin, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert client.get("/cds-services", headers=origin).headers["Access-Control-Allow-Origin"]
    error = client.post(PV, data=b"nope", headers=origin, content_type="application/json")
    assert error.status_code == 400
    assert error.headers["Access-Control-Allow-Origin"] == "*"


def test_health_and_readiness(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["status"] == "ready"


def test_correlation_id_is_returned(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"X-Correlation-ID": "abc123"})
    assert response.headers["X-Correlation-ID"] == "abc123"
