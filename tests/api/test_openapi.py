"""The OpenAPI description: in step with the CDS Hooks schemas, served, and kept by the app.

`python -m tests.api.test_openapi` rewrites the embedded schemas of cds_service/openapi.json from
cds_service/schemas/ after a schema change (the paths are written by hand).
"""

from __future__ import annotations

import atexit
import copy
import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import hypothesis
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from schemathesis import Case
from schemathesis.checks import positive_data_acceptance

from cds_service import create_app
from cds_service.schemas import SCHEMA_NAMES, load_schema
from hooks.registry import SERVICES
from tests.support.tokens import ISSUER, ec_key, jwks, mint

OPENAPI = Path(__file__).resolve().parents[2] / "cds_service" / "openapi.json"
# Component name of each CDS Hooks schema; its $defs become "<name>.<def>".
COMPONENT = {
    "request": "CdsRequest",
    "response": "CdsResponse",
    "discovery": "Discovery",
    "feedback": "FeedbackRequest",
}


def _rewrite_refs(node: Any, prefix: str) -> Any:
    """A copy of a schema with `#/$defs/x` references pointing at `#/components/schemas/<p>.x`."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                out[key] = f"#/components/schemas/{prefix}.{value[len('#/$defs/') :]}"
            else:
                out[key] = _rewrite_refs(value, prefix)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, prefix) for item in node]
    return node


def embedded_schemas() -> dict[str, Any]:
    """The CDS Hooks JSON Schemas as OpenAPI 3.1 components (draft 2020-12 is its dialect)."""
    components: dict[str, Any] = {}
    for name in SCHEMA_NAMES:
        schema = copy.deepcopy(load_schema(name))
        definitions = schema.pop("$defs", {})
        for key in ("$schema", "$id"):
            schema.pop(key, None)
        prefix = COMPONENT[name]
        components[prefix] = _rewrite_refs(schema, prefix)
        for def_name, definition in definitions.items():
            components[f"{prefix}.{def_name}"] = _rewrite_refs(definition, prefix)
    return components


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OPENAPI.read_text(encoding="utf-8"))
    return document


def test_the_embedded_schemas_are_the_cds_hooks_schemas() -> None:
    schemas = _document()["components"]["schemas"]
    embedded = {k: v for k, v in schemas.items() if k.split(".")[0] in COMPONENT.values()}
    assert embedded == embedded_schemas(), "run `python -m tests.api.test_openapi`"


_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")  # a Flask <converter:name> → OpenAPI {name}


def test_every_route_of_the_app_is_described(client: FlaskClient) -> None:
    app = client.application
    routes = {
        (_PARAM.sub(r"{\1}", rule.rule.replace("<service_id>", "{id}")), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods or ()
        if method != "HEAD"
    }
    described = {
        (path, method.upper())
        for path, item in _document()["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert routes == described


def test_the_service_ids_are_the_documented_examples() -> None:
    parameter = _document()["components"]["parameters"]["ServiceId"]
    assert set(parameter["schema"]["examples"]) == set(SERVICES)


def test_the_app_serves_the_document(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == _document()


# Schemathesis: generated requests (valid and invalid) against the documented responses, with
# authentication on as in production: each generated call carries a fresh token for its URL,
# except those that schemathesis sends without one on purpose. Outside --dev a generated
# fhirServer is never contacted (not on the issuer's allow-list): no request leaves this machine.

FUZZ_URL = "http://localhost"  # the base URL schemathesis calls the WSGI app at
FUZZ_KEY = ec_key("schemathesis", "ES384")


def _fuzzed_app() -> Flask:
    """The app under test, built at import (schemathesis binds it when the module loads)."""
    folder = Path(tempfile.mkdtemp(prefix="pnen-cds-openapi-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    issuers = folder / "issuers.json"
    issuers.write_text(json.dumps({"issuers": [{"iss": ISSUER, "jwks": jwks(FUZZ_KEY)}]}))
    return create_app(
        {
            "auth": "jwt",
            "trusted_issuers_file": str(issuers),
            "public_url": FUZZ_URL,
            "database_url": f"sqlite:///{folder / 'store.sqlite3'}",
        }
    )


schema = schemathesis.openapi.from_wsgi("/openapi.json", _fuzzed_app())


@schema.auth(refresh_interval=None)
class FreshToken:
    """A new CDS Hooks JWT per call (jti is single use), with the called URL as aud."""

    def get(self, case: Case, ctx: schemathesis.AuthContext) -> str:
        return mint(FUZZ_KEY, {"aud": FUZZ_URL + case.formatted_path})

    def set(self, case: Case, data: str, ctx: schemathesis.AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@hypothesis.settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    derandomize=True,
)
def test_generated_requests_get_documented_answers(case: Case) -> None:
    # A schema-valid request may still be a 400 (a selection matching no draft, a hook of
    # another service) or a 412 (no data): the contract's checks go beyond the schema.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


if __name__ == "__main__":
    document = _document()
    kept = {
        k: v
        for k, v in document["components"]["schemas"].items()
        if k.split(".")[0] not in COMPONENT.values()
    }
    document["components"]["schemas"] = {**kept, **embedded_schemas()}
    OPENAPI.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
