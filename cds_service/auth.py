"""CDS Hooks 2.0 JWT validation: trusted issuers, their keys, claims and replay (framework-free)."""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import urlsplit, urlunsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.types import Options

from cds_service.loopback import is_loopback_url

__all__ = [
    "ALGORITHMS",
    "MAX_TOKEN_LIFETIME",
    "AuthError",
    "Authenticator",
    "Claims",
    "InMemoryReplayGuard",
    "Issuer",
    "ReplayGuard",
    "TrustedIssuers",
    "is_loopback_url",
]

log = logging.getLogger("pnen_cds.auth")

# CDS Hooks 2.0: asymmetric signatures only (RS384/ES384 recommended); never "none" or HMAC.
ALGORITHMS: Final[frozenset[str]] = frozenset({"RS384", "ES384", "RS256", "ES256"})
MAX_LEEWAY: Final[int] = 30
MAX_TOKEN_CHARS: Final[int] = 16 * 1024
MAX_JTI_CHARS: Final[int] = 255
MAX_JWKS_BYTES: Final[int] = 1024 * 1024
# CDS Hooks: short-lived tokens (5 minutes); an issuer's entry may allow longer ones.
MAX_TOKEN_LIFETIME: Final[int] = 300
# Claim and header values quoted in a refusal reason (the log) are cut to this length.
SHOWN_CHARS: Final[int] = 200
_EC_ALGORITHM_BY_CURVE: Final[dict[str, str]] = {"secp256r1": "ES256", "secp384r1": "ES384"}
_RSA_ALGORITHMS: Final[frozenset[str]] = frozenset({"RS256", "RS384"})
# Signature and claim shapes are checked by PyJWT; times and audience here, against our clock.
_DECODE_OPTIONS: Final[Options] = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "verify_sub": True,
    "verify_jti": True,
    "require": ["iss", "exp", "iat", "jti"],
    "enforce_minimum_key_length": True,
}


class AuthError(Exception):
    """A refused token; `reason` is for the log only, never for the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReplayGuard(Protocol):
    """Remembers token ids until they expire (shared by all workers in production)."""

    def seen(self, iss: str, jti: str, exp: float) -> bool:
        """Record (iss, jti) until exp; True if it was already recorded and not yet expired."""
        ...


class InMemoryReplayGuard:
    """A per-process replay guard for tests and single-process use."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._next_purge = 0.0

    def seen(self, iss: str, jti: str, exp: float) -> bool:
        """Record (iss, jti) until exp; True if it was already recorded and not yet expired."""
        now = self._clock()
        with self._lock:
            if now >= self._next_purge:
                self._seen = {k: v for k, v in self._seen.items() if v >= now}
                self._next_purge = now + 60
            old = self._seen.get((iss, jti))
            if old is not None and old >= now:
                return True
            self._seen[(iss, jti)] = exp
            return False


def _normalise_url(url: str) -> str:
    """A URL for comparison: scheme and host lower-cased, trailing slashes dropped."""
    parts = urlsplit(url.strip())
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, "")
    )


def _clip(text: str, limit: int = SHOWN_CHARS) -> str:
    """`text`, cut to `limit` characters (a 5 KB kid must not make a 5 KB log line)."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _shown(value: Any) -> str:
    """A claim or header value as quoted in a refusal reason: repr, cut to SHOWN_CHARS."""
    return _clip(repr(value))


def _key_url(url: str, where: str) -> str:
    """A JWKS URL from the issuers file: https, or http on loopback (tests); else ValueError."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https" or (scheme == "http" and is_loopback_url(url)):
        return url
    raise ValueError(f"{where}: must be an https URL (http only on loopback, for testing)")


def _string_list(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{where}.{key}: expected a list of non-empty strings")
    return tuple(value)


@dataclass(frozen=True)
class Issuer:
    """One trusted EHR: its keys (inline JWKS or a URL), allowed jku URLs and FHIR servers."""

    iss: str
    jwks_url: str | None = None
    jwks: Mapping[str, Any] | None = None
    jku: tuple[str, ...] = ()
    fhir_servers: tuple[str, ...] = ()
    max_token_lifetime: int = MAX_TOKEN_LIFETIME

    @property
    def loopback_http_urls(self) -> tuple[str, ...]:
        """Key URLs fetched over plain http (loopback only: tests, never production)."""
        urls = ((self.jwks_url,) if self.jwks_url else ()) + self.jku
        return tuple(u for u in urls if urlsplit(u).scheme.lower() == "http")

    @classmethod
    def from_json(cls, entry: Any, where: str) -> Issuer:
        """An issuer from its trusted-issuers file entry; ValueError naming the bad field."""
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected an object")
        iss = entry.get("iss")
        if not isinstance(iss, str) or not iss:
            raise ValueError(f"{where}.iss: expected a non-empty string")
        jwks_url = entry.get("jwks_url")
        if jwks_url is not None and (not isinstance(jwks_url, str) or not jwks_url):
            raise ValueError(f"{where}.jwks_url: expected a URL")
        if jwks_url is not None:
            _key_url(jwks_url, f"{where}.jwks_url")
        jwks = entry.get("jwks")
        if jwks is not None and (
            not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list)
        ):
            raise ValueError(f'{where}.jwks: expected {{"keys": [...]}}')
        jku = _string_list(entry, "jku", where)
        for i, url in enumerate(jku):
            _key_url(url, f"{where}.jku[{i}]")
        if jwks_url is None and jwks is None and not jku:
            raise ValueError(f"{where}: needs jwks, jwks_url or jku")
        lifetime = entry.get("max_token_lifetime", MAX_TOKEN_LIFETIME)
        if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime <= 0:
            raise ValueError(f"{where}.max_token_lifetime: expected a positive number of seconds")
        return cls(iss, jwks_url, jwks, jku, _string_list(entry, "fhir_servers", where), lifetime)


class TrustedIssuers:
    """The trusted-issuers file: which EHRs may call, with which keys and FHIR servers."""

    def __init__(self, issuers: Iterable[Issuer] = ()) -> None:
        self._by_iss: dict[str, Issuer] = {}
        self._fhir_servers: dict[str, frozenset[str]] = {}
        self._jku: dict[str, frozenset[str]] = {}
        for issuer in issuers:
            if issuer.iss in self._by_iss:
                raise ValueError(f"issuer {issuer.iss!r} listed twice")
            self._by_iss[issuer.iss] = issuer
            self._fhir_servers[issuer.iss] = frozenset(map(_normalise_url, issuer.fhir_servers))
            self._jku[issuer.iss] = frozenset(issuer.jku)

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None) -> TrustedIssuers:
        """Read the JSON file; None gives no issuers (every token refused); ValueError if bad."""
        if path is None:
            return cls()
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not JSON: {exc}") from exc
        return cls.from_json(data, str(path))

    @classmethod
    def from_json(cls, data: Any, where: str = "issuers file") -> TrustedIssuers:
        """Issuers from the parsed file content `{"issuers": [...]}`."""
        if not isinstance(data, dict) or not isinstance(data.get("issuers"), list):
            raise ValueError(f'{where}: expected {{"issuers": [...]}}')
        return cls(
            Issuer.from_json(entry, f"{where}: issuers[{i}]")
            for i, entry in enumerate(data["issuers"])
        )

    def __len__(self) -> int:
        return len(self._by_iss)

    def __contains__(self, iss: object) -> bool:
        return iss in self._by_iss

    def __iter__(self) -> Iterator[Issuer]:
        return iter(self._by_iss.values())

    def get(self, iss: str) -> Issuer | None:
        """The trusted issuer named `iss`, or None."""
        return self._by_iss.get(iss)

    def jku_allowed(self, iss: str, url: str) -> bool:
        """True if `url` is on the issuer's jku allow-list (exact match)."""
        return url in self._jku.get(iss, frozenset())

    def fhir_server_allowed(self, iss: str, url: str) -> bool:
        """True if `url` is on the issuer's fhir_servers allow-list (trailing "/" ignored)."""
        try:
            normalised = _normalise_url(url)
        except ValueError:  # a malformed host ("http://[::1/R4") is on no list
            return False
        return normalised in self._fhir_servers.get(iss, frozenset())


@dataclass(frozen=True)
class Claims:
    """The verified claims of an accepted token."""

    iss: str
    sub: str | None
    jti: str
    exp: float
    aud: tuple[str, ...]
    raw: Mapping[str, Any] = field(compare=False, repr=False)


PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class _Key:
    """A usable verification key and the algorithms it may verify."""

    key: PublicKey
    algorithms: frozenset[str]


def _parse_key(jwk: Any) -> tuple[str, _Key] | None:
    """(kid, key) from a JWK, or None for keys that cannot verify our algorithms."""
    if not isinstance(jwk, dict):
        return None
    kid = jwk.get("kid")
    if not isinstance(kid, str) or jwk.get("use", "sig") != "sig":
        return None
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return None
    if jwk.get("kty") not in ("RSA", "EC"):
        return None  # never symmetric ("oct") keys
    try:
        loaded: Any = jwt.PyJWK(jwk).key
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        log.warning("unusable JWK skipped", extra={"kid": _shown(kid)})
        return None
    if isinstance(loaded, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        loaded = loaded.public_key()
    if isinstance(loaded, rsa.RSAPublicKey):
        algorithms = _RSA_ALGORITHMS
    elif isinstance(loaded, ec.EllipticCurvePublicKey):
        curve_alg = _EC_ALGORITHM_BY_CURVE.get(loaded.curve.name)
        algorithms = frozenset({curve_alg} if curve_alg else ())
    else:
        return None
    declared = jwk.get("alg")
    if declared is not None:
        algorithms = algorithms & {declared}
    if not algorithms:
        return None
    return kid, _Key(loaded, frozenset(algorithms))


def _parse_jwks(jwks: Any) -> dict[str, _Key]:
    """The usable keys of a JWKS by kid."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise AuthError('JWKS is not {"keys": [...]}')
    keys: dict[str, _Key] = {}
    for jwk in jwks["keys"]:
        parsed = _parse_key(jwk)
        if parsed is not None:
            keys.setdefault(parsed[0], parsed[1])
    return keys


class _KeySet:
    """One source of keys (inline JWKS, jwks_url or an allowed jku), fetched and cached."""

    def __init__(self, url: str | None, keys: dict[str, _Key] | None = None) -> None:
        self.url = url
        self.keys: dict[str, _Key] | None = keys
        self.fetched_at = 0.0
        self.attempted_at: float | None = None
        self.lock = threading.Lock()


class Authenticator:
    """Validates CDS Hooks bearer JWTs against the trusted issuers (thread-safe)."""

    def __init__(
        self,
        issuers: TrustedIssuers,
        *,
        replay: ReplayGuard,
        leeway: int = MAX_LEEWAY,
        http_timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
        refetch_interval: float = 10.0,
        jwks_max_age: float = 3600.0,
    ) -> None:
        if not 0 <= leeway <= MAX_LEEWAY:
            raise ValueError(f"leeway must be between 0 and {MAX_LEEWAY} seconds")
        self._issuers = issuers
        self._replay = replay
        self._leeway = leeway
        self._http_timeout = http_timeout
        self._clock = clock
        self._refetch_interval = refetch_interval
        self._jwks_max_age = jwks_max_age
        self._jwt = jwt.PyJWT()
        self._sets: dict[tuple[str, str | None], _KeySet] = {}
        self._sets_lock = threading.Lock()
        self._session: requests.Session | None = None
        self._session_pid = 0
        for issuer in issuers:
            if issuer.jwks is not None:
                keys = _parse_jwks(issuer.jwks)
                if not keys:
                    log.warning("no usable key in the inline JWKS", extra={"iss": issuer.iss})
                self._sets[(issuer.iss, None)] = _KeySet(None, keys)

    def authenticate(
        self, authorization_header: str | None, audience: str | Sequence[str]
    ) -> Claims:
        """The verified claims of the request's bearer token; AuthError if it is refused."""
        token = _bearer(authorization_header)
        unverified, unverified_claims = _peek(token)
        alg = unverified.get("alg")
        if not isinstance(alg, str) or alg not in ALGORITHMS:
            raise AuthError(f"algorithm {_shown(alg)} not accepted")
        kid = unverified.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("no kid in the token header")
        typ = unverified.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.upper() != "JWT"):
            raise AuthError(f"typ {_shown(typ)} is not JWT")
        iss = unverified_claims.get("iss")
        issuer = self._issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise AuthError(f"untrusted issuer {_shown(iss)}")
        key = self._key(issuer, kid, alg, unverified.get("jku"))
        try:
            claims: dict[str, Any] = self._jwt.decode(
                token, key.key, algorithms=[alg], options=_DECODE_OPTIONS
            )
        except jwt.PyJWTError as exc:
            raise AuthError(f"token rejected: {_clip(str(exc))}") from exc
        checked = self._check_claims(claims, audience, issuer.max_token_lifetime)
        if self._replay.seen(checked.iss, checked.jti, checked.exp + self._leeway):
            raise AuthError(f"replayed jti {_shown(checked.jti)} from {checked.iss!r}")
        return checked

    def _check_claims(
        self, claims: dict[str, Any], audience: str | Sequence[str], max_lifetime: int
    ) -> Claims:
        """Times (with leeway, against our clock), lifetime, audience and claim types."""
        now = self._clock()
        exp = _number(claims, "exp")
        iat = _number(claims, "iat")
        if exp is None or iat is None:
            raise AuthError("exp and iat must be numbers")
        if now > exp + self._leeway:
            raise AuthError(f"token expired {now - exp:.0f} s ago")
        if iat > now + self._leeway:
            raise AuthError(f"token issued {iat - now:.0f} s in the future")
        if exp - iat > max_lifetime + self._leeway:
            # A long-lived token could be replayed for longer, and its jti kept that long.
            raise AuthError(f"token lifetime {exp - iat:.0f} s over {max_lifetime} s")
        if "nbf" in claims:
            nbf = _number(claims, "nbf")
            if nbf is None or nbf > now + self._leeway:
                raise AuthError("token not yet valid (nbf)")
        jti = claims["jti"]
        if not jti or len(jti) > MAX_JTI_CHARS or not jti.isprintable():
            raise AuthError("jti empty, too long or not printable")  # stored for replay checks
        aud = claims.get("aud")
        token_aud = (aud,) if isinstance(aud, str) else aud
        if not isinstance(token_aud, list | tuple) or not all(
            isinstance(a, str) for a in token_aud
        ):
            raise AuthError("aud missing or not a string or list of strings")
        wanted = {audience} if isinstance(audience, str) else set(audience)
        if not {a.rstrip("/") for a in token_aud} & {w.rstrip("/") for w in wanted}:
            raise AuthError(f"aud {_shown(aud)} is not this endpoint")
        sub = claims.get("sub")
        return Claims(claims["iss"], sub, jti, exp, tuple(token_aud), claims)

    def _key(self, issuer: Issuer, kid: str, alg: str, jku: Any) -> _Key:
        """The issuer's key for kid (refetching once on an unknown kid), checked against alg."""
        sources: list[str | None] = []
        if jku is not None:
            if not isinstance(jku, str) or not self._issuers.jku_allowed(issuer.iss, jku):
                raise AuthError(f"jku {_shown(jku)} not allowed for {issuer.iss!r}")
            sources.append(jku)
        else:
            if issuer.jwks is not None:
                sources.append(None)
            if issuer.jwks_url is not None:
                sources.append(issuer.jwks_url)
        found: _Key | None = None
        for source in sources:
            found = self._lookup(issuer.iss, source, kid)
            if found is not None:
                break
        if found is None:
            raise AuthError(f"unknown kid {_shown(kid)} for {issuer.iss!r}")
        if alg not in found.algorithms:
            raise AuthError(f"key {_shown(kid)} does not verify {alg}")
        return found

    def _lookup(self, iss: str, source: str | None, kid: str) -> _Key | None:
        """kid in one key source; a fetched source is refreshed when stale or kid is unknown."""
        key_set = self._key_set(iss, source)
        keys = key_set.keys
        if source is not None:
            stale = keys is not None and self._clock() - key_set.fetched_at > self._jwks_max_age
            if keys is None or stale or kid not in keys:
                keys = self._refresh(key_set, kid)
        return keys.get(kid) if keys is not None else None

    def _key_set(self, iss: str, source: str | None) -> _KeySet:
        found = self._sets.get((iss, source))
        if found is None:
            with self._sets_lock:
                found = self._sets.setdefault((iss, source), _KeySet(source))
        return found

    def _refresh(self, key_set: _KeySet, kid: str) -> dict[str, _Key] | None:
        """Refetch the key set unless fetched recently (at most once per refetch_interval)."""
        with key_set.lock:
            now = self._clock()
            keys = key_set.keys
            fresh = keys is not None and now - key_set.fetched_at <= self._jwks_max_age
            if fresh and keys is not None and kid in keys:
                return keys  # another thread fetched it meanwhile
            recent = key_set.attempted_at is not None and (
                now - key_set.attempted_at < self._refetch_interval
            )
            if recent or key_set.url is None:
                return keys
            key_set.attempted_at = now
            try:
                key_set.keys = _parse_jwks(self._fetch(key_set.url))
                key_set.fetched_at = now
            except (AuthError, requests.RequestException, ValueError) as exc:
                # Keep the keys we had: a JWKS outage should not lock every EHR out at once.
                log.warning("JWKS fetch failed", extra={"url": key_set.url, "error": str(exc)})
            return key_set.keys

    def _fetch(self, url: str) -> Any:
        """The JSON at url (no redirects, bounded size)."""
        pid = os.getpid()
        if self._session is None or self._session_pid != pid:
            self._session = requests.Session()  # never share sockets across a fork
            self._session_pid = pid
        with self._session.get(
            url,
            timeout=self._http_timeout,
            allow_redirects=False,
            stream=True,
            headers={"Accept": "application/json, application/jwk-set+json"},
        ) as response:
            if response.status_code != 200:
                raise AuthError(f"JWKS {url} answered {response.status_code}")
            body = bytearray()
            for chunk in response.iter_content(chunk_size=64 * 1024):
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise AuthError(f"JWKS {url} over {MAX_JWKS_BYTES} bytes")
        return json.loads(body)


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The unverified JOSE header and claims, only to choose the issuer and key.

    PyJWT then decodes and verifies the token once with that key; reading the two JSON segments
    here avoids a second full decode per request.
    """
    parts = token.split(".")
    if len(parts) != 3:
        raise AuthError("malformed token: not three segments")
    try:
        header, claims = (
            json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
            for part in parts[:2]
        )
    except (ValueError, UnicodeDecodeError) as exc:  # binascii.Error is a ValueError
        raise AuthError("malformed token: segments are not base64url JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise AuthError("malformed token: header and claims must be JSON objects")
    return header, claims


def _bearer(header: str | None) -> str:
    """The token of an `Authorization: Bearer <jwt>` header."""
    if not header:
        raise AuthError("no Authorization header")
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise AuthError("Authorization is not 'Bearer <token>'")
    if len(parts[1]) > MAX_TOKEN_CHARS:
        raise AuthError("token too long")
    return parts[1]


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    """A numeric claim (bool is not a number here)."""
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
