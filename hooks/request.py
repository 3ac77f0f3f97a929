"""A CDS Hooks request, read for one hook: patient, drafts, selections, prefetch, FHIR access."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fhir_mappings.bundles import bundle_resources

FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
ORDER_HOOKS = ("order-select", "order-sign")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: the JSON path and what is wrong."""

    path: str
    message: str


class RequestError(ValueError):
    """The request does not fit the hook; carries every problem found."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class HookRequest:
    """What the hooks read from a (schema-valid) CDS Hooks request."""

    hook: str
    hook_instance: str
    patient_id: str
    prefetch: dict[str, Any]
    fhir_server: str | None
    access_token: str | None
    draft_orders: tuple[Any, ...] = ()
    selections: tuple[str, ...] = ()

    @property
    def patient_ref(self) -> str:
        """'Patient/<id>'."""
        return f"Patient/{self.patient_id}"


def _draft_ref(resource: Any) -> str | None:
    if isinstance(resource, dict):
        kind, rid = resource.get("resourceType"), resource.get("id")
        if isinstance(kind, str) and isinstance(rid, str):
            return f"{kind}/{rid}"
    return None


def parse_request(hook: str, body: dict[str, Any]) -> HookRequest:
    """Read a request for `hook`; raise RequestError naming each path that is wrong."""
    problems: list[Problem] = []
    if body.get("hook") != hook:
        problems.append(Problem("hook", f"this service answers the {hook!r} hook"))
    context = body.get("context") or {}
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not FHIR_ID.match(patient_id):
        problems.append(Problem("context.patientId", "required: a FHIR id ([A-Za-z0-9-.]{1,64})"))
    server = body.get("fhirServer")
    auth = body.get("fhirAuthorization")
    if auth is not None and not server:
        problems.append(Problem("fhirAuthorization", "given without fhirServer"))
    token = auth.get("access_token") if isinstance(auth, dict) else None
    drafts: tuple[Any, ...] = ()
    selections: tuple[str, ...] = ()
    if hook in ORDER_HOOKS:
        draft_bundle = context.get("draftOrders")
        if not isinstance(draft_bundle, dict):
            problems.append(Problem("context.draftOrders", "required: a Bundle of draft orders"))
        else:
            drafts = tuple(bundle_resources(draft_bundle))
    if hook == "order-select":
        raw = context.get("selections")
        if not isinstance(raw, list) or not raw:
            problems.append(Problem("context.selections", "required: the selected draft orders"))
        else:
            refs = {_draft_ref(d) for d in drafts}
            for i, selection in enumerate(raw):
                if not isinstance(selection, str) or selection not in refs:
                    problems.append(
                        Problem(f"context.selections[{i}]", "does not match a draft order")
                    )
            selections = tuple(s for s in raw if isinstance(s, str))
    if problems:
        raise RequestError("request does not fit the hook", problems)
    prefetch = body.get("prefetch")
    return HookRequest(
        hook=hook,
        hook_instance=str(body.get("hookInstance")),
        patient_id=str(patient_id),
        prefetch=prefetch if isinstance(prefetch, dict) else {},
        fhir_server=server if isinstance(server, str) else None,
        access_token=token if isinstance(token, str) else None,
        draft_orders=drafts,
        selections=selections,
    )
