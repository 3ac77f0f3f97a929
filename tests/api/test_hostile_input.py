"""Hostile input: malformed and adversarial requests and resources never crash or hang the app.

Every answer is checked: never a 5xx; a 200 validates against the CDS Hooks response schema; any
other status is a JSON error of the documented shape. Each request runs under a time bound.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from cds_service import create_app
from tests.cds_schema import assert_valid_response
from tests.support.cds_requests import bundle_resources, hook_request, prefetch_for, searchset

PV = "/cds-services/pnen-patient-view"
OS = "/cds-services/pnen-order-select"
SIGN = "/cds-services/pnen-order-sign"
SERVICE_PATHS = (PV, OS, SIGN)
ALL_PATHS = (*SERVICE_PATHS, f"{PV}/feedback", "/cds-services/nope")
TIME_BOUND_S = 20.0
PATIENT = "bench-pnen"
PNEN = {"system": "http://snomed.info/sct", "code": "1290080008"}
KI67 = {"system": "http://loinc.org", "code": "29593-1"}
ERROR_KEYS = {"error", "details", "missing", "id"}
HOSTILE_SCALARS: list[Any] = [
    None,
    True,
    0,
    -1,
    1e308,
    -1e308,
    5e-324,
    2**63,
    2**64 + 1,
    10**400,  # not a JSON number orjson accepts: the whole body is a 400
    "",
    " ",
    "\x00",
    "nul\x00inside",
    "\ud800",  # a lone surrogate: not valid JSON text once escaped, a 400
    "\u202eevil",
    "🧬" * 3,
    "A" * 5000,
    "Patient/someone-else",
    "Observation/bench-obs-1",
    "http://127.0.0.1:9/fhir",
    "1e308",
    "NaN",
    "2024-02-30",
    "9999-12-31T23:59:59Z",
]
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

hostile_scalar = (
    st.sampled_from(HOSTILE_SCALARS)
    | st.text(max_size=20)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
)
hostile_value = st.recursive(
    hostile_scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


# The app and the calls


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """Authentication off but not --dev: a fhirServer in a hostile request is never contacted."""
    database = tmp_path_factory.mktemp("hostile") / "store.sqlite3"
    application = create_app({"auth": "off", "dev": False, "database_url": f"sqlite:///{database}"})
    yield application
    application.extensions["pnen_cds"].store.close()


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hostile") as executor:
        yield executor


@pytest.fixture(scope="module")
def prefetch(app: Flask, bench_pnen: dict[str, Any]) -> dict[str, Any]:
    """The benchmark pNEN patient as prefetch for every declared key."""
    services = app.test_client().get("/cds-services").get_json()["services"]
    return prefetch_for(bundle_resources(bench_pnen), services[0]["prefetch"])


def post(app: Flask, pool: ThreadPoolExecutor, path: str, data: bytes) -> TestResponse:
    """POST raw bytes as JSON; fails the test if the app does not answer within the bound."""
    future = pool.submit(
        lambda: app.test_client().post(path, data=data, content_type="application/json")
    )
    response: TestResponse = future.result(timeout=TIME_BOUND_S)
    return response


def encode(body: Any) -> bytes:
    """JSON text as a client would send it (lone surrogates escaped, big integers spelt out)."""
    return json.dumps(body, allow_nan=False).encode()


def assert_documented(response: TestResponse, path: str) -> dict[str, Any]:
    """Never a 5xx; 200 is a valid CDS Hooks response (or {} for feedback); else a JSON error."""
    text = response.get_data(as_text=True)
    assert response.status_code < 500, text
    assert response.mimetype == "application/json"
    body = json.loads(text)
    if response.status_code == 200:
        if path.endswith("/feedback"):
            assert body == {}
        else:
            assert_valid_response(body)
        return dict(body)
    assert response.status_code in (400, 404, 412, 413), text
    assert isinstance(body, dict) and set(body) <= ERROR_KEYS, text
    assert isinstance(body["error"], str) and body["error"], text
    for detail in body.get("details", []):
        assert set(detail) == {"path", "message"} and all(
            isinstance(v, str) for v in detail.values()
        )
    assert all(isinstance(key, str) for key in body.get("missing", []))
    if response.status_code == 400:
        assert body["details"], text
    if response.status_code == 412:
        assert body["missing"], text
    return dict(body)


def call(app: Flask, pool: ThreadPoolExecutor, path: str, body: Any) -> dict[str, Any]:
    return assert_documented(post(app, pool, path, encode(body)), path)


def pv_request(prefetch: dict[str, Any]) -> dict[str, Any]:
    return hook_request("patient-view", PATIENT, prefetch=copy.deepcopy(prefetch))


def with_resources(prefetch: dict[str, Any], key: str, *resources: Any) -> dict[str, Any]:
    """A patient-view request whose prefetch `key` holds the benchmark's plus `resources`."""
    request = pv_request(prefetch)
    request["prefetch"][key]["entry"] += [{"resource": r} for r in resources]
    return request


# Mutating a document at any path


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value inside a JSON document (object keys and array indexes)."""
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in items:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def mutate(document: Any, path: tuple[Any, ...], action: str, value: Any) -> None:
    """Replace, delete or self-reference the value at `path` (in place)."""
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "self":
        parent[last] = copy.deepcopy(parent)  # a value containing its own former container
    else:
        parent[last] = value


@st.composite
def mutated(draw: st.DrawFn, document: dict[str, Any]) -> dict[str, Any]:
    """A copy of `document` with one to four hostile changes at paths anywhere inside it."""
    result = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 4))):
        candidates = list(paths(result))
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        action = draw(st.sampled_from(["replace", "replace", "delete", "self"]))
        mutate(result, path, action, draw(hostile_value))
    return result


# Generated input


@SETTINGS
@given(path=st.sampled_from(ALL_PATHS), data=st.binary(max_size=512))
def test_any_bytes_get_a_documented_answer(
    app: Flask, pool: ThreadPoolExecutor, path: str, data: bytes
) -> None:
    assert_documented(post(app, pool, path, data), path)


@SETTINGS
@given(path=st.sampled_from(ALL_PATHS), body=hostile_value)
def test_any_json_value_gets_a_documented_answer(
    app: Flask, pool: ThreadPoolExecutor, path: str, body: Any
) -> None:
    assert_documented(post(app, pool, path, encode(body)), path)


@SETTINGS
@given(data=st.data())
def test_a_mutated_patient_view_request_gets_a_documented_answer(
    app: Flask, pool: ThreadPoolExecutor, prefetch: dict[str, Any], data: st.DataObject
) -> None:
    body = data.draw(mutated(pv_request(prefetch)))
    assert_documented(post(app, pool, PV, encode(body)), PV)


@SETTINGS
@given(data=st.data())
def test_mutated_order_requests_get_a_documented_answer(
    app: Flask, pool: ThreadPoolExecutor, prefetch: dict[str, Any], data: st.DataObject
) -> None:
    drafts = [
        {
            "resourceType": "ServiceRequest",
            "id": "draft-pet",
            "status": "draft",
            "intent": "order",
            "subject": {"reference": f"Patient/{PATIENT}"},
            "code": {"text": "Ga-68 DOTATATE PET/CT"},
        },
        {
            "resourceType": "MedicationRequest",
            "id": "draft-tmz",
            "status": "draft",
            "intent": "order",
            "subject": {"reference": f"Patient/{PATIENT}"},
            "medicationCodeableConcept": {"text": "temozolomide"},
        },
    ]
    path = data.draw(st.sampled_from([OS, SIGN]))
    hook = "order-select" if path == OS else "order-sign"
    request = hook_request(hook, PATIENT, prefetch=copy.deepcopy(prefetch), drafts=drafts)
    body = data.draw(mutated(request))
    assert_documented(post(app, pool, path, encode(body)), path)


@SETTINGS
@given(data=st.data())
def test_mutated_feedback_gets_a_documented_answer(
    app: Flask, pool: ThreadPoolExecutor, data: st.DataObject
) -> None:
    entry = {
        "card": "b5a3f5f4-6a42-4b9e-a3de-5c1d1c1f0c11",
        "outcome": "overridden",
        "outcomeTimestamp": "2024-05-01T10:00:00Z",
        "overrideReason": {
            "reason": {"system": "http://example.org/override", "code": "not-relevant"},
            "userComment": "patient declined",
        },
        "acceptedSuggestions": [{"id": "s-1"}],
    }
    body = data.draw(mutated({"feedback": [entry, {**entry, "outcome": "accepted"}]}))
    assert_documented(post(app, pool, f"{PV}/feedback", encode(body)), f"{PV}/feedback")


# Specific attacks


def nested(depth: int) -> bytes:
    """JSON text nested `depth` objects-in-arrays deep (2 levels each)."""
    return b'{"a":[' * depth + b'"bottom"' + b"]}" * depth


def test_5000_levels_of_nesting_is_a_400(app: Flask, pool: ThreadPoolExecutor) -> None:
    data = b'{"hook": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert post(app, pool, PV, data).status_code == 400
    body = assert_documented(post(app, pool, PV, b'{"hook": ' + nested(2500) + b"}"), PV)
    assert [d["path"] for d in body["details"]] == ["(body)"]


def test_deep_nesting_inside_a_resource_within_the_parser_limit_is_read(
    app: Flask, pool: ThreadPoolExecutor, prefetch: dict[str, Any]
) -> None:
    weird = {
        "resourceType": "Observation",
        "id": "deep",
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "code": {"coding": [KI67]},
        "valueQuantity": "DEEP",
        "extension": ["DEEP"],
    }
    data = encode(with_resources(prefetch, "observations", weird))
    data = data.replace(b'"DEEP"', nested(240))  # about 490 levels each, under orjson's 1024
    response = post(app, pool, PV, data)
    assert response.status_code == 200
    assert_documented(response, PV)


@pytest.mark.parametrize("value", [1e308, -1e308, 5e-324, 2**63, 2**64 + 1, 0])
def test_extreme_numbers_in_a_result_are_read_or_reported(
    app: Flask, pool: ThreadPoolExecutor, prefetch: dict[str, Any], value: float
) -> None:
    ki67 = {
        "resourceType": "Observation",
        "id": "extreme",
        "status": "final",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "code": {"coding": [KI67]},
        "effectiveDateTime": "2099-01-01",
        "valueQuantity": {"value": value, "unit": "%", "system": "http://unitsofmeasure.org"},
    }
    call(app, pool, PV, with_resources(prefetch, "observations", ki67))


def test_a_number_beyond_double_range_is_a_400(
    app: Flask, pool: ThreadPoolExecutor, prefetch: dict[str, Any]
) -> None:
    request = pv_request(prefetch)
    request["prefetch"]["observations"]["entry"][0]["resource"]["valueQuantity"] = {
        "value": 10**400
    }
    body = call(app, pool, PV, request)
    assert [d["path"] for d in body["details"]] == ["(body)"]


@pytest.mark.parametrize(
    "text", ["\x00", "a\x00b", "\u202eright-to-left", "🧬 pNET", "\u0301", "\uffff", "\U0010ffff"]
)
def test_odd_unicode_in_resources_is_read(
    app: Flask, pool: ThreadPoolExecutor, prefetch: dict[str, Any], text: str
) -> None:
    condition = {
        "resourceType": "Condition",
        "id": "odd-text",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "code": {"coding": [{**PNEN, "display": text}], "text": text},
        "note": [{"text": text}],
    }
    request = with_resources(prefetch, "conditions", condition)
    request["hookInstance"] = f"hook-{text}"
    call(app, pool, PV, request)


def test_a_lone_surrogate_is_a_400(app: Flask, pool: ThreadPoolExecutor) -> None:
    data = b'{"hook": "patient-view", "hookInstance": "\\ud800", "context": {}}'
    assert post(app, pool, PV, data).status_code == 400


@pytest.mark.parametrize("field", ["resourceType", "id", "subject", "code", "status"])
def test_resources_missing_a_field_are_skipped_or_read(
    app: Flask, pool: ThreadPoolExecutor, prefetch: dict[str, Any], field: str
) -> None:
    request = pv_request(prefetch)
    for bundle in request["prefetch"].values():
        if isinstance(bundle, dict) and bundle.get("resourceType") == "Bundle":
            for entry in bundle["entry"]:
                entry["resource"].pop(field, None)
    call(app, pool, PV, request)


def test_an_operation_outcome_for_every_key_is_a_412_naming_the_keys_needed(
    app: Flask, pool: ThreadPoolExecutor, prefetch: dict[str, Any]
) -> None:
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "x"}]}
    request = pv_request(prefetch)
    request["prefetch"] = {key: outcome for key in request["prefetch"]}
    core = {"patient", "conditions"}  # read first: without a pNEN nothing else is needed
    assert set(call(app, pool, PV, request)["missing"]) == core
    request["prefetch"] |= {key: prefetch[key] for key in core}
    assert set(call(app, pool, PV, request)["missing"]) == set(prefetch) - core


def test_operation_outcome_entries_in_searchsets_are_read(
    app: Flask, pool: ThreadPoolExecutor, prefetch: dict[str, Any]
) -> None:
    warning = {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "x"}]}
    request = pv_request(prefetch)
    for key, value in request["prefetch"].items():
        if value.get("resourceType") == "Bundle":
            value["entry"].append({"resource": warning, "search": {"mode": "outcome"}})
            value["entry"].append({"resource": {"resourceType": "OperationOutcome"}})
        else:
            request["prefetch"][key] = value
    call(app, pool, PV, request)


def _reference_loops() -> list[dict[str, Any]]:
    subject = {"reference": f"Patient/{PATIENT}"}
    chain = [
        {
            "resourceType": "Specimen",
            "id": f"chain-{n}",
            "subject": subject,
            "parent": [{"reference": f"Specimen/chain-{(n + 1) % 500}"}],
            "collection": {"bodySite": {"text": "liver"}},
        }
        for n in range(500)
    ]
    return [
        *chain,
        {
            "resourceType": "Specimen",
            "id": "self",
            "subject": subject,
            "parent": [{"reference": "Specimen/self"}],
        },
        {
            "resourceType": "Observation",
            "id": "loop",
            "status": "final",
            "subject": subject,
            "code": {"coding": [KI67]},
            "valueQuantity": {"value": 12, "unit": "%"},
            "specimen": {"reference": "Specimen/chain-0"},
            "focus": [{"reference": "Observation/loop"}],
            "hasMember": [{"reference": "Observation/loop"}],
            "derivedFrom": [{"reference": "Observation/loop"}],
        },
        {
            "resourceType": "DiagnosticReport",
            "id": "loop-report",
            "status": "final",
            "subject": subject,
            "code": {"text": "Ga-68 DOTATATE PET/CT"},
            "result": [
                {"reference": "Observation/loop"},
                {"reference": "DiagnosticReport/loop-report"},
            ],
            "specimen": [{"reference": "Specimen/self"}],
        },
    ]


def test_self_and_cyclic_references_are_harmless(
    app: Flask, pool: ThreadPoolExecutor, prefetch: dict[str, Any]
) -> None:
    loops = _reference_loops()
    request = pv_request(prefetch)
    for resource in loops:
        key = {"Specimen": "specimens", "Observation": "observations"}.get(
            resource["resourceType"], "reports"
        )
        request["prefetch"][key]["entry"].append({"resource": resource})
    started = time.perf_counter()
    call(app, pool, PV, request)
    assert time.perf_counter() - started < 5


def test_a_10000_resource_bundle_is_answered_in_time(
    app: Flask, pool: ThreadPoolExecutor, prefetch: dict[str, Any]
) -> None:
    observations = [
        {
            "resourceType": "Observation",
            "id": f"bulk-{n}",
            "meta": {"versionId": "1"},
            "status": "final",
            "subject": {"reference": f"Patient/{PATIENT}"},
            "code": {"coding": [KI67]},
            "effectiveDateTime": f"20{10 + n % 14:02d}-0{1 + n % 9}-1{n % 10}",
            "valueQuantity": {"value": n % 60, "unit": "%"},
        }
        for n in range(10_000)
    ]
    request = pv_request(prefetch)
    request["prefetch"]["observations"] = searchset(observations)
    data = encode(request)
    assert len(data) < 5 * 1024 * 1024
    started = time.perf_counter()
    assert_documented(post(app, pool, PV, data), PV)
    assert time.perf_counter() - started < 10


def test_a_resource_of_another_type_under_a_key_is_harmless(
    app: Flask, pool: ThreadPoolExecutor, prefetch: dict[str, Any]
) -> None:
    request = pv_request(prefetch)
    request["prefetch"]["conditions"]["entry"].append(
        {"resource": {"resourceType": "Patient", "id": "someone-else"}}
    )
    request["prefetch"]["observations"]["entry"].append({"resource": {"resourceType": "Bundle"}})
    request["prefetch"]["patient"] = searchset([{"resourceType": "Patient", "id": PATIENT}])
    call(app, pool, PV, request)


def test_a_next_link_without_a_usable_fhir_server_is_a_412(
    app: Flask, pool: ThreadPoolExecutor, prefetch: dict[str, Any]
) -> None:
    request = pv_request(prefetch)
    request["prefetch"]["observations"]["link"] = [
        {"relation": "next", "url": "http://169.254.169.254/latest/meta-data/"}
    ]
    assert call(app, pool, PV, request)["missing"] == ["observations"]
    request["fhirServer"] = "http://169.254.169.254/fhir"  # not allowed: never contacted
    assert call(app, pool, PV, request)["missing"] == ["observations"]


def test_the_audit_never_holds_hostile_text_unescaped(app: Flask, tmp_path: Path) -> None:
    """NUL is refused by PostgreSQL: the store replaces it (here checked on the SQLite store)."""
    request = hook_request(
        "patient-view",
        "p1",
        prefetch={"patient": {"resourceType": "Patient", "id": "p1"}, "conditions": searchset([])},
    )
    request["hookInstance"] = "nul\x00hook"
    response = app.test_client().post(PV, json=request)
    assert response.status_code == 200
