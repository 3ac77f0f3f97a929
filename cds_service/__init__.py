"""pnen-cds HTTP service: the only package that imports Flask, requests and SQLAlchemy."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from cards import CardOptions
from cds_service.api import bp, error_response, json_response, read_unsized_body
from cds_service.auth import Authenticator, TrustedIssuers
from cds_service.browser_headers import add_browser_headers
from cds_service.config import Config, load_config
from cds_service.dashboard import bp as dashboard_bp
from cds_service.errors import ServiceError, too_large
from cds_service.logs import configure_logging
from cds_service.rule_pages import bp as rule_pages_bp
from cds_service.runtime import Runtime
from cds_service.store import Store
from consensus.descriptions import descriptions
from hooks.knowledge import load_knowledge
from pnen_i18n import _

log = logging.getLogger("pnen_cds.app")
CORRELATION_HEADER = "X-Correlation-ID"
# An incoming correlation id is reused only when it cannot smuggle anything into logs or headers.
SAFE_CORRELATION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


def correlation_id(incoming: str | None) -> str:
    """The caller's correlation id when it is short and plain, else a new random one."""
    if incoming and SAFE_CORRELATION_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _cors(response: Response, config: Config) -> Response:
    origin = request.headers.get("Origin")
    if not origin:
        return response  # not a browser's cross-origin call (an EHR's server calling)
    allowed = config.cors_origins
    if request.path.startswith("/app/"):
        # The dashboard calls its endpoint same-origin; a wildcard (--dev) would let any page
        # read records from a loopback FHIR server through it. Only named origins apply here.
        allowed = tuple(o for o in allowed if o != "*")
    if "*" in allowed or origin in allowed:
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in allowed else origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization"
        response.headers["Access-Control-Expose-Headers"] = CORRELATION_HEADER
        response.headers["Access-Control-Max-Age"] = "600"
        if "*" not in allowed:
            response.vary.add("Origin")  # added: `localized` may have set Accept-Language
    return response


def build_runtime(config: Config) -> Runtime:
    """Load knowledge, read the trusted issuers and open the store (fail fast on any error)."""
    knowledge = load_knowledge(
        config.valuesets_dir,
        config.local_defaults,
        CardOptions(rule_url_base=config.rule_url_base, smart_app_url=config.smart_app_url),
    )
    descriptions()  # the rule pages' text: a malformed file stops the start, not one page later
    issuers = TrustedIssuers.load(config.trusted_issuers_file)  # before the store: nothing to close
    for issuer in issuers:
        for url in issuer.loopback_http_urls:
            log.warning(
                "JWKS fetched over plain http on loopback: for testing only",
                extra={"iss": issuer.iss, "url": url},
            )
    store = Store.open(config.database_url)
    if config.audit_retention_days:
        store.start_retention(config.audit_retention_days)
    authenticator = Authenticator(issuers, replay=store) if config.auth_enabled else None
    return Runtime(config, knowledge, store, authenticator, issuers)


def create_app(config: Config | Mapping[str, Any] | None = None) -> Flask:
    """The Flask app: configuration → knowledge and store, once → blueprint → error handlers."""
    if not isinstance(config, Config):
        config = load_config(config)
    configure_logging()
    app = Flask(__name__)
    app.jinja_env.globals["_"] = _  # page templates speak the request's locale
    app.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes
    app.extensions["pnen_cds"] = build_runtime(config)
    app.register_blueprint(bp)
    app.register_blueprint(rule_pages_bp)
    app.register_blueprint(dashboard_bp)

    @app.before_request
    def start() -> Response | None:
        g.correlation_id = correlation_id(request.headers.get(CORRELATION_HEADER))
        if request.method == "OPTIONS":
            return Response(status=204)
        length = request.content_length
        if length is not None and length > config.max_request_bytes:
            raise too_large(config.max_request_bytes)
        if length is None and request.method == "POST":
            # Chunked: the size is known only by reading, and 413 comes before 401.
            g.unsized_body = read_unsized_body(config.max_request_bytes)
        return None

    @app.after_request
    def finish(response: Response) -> Response:
        cid = getattr(g, "correlation_id", None)
        if isinstance(cid, str):
            response.headers[CORRELATION_HEADER] = cid
        return add_browser_headers(_cors(response, config), config)

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError) -> Response:
        if exc.status >= 500:
            log.error("service error", exc_info=exc)
        return error_response(exc)

    @app.errorhandler(RequestEntityTooLarge)
    def entity_too_large(_: RequestEntityTooLarge) -> Response:
        return error_response(too_large(config.max_request_bytes))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        response = json_response({"error": exc.description or exc.name}, exc.code or 500)
        for name, value in exc.get_headers():
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value  # e.g. Allow on a 405
        return response

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> Response:
        cid = getattr(g, "correlation_id", uuid.uuid4().hex)
        log.error("internal error", exc_info=exc, extra={"error_id": cid})
        return json_response({"error": "internal error", "id": cid}, 500)

    return app


__all__ = ["Config", "create_app", "load_config"]
