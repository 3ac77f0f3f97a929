"""Signing keys, JWKS documents, CDS Hooks JWT minting and a loopback JWKS server for tests."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER = "https://ehr.example.org"
AUDIENCE = "http://127.0.0.1:8080/cds-services/pnen-patient-view"

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# Key generation is the slow part of these tests: generate each kind once per process.
_RSA_POOL: list[rsa.RSAPrivateKey] = []
_EC_POOL: dict[str, list[ec.EllipticCurvePrivateKey]] = {}


@dataclass(frozen=True)
class SigningKey:
    """A private key with its kid and algorithm; `jwk` is the public half as a JWK."""

    private: PrivateKey
    kid: str
    alg: str

    @property
    def jwk(self) -> dict[str, Any]:
        """The public JWK (with kid, alg and use)."""
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            data = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            data = jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
        data.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        return data


def rsa_key(kid: str = "rsa-1", alg: str = "RS384", *, fresh: int = 0) -> SigningKey:
    """An RSA 2048 signing key; keys with different `fresh` numbers differ."""
    while len(_RSA_POOL) <= fresh:
        _RSA_POOL.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return SigningKey(_RSA_POOL[fresh], kid, alg)


def ec_key(kid: str = "ec-1", alg: str = "ES384", *, fresh: int = 0) -> SigningKey:
    """An EC signing key on the curve of `alg` (P-384 for ES384, P-256 for ES256)."""
    curve: ec.EllipticCurve = ec.SECP384R1() if alg == "ES384" else ec.SECP256R1()
    pool = _EC_POOL.setdefault(curve.name, [])
    while len(pool) <= fresh:
        pool.append(ec.generate_private_key(curve))
    return SigningKey(pool[fresh], kid, alg)


def jwks(*keys: SigningKey) -> dict[str, Any]:
    """A JWKS document with the public halves of `keys`."""
    return {"keys": [key.jwk for key in keys]}


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid CDS Hooks claims, with overrides (a None value removes the claim)."""
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "ehr-client",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def mint(
    key: SigningKey,
    claim_overrides: Mapping[str, Any] | None = None,
    header_overrides: Mapping[str, Any] | None = None,
    *,
    alg: str | None = None,
) -> str:
    """A signed JWT: claims() with overrides, header kid/typ with overrides (None removes)."""
    headers: dict[str, Any] = {"kid": key.kid, "typ": "JWT", **(header_overrides or {})}
    payload = claims(**dict(claim_overrides or {}))
    return jwt.encode(
        payload,
        key.private,
        algorithm=alg or key.alg,
        headers={k: v for k, v in headers.items() if v is not None or k == "typ"},
    )


@dataclass
class JwksServer:
    """Serves JWKS documents by path on 127.0.0.1; swap them with `publish`, count requests."""

    port: int = 0
    documents: dict[str, Any] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/jwks.json") -> str:
        """The http URL of `path` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def publish(self, document: Any, path: str = "/jwks.json") -> str:
        """Serve `document` (a JWKS dict, or raw bytes) at `path`; its URL."""
        with self.lock:
            self.documents[path] = document
        return self.url(path)

    def count(self, path: str = "/jwks.json") -> int:
        """How many GET requests `path` has had."""
        with self.lock:
            return self.hits.get(path, 0)


def _handler(state: JwksServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            with state.lock:
                state.hits[self.path] = state.hits.get(self.path, 0) + 1
                document = state.documents.get(self.path)
            if document is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = document if isinstance(document, bytes) else json.dumps(document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def jwks_server() -> Iterator[JwksServer]:
    """A JWKS server on an ephemeral loopback port for the duration of the block."""
    state = JwksServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(
        target=httpd.serve_forever, args=(0.05,), name="jwks-server", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
