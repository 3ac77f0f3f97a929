"""ServiceRequest and MedicationRequest orders: planned in the record, or drafted in the hook."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fhir_mappings.facts import BY_TEXT, DataIssue, Draft, Fact, Order
from fhir_mappings.medications import (
    classify_medication,
    medication_concept,
    medication_name,
    unreadable_medication,
)
from fhir_mappings.observations import body_site
from fhir_mappings.procedures import LAB_ORDER_KINDS, procedure_kinds, procedure_kinds_by_text
from fhir_mappings.reports import classify_imaging
from fhir_mappings.shape import (
    FHIR_ID,
    ShapeError,
    concept_text,
    fhir_date,
    obj,
    objects,
    ref_of,
    string,
)
from fhir_mappings.terminology import Terminology
from pnen_i18n import N_, _

PLANNED_STATUSES = frozenset({"draft", "active", "on-hold"})
# How a planned order reads in evidence, by its status (one of PLANNED_STATUSES).
_PLANNED_TEXTS = {
    "draft": N_("{name} (draft)"),
    "active": N_("{name} (active)"),
    "on-hold": N_("{name} (on-hold)"),
}


def classify_order(
    resource: dict[str, Any], terms: Terminology, use_text: bool = True
) -> tuple[Order, bool] | None:
    """What a ServiceRequest or MedicationRequest orders; None when it is nothing we know."""
    kind = resource.get("resourceType")
    status = (string(resource, "status") or "").strip().lower() or "unknown"  # 'DRAFT' too
    if kind == "MedicationRequest":
        concept = medication_concept(resource)
        classes, by_text = classify_medication(concept, terms, use_text)
        if not classes:
            return None
        return Order(classes, status, kind, medication_name(concept)), by_text
    if kind != "ServiceRequest":
        return None
    code = obj(resource, "code")
    labs = terms.concepts_of(code) & frozenset(LAB_ORDER_KINDS)
    kinds = {k: False for k in procedure_kinds(resource, terms) | labs}
    if not kinds and use_text:
        kinds = {k: True for k in procedure_kinds_by_text(resource, terms)}
    kinds.update(
        {k: t for k, t in classify_imaging(code, "", terms, use_text).items() if k not in kinds}
    )
    if not kinds:
        return None
    by_text = all(kinds.values())
    found = (body_site(concept, terms) for concept in objects(resource, "bodySite"))
    sites = frozenset(site for site in found if site)
    name = concept_text(code) or _("order")
    return Order(frozenset(kinds), status, kind, name, sites), by_text


def map_service_request(request: dict[str, Any], terms: Terminology) -> list[Fact]:
    """A planned ServiceRequest (draft, active, on-hold), one fact per kind it orders."""
    if (string(request, "status") or "").strip().lower() not in PLANNED_STATUSES:
        return []
    found = classify_order(request, terms)
    if found is None:
        return []
    order, by_text = found
    when = fhir_date(request, "authoredOn")
    flags = (BY_TEXT,) if by_text else ()
    text = _(_PLANNED_TEXTS[order.status], name=order.name)
    return [
        Fact(
            f"planned:{kind}",
            order,
            when,
            ref_of(request),
            text,
            flags=flags,
        )
        for kind in sorted(order.kinds)
    ]


def map_drafts(
    resources: Iterable[Any], terms: Terminology
) -> tuple[tuple[Draft, ...], tuple[DataIssue, ...]]:
    """Draft orders of a hook's context.draftOrders (other resource types are ignored)."""
    drafts: list[Draft] = []
    issues: list[DataIssue] = []
    for i, resource in enumerate(resources):
        key = f"context.draftOrders.entry[{i}]"
        if not isinstance(resource, dict):
            issues.append(DataIssue(key, "?", _("resource: expected an object")))
            continue
        kind = resource.get("resourceType")
        if kind not in ("ServiceRequest", "MedicationRequest"):
            continue
        rid = resource.get("id")
        if not isinstance(rid, str) or not FHIR_ID.match(rid):
            issues.append(DataIssue(key, f"{kind}/?", _("id: missing or not a FHIR id")))
            continue
        try:
            found = classify_order(resource, terms)
        except ShapeError as exc:
            issues.append(DataIssue(key, ref_of(resource), str(exc)))
            continue
        if found is None:
            drafts.append(Draft(ref_of(resource), None, False))
            # A drafted drug the service cannot read may be one a rule is about: say so.
            problem = unreadable_medication(resource) if kind == "MedicationRequest" else None
            if problem:
                issues.append(DataIssue(key, ref_of(resource), problem))
        else:
            drafts.append(Draft(ref_of(resource), found[0], found[1]))
    return tuple(drafts), tuple(issues)
