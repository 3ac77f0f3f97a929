"""A loopback FHIR R4 development server holding the demo patients, with a SMART authorization
server: what the CDS Hooks sandbox and the pNEN dashboard call. Not a FHIR server for real data.

FHIR: `/metadata`, read, search by GET and `POST _search` (patient/subject, code, status, _id,
_count, paging), a transaction/batch `POST` of PUT entries (for `pnen-cds fixtures load`), and the
sandbox's `POST _services/smart/Launch`. Reads need no token (the sandbox wants an open server).
CORS on every answer. SMART: `/.well-known/smart-configuration`, `/auth/authorize` (auto-approve),
`/auth/token` (PKCE S256) — see pnen_demo.smart.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, cast
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Flask, Response, jsonify, request

from pnen_demo.patients import demo_patients, record_of
from pnen_demo.smart import (
    Client,
    SmartState,
    build_authorization_server,
    same_base,
    smart_configuration,
)

Resource = dict[str, Any]
FHIR_JSON = "application/fhir+json"
DEFAULT_COUNT = 50
MAX_COUNT = 500
BANNER = (
    "pnen-cds demo FHIR server: a development tool for synthetic demo patients, not for real data"
)
# Search parameters naming the patient, per resource type (Patient itself: _id).
PATIENT_PARAMS = ("patient", "subject")
SEARCHABLE = (
    "Patient",
    "Condition",
    "Observation",
    "Specimen",
    "DiagnosticReport",
    "MedicationRequest",
    "MedicationStatement",
    "MedicationAdministration",
    "ServiceRequest",
    "Procedure",
    "AllergyIntolerance",
)
_PAGING = {"_count", "_offset", "_format"}
# Any resource type can be searched (a type with no demo data gives an empty searchset, as a real
# server does), so prefetch keys added to the service later still find an answer here.
_RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]{1,63}")


class FhirStore:
    """Resources by type and id, in memory, thread-safe."""

    def __init__(self, resources: Iterable[Resource] = ()) -> None:
        self.by_type: dict[str, dict[str, Resource]] = {}
        self.lock = threading.Lock()
        for resource in resources:
            self.put(resource)

    def put(self, resource: Resource) -> bool:
        """Create or replace a resource; True when it was created."""
        kind, rid = str(resource["resourceType"]), str(resource["id"])
        with self.lock:
            table = self.by_type.setdefault(kind, {})
            created = rid not in table
            table[rid] = resource
        return created

    def read(self, kind: str, rid: str) -> Resource | None:
        """One resource, or None."""
        return self.by_type.get(kind, {}).get(rid)

    def search(self, kind: str, params: Mapping[str, list[str]]) -> list[Resource]:
        """Resources of a type matching every search parameter given (AND; commas are OR)."""
        with self.lock:
            candidates = list(self.by_type.get(kind, {}).values())
        return [r for r in candidates if all(_matches(r, k, v) for k, v in params.items())]


def _values(raw: list[str]) -> list[str]:
    return [v for item in raw for v in item.split(",") if v]


def _reference_id(value: str) -> str:
    return value.rsplit("/", 1)[-1]


def _codings(resource: Resource) -> list[dict[str, Any]]:
    concept = resource.get("code") or resource.get("medicationCodeableConcept") or {}
    codings = concept.get("coding") if isinstance(concept, dict) else None
    return [c for c in codings or [] if isinstance(c, dict)]


def _token_matches(token: str, codings: list[dict[str, Any]]) -> bool:
    system, bar, code = token.rpartition("|")
    for coding in codings:
        if coding.get("code") != code:
            continue
        if not bar or coding.get("system") == system or (system == "" and "system" not in coding):
            return True
    return False


def _matches(resource: Resource, name: str, raw: list[str]) -> bool:
    values = _values(raw)
    if name == "_id":
        return str(resource.get("id")) in values
    if name in PATIENT_PARAMS:
        ref = resource.get("subject") or resource.get("patient") or {}
        target = _reference_id(str(ref.get("reference", ""))) if isinstance(ref, dict) else ""
        return target in {_reference_id(v) for v in values}
    if name == "code":
        return any(_token_matches(v, _codings(resource)) for v in values)
    if name == "status":
        return str(resource.get("status")) in values
    raise ValueError(name)


def _outcome(status: int, text: str, code: str = "processing") -> Response:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": text}],
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = FHIR_JSON
    return response


def _fhir(body: Resource, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.mimetype = FHIR_JSON
    return response


def capability_statement(base: str, auth_base: str) -> Resource:
    """The CapabilityStatement: R4, JSON, the searchable types, SMART's OAuth URIs."""
    search = [
        {"name": n, "type": t}
        for n, t in (("patient", "reference"), ("code", "token"), ("status", "token"))
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date.today().isoformat(),
        "kind": "instance",
        "software": {"name": "pnen-cds demo FHIR server (development tool)"},
        "implementation": {"description": BANNER, "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": True,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                            "extension": [
                                {"url": "authorize", "valueUri": f"{auth_base}/authorize"},
                                {"url": "token", "valueUri": f"{auth_base}/token"},
                            ],
                        }
                    ],
                },
                "resource": [
                    {
                        "type": kind,
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": search if kind != "Patient" else [],
                    }
                    for kind in SEARCHABLE
                ],
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
            }
        ],
    }


def create_fhir_app(
    public_url: str, today: date | None = None, redirect_uris: Iterable[str] = ()
) -> Flask:
    """The demo FHIR server app at `public_url` (FHIR base `{public_url}/fhir`), loaded."""
    base = public_url.rstrip("/") + "/fhir"
    auth_base = public_url.rstrip("/") + "/auth"
    day = today or date.today()
    patients = demo_patients()
    store = FhirStore(r for p in patients for r in record_of(p, day))
    app = Flask(__name__)
    app.config["FHIR_BASE"] = base
    clients = [Client("pnen-cds-dashboard", tuple(redirect_uris))]
    state = SmartState(clients, patients[0].id if patients else None)
    server = build_authorization_server(app, state)
    app.extensions["pnen_demo"] = {"store": store, "smart": state}
    fhir = Blueprint("fhir", __name__, url_prefix="/fhir")
    auth = Blueprint("auth", __name__, url_prefix="/auth")

    @app.before_request
    def preflight() -> Response | None:
        return Response(status=204) if request.method == "OPTIONS" else None

    @app.after_request
    def cors(response: Response) -> Response:
        origin = request.headers.get("Origin")
        if origin:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, OPTIONS"
            asked = request.headers.get("Access-Control-Request-Headers")
            response.headers["Access-Control-Allow-Headers"] = (
                asked or "Authorization, Content-Type, Accept, Prefer"
            )
            response.headers["Access-Control-Expose-Headers"] = "Location, Content-Location"
            response.headers["Access-Control-Max-Age"] = "600"
            if request.headers.get("Access-Control-Request-Private-Network") == "true":
                # Chrome asks before a public page (the hosted sandbox) may call a loopback server.
                response.headers["Access-Control-Allow-Private-Network"] = "true"
        return response

    @fhir.get("/metadata")
    def metadata() -> Response:
        return _fhir(capability_statement(base, auth_base))

    @fhir.get("/.well-known/smart-configuration")
    def smart_config() -> Response:
        return jsonify(smart_configuration(base, auth_base))

    def _search(kind: str, params: dict[str, list[str]]) -> Response:
        if not _RESOURCE_TYPE.fullmatch(kind):
            return _outcome(404, f"{kind} is not a resource type", "not-supported")
        criteria = {k: v for k, v in params.items() if k not in _PAGING}
        unknown = sorted(set(criteria) - {"_id", "code", "status", *PATIENT_PARAMS})
        if unknown:
            return _outcome(400, f"unknown search parameter(s): {', '.join(unknown)}")
        try:
            count = min(int((params.get("_count") or [str(DEFAULT_COUNT)])[0]), MAX_COUNT)
            offset = max(int((params.get("_offset") or ["0"])[0]), 0)
        except ValueError:
            return _outcome(400, "_count and _offset must be integers")
        count = max(count, 1)
        found = sorted(store.search(kind, criteria), key=lambda r: str(r["id"]))
        page = found[offset : offset + count]
        query = [(k, v) for k, vs in criteria.items() for v in vs] + [("_count", str(count))]
        links = [
            {"relation": "self", "url": f"{base}/{kind}?{urlencode([*query, ('_offset', offset)])}"}
        ]
        if offset + count < len(found):
            following = urlencode([*query, ("_offset", offset + count)])
            links.append({"relation": "next", "url": f"{base}/{kind}?{following}"})
        return _fhir(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(found),
                "link": links,
                "entry": [
                    {
                        "fullUrl": f"{base}/{kind}/{r['id']}",
                        "resource": r,
                        "search": {"mode": "match"},
                    }
                    for r in page
                ],
            }
        )

    @fhir.get("/<kind>")
    def search_get(kind: str) -> Response:
        return _search(kind, {k: request.args.getlist(k) for k in request.args})

    @fhir.post("/<kind>/_search")
    def search_post(kind: str) -> Response:
        params = {k: request.args.getlist(k) for k in request.args}
        for k in request.form:
            params.setdefault(k, []).extend(request.form.getlist(k))
        return _search(kind, params)

    @fhir.get("/<kind>/<rid>")
    def read(kind: str, rid: str) -> Response:
        found = store.read(kind, rid)
        if found is None:
            return _outcome(404, f"{kind}/{rid} not found", "not-found")
        return _fhir(found)

    @fhir.post("")
    @fhir.post("/")
    def transaction() -> Response:
        bundle = request.get_json(force=True, silent=True)
        if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
            return _outcome(400, "expected a transaction or batch Bundle", "invalid")
        kind = bundle.get("type")
        if kind not in ("transaction", "batch"):
            return _outcome(400, "Bundle.type must be transaction or batch", "invalid")
        entries = bundle.get("entry") or []
        for i, entry in enumerate(entries):
            req = entry.get("request") or {}
            res = entry.get("resource") or {}
            if (
                req.get("method") != "PUT"
                or req.get("url") != f"{res.get('resourceType')}/{res.get('id')}"
            ):
                return _outcome(
                    400, f"entry[{i}]: only PUT Type/id of the entry's resource", "not-supported"
                )
        replies = []
        for entry in entries:
            created = store.put(entry["resource"])
            status = "201 Created" if created else "200 OK"
            replies.append({"response": {"status": status, "location": entry["request"]["url"]}})
        return _fhir({"resourceType": "Bundle", "type": f"{kind}-response", "entry": replies})

    @fhir.post("/_services/smart/Launch")
    def launch() -> Response:
        # The CDS Hooks sandbox asks here for a launch id before opening a card's SMART link.
        body = request.get_json(force=True, silent=True) or {}
        parameters = body.get("parameters") if isinstance(body, dict) else None
        patient = parameters.get("patient") if isinstance(parameters, dict) else None
        if not isinstance(patient, str) or store.read("Patient", patient) is None:
            return _outcome(400, "parameters.patient: a patient on this server", "invalid")
        launch_id = state.new_launch({"patient": patient, "launchUrl": body.get("launchUrl")})
        return jsonify({"launch_id": launch_id})

    @auth.get("/authorize")
    def authorize() -> Response:
        if not same_base(request.args.get("aud"), base):
            refused = jsonify({"error": "invalid_request", "error_description": f"aud: {base}"})
            refused.status_code = 400
            return refused
        try:
            grant = server.get_consent_grant(end_user=None)
            patient = state.patient_for(request.args.get("launch"), request.args.get("patient"))
        except OAuth2Error as error:
            return cast(Response, server.handle_error_response(request, error))
        # Auto-approve: this development server has one pretend user and no consent screen.
        approved = server.create_authorization_response(
            grant_user={"patient": patient}, grant=grant
        )
        return cast(Response, approved)

    @auth.post("/token")
    def token() -> Response:
        return cast(Response, server.create_token_response())

    app.register_blueprint(fhir)
    app.register_blueprint(auth)
    return app
