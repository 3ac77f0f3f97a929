"""Authentication through the Flask app: real RS384/ES384 tokens, JWKS over loopback HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cds_service import create_app
from cds_service.auth import Authenticator
from tests.support.cds_requests import hook_request, searchset
from tests.support.fhir_server import serve_fhir
from tests.support.logs import captured_logs
from tests.support.tokens import (
    ISSUER,
    JwksServer,
    SigningKey,
    ec_key,
    jwks,
    jwks_server,
    mint,
    rsa_key,
)

PUBLIC_URL = "https://cds.example.org/pnen"
PV = "/cds-services/pnen-patient-view"
ENDPOINTS: dict[str, tuple[str, str]] = {
    "discovery": ("GET", "/cds-services"),
    "service": ("POST", PV),
    "feedback": ("POST", f"{PV}/feedback"),
}
UNAUTHORIZED = {"error": "unauthorized"}
FEEDBACK_BODY = {
    "feedback": [
        {"card": "card-1", "outcome": "overridden", "outcomeTimestamp": "2024-05-01T10:00:00Z"}
    ]
}

AppFactory = Callable[..., Flask]


def aud(path: str) -> str:
    """The audience of an endpoint: the public URL it is called at."""
    return PUBLIC_URL + path


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    """header.payload of a JWT, each base64url JSON."""
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"


def service_body() -> dict[str, Any]:
    """A patient-view request for a patient without a pNEN (no FHIR server needed)."""
    prefetch = {"patient": {"resourceType": "Patient", "id": "p1"}, "conditions": searchset([])}
    return hook_request("patient-view", "p1", prefetch=prefetch)


def call(client: FlaskClient, endpoint: str, token: str | None, **headers: str) -> TestResponse:
    """Call an endpoint with a valid body and `Authorization: Bearer <token>` when given."""
    method, path = ENDPOINTS[endpoint]
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if method == "GET":
        return client.get(path, headers=headers)
    body = service_body() if endpoint == "service" else FEEDBACK_BODY
    return client.post(path, json=body, headers=headers)


def assert_refused(response: TestResponse) -> None:
    """401, `WWW-Authenticate: Bearer` and exactly {"error": "unauthorized"}: no reason."""
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.get_json() == UNAUTHORIZED


class Clock:
    """A settable clock starting at the real time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def rs384() -> SigningKey:
    return rsa_key("ehr-rs384", "RS384")


@pytest.fixture(scope="module")
def es384() -> SigningKey:
    return ec_key("ehr-es384", "ES384")


@pytest.fixture
def keys_server(rs384: SigningKey, es384: SigningKey) -> Iterator[JwksServer]:
    """The EHR's JWKS (RS384 and ES384 keys) served over loopback HTTP."""
    with jwks_server() as server:
        server.publish(jwks(rs384, es384))
        yield server


@pytest.fixture
def make_app(tmp_path: Path, keys_server: JwksServer) -> Iterator[AppFactory]:
    """Builds apps with auth on: one trusted issuer keyed by jwks_url, plus entry overrides."""
    apps: list[Flask] = []

    def build(issuer: dict[str, Any] | None = None, **config: Any) -> Flask:
        entry = {"iss": ISSUER, "jwks_url": keys_server.url(), **(issuer or {})}
        path = tmp_path / f"issuers-{len(apps)}.json"
        path.write_text(json.dumps({"issuers": [entry]}))
        app = create_app(
            {
                "auth": "jwt",
                "trusted_issuers_file": str(path),
                "public_url": PUBLIC_URL,
                "database_url": f"sqlite:///{tmp_path / f'store-{len(apps)}.sqlite3'}",
                **config,
            }
        )
        app.config["TESTING"] = True
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["pnen_cds"].store.close()


@pytest.fixture
def client(make_app: AppFactory) -> FlaskClient:
    """A client of an app with authentication on."""
    return make_app().test_client()


# Accepted tokens


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("key_name", ["rs384", "es384"])
def test_a_valid_token_for_the_endpoint_is_accepted(
    client: FlaskClient, endpoint: str, key_name: str, request: pytest.FixtureRequest
) -> None:
    key: SigningKey = request.getfixturevalue(key_name)
    response = call(client, endpoint, mint(key, {"aud": aud(ENDPOINTS[endpoint][1])}))
    assert response.status_code == 200, response.get_data(as_text=True)


def test_feedback_also_accepts_the_service_url_as_audience(
    client: FlaskClient, rs384: SigningKey
) -> None:
    assert call(client, "feedback", mint(rs384, {"aud": aud(PV)})).status_code == 200


def test_aud_as_a_list_with_a_trailing_slash_is_accepted(
    client: FlaskClient, es384: SigningKey
) -> None:
    token = mint(es384, {"aud": ["https://other.example/cds-services", aud(PV) + "/"]})
    assert call(client, "service", token).status_code == 200


def test_the_jwks_is_fetched_once_for_many_calls(
    client: FlaskClient, rs384: SigningKey, keys_server: JwksServer
) -> None:
    for _ in range(3):
        assert call(client, "service", mint(rs384, {"aud": aud(PV)})).status_code == 200
    assert keys_server.count() == 1


# Refused tokens: 401, no reason for the caller, the reason in the log


def _expired(key: SigningKey, audience: str) -> str:
    now = int(time.time())
    return mint(key, {"aud": audience, "iat": now - 600, "exp": now - 60})


def _not_yet_valid(key: SigningKey, audience: str) -> str:
    return mint(key, {"aud": audience, "nbf": int(time.time()) + 300})


def _issued_in_the_future(key: SigningKey, audience: str) -> str:
    now = int(time.time())
    return mint(key, {"aud": audience, "iat": now + 600, "exp": now + 900})


def _wrong_aud(key: SigningKey, audience: str) -> str:
    return mint(key, {"aud": aud("/cds-services/pnen-order-sign")})


def _untrusted_iss(key: SigningKey, audience: str) -> str:
    return mint(key, {"aud": audience, "iss": "https://evil.example"})


def _unknown_kid(key: SigningKey, audience: str) -> str:
    return mint(rsa_key("not-in-the-jwks", fresh=1), {"aud": audience})


def _wrong_key(key: SigningKey, audience: str) -> str:
    return mint(rsa_key(key.kid, fresh=1), {"aud": audience})  # the EHR's kid, another key


def _alg_none(key: SigningKey, audience: str) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": audience, "iat": now, "exp": now + 60, "jti": "none-1"}
    return unsigned({"alg": "none", "typ": "JWT", "kid": key.kid}, payload) + "."


def _hs256_with_the_public_key(key: SigningKey, audience: str) -> str:
    pem = key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": audience, "iat": now, "exp": now + 60, "jti": "hs-1"}
    signing_input = unsigned({"alg": "HS256", "typ": "JWT", "kid": key.kid}, payload)
    signature = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def _without_jti(key: SigningKey, audience: str) -> str:
    return mint(key, {"aud": audience, "jti": None})


def _unstorable_jti(key: SigningKey, audience: str) -> str:
    return mint(key, {"aud": audience, "jti": "nul\x00and-lone-surrogate-\ud800"})


def _garbage(key: SigningKey, audience: str) -> str:
    return "garbage-header-0123456789.garbage-payload-0123456789.garbage-signature-012345"


REFUSED: dict[str, tuple[Callable[[SigningKey, str], str], str]] = {
    "expired": (_expired, "expired"),
    "not yet valid": (_not_yet_valid, "nbf"),
    "issued in the future": (_issued_in_the_future, "future"),
    "wrong aud": (_wrong_aud, "aud"),
    "untrusted iss": (_untrusted_iss, "untrusted issuer"),
    "unknown kid": (_unknown_kid, "unknown kid"),
    "wrong key": (_wrong_key, "Signature verification failed"),
    "alg none": (_alg_none, "'none' not accepted"),
    "HS256 with the public key": (_hs256_with_the_public_key, "'HS256' not accepted"),
    "no jti": (_without_jti, "jti"),
    "jti the replay store cannot keep": (_unstorable_jti, "not printable"),
    "garbage": (_garbage, "malformed token"),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_token_is_a_bare_401_with_the_reason_only_in_the_log(
    client: FlaskClient, rs384: SigningKey, endpoint: str, case: str
) -> None:
    make_token, reason = REFUSED[case]
    token = make_token(rs384, aud(ENDPOINTS[endpoint][1]))
    with captured_logs() as lines:
        response = call(client, endpoint, token)
    assert_refused(response)
    logged = [json.loads(line) for line in lines]
    failures = [e for e in logged if e["message"] == "authentication failed"]
    assert len(failures) == 1 and reason in failures[0]["reason"], logged
    assert failures[0]["correlation_id"] == response.headers["X-Correlation-ID"]
    secrets = [token, *(part for part in token.split(".") if len(part) >= 16)]
    assert not [line for line in lines if any(secret in line for secret in secrets)]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Basic dXNlcjpwYXNz", "Bearer a b", "bearer"]
)
def test_a_missing_or_malformed_authorization_header_is_a_401(
    client: FlaskClient, endpoint: str, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_refused(call(client, endpoint, None, **headers))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_replayed_jti_is_refused(client: FlaskClient, es384: SigningKey, endpoint: str) -> None:
    token = mint(es384, {"aud": aud(ENDPOINTS[endpoint][1])})
    assert call(client, endpoint, token).status_code == 200
    with captured_logs() as lines:
        assert_refused(call(client, endpoint, token))
    assert any("replayed jti" in line for line in lines)


def test_a_token_for_discovery_does_not_open_a_service(
    client: FlaskClient, rs384: SigningKey
) -> None:
    assert_refused(call(client, "service", mint(rs384, {"aud": aud("/cds-services")})))
    assert_refused(call(client, "feedback", mint(rs384, {"aud": aud("/cds-services")})))


def test_a_token_for_another_host_is_refused(client: FlaskClient, rs384: SigningKey) -> None:
    token = mint(rs384, {"aud": "https://attacker.example/pnen/cds-services/pnen-patient-view"})
    assert_refused(call(client, "service", token))


def test_without_a_trusted_issuers_file_every_call_is_refused(
    tmp_path: Path, rs384: SigningKey
) -> None:
    app = create_app(
        {
            "auth": "jwt",
            "public_url": PUBLIC_URL,
            "database_url": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        }
    )
    try:
        for endpoint, (_, path) in ENDPOINTS.items():
            assert_refused(call(app.test_client(), endpoint, mint(rs384, {"aud": aud(path)})))
    finally:
        app.extensions["pnen_cds"].store.close()


def test_a_rotated_key_is_fetched_and_the_retired_one_refused(
    make_app: AppFactory, keys_server: JwksServer, rs384: SigningKey
) -> None:
    app = make_app()
    runtime = app.extensions["pnen_cds"]
    clock = Clock()  # the refetch on an unknown kid is rate-limited to one per 10 s
    runtime.authenticator = Authenticator(runtime.issuers, replay=runtime.store, clock=clock)
    client = app.test_client()
    assert call(client, "service", mint(rs384, {"aud": aud(PV)})).status_code == 200
    rotated = ec_key("ehr-2025", fresh=1)
    keys_server.publish(jwks(rotated))
    clock.now += 11
    assert call(client, "service", mint(rotated, {"aud": aud(PV)})).status_code == 200
    assert keys_server.count() == 2
    assert_refused(call(client, "service", mint(rs384, {"aud": aud(PV)})))


def test_keys_from_an_allow_listed_jku_are_used(
    make_app: AppFactory, keys_server: JwksServer
) -> None:
    other = ec_key("tenant-key", fresh=2)
    url = keys_server.publish(jwks(other), "/tenant/jwks.json")
    client = make_app({"jku": [url]}).test_client()
    token = mint(other, {"aud": aud(PV)}, {"jku": url})
    assert call(client, "service", token).status_code == 200


def test_a_jku_off_the_allow_list_is_never_fetched(
    client: FlaskClient, keys_server: JwksServer
) -> None:
    evil = rsa_key("ehr-rs384", fresh=1)
    url = keys_server.publish(jwks(evil), "/evil.json")
    assert_refused(call(client, "service", mint(evil, {"aud": aud(PV)}, {"jku": url})))
    assert keys_server.count("/evil.json") == 0


# What needs no token, and the order of the checks


@pytest.mark.parametrize("path", [*(p for _, p in ENDPOINTS.values()), "/healthz", "/readyz"])
def test_preflight_needs_no_token(client: FlaskClient, path: str) -> None:
    assert client.options(path, headers={"Access-Control-Request-Method": "POST"}).status_code == (
        204
    )


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json"])
def test_health_readiness_and_the_api_description_need_no_token(
    client: FlaskClient, path: str
) -> None:
    assert client.get(path).status_code == 200


def test_authentication_comes_before_the_service_id(client: FlaskClient, rs384: SigningKey) -> None:
    assert_refused(client.post("/cds-services/nope", json=service_body()))
    token = mint(rs384, {"aud": aud("/cds-services/nope")})
    response = client.post(
        "/cds-services/nope", json=service_body(), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 404


def test_authentication_comes_before_the_request_shape(client: FlaskClient) -> None:
    assert_refused(client.post(PV, data=b"{not json", content_type="application/json"))


def test_size_comes_before_authentication(make_app: AppFactory) -> None:
    client = make_app(max_request_bytes=1000).test_client()
    body = b'{"hook": "' + b"x" * 2000 + b'"}'
    sized = client.post(PV, data=body, content_type="application/json")
    assert sized.status_code == 413
    chunked = client.post(
        PV,
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert chunked.status_code == 413


# fhirServer outside --dev: https and on the issuer's allow-list, else never contacted


def _fetching_call(client: FlaskClient, key: SigningKey, fhir_server: str) -> TestResponse:
    body = hook_request("patient-view", "p1", fhir_server=fhir_server, token="ehr-access-token")
    token = mint(key, {"aud": aud(PV)})
    return client.post(PV, json=body, headers={"Authorization": f"Bearer {token}"})


def test_an_http_fhir_server_is_never_contacted_even_when_listed(
    make_app: AppFactory, rs384: SigningKey
) -> None:
    with serve_fhir([]) as (base, data):
        client = make_app({"fhir_servers": [base]}).test_client()
        response = _fetching_call(client, rs384, base)
    assert response.status_code == 412
    assert {"patient", "conditions"} <= set(response.get_json()["missing"])
    assert (data.connections, data.requests) == (0, [])


def test_a_fhir_server_off_the_issuers_list_is_never_contacted(
    make_app: AppFactory, rs384: SigningKey
) -> None:
    with serve_fhir([]) as (base, data):
        client = make_app(
            {"fhir_servers": ["https://fhir.ehr.example.org/r4"]}, allow_insecure_fhir=True
        ).test_client()
        response = _fetching_call(client, rs384, base)
        https_port = _fetching_call(client, rs384, base.replace("http://", "https://"))
    assert response.status_code == 412 and https_port.status_code == 412
    assert (data.connections, data.requests) == (0, [])


def test_a_listed_fhir_server_is_used(make_app: AppFactory, rs384: SigningKey) -> None:
    """The control for the two tests above: the same server, listed, is contacted."""
    patient = {"resourceType": "Patient", "id": "p1"}
    with serve_fhir([patient]) as (base, data):
        client = make_app({"fhir_servers": [base]}, allow_insecure_fhir=True).test_client()
        response = _fetching_call(client, rs384, base)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert data.connections > 0 and data.requests
