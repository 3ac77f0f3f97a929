"""The pNEN dashboard, a SMART on FHIR app: its pages, static files and data endpoint.

`/app/launch` starts a SMART App Launch 2.0 (EHR launch with `iss` and `launch`, or standalone
with `iss`) through the fhirclient JavaScript library; `/app/` shows the dashboard, whose data
comes from `POST /app/api/dashboard`: the SMART access token (Authorization: Bearer) and the FHIR
base; the service reads the record from that base with that token, as a hook call with
`fhirServer` + `fhirAuthorization` does, and evaluates it with the same mapping and rules.
"""

from __future__ import annotations

import logging
import time
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import orjson
from flask import Blueprint, Response, g, render_template, request

from cds_service.api import audited, json_response, localized, request_locale, runtime
from cds_service.errors import ServiceError, bad_request, not_found, unauthorized
from cds_service.fhir_client import FhirClient
from cds_service.loopback import is_loopback_url
from cds_service.records import gather
from cds_service.runtime import Runtime
from cds_service.urls import split_url
from hooks import patient_view
from hooks.dashboard import dashboard_data, ui_text
from hooks.request import FHIR_ID, HookRequest
from pnen_i18n import use_locale

log = logging.getLogger("pnen_cds.dashboard")
bp = Blueprint("dashboard", __name__)
READ_SCOPES = "launch launch/patient patient/*.rs"
STATIC_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".md": "text/plain",
    ".txt": "text/plain",
}
STATIC_NAMES = ("LICENSE",)


@cache
def static_files() -> dict[str, tuple[bytes, str]]:
    """The app's static files (small: read once), by path under /app/static/, with their type."""
    files: dict[str, tuple[bytes, str]] = {}
    root = resources.files("cds_service").joinpath("static", "app")
    for folder, prefix in ((root, ""), (root.joinpath("vendor"), "vendor/")):
        for item in folder.iterdir():
            suffix = "." + item.name.rsplit(".", 1)[-1] if "." in item.name else ""
            kind = STATIC_TYPES.get(suffix)
            if kind is None and item.name.endswith(STATIC_NAMES):
                kind = "text/plain"
            if item.is_file() and kind:
                files[prefix + item.name] = (item.read_bytes(), kind)
    return files


def fhir_base_allowed(rt: Runtime, url: str) -> bool:
    """--dev: a loopback server only; otherwise https (unless insecure FHIR is allowed) and on
    some trusted issuer's fhir_servers allow-list (no server-side request forgery)."""
    parts = split_url(url)
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if rt.config.dev:
        return is_loopback_url(url)
    if parts.scheme != "https" and not rt.config.allow_insecure_fhir:
        return False
    return rt.on_any_allow_list(url)


def _bearer(header: str | None) -> str | None:
    scheme, _, token = (header or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _body() -> dict[str, Any]:
    unsized: bytes | None = g.get("unsized_body")
    raw = request.get_data(cache=False) if unsized is None else unsized
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request("body is not valid JSON", [("", str(exc))]) from exc
    if not isinstance(body, dict):
        raise bad_request("body must be a JSON object", [("", "expected an object")])
    problems = []
    server = body.get("fhirServer")
    if not isinstance(server, str):
        problems.append(("fhirServer", "required: the FHIR base URL (the SMART iss)"))
    elif split_url(server) is None:
        problems.append(("fhirServer", "not a valid URL (malformed host or port)"))
    patient = body.get("patientId")
    if not isinstance(patient, str) or not FHIR_ID.match(patient):
        problems.append(("patientId", "required: a FHIR id ([A-Za-z0-9-.]{1,64})"))
    if problems:
        raise bad_request("request does not fit the dashboard endpoint", problems)
    return body


@bp.get("/app/static/<path:filename>")
def static_file(filename: str) -> Response:
    """A static file of the app (the vendored libraries included); 404 for anything else."""
    found = static_files().get(filename)
    if found is None:
        raise not_found(f"no static file {filename!r}")
    content, kind = found
    response = Response(content, mimetype=kind)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/app/launch")
def launch() -> tuple[Response, int]:
    """The SMART launch page: fhirclient sends the browser to the EHR's authorization server.

    Only for an `iss` the data endpoint would read from: otherwise a link to this page could
    send clinicians from the service's origin to any "authorization server" (open redirect).
    """
    rt = runtime()
    iss = request.args.get("iss")
    refused = iss is not None and not fhir_base_allowed(rt, iss)
    if refused:
        log.warning("SMART launch refused: iss is not an allowed FHIR server")
    locale = request_locale()
    with use_locale(locale):
        page = render_template(
            "app/launch.html",
            client_id=rt.config.smart_client_id,
            scope=READ_SCOPES,
            refused=refused,
            lang=locale,
        )
    return localized(Response(page), locale), 403 if refused else 200


@bp.get("/app/")
def index() -> Response:
    """The dashboard page (fhirclient completes the launch, then the page asks for its data).

    Rendered in the browser's language (Accept-Language), its script's wording included.
    """
    locale = request_locale()
    with use_locale(locale):
        page = render_template("app/index.html", lang=locale, ui=ui_text())
    return localized(Response(page), locale)


@bp.post("/app/api/dashboard")
def dashboard_api() -> Response:
    """Facts and recommendations for the patient in the SMART context, read with its token."""
    started = time.perf_counter()
    rt = runtime()
    token = _bearer(request.headers.get("Authorization"))
    if token is None:
        raise unauthorized()
    body = _body()
    server, patient_id = str(body["fhirServer"]), str(body["patientId"])
    # Who read (or tried to read) which record is audited like a hook call, with the final
    # status: 403 for a refused FHIR server, 412 when the record could not be read, 500.
    locale = request_locale()
    with audited(rt, "dashboard") as audit, use_locale(locale):
        audit.locale = locale
        audit.hook_instance = str(g.get("correlation_id", ""))
        g.patient_ref = audit.patient_ref = f"Patient/{patient_id}"
        if not fhir_base_allowed(rt, server):
            log.warning("dashboard fhirServer refused: not an allowed FHIR server")
            raise ServiceError("fhirServer is not an allowed FHIR server", 403)
        made: list[FhirClient] = []

        def client() -> FhirClient:
            # One client per call: its deadline bounds all the call's fetches together.
            if not made:
                made.append(
                    FhirClient(
                        rt.session, server, token, rt.config.fhir_timeout, rt.config.fhir_max_pages
                    )
                )
            return made[0]

        today = date.today()
        core = gather({}, rt.plan.core, patient_id, client)
        items, issues = core.items, list(core.issues)
        if rt.knowledge.mapper.has_pnen(patient_id, items):
            rest = gather({}, rt.plan.rest, patient_id, client)
            items, issues = items + rest.items, issues + rest.issues
        facts = rt.knowledge.mapper.map(patient_id, items, today)
        audit.resources_used = list(facts.resources_used)
        hook_request = HookRequest("patient-view", "dashboard", patient_id, {}, server, token)
        result = patient_view.handle(hook_request, facts, rt.knowledge, today)
        audit.rule_ids = list(result.rule_ids)  # no cards: nothing to give feedback on
        data = dashboard_data(
            facts, result, rt.knowledge.cards, today, (i.as_json() for i in issues)
        )
    data["elapsedMs"] = round((time.perf_counter() - started) * 1000, 1)
    response = localized(json_response(data), locale)
    response.headers["Cache-Control"] = "no-store"
    return response
