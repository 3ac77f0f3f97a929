"""CDS Hooks requests built from a patient's FHIR resources, keyed by the discovery templates.

The same code serves `pnen-cds request` and the test suite: a request is what an EHR would send
for the record, with each resource under the prefetch key whose template would have fetched it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ORDER_HOOKS = ("order-select", "order-sign")
HOOKS = ("patient-view", *ORDER_HOOKS)
DRAFT_TYPES = ("MedicationRequest", "ServiceRequest")


def searchset(
    resources: Iterable[dict[str, Any]], full_urls: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A searchset Bundle of the resources, each entry with its `fullUrl` from `full_urls`.

    `full_urls` maps 'Type/id' to the fullUrl the resource had in its source Bundle, so that
    references written as that URL (`urn:uuid:…`) still resolve in the request.
    """
    entries: list[dict[str, Any]] = []
    for resource in resources:
        url = (full_urls or {}).get(f"{resource.get('resourceType')}/{resource.get('id')}")
        entries.append({"fullUrl": url, "resource": resource} if url else {"resource": resource})
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries}


def full_urls_of(aliases: Mapping[str, str]) -> dict[str, str]:
    """'Type/id' → fullUrl, from a Bundle's fullUrl → 'Type/id' aliases (the first URL wins)."""
    urls: dict[str, str] = {}
    for url, target in aliases.items():
        urls.setdefault(target, url)
    return urls


def bundle_resources(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The resources of a FHIR Bundle."""
    return [
        e["resource"]
        for e in bundle.get("entry") or []
        if isinstance(e, dict) and isinstance(e.get("resource"), dict)
    ]


def patient_id_of(resources: Sequence[Mapping[str, Any]]) -> str:
    """The id of the Patient among the resources (ValueError when there is none)."""
    for resource in resources:
        if resource.get("resourceType") == "Patient" and isinstance(resource.get("id"), str):
            return str(resource["id"])
    raise ValueError("no Patient resource with an id in the file")


def _template_type(template: str) -> str:
    """'Observation?patient=…' → 'Observation'; 'Patient/{{…}}' → 'Patient'."""
    return template.split("?", 1)[0].split("/", 1)[0]


def _template_codes(template: str) -> frozenset[tuple[str, str]]:
    """The system|code tokens of a template's `code=` parameter."""
    query = template.split("?", 1)[1] if "?" in template else ""
    for part in query.split("&"):
        if part.startswith("code="):
            tokens = (t.partition("|") for t in part[len("code=") :].split(","))
            return frozenset((system, code) for system, _, code in tokens)
    return frozenset()


def _codings(resource: Mapping[str, Any]) -> set[tuple[str, str]]:
    code = resource.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    return {
        (str(c.get("system")), str(c.get("code"))) for c in codings or [] if isinstance(c, dict)
    }


@dataclass(frozen=True)
class Prefetch:
    """A prefetch object and the resources no template would have fetched (added anyway)."""

    values: dict[str, Any]
    unmatched: tuple[str, ...] = field(default=())


def prefetch_for(
    resources: Sequence[dict[str, Any]],
    templates: Mapping[str, str],
    *,
    strict: bool = False,
    full_urls: Mapping[str, str] | None = None,
) -> Prefetch:
    """Every template key filled from the resources: the Patient, then one searchset per key.

    Observations go to the key whose `code=` list names one of their codes. One no template
    names (a local code) is placed in the first Observation key when `strict` is False — the
    service reads it, though an EHR using these templates would not send it — and listed in
    `unmatched`; with `strict` it is left out, as the EHR would. `full_urls` ('Type/id' →
    fullUrl) keeps each entry's fullUrl, as `searchset` says.
    """
    grouped: dict[str, list[dict[str, Any]]] = {k: [] for k in templates if k != "patient"}
    by_type: dict[str, list[str]] = {}
    for key, template in templates.items():
        by_type.setdefault(_template_type(template), []).append(key)
    codes = {key: _template_codes(t) for key, t in templates.items()}
    values: dict[str, Any] = {}
    unmatched: list[str] = []
    for resource in resources:
        kind = str(resource.get("resourceType"))
        keys = by_type.get(kind, [])
        if kind == "Patient" and "patient" in templates:
            values["patient"] = resource
        elif len(keys) == 1 or (keys and not any(codes[k] for k in keys)):
            grouped[keys[0]].append(resource)
        elif keys:
            own = _codings(resource)
            target = next((k for k in keys if codes[k] & own), None)
            if target is None:
                unmatched.append(f"{kind}/{resource.get('id')}")
                if strict:
                    continue
                target = keys[0]
            grouped[target].append(resource)
        else:
            unmatched.append(f"{kind}/{resource.get('id')}")
    values.update({k: searchset(v, full_urls) for k, v in grouped.items()})
    return Prefetch(values, tuple(unmatched))


def hook_request(
    hook: str,
    patient_id: str,
    *,
    prefetch: dict[str, Any] | None = None,
    fhir_server: str | None = None,
    token: str | None = None,
    drafts: Sequence[dict[str, Any]] = (),
    selections: Sequence[str] | None = None,
    hook_instance: str | None = None,
    user_id: str = "Practitioner/example-user",
) -> dict[str, Any]:
    """A CDS Hooks 2.0 request body for a hook (selections default to every draft)."""
    context: dict[str, Any] = {"userId": user_id, "patientId": patient_id}
    if hook in ORDER_HOOKS:
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": d} for d in drafts],
        }
    if hook == "order-select":
        context["selections"] = list(
            selections
            if selections is not None
            else [f"{d['resourceType']}/{d['id']}" for d in drafts]
        )
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": hook_instance or str(uuid.uuid4()),
        "context": context,
    }
    if prefetch is not None:
        body["prefetch"] = prefetch
    if fhir_server:
        body["fhirServer"] = fhir_server
        if token:
            body["fhirAuthorization"] = {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "patient/*.read",
                "subject": "pnen-cds",
            }
    return body


def split_drafts(
    resources: Sequence[dict[str, Any]], hook: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(record, drafts): on an order hook, MedicationRequests/ServiceRequests in status draft."""
    if hook not in ORDER_HOOKS:
        return list(resources), []
    drafts = [
        r for r in resources if r.get("resourceType") in DRAFT_TYPES and r.get("status") == "draft"
    ]
    ids = {id(d) for d in drafts}
    return [r for r in resources if id(r) not in ids], drafts
