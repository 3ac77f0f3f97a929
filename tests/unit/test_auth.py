"""CDS Hooks JWT validation with real RS384/ES384 tokens, real JWKS over loopback HTTP."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.auth import (
    Authenticator,
    AuthError,
    InMemoryReplayGuard,
    ReplayGuard,
    TrustedIssuers,
)
from cds_service.store import Store
from tests.support.tokens import (
    AUDIENCE,
    ISSUER,
    JwksServer,
    SigningKey,
    ec_key,
    jwks,
    jwks_server,
    mint,
    rsa_key,
)

FEEDBACK = f"{AUDIENCE}/feedback"


class Clock:
    """A settable clock starting at the real time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def inline(*keys: SigningKey, **extra: Any) -> TrustedIssuers:
    """One trusted issuer with an inline JWKS."""
    return TrustedIssuers.from_json({"issuers": [{"iss": ISSUER, "jwks": jwks(*keys), **extra}]})


def authenticator(
    issuers: TrustedIssuers, clock: Clock | None = None, replay: ReplayGuard | None = None
) -> Authenticator:
    return Authenticator(
        issuers,
        replay=replay or InMemoryReplayGuard(),
        clock=clock or time.time,
        http_timeout=2.0,
    )


def bearer(token: str) -> str:
    return f"Bearer {token}"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def rsa() -> SigningKey:
    return rsa_key()


@pytest.fixture
def auth(rsa: SigningKey) -> Authenticator:
    return authenticator(inline(rsa, ec_key()))


@pytest.fixture
def server() -> Iterator[JwksServer]:
    with jwks_server() as running:
        yield running


def refused(auth: Authenticator, header: str | None, audience: str | list[str] = AUDIENCE) -> str:
    """The logged reason of a refusal (fails the test if the token is accepted)."""
    with pytest.raises(AuthError) as caught:
        auth.authenticate(header, audience)
    return caught.value.reason


# Valid tokens


@pytest.mark.parametrize(
    "key",
    [
        rsa_key(alg="RS384"),
        ec_key(alg="ES384"),
        rsa_key("rsa-256", "RS256"),
        ec_key("p256", "ES256"),
    ],
    ids=["RS384", "ES384", "RS256", "ES256"],
)
def test_accepts_a_token_signed_with_each_allowed_algorithm(key: SigningKey) -> None:
    token = mint(key, {"jti": "id-1", "tenant": "t1"})
    claims = authenticator(inline(key)).authenticate(bearer(token), AUDIENCE)
    assert (claims.iss, claims.sub, claims.jti, claims.aud) == (
        ISSUER,
        "ehr-client",
        "id-1",
        (AUDIENCE,),
    )
    assert claims.raw["tenant"] == "t1"


def test_accepts_lower_case_bearer_scheme_and_absent_typ(
    auth: Authenticator, rsa: SigningKey
) -> None:
    assert auth.authenticate(f"bearer {mint(rsa, header_overrides={'typ': None})}", AUDIENCE)


# Time claims


def test_refuses_an_expired_token(auth: Authenticator, rsa: SigningKey) -> None:
    now = int(time.time())
    assert "expired" in refused(auth, bearer(mint(rsa, {"iat": now - 600, "exp": now - 60})))


def test_accepts_a_token_expired_within_the_30_second_leeway(
    auth: Authenticator, rsa: SigningKey
) -> None:
    now = int(time.time())
    assert auth.authenticate(bearer(mint(rsa, {"iat": now - 300, "exp": now - 20})), AUDIENCE)


def test_refuses_a_token_issued_in_the_future(auth: Authenticator, rsa: SigningKey) -> None:
    now = int(time.time())
    token = mint(rsa, {"iat": now + 600, "exp": now + 900})
    assert "future" in refused(auth, bearer(token))


def test_refuses_a_token_not_yet_valid_by_nbf(auth: Authenticator, rsa: SigningKey) -> None:
    assert "nbf" in refused(auth, bearer(mint(rsa, {"nbf": int(time.time()) + 120})))


def test_accepts_nbf_within_the_leeway(auth: Authenticator, rsa: SigningKey) -> None:
    assert auth.authenticate(bearer(mint(rsa, {"nbf": int(time.time()) + 10})), AUDIENCE)


def test_uses_the_injected_clock_for_expiry(rsa: SigningKey) -> None:
    clock = Clock()
    auth = authenticator(inline(rsa), clock)
    clock.advance(400)  # the token lives 300 s
    assert "expired" in refused(auth, bearer(mint(rsa)))


@pytest.mark.parametrize("claim", ["exp", "iat", "jti"])
def test_refuses_a_token_without_a_required_claim(
    auth: Authenticator, rsa: SigningKey, claim: str
) -> None:
    refused(auth, bearer(mint(rsa, {claim: None})))


def test_refuses_a_non_numeric_exp(auth: Authenticator, rsa: SigningKey) -> None:
    refused(auth, bearer(mint(rsa, {"exp": "tomorrow"})))


def test_leeway_above_30_seconds_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        Authenticator(TrustedIssuers(), replay=InMemoryReplayGuard(), leeway=31)


# Audience


def test_refuses_a_token_for_another_endpoint(auth: Authenticator, rsa: SigningKey) -> None:
    token = mint(rsa, {"aud": "http://127.0.0.1:8080/cds-services/pnen-order-sign"})
    assert "aud" in refused(auth, bearer(token))


def test_refuses_a_token_without_aud(auth: Authenticator, rsa: SigningKey) -> None:
    assert "aud" in refused(auth, bearer(mint(rsa, {"aud": None})))


def test_accepts_aud_as_a_list_containing_the_endpoint(
    auth: Authenticator, rsa: SigningKey
) -> None:
    token = mint(rsa, {"aud": ["https://elsewhere.example/x", AUDIENCE]})
    assert auth.authenticate(bearer(token), AUDIENCE).aud[1] == AUDIENCE


@pytest.mark.parametrize(
    ("token_aud", "endpoint"), [(AUDIENCE + "/", AUDIENCE), (AUDIENCE, AUDIENCE + "/")]
)
def test_ignores_a_trailing_slash_on_either_side(
    auth: Authenticator, rsa: SigningKey, token_aud: str, endpoint: str
) -> None:
    assert auth.authenticate(bearer(mint(rsa, {"aud": token_aud})), endpoint)


def test_feedback_accepts_the_feedback_url_or_the_service_url(
    auth: Authenticator, rsa: SigningKey
) -> None:
    for aud in (FEEDBACK, AUDIENCE):
        assert auth.authenticate(bearer(mint(rsa, {"aud": aud})), [FEEDBACK, AUDIENCE])
    other = "http://127.0.0.1:8080/cds-services/pnen-order-sign"
    refused(auth, bearer(mint(rsa, {"aud": other})), [FEEDBACK, AUDIENCE])


# Issuers and keys


def test_refuses_an_untrusted_issuer(auth: Authenticator, rsa: SigningKey) -> None:
    assert "untrusted" in refused(auth, bearer(mint(rsa, {"iss": "https://evil.example"})))


def test_refuses_everything_without_an_issuers_file(rsa: SigningKey) -> None:
    auth = authenticator(TrustedIssuers.load(None))
    assert "untrusted" in refused(auth, bearer(mint(rsa)))


def test_loads_the_trusted_issuers_file(tmp_path: Path, rsa: SigningKey) -> None:
    path = tmp_path / "issuers.json"
    path.write_text(json.dumps({"issuers": [{"iss": ISSUER, "jwks": jwks(rsa)}]}))
    assert authenticator(TrustedIssuers.load(str(path))).authenticate(bearer(mint(rsa)), AUDIENCE)


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"issuers": {}}',
        '{"issuers": [{"jwks": {"keys": []}}]}',
        '{"issuers": [{"iss": "a"}]}',
        '{"issuers": [{"iss": "a", "jwks_url": "u", "fhir_servers": "https://x"}]}',
        '{"issuers": [{"iss": "a", "jwks_url": "u"}, {"iss": "a", "jwks_url": "v"}]}',
    ],
)
def test_a_malformed_issuers_file_fails_at_start(tmp_path: Path, content: str) -> None:
    path = tmp_path / "issuers.json"
    path.write_text(content)
    with pytest.raises(ValueError):
        TrustedIssuers.load(path)


def test_refuses_a_token_without_kid(auth: Authenticator, rsa: SigningKey) -> None:
    assert "kid" in refused(auth, bearer(mint(rsa, header_overrides={"kid": None})))


def test_refuses_a_typ_other_than_jwt(auth: Authenticator, rsa: SigningKey) -> None:
    assert "typ" in refused(auth, bearer(mint(rsa, header_overrides={"typ": "at+jwt"})))


def test_refuses_a_token_signed_by_another_key_with_the_same_kid(rsa: SigningKey) -> None:
    impostor = rsa_key(rsa.kid, fresh=1)
    auth = authenticator(inline(rsa))
    assert "Signature" in refused(auth, bearer(mint(impostor)))


def test_refuses_an_algorithm_the_key_does_not_declare(rsa: SigningKey) -> None:
    auth = authenticator(inline(rsa))  # the JWK says RS384
    assert "does not verify" in refused(auth, bearer(mint(rsa, alg="RS256")))


def test_refuses_alg_none(auth: Authenticator) -> None:
    now = int(time.time())
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "rsa-1"}).encode())
    payload = b64(
        json.dumps(
            {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 60, "jti": "n"}
        ).encode()
    )
    assert "none" in refused(auth, bearer(f"{header}.{payload}."))


def test_refuses_hs256_signed_with_the_public_key_pem_as_secret(
    auth: Authenticator, rsa: SigningKey
) -> None:
    pem = rsa.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": rsa.kid}).encode())
    payload = b64(
        json.dumps(
            {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 60, "jti": "x"}
        ).encode()
    )
    signature = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert "HS256" in refused(auth, bearer(f"{header}.{payload}.{b64(signature)}"))


def test_refuses_an_algorithm_outside_the_allow_list(auth: Authenticator, rsa: SigningKey) -> None:
    assert "RS512" in refused(auth, bearer(mint(rsa, alg="RS512")))


@pytest.mark.parametrize(
    "header", [None, "", "Basic abc", "Bearer", "Bearer a b", "Bearer not-a-jwt", "Bearer a.b.c"]
)
def test_refuses_a_missing_or_malformed_authorization_header(
    auth: Authenticator, header: str | None
) -> None:
    refused(auth, header)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(
    header=st.dictionaries(st.sampled_from(["alg", "kid", "typ", "jku", "crit"]), json_values),
    payload=json_values,
    signature=st.binary(max_size=16),
)
def test_any_garbage_token_is_refused_with_an_auth_error(
    header: dict[str, Any], payload: Any, signature: bytes
) -> None:
    token = ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)]
    )
    with pytest.raises(AuthError):
        authenticator(inline(rsa_key())).authenticate(bearer(token), AUDIENCE)


# Replay


def test_refuses_a_replayed_jti(auth: Authenticator, rsa: SigningKey) -> None:
    token = mint(rsa)
    auth.authenticate(bearer(token), AUDIENCE)
    assert "replayed" in refused(auth, bearer(token))


def test_the_same_jti_from_another_issuer_is_not_a_replay(rsa: SigningKey) -> None:
    issuers = TrustedIssuers.from_json(
        {
            "issuers": [
                {"iss": ISSUER, "jwks": jwks(rsa)},
                {"iss": "https://other.example", "jwks": jwks(rsa)},
            ]
        }
    )
    auth = authenticator(issuers)
    auth.authenticate(bearer(mint(rsa, {"jti": "same"})), AUDIENCE)
    auth.authenticate(bearer(mint(rsa, {"jti": "same", "iss": "https://other.example"})), AUDIENCE)


def test_the_sql_store_is_a_replay_guard_shared_by_authenticators(
    tmp_path: Path, rsa: SigningKey
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        first = authenticator(inline(rsa), replay=store)
        second = authenticator(inline(rsa), replay=store)  # another worker, same store
        token = mint(rsa)
        first.authenticate(bearer(token), AUDIENCE)
        assert "replayed" in refused(second, bearer(token))
    finally:
        store.close()


def test_a_refused_token_does_not_burn_its_jti(auth: Authenticator, rsa: SigningKey) -> None:
    refused(auth, bearer(mint(rsa, {"jti": "once", "aud": "https://wrong.example"})))
    assert auth.authenticate(bearer(mint(rsa, {"jti": "once"})), AUDIENCE)


def test_the_in_memory_guard_forgets_expired_ids() -> None:
    clock = Clock()
    guard = InMemoryReplayGuard(clock)
    assert not guard.seen(ISSUER, "j", clock.now + 10)
    assert guard.seen(ISSUER, "j", clock.now + 10)
    clock.advance(11)
    assert not guard.seen(ISSUER, "j", clock.now + 10)


# Keys fetched over HTTP


def url_issuer(url: str, **extra: Any) -> TrustedIssuers:
    return TrustedIssuers.from_json({"issuers": [{"iss": ISSUER, "jwks_url": url, **extra}]})


def test_fetches_the_jwks_from_jwks_url_once_and_caches_it(
    server: JwksServer, rsa: SigningKey
) -> None:
    auth = authenticator(url_issuer(server.publish(jwks(rsa))))
    for _ in range(3):
        auth.authenticate(bearer(mint(rsa)), AUDIENCE)
    assert server.count() == 1


def test_refetches_once_on_an_unknown_kid_and_accepts_the_rotated_key(
    server: JwksServer, rsa: SigningKey
) -> None:
    clock = Clock()
    auth = authenticator(url_issuer(server.publish(jwks(rsa))), clock)
    auth.authenticate(bearer(mint(rsa)), AUDIENCE)
    rotated = ec_key("rotated-2024")
    server.publish(jwks(rotated))
    clock.advance(11)
    assert auth.authenticate(bearer(mint(rotated)), AUDIENCE).iss == ISSUER
    assert server.count() == 2


def test_rate_limits_refetches_for_unknown_kids(server: JwksServer, rsa: SigningKey) -> None:
    clock = Clock()
    auth = authenticator(url_issuer(server.publish(jwks(rsa))), clock)
    auth.authenticate(bearer(mint(rsa)), AUDIENCE)
    clock.advance(11)
    stranger = rsa_key("unknown", fresh=1)
    for _ in range(5):
        assert "unknown kid" in refused(auth, bearer(mint(stranger)))
    assert server.count() == 2  # one refetch, then none within 10 s
    auth.authenticate(bearer(mint(rsa)), AUDIENCE)  # the known key still works
    assert server.count() == 2


def test_keeps_known_keys_when_the_jwks_url_fails(server: JwksServer, rsa: SigningKey) -> None:
    clock = Clock()
    auth = authenticator(url_issuer(server.publish(jwks(rsa))), clock)
    auth.authenticate(bearer(mint(rsa)), AUDIENCE)
    server.publish(b"<html>down</html>")
    clock.advance(4000)  # past the cache age: a refetch is attempted and fails
    now = int(clock.now)
    assert auth.authenticate(bearer(mint(rsa, {"iat": now, "exp": now + 60})), AUDIENCE)
    assert server.count() == 2


def test_an_unreachable_jwks_url_refuses_without_crashing(rsa: SigningKey) -> None:
    with jwks_server() as gone:
        url = gone.url()
    auth = authenticator(url_issuer(url))
    assert "unknown kid" in refused(auth, bearer(mint(rsa)))


def test_refuses_a_jku_not_on_the_allow_list(server: JwksServer, rsa: SigningKey) -> None:
    evil = rsa_key(rsa.kid, fresh=1)
    evil_url = server.publish(jwks(evil), "/evil.json")
    auth = authenticator(inline(rsa))
    assert "jku" in refused(auth, bearer(mint(evil, header_overrides={"jku": evil_url})))
    assert server.count("/evil.json") == 0


def test_accepts_keys_from_an_allow_listed_jku(server: JwksServer, rsa: SigningKey) -> None:
    other = ec_key("from-jku")
    url = server.publish(jwks(other), "/ehr/jwks.json")
    auth = authenticator(inline(rsa, jku=[url]))
    assert auth.authenticate(bearer(mint(other, header_overrides={"jku": url})), AUDIENCE)
    assert auth.authenticate(bearer(mint(rsa)), AUDIENCE)  # without jku: the inline keys


# FHIR server allow-list


def test_fhir_server_allowed_only_on_the_issuers_list(rsa: SigningKey) -> None:
    issuers = inline(rsa, fhir_servers=["https://fhir.example.org/r4"])
    assert issuers.fhir_server_allowed(ISSUER, "https://fhir.example.org/r4")
    assert issuers.fhir_server_allowed(ISSUER, "https://FHIR.example.org/r4/")
    assert not issuers.fhir_server_allowed(ISSUER, "https://fhir.example.org/r4/admin")
    assert not issuers.fhir_server_allowed(ISSUER, "https://fhir.example.org")
    assert not issuers.fhir_server_allowed(ISSUER, "http://fhir.example.org/r4")
    assert not issuers.fhir_server_allowed("https://other.example", "https://fhir.example.org/r4")
    assert not TrustedIssuers().fhir_server_allowed(ISSUER, "https://fhir.example.org/r4")
