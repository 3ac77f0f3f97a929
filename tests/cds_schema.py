"""Test helper: CDS Hooks 2.0 schema checks of bodies, and FHIR checks of suggested resources."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from cds_service.schemas import errors

RELATIVE_REFERENCE = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")
ORDER_INTENTS = ("proposal", "order")


def _fail(title: str, problems: Sequence[tuple[str, str]]) -> None:
    """Raise one AssertionError listing every (path, message)."""
    lines = [f"  {path or '(body)'}: {message}" for path, message in problems]
    raise AssertionError("\n".join([title, *lines]))


def assert_valid(name: str, body: object) -> None:
    """Fail, listing paths and messages, unless body matches the CDS Hooks schema `name`."""
    problems = errors(name, body)
    if problems:
        _fail(f"body does not match the CDS Hooks {name} schema:", problems)


def _actions(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], bool]]:
    """(path, action, is a suggestion action) for every action of a schema-valid response."""
    for c, card in enumerate(body.get("cards", [])):
        for s, suggestion in enumerate(card.get("suggestions", [])):
            for a, action in enumerate(suggestion.get("actions", [])):
                yield f"cards[{c}].suggestions[{s}].actions[{a}]", action, True
    for a, action in enumerate(body.get("systemActions", [])):
        yield f"systemActions[{a}]", action, False


def _fhir_problems(resource: dict[str, Any]) -> list[str]:
    """Why `resource` is not a valid FHIR R4B resource (fhir.resources), or []."""
    resource_type = resource.get("resourceType")
    try:
        model = get_fhir_model_class(str(resource_type))
    except ValueError:
        return [f"resourceType {resource_type!r} is not a FHIR R4B resource"]
    if not issubclass(model, Resource):
        return [f"resourceType {resource_type!r} is a data type, not a resource"]
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        return [
            f"{'.'.join(str(part) for part in err['loc']) or '(resource)'}: {err['msg']}"
            for err in exc.errors()
        ]
    except ValueError as exc:  # fhir.resources validators may raise plain ValueErrors
        return [str(exc)]
    return []


def _order_problems(resource: dict[str, Any]) -> list[str]:
    """Why a suggested resource is not a draft order for the patient with a readable code."""
    problems = []
    if not resource.get("subject"):
        problems.append("subject: missing (the order must name the patient)")
    if resource.get("status") != "draft":
        problems.append(f"status: {resource.get('status')!r}, expected 'draft'")
    if resource.get("intent") not in ORDER_INTENTS:
        problems.append(f"intent: {resource.get('intent')!r}, expected one of {ORDER_INTENTS}")
    # R4 MedicationRequest carries its code in medicationCodeableConcept.
    key = (
        "medicationCodeableConcept"
        if resource.get("resourceType") == "MedicationRequest"
        else "code"
    )
    concept = resource.get(key)
    text = concept.get("text") if isinstance(concept, dict) else None
    if not isinstance(text, str) or not text.strip():
        problems.append(f"{key}.text: missing or empty (clinicians read it on the button)")
    return problems


def assert_valid_response(body: object) -> None:
    """Fail unless body is a valid CDS Hooks response whose suggested resources are draft orders."""
    assert_valid("response", body)
    assert isinstance(body, dict)  # guaranteed by the schema
    problems: list[tuple[str, str]] = []
    for path, action, in_suggestion in _actions(body):
        resource = action.get("resource")
        if isinstance(resource, dict):
            problems += [(f"{path}.resource", p) for p in _fhir_problems(resource)]
            if in_suggestion:
                problems += [(f"{path}.resource", p) for p in _order_problems(resource)]
        if action.get("type") == "delete":
            resource_id = action.get("resourceId")
            if not isinstance(resource_id, str) or not RELATIVE_REFERENCE.match(resource_id):
                problems.append(
                    (f"{path}.resourceId", f"{resource_id!r}: a delete needs a Type/id reference")
                )
    if problems:
        _fail("response actions are not valid:", problems)
