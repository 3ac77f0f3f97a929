"""A SMART App Launch 2.0 authorization server for the demo FHIR server, built on authlib.

Auto-approving (no login, no consent screen: a development tool), public clients only, the
authorization-code grant with PKCE S256 required, read-only patient scopes, the patient in context
from an EHR launch (`launch` from `_services/smart/Launch`) or, standalone, from a `patient` hint
or the first demo patient.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge

CODE_LIFETIME = 300
TOKEN_LIFETIME = 3600
READ_ONLY = ("launch", "launch/patient", "openid", "fhirUser", "online_access")
CAPABILITIES = (
    "launch-ehr",
    "launch-standalone",
    "client-public",
    "context-ehr-patient",
    "context-standalone-patient",
    "permission-patient",
    "permission-v1",
    "permission-v2",
)


def read_only_scopes(requested: str) -> str:
    """The requested scopes this server grants: launch context and patient-level reads only."""
    granted = []
    for scope in requested.split():
        if scope in READ_ONLY:
            granted.append(scope)
        elif scope.startswith("patient/"):
            _, _, access = scope.partition(".")
            # v1 `read`; v2 letters c r u d s: only r and s (read, search) are granted
            if access == "read" or (access and set(access) <= {"r", "s"}):
                granted.append(scope)
    return " ".join(granted)


@dataclass(frozen=True)
class Client:
    """A registered public SMART client: its id and the redirect URIs it may use."""

    client_id: str
    redirect_uris: tuple[str, ...]

    def get_client_id(self) -> str:
        """The client id."""
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        """The first registered redirect URI."""
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        """The read-only part of the requested scopes."""
        return read_only_scopes(scope or "")

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Only a registered redirect URI (query strings aside) is accepted."""
        return redirect_uri.split("?")[0] in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        """Public clients have no secret."""
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Public clients: no client authentication at the token endpoint."""
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        """The authorization-code flow only."""
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        """The authorization-code grant only (no refresh tokens)."""
        return grant_type == "authorization_code"


@dataclass
class Code:
    """An issued authorization code with its client, redirect, scope, PKCE and patient."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    patient: str | None
    issued: float = field(default_factory=time.monotonic)

    def get_redirect_uri(self) -> str:
        """The redirect URI the code was issued for."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """The granted scope."""
        return self.scope


class S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE required, S256 only (SMART App Launch 2.0 forbids `plain`)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        """A code_challenge with method S256 must come with every authorization request."""
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE required: code_challenge with method S256")
        super().validate_code_challenge(grant, redirect_uri)


class SmartState:
    """Clients, launch contexts, codes and tokens, in memory (one demo process)."""

    def __init__(self, clients: list[Client], default_patient: str | None) -> None:
        self.clients = {c.client_id: c for c in clients}
        self.default_patient = default_patient
        self.launches: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def new_launch(self, context: dict[str, Any]) -> str:
        """Store an EHR launch context; its opaque id."""
        launch_id = secrets.token_urlsafe(16)
        with self.lock:
            self.launches[launch_id] = context
        return launch_id

    def patient_for(self, launch: str | None, hint: str | None) -> str | None:
        """The patient in context: the EHR launch's, else the standalone hint, else the default."""
        if launch:
            context = self.launches.get(launch)
            if context is None:
                raise InvalidRequestError("unknown launch")
            patient = context.get("patient")
            return str(patient) if patient else None
        return hint or self.default_patient


def build_authorization_server(app: Any, state: SmartState) -> AuthorizationServer:
    """The authlib authorization server over `state`, registered on the Flask app."""

    class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = ["none"]

        def save_authorization_code(self, code: str, request: Any) -> None:
            data = request.payload.data
            with state.lock:
                state.codes[code] = Code(
                    code,
                    request.client.client_id,
                    request.payload.redirect_uri,
                    request.payload.scope or "",
                    data.get("code_challenge"),
                    data.get("code_challenge_method"),
                    request.user["patient"],
                )

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            found = state.codes.get(code)
            if found is None or found.client_id != client.client_id:
                return None
            if time.monotonic() - found.issued > CODE_LIFETIME:
                return None
            return found

        def delete_authorization_code(self, authorization_code: Code) -> None:
            with state.lock:
                state.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> dict[str, Any]:
            return {"patient": authorization_code.patient}

    def save_token(token: dict[str, Any], request: Any) -> None:
        patient = request.user.get("patient") if request.user else None
        if patient:
            token["patient"] = patient  # SMART launch context in the token response
        with state.lock:
            state.tokens[token["access_token"]] = {
                "patient": patient,
                "scope": token.get("scope", ""),
                "expires": time.time() + TOKEN_LIFETIME,
            }

    app.config.setdefault("OAUTH2_TOKEN_EXPIRES_IN", {"authorization_code": TOKEN_LIFETIME})
    server = AuthorizationServer(app, query_client=state.clients.get, save_token=save_token)
    server.register_grant(AuthorizationCodeGrant, [S256Only(required=True)])
    return server


def smart_configuration(fhir_base: str, auth_base: str) -> dict[str, Any]:
    """The `.well-known/smart-configuration` document of the demo server."""
    return {
        "issuer": fhir_base,
        "authorization_endpoint": f"{auth_base}/authorize",
        "token_endpoint": f"{auth_base}/token",
        "token_endpoint_auth_methods_supported": ["none"],
        "grant_types_supported": ["authorization_code"],
        "response_types_supported": ["code"],
        "scopes_supported": [*READ_ONLY, "patient/*.read", "patient/*.rs"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": list(CAPABILITIES),
    }


def same_base(aud: str | None, fhir_base: str) -> bool:
    """True when `aud` names this FHIR base (a trailing slash and the host's case aside)."""
    if not aud:
        return False
    a, b = urlsplit(aud.rstrip("/")), urlsplit(fhir_base.rstrip("/"))
    return (a.scheme, a.netloc.lower(), a.path) == (b.scheme, b.netloc.lower(), b.path)
