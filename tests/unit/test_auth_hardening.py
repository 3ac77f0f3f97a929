"""Short-lived tokens only, keys over https only, and refusal reasons that stay short in the log."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cds_service import create_app
from cds_service.auth import MAX_TOKEN_LIFETIME, Authenticator, TrustedIssuers, is_loopback_url
from cds_service.store import Store
from tests.support.logs import captured_logs
from tests.support.tokens import AUDIENCE, ISSUER, SigningKey, mint, rsa_key
from tests.unit.test_auth import authenticator, bearer, inline, refused


@pytest.fixture
def rsa() -> SigningKey:
    return rsa_key()


@pytest.fixture
def auth(rsa: SigningKey) -> Authenticator:
    return authenticator(inline(rsa))


# Token lifetime


def test_a_token_valid_until_2999_is_refused(auth: Authenticator, rsa: SigningKey) -> None:
    now = int(time.time())
    reason = refused(auth, bearer(mint(rsa, {"iat": now, "exp": 32503680000})))
    assert "lifetime" in reason and "over 300 s" in reason


@pytest.mark.parametrize(("lifetime", "accepted"), [(300, True), (330, True), (331, False)])
def test_token_lifetime_is_at_most_5_minutes_plus_the_leeway(
    auth: Authenticator, rsa: SigningKey, lifetime: int, accepted: bool
) -> None:
    now = int(time.time())
    header = bearer(mint(rsa, {"iat": now, "exp": now + lifetime}))
    if accepted:
        assert auth.authenticate(header, AUDIENCE).exp == now + lifetime
    else:
        assert "lifetime" in refused(auth, header)


def test_an_issuer_known_to_mint_longer_tokens_can_be_allowed_them(rsa: SigningKey) -> None:
    auth = authenticator(inline(rsa, max_token_lifetime=3600))
    now = int(time.time())
    assert auth.authenticate(bearer(mint(rsa, {"iat": now, "exp": now + 3600})), AUDIENCE)
    assert "over 3600 s" in refused(auth, bearer(mint(rsa, {"iat": now, "exp": now + 3700})))


@pytest.mark.parametrize("value", [0, -5, "300", True, 1.5])
def test_a_bad_max_token_lifetime_fails_at_start(rsa: SigningKey, value: object) -> None:
    with pytest.raises(ValueError, match="max_token_lifetime"):
        inline(rsa, max_token_lifetime=value)


def test_the_default_lifetime_is_the_cds_hooks_five_minutes() -> None:
    assert MAX_TOKEN_LIFETIME == 300


def test_a_long_lived_token_leaves_no_replay_row_and_accepted_ones_are_purged_at_expiry(
    rsa: SigningKey,
) -> None:
    clock = [time.time()]
    store = Store.open("sqlite://", clock=lambda: clock[0])
    try:
        auth = Authenticator(inline(rsa), replay=store, clock=lambda: clock[0])
        now = int(clock[0])
        with pytest.raises(Exception, match="lifetime"):
            auth.authenticate(bearer(mint(rsa, {"iat": now, "exp": 32503680000})), AUDIENCE)
        auth.authenticate(bearer(mint(rsa, {"iat": now, "exp": now + 300})), AUDIENCE)
        with store.engine.connect() as conn:
            (count,) = conn.exec_driver_sql("SELECT count(*) FROM jti_seen").one()
        assert count == 1
        clock[0] += 300 + 30 + 61  # past exp + leeway, and past the purge interval
        later = int(clock[0])
        auth.authenticate(bearer(mint(rsa, {"iat": later, "exp": later + 300})), AUDIENCE)
        with store.engine.connect() as conn:
            (count,) = conn.exec_driver_sql("SELECT count(*) FROM jti_seen").one()
        assert count == 1  # only the newest token's row is left
    finally:
        store.close()


# Key URLs


@pytest.mark.parametrize("field", ["jwks_url", "jku"])
@pytest.mark.parametrize(
    "url",
    ["http://ehr.example/jwks.json", "ftp://ehr.example/jwks.json", "http://10.0.0.1/jwks"],
)
def test_a_key_url_over_plain_http_off_loopback_fails_at_start(field: str, url: str) -> None:
    entry = {"iss": ISSUER, field: url if field == "jwks_url" else [url]}
    with pytest.raises(ValueError, match=f"{field}.*https"):
        TrustedIssuers.from_json({"issuers": [entry]})


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/jwks.json", "http://localhost/jwks", "http://[::1]:9/jwks"]
)
def test_a_loopback_http_key_url_is_allowed_for_tests_and_reported(url: str) -> None:
    issuers = TrustedIssuers.from_json({"issuers": [{"iss": ISSUER, "jwks_url": url}]})
    (issuer,) = issuers
    assert issuer.loopback_http_urls == (url,)


def test_an_https_key_url_is_not_reported() -> None:
    entry = {"iss": ISSUER, "jwks_url": "https://ehr.example/jwks", "jku": ["https://e/j"]}
    (issuer,) = TrustedIssuers.from_json({"issuers": [entry]})
    assert issuer.loopback_http_urls == ()


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1/x", True),
        ("http://127.9.9.9:80/x", True),
        ("http://[::1]/x", True),
        ("http://localhost:8/x", True),
        ("http://localhost.evil.example/x", False),
        ("http://127.0.0.1.nip.io/x", False),
        ("http://0.0.0.0/x", False),
        ("http://[::ffff:10.0.0.1]/x", False),
        ("not a url", False),
    ],
)
def test_loopback_urls(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


# Log size


def test_a_refusal_reason_quotes_a_5_kb_kid_cut_to_200_characters(
    auth: Authenticator, rsa: SigningKey
) -> None:
    huge = "k" * 5000
    reason = refused(auth, bearer(mint(rsa, header_overrides={"kid": huge})))
    assert len(reason) < 400
    assert "k" * 190 in reason and "(5002 characters)" in reason


def test_a_refusal_reason_quotes_a_huge_issuer_cut(auth: Authenticator, rsa: SigningKey) -> None:
    reason = refused(auth, bearer(mint(rsa, {"iss": "i" * 10_000})))
    assert len(reason) < 400


def test_the_service_warns_at_start_about_a_loopback_http_key_url(tmp_path: Path) -> None:
    issuers = tmp_path / "issuers.json"
    url = "http://127.0.0.1:9/jwks.json"
    issuers.write_text(json.dumps({"issuers": [{"iss": ISSUER, "jwks_url": url}]}))
    with captured_logs() as lines:
        app = create_app(
            {
                "trusted_issuers_file": str(issuers),
                "database_url": f"sqlite:///{tmp_path / 's.sqlite3'}",
            }
        )
    app.extensions["pnen_cds"].store.close()
    warnings = [json.loads(line) for line in lines if "plain http" in line]
    assert [(w["level"], w["url"], w["iss"]) for w in warnings] == [("WARNING", url, ISSUER)]


def test_the_service_refuses_to_start_with_a_plain_http_key_url(tmp_path: Path) -> None:
    issuers = tmp_path / "issuers.json"
    issuers.write_text(
        json.dumps({"issuers": [{"iss": ISSUER, "jwks_url": "http://ehr.example/jwks"}]})
    )
    with pytest.raises(ValueError, match=r"issuers\[0\]\.jwks_url: must be an https URL"):
        create_app(
            {
                "trusted_issuers_file": str(issuers),
                "database_url": f"sqlite:///{tmp_path / 's.sqlite3'}",
            }
        )
