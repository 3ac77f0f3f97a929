"""The demo FHIR server answers what the CDS Hooks sandbox and the dashboard call, over HTTP."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from pnen_demo.fixtures import load
from pnen_demo.patients import demo_patients, record_of
from tests.demo.conftest import REDIRECT

ORIGIN = "https://sandbox.cds-hooks.org"
CLIENT = "pnen-cds-dashboard"


def _get(url: str, **kw: Any) -> requests.Response:
    return requests.get(url, timeout=10, **kw)


def test_metadata_is_an_r4_capability_statement_with_smart_oauth_uris(fhir_base: str) -> None:
    response = _get(f"{fhir_base}/metadata", headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    body = response.json()
    assert body["resourceType"] == "CapabilityStatement" and body["fhirVersion"] == "4.0.1"
    (rest,) = body["rest"]
    uris = {e["url"]: e["valueUri"] for e in rest["security"]["extension"][0]["extension"]}
    assert uris["authorize"].endswith("/auth/authorize") and uris["token"].endswith("/auth/token")
    assert "development tool" in body["implementation"]["description"]


def test_cors_preflight_allows_the_sandbox_to_post_with_an_authorization_header(
    fhir_base: str,
) -> None:
    response = requests.options(
        f"{fhir_base}/_services/smart/Launch",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=10,
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "authorization,content-type"


def test_search_by_patient_and_code_token_finds_only_that_patients_matching_results(
    fhir_base: str,
) -> None:
    query = "Observation?patient=demo-nec&code=http://loinc.org|29593-1"
    body = _get(f"{fhir_base}/{query}").json()
    assert body["type"] == "searchset" and body["total"] == 1
    (entry,) = body["entry"]
    assert entry["resource"]["subject"] == {"reference": "Patient/demo-nec"}
    assert entry["resource"]["valueQuantity"]["value"] == 70


def test_post_search_with_a_form_body_answers_as_get_does(fhir_base: str) -> None:
    got = _get(f"{fhir_base}/Condition?patient=Patient/demo-g3").json()
    posted = requests.post(
        f"{fhir_base}/Condition/_search", data={"patient": "Patient/demo-g3"}, timeout=10
    ).json()
    assert posted["total"] == got["total"] == 2
    assert [e["resource"]["id"] for e in posted["entry"]] == [
        e["resource"]["id"] for e in got["entry"]
    ]


def test_paging_follows_next_links_through_every_result(fhir_base: str) -> None:
    first = _get(f"{fhir_base}/Observation?patient=bench-pnen&_count=7").json()
    ids, page, pages = [], first, 0
    while True:
        pages += 1
        ids += [e["resource"]["id"] for e in page["entry"]]
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not following:
            break
        page = _get(following[0]).json()
    assert len(ids) == len(set(ids)) == first["total"] > 7
    assert pages == -(-first["total"] // 7)


def test_status_search_takes_a_comma_separated_list(fhir_base: str) -> None:
    body = _get(f"{fhir_base}/MedicationRequest?patient=demo-mgmt-tmz&status=active,on-hold")
    assert body.json()["total"] == 1


@pytest.mark.parametrize("query", ["Observation?foo=bar", "Observation?_count=many"])
def test_unknown_or_malformed_search_parameters_get_an_operation_outcome(
    fhir_base: str, query: str
) -> None:
    response = _get(f"{fhir_base}/{query}")
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_type_without_demo_data_gives_an_empty_searchset(fhir_base: str) -> None:
    body = _get(f"{fhir_base}/MedicationAdministration?patient=demo-nec").json()
    assert (body["type"], body["total"], body["entry"]) == ("searchset", 0, [])
    assert _get(f"{fhir_base}/not-a-type?patient=demo-nec").status_code == 404


def test_read_returns_a_resource_and_404_names_the_missing_one(fhir_base: str) -> None:
    assert _get(f"{fhir_base}/Patient/demo-nec").json()["id"] == "demo-nec"
    missing = _get(f"{fhir_base}/Patient/nobody")
    assert missing.status_code == 404
    assert missing.json()["issue"][0]["code"] == "not-found"


def test_fixtures_load_posts_every_demo_patient_as_a_transaction(fhir_base: str) -> None:
    lines: list[str] = []
    assert load(fhir_base, date.today(), report=lines.append)
    assert len(lines) == len(demo_patients())
    assert all(line.endswith("HTTP 200") for line in lines)
    patient = demo_patients()[1]
    for resource in record_of(patient, date.today())[:3]:
        read = _get(f"{fhir_base}/{resource['resourceType']}/{resource['id']}").json()
        assert read == resource


def test_a_transaction_entry_other_than_put_is_refused(fhir_base: str) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {"resourceType": "Patient"},
                "request": {"method": "POST", "url": "Patient"},
            }
        ],
    }
    response = requests.post(fhir_base, json=bundle, timeout=10)
    assert response.status_code == 400


# --- SMART --------------------------------------------------------------------------------------
def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _launch(fhir_base: str, patient: str) -> str:
    # Exactly what the CDS Hooks sandbox posts before opening a card's SMART link.
    response = requests.post(
        f"{fhir_base}/_services/smart/Launch",
        json={
            "launchUrl": "http://127.0.0.1:8080/app/launch",
            "parameters": {"patient": patient, "smart_messaging_origin": ORIGIN},
        },
        headers={"Origin": ORIGIN},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    launch_id: str = response.json()["launch_id"]
    return launch_id


def _authorize(fhir_base: str, **params: str) -> requests.Response:
    config = _get(f"{fhir_base}/.well-known/smart-configuration").json()
    query = {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": REDIRECT,
        "scope": "launch patient/*.rs",
        "state": "xyz",
        "aud": fhir_base,
        **params,
    }
    return _get(config["authorization_endpoint"], params=query, allow_redirects=False)


def _token(fhir_base: str, code: str, verifier: str) -> requests.Response:
    config = _get(f"{fhir_base}/.well-known/smart-configuration").json()
    return requests.post(
        config["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": CLIENT,
            "code_verifier": verifier,
        },
        headers={"Origin": "http://127.0.0.1:8080"},
        timeout=10,
    )


def _code(response: requests.Response) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def test_smart_configuration_advertises_ehr_and_standalone_launch_with_pkce_s256(
    fhir_base: str,
) -> None:
    config = _get(f"{fhir_base}/.well-known/smart-configuration").json()
    assert {"launch-ehr", "launch-standalone", "client-public"} <= set(config["capabilities"])
    assert config["code_challenge_methods_supported"] == ["S256"]


def test_ehr_launch_gives_a_token_with_the_launched_patient_in_context(fhir_base: str) -> None:
    verifier, challenge = _pkce()
    launch = _launch(fhir_base, "demo-nec")
    code = _code(
        _authorize(fhir_base, launch=launch, code_challenge=challenge, code_challenge_method="S256")
    )
    response = _token(fhir_base, code, verifier)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8080"
    token = response.json()
    assert token["patient"] == "demo-nec" and token["token_type"] == "Bearer"
    assert token["scope"] == "launch patient/*.rs"


def test_token_is_refused_when_the_pkce_verifier_does_not_match(fhir_base: str) -> None:
    _, challenge = _pkce()
    other, _ = _pkce()
    code = _code(_authorize(fhir_base, code_challenge=challenge, code_challenge_method="S256"))
    response = _token(fhir_base, code, other)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "pkce",
    [
        {},
        {"code_challenge": "a" * 43, "code_challenge_method": "plain"},
        {"code_challenge": "a" * 43},
    ],
    ids=["no-challenge", "plain", "no-method"],
)
def test_authorization_without_a_pkce_s256_challenge_is_refused(
    fhir_base: str, pkce: dict[str, str]
) -> None:
    response = _authorize(fhir_base, **pkce)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert "error=invalid_request" in response.headers["Location"]
        assert "code=" not in response.headers["Location"]


def test_authorization_for_another_fhir_server_is_refused(fhir_base: str) -> None:
    _, challenge = _pkce()
    response = _authorize(
        fhir_base,
        aud="https://elsewhere.example/fhir",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert response.status_code == 400


def test_unregistered_redirect_uri_is_refused(fhir_base: str) -> None:
    _, challenge = _pkce()
    response = _authorize(
        fhir_base,
        redirect_uri="https://evil.example/",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_write_scopes_are_not_granted(fhir_base: str) -> None:
    verifier, challenge = _pkce()
    code = _code(
        _authorize(
            fhir_base,
            scope="launch/patient patient/*.cruds patient/Observation.write "
            "patient/Observation.read",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    )
    token = _token(fhir_base, code, verifier).json()
    assert token["scope"] == "launch/patient patient/Observation.read"
    assert token["patient"] == "bench-pnen"  # standalone without a hint: the first demo patient
