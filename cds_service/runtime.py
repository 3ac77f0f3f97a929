"""Per-process state built once by the app factory: knowledge, store, authenticator, session."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson
import requests
from requests.adapters import HTTPAdapter

from cds_service.auth import Authenticator, AuthError, TrustedIssuers, is_loopback_url
from cds_service.config import Config
from cds_service.errors import unauthorized
from cds_service.fhir_client import FhirClient
from cds_service.records import FETCH_THREADS
from cds_service.store import Store
from cds_service.urls import split_url
from hooks.knowledge import Knowledge
from hooks.prefetch import PrefetchPlan, prefetch_plan
from hooks.registry import discovery
from hooks.request import HookRequest
from pnen_i18n import SUPPORTED_LOCALES, negotiate, use_locale

log = logging.getLogger("pnen_cds.auth")


def _fhir_session() -> requests.Session:
    """An HTTP session keeping a connection per concurrent fetch (see records._POOL)."""
    session = requests.Session()
    for scheme in ("https://", "http://"):
        session.mount(scheme, HTTPAdapter(pool_maxsize=FETCH_THREADS))
    return session


@dataclass
class Runtime:
    """What every request of this process shares."""

    config: Config
    knowledge: Knowledge
    store: Store
    authenticator: Authenticator | None
    issuers: TrustedIssuers | None
    plan: PrefetchPlan = field(init=False)
    _discovery: dict[str, bytes] = field(init=False, default_factory=dict)
    session: requests.Session = field(init=False, default_factory=_fhir_session)

    def __post_init__(self) -> None:
        self.plan = prefetch_plan(self.knowledge.terms)
        for locale in SUPPORTED_LOCALES:
            with use_locale(locale):
                self._discovery[locale] = orjson.dumps(discovery(self.knowledge))

    def discovery_bytes(self, locale: str) -> bytes:
        """The discovery document in a supported locale (built once at start)."""
        return self._discovery[locale]

    def locale_for(self, accept_language: str | None) -> str:
        """The locale of a request: its Accept-Language if supported, else the configured one."""
        return negotiate(accept_language, self.config.language)

    @property
    def public_url(self) -> str:
        """The base URL EHRs call, without a trailing slash."""
        return self.config.public_url.rstrip("/")

    def authenticate(self, header: str | None, audiences: list[str]) -> str | None:
        """The verified issuer, None with authentication off; 401 otherwise (reason logged)."""
        if self.authenticator is None:
            return None
        try:
            claims = self.authenticator.authenticate(header, audiences)
        except AuthError as exc:
            log.warning("authentication failed", extra={"reason": exc.reason})
            raise unauthorized() from exc
        return claims.iss

    def fhir_server_allowed(self, server: str, issuer: str | None) -> bool:
        """Outside --dev: https, and on the calling issuer's fhir_servers allow-list (no SSRF)."""
        parts = split_url(server)
        return (
            parts is not None
            and (parts.scheme == "https" or self.config.allow_insecure_fhir)
            and self.issuers is not None
            and issuer is not None
            and self.issuers.fhir_server_allowed(issuer, server)
        )

    def dev_fhir_server_allowed(self, server: str) -> bool:
        """In --dev: a loopback server, or one on any issuer's fhir_servers list (no open relay).

        Without authentication any web page could otherwise make the service probe any URL.
        """
        return is_loopback_url(server) or self.on_any_allow_list(server)

    def on_any_allow_list(self, server: str) -> bool:
        """The server is on some trusted issuer's fhir_servers allow-list."""
        return self.issuers is not None and any(
            self.issuers.fhir_server_allowed(i.iss, server) for i in self.issuers
        )

    def client_factory(
        self, hook_request: HookRequest, issuer: str | None
    ) -> Callable[[], FhirClient | None]:
        """A lazy FHIR client for this request (None without fhirServer); checks SSRF rules."""
        server = hook_request.fhir_server
        made: list[FhirClient | None] = []

        def make() -> FhirClient | None:
            # One client per request: its deadline bounds all the request's fetches together.
            if not made:
                made.append(self._client(server, hook_request.access_token, issuer))
            return made[0]

        return make

    def _client(
        self, server: str | None, token: str | None, issuer: str | None
    ) -> FhirClient | None:
        """A FHIR client for `server`, or None when there is none or it may not be contacted."""
        if server is None:
            return None
        if self.config.dev:
            if not self.dev_fhir_server_allowed(server):
                log.warning("fhirServer refused: development mode fetches from loopback only")
                return None
        elif not self.fhir_server_allowed(server, issuer):
            log.warning("fhirServer refused: not https or not on the issuer's allow-list")
            return None
        return FhirClient(
            self.session,
            server,
            token,
            self.config.fhir_timeout,
            self.config.fhir_max_pages,
            max_page_bytes=self.config.fhir_max_page_bytes,
            max_resources=self.config.fhir_max_resources,
        )
