"""The HTTP endpoints: views parse, dispatch to hooks, and map errors to status codes."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, Final

import orjson
from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from cds_service.errors import (
    ServiceError,
    bad_request,
    not_found,
    too_large,
    unsupported_media_type,
)
from cds_service.records import gather
from cds_service.runtime import Runtime
from cds_service.schemas import errors as schema_errors
from cds_service.store import AuditEntry, FeedbackItem
from hooks.registry import SERVICES
from hooks.request import RequestError, parse_request
from pnen_i18n import DEFAULT_LOCALE, use_locale

log = logging.getLogger("pnen_cds.api")
bp = Blueprint("cds", __name__)
_READ_CHUNK = 64 * 1024
JSON_MEDIA_TYPES: Final[tuple[str, ...]] = ("application/json", "application/fhir+json")
MAX_SERVICE_CHARS: Final[int] = 64  # the audit table's service column


def runtime() -> Runtime:
    """The per-process runtime (knowledge, store, authenticator) of the current app."""
    found: Runtime = current_app.extensions["pnen_cds"]
    return found


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response serialised with orjson."""
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def request_locale() -> str:
    """The language of this request: its Accept-Language if supported, else the configured one."""
    return runtime().locale_for(request.headers.get("Accept-Language"))


def localized(response: Response, locale: str) -> Response:
    """Say which language the body speaks, and that Accept-Language chose it (for caches)."""
    response.headers["Content-Language"] = locale
    if "Vary" in response.headers:
        response.vary.add("Accept-Language")
    else:  # the usual case, without parsing and rewriting a header set
        response.headers["Vary"] = "Accept-Language"
    return response


def _authenticate(*audiences: str) -> str | None:
    """Check the bearer JWT against the endpoint URL(s): the issuer, or None with auth off."""
    return runtime().authenticate(request.headers.get("Authorization"), list(audiences))


def read_unsized_body(limit: int) -> bytes:
    """A body sent without Content-Length (chunked), read up to `limit` bytes; 413 beyond."""
    if "wsgi.input_terminated" not in request.environ:
        return b""  # the server does not delimit it: unreadable safely (as Werkzeug does)
    stream = request.environ["wsgi.input"]
    body = bytearray()
    while chunk := stream.read(min(_READ_CHUNK, limit + 1 - len(body))):
        body += chunk
        if len(body) > limit:
            raise too_large(limit)
    return bytes(body)


def _require_json_content() -> None:
    """415 unless the body is declared JSON: a browser must then preflight (CORS) first."""
    if request.mimetype not in JSON_MEDIA_TYPES:  # lower-cased, parameters removed
        raise unsupported_media_type(JSON_MEDIA_TYPES)


def _load_json() -> Any:
    """The request body parsed as JSON, else 400."""
    unsized: bytes | None = g.get("unsized_body")
    raw = request.get_data(cache=False) if unsized is None else unsized
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request("body is not valid JSON", [("", str(exc))]) from exc


def _validate(body: Any, schema: str) -> dict[str, Any]:
    """The body, if it is a JSON object valid against a CDS Hooks schema, else 400."""
    problems = schema_errors(schema, body)
    if problems:
        raise bad_request(f"request does not match the CDS Hooks {schema} schema", problems)
    if not isinstance(body, dict):  # pragma: no cover - the schema requires an object
        raise bad_request("request must be a JSON object", [("", "expected an object")])
    return body


@dataclass
class AuditDraft:
    """What is known of a hook call so far, written as its audit row when the call ends."""

    service: str
    hook_instance: str = ""
    patient_ref: str | None = None
    rule_ids: list[str] = field(default_factory=list)
    cards: list[tuple[str, str]] = field(default_factory=list)
    resources_used: list[str] = field(default_factory=list)
    locale: str = DEFAULT_LOCALE


@contextmanager
def audited(rt: Runtime, service_id: str) -> Iterator[AuditDraft]:
    """Audit the call in the block with its final status (200, 4xx, 500), even when it fails.

    A 200 is answered only once its row is committed; a failed call's row is written before the
    error response, and a store failure then is logged without hiding the original error.
    """
    started = time.perf_counter()
    draft = AuditDraft(service_id[:MAX_SERVICE_CHARS])

    def entry(status: int) -> AuditEntry:
        return AuditEntry(
            service=draft.service,
            hook_instance=draft.hook_instance,
            patient_ref=draft.patient_ref,
            rule_ids=draft.rule_ids,
            cards=draft.cards if status == 200 else [],
            resources_used=draft.resources_used,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            status=status,
            locale=draft.locale,
        )

    try:
        yield draft
    except Exception as exc:
        status = 500
        if isinstance(exc, ServiceError):
            status = exc.status
        elif isinstance(exc, HTTPException):
            status = exc.code or 500
        try:
            rt.store.record_audit(entry(status))
        except Exception as store_error:  # the call's own error is the one to answer with
            log.error("audit row not written", exc_info=store_error, extra={"status": status})
        raise
    rt.store.record_audit(entry(200))


@bp.get("/cds-services")
def discovery_view() -> Response:
    """CDS Hooks discovery."""
    rt = runtime()
    _authenticate(f"{rt.public_url}/cds-services")
    locale = request_locale()
    return localized(Response(rt.discovery_bytes(locale), mimetype="application/json"), locale)


@bp.post("/cds-services/<service_id>")
def service_view(service_id: str) -> Response:
    """Evaluate a hook call and answer with cards; every authenticated call is audited."""
    rt = runtime()
    issuer = _authenticate(f"{rt.public_url}/cds-services/{service_id}")
    locale = request_locale()
    with audited(rt, service_id) as audit, use_locale(locale):
        audit.locale = locale
        service = SERVICES.get(service_id)
        if service is None:
            raise not_found(f"no CDS service {service_id!r}")
        _require_json_content()
        body = _load_json()
        if isinstance(body, dict) and isinstance(body.get("hookInstance"), str):
            audit.hook_instance = body["hookInstance"]
        _validate(body, "request")
        try:
            hook_request = parse_request(service.hook, body)
        except RequestError as exc:
            raise bad_request(str(exc), [(p.path, p.message) for p in exc.problems]) from exc
        g.patient_ref = audit.patient_ref = hook_request.patient_ref
        client = rt.client_factory(hook_request, issuer)
        plan = rt.plan
        today = date.today()
        core = gather(hook_request.prefetch, plan.core, hook_request.patient_id, client)
        items = core.items
        issues = list(core.issues)
        aliases = dict(core.aliases)
        if rt.knowledge.mapper.has_pnen(hook_request.patient_id, items, aliases=aliases):
            rest = gather(hook_request.prefetch, plan.rest, hook_request.patient_id, client)
            items = items + rest.items
            issues += rest.issues
            aliases.update(rest.aliases)
        facts = rt.knowledge.mapper.map(hook_request.patient_id, items, today, aliases=aliases)
        audit.resources_used = list(facts.resources_used)
        result = service.handler(hook_request, facts, rt.knowledge, today)
        response = result.response(issues)
        audit.rule_ids = list(result.rule_ids)
        audit.cards = [(c["uuid"], c["source"]["topic"]["code"]) for c in result.cards]
    return localized(json_response(response), locale)


@bp.post("/cds-services/<service_id>/feedback")
def feedback_view(service_id: str) -> Response:
    """Store CDS Hooks feedback durably (at most `max_feedback_entries`), then acknowledge."""
    rt = runtime()
    service_url = f"{rt.public_url}/cds-services/{service_id}"
    _authenticate(f"{service_url}/feedback", service_url)
    if service_id not in SERVICES:
        raise not_found(f"no CDS service {service_id!r}")
    _require_json_content()
    body = _load_json()
    limit = rt.config.max_feedback_entries
    entries = body.get("feedback") if isinstance(body, dict) else None
    if isinstance(entries, list) and len(entries) > limit:
        # Before the schema: validating tens of thousands of entries is the cost to avoid.
        raise bad_request(
            f"at most {limit} feedback entries per request",
            [("feedback", f"{len(entries)} entries, over the limit of {limit}")],
        )
    _validate(body, "feedback")
    items: list[FeedbackItem] = []
    problems: list[tuple[str, str]] = []
    for i, entry in enumerate(body["feedback"]):
        try:
            items.append(FeedbackItem.from_json(entry))
        except ValueError as exc:  # the message starts with the field: "card: too long"
            field, _, message = str(exc).partition(": ")
            problems.append((f"feedback[{i}].{field}", message or field))
    if problems:
        raise bad_request("feedback entries are malformed", problems)
    rt.store.record_feedback(service_id, items)
    return json_response({})


@cache
def openapi_document() -> bytes:
    """cds_service/openapi.json, read once."""
    return resources.files("cds_service").joinpath("openapi.json").read_bytes()


@bp.get("/openapi.json")
def openapi_view() -> Response:
    """The OpenAPI 3.1 description: public, like health checks (no patient or site data)."""
    return Response(openapi_document(), mimetype="application/json")


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers."""
    return json_response({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Response:
    """Readiness: knowledge loaded and the store reachable."""
    rt = runtime()
    ready = bool(rt.knowledge.rules) and rt.store.ping()
    return json_response(
        {"status": "ready" if ready else "not ready", "rules": len(rt.knowledge.rules)},
        200 if ready else 503,
    )


def error_response(exc: ServiceError) -> Response:
    """The JSON error body for a typed service error."""
    response = json_response(exc.body(), exc.status)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response
