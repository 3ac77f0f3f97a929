"""The HTTP endpoints: views parse, dispatch to hooks, and map errors to status codes."""

from __future__ import annotations

import logging
import time
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, g, request

from cds_service.errors import ServiceError, bad_request, not_found, too_large
from cds_service.records import gather
from cds_service.runtime import Runtime
from cds_service.schemas import errors as schema_errors
from cds_service.store import AuditEntry, FeedbackItem
from hooks.registry import SERVICES
from hooks.request import RequestError, parse_request

log = logging.getLogger("pnen_cds.api")
bp = Blueprint("cds", __name__)
_READ_CHUNK = 64 * 1024


def runtime() -> Runtime:
    """The per-process runtime (knowledge, store, authenticator) of the current app."""
    found: Runtime = current_app.extensions["pnen_cds"]
    return found


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response serialised with orjson."""
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


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


def _read_json(schema: str) -> dict[str, Any]:
    """The request body as a JSON object valid against a CDS Hooks schema, else 400."""
    unsized: bytes | None = g.get("unsized_body")
    raw = request.get_data(cache=False) if unsized is None else unsized
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request("body is not valid JSON", [("", str(exc))]) from exc
    problems = schema_errors(schema, body)
    if problems:
        raise bad_request(f"request does not match the CDS Hooks {schema} schema", problems)
    if not isinstance(body, dict):  # pragma: no cover - the schema requires an object
        raise bad_request("request must be a JSON object", [("", "expected an object")])
    return body


@bp.get("/cds-services")
def discovery_view() -> Response:
    """CDS Hooks discovery."""
    rt = runtime()
    _authenticate(f"{rt.public_url}/cds-services")
    return Response(rt.discovery_bytes, mimetype="application/json")


@bp.post("/cds-services/<service_id>")
def service_view(service_id: str) -> Response:
    """Evaluate a hook call and answer with cards."""
    started = time.perf_counter()
    rt = runtime()
    issuer = _authenticate(f"{rt.public_url}/cds-services/{service_id}")
    service = SERVICES.get(service_id)
    if service is None:
        raise not_found(f"no CDS service {service_id!r}")
    body = _read_json("request")
    try:
        hook_request = parse_request(service.hook, body)
    except RequestError as exc:
        raise bad_request(str(exc), [(p.path, p.message) for p in exc.problems]) from exc
    g.patient_ref = hook_request.patient_ref
    client = rt.client_factory(hook_request, issuer)
    plan = rt.plan
    today = date.today()
    core = gather(hook_request.prefetch, plan.core, hook_request.patient_id, client)
    items = core.items
    issues = list(core.issues)
    fetched = list(core.fetched)
    aliases = dict(core.aliases)
    if rt.knowledge.mapper.has_pnen(hook_request.patient_id, items, aliases=aliases):
        rest = gather(hook_request.prefetch, plan.rest, hook_request.patient_id, client)
        items = items + rest.items
        issues += rest.issues
        fetched += rest.fetched
        aliases.update(rest.aliases)
    facts = rt.knowledge.mapper.map(hook_request.patient_id, items, today, aliases=aliases)
    result = service.handler(hook_request, facts, rt.knowledge, today)
    response = result.response(issues)
    elapsed = (time.perf_counter() - started) * 1000
    rt.store.record_audit(
        AuditEntry(
            service=service_id,
            hook_instance=hook_request.hook_instance,
            patient_ref=hook_request.patient_ref,
            rule_ids=list(result.rule_ids),
            cards=[(c["uuid"], c["source"]["topic"]["code"]) for c in result.cards],
            resources_used=list(facts.resources_used),
            elapsed_ms=elapsed,
            status=200,
        )
    )
    return json_response(response)


@bp.post("/cds-services/<service_id>/feedback")
def feedback_view(service_id: str) -> Response:
    """Store CDS Hooks feedback durably, then acknowledge."""
    rt = runtime()
    service_url = f"{rt.public_url}/cds-services/{service_id}"
    _authenticate(f"{service_url}/feedback", service_url)
    if service_id not in SERVICES:
        raise not_found(f"no CDS service {service_id!r}")
    body = _read_json("feedback")
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
