"""Prefetch templates come from the ValueSets; requests are read per hook with JSON paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fhir_mappings.terminology import load_terminology
from hooks.prefetch import MAX_URL, prefetch_plan
from hooks.request import RequestError, parse_request
from tests.fhir_builders import terms


def test_observation_codes_are_split_into_keys_under_the_url_limit() -> None:
    templates = prefetch_plan(terms()).templates
    observation_keys = [k for k in templates if k.startswith("observations")]
    assert len(observation_keys) >= 2
    for key in observation_keys:
        assert len(templates[key]) <= MAX_URL
    joined = ",".join(templates[k] for k in observation_keys)
    for token in ("http://loinc.org|29593-1", "http://loinc.org|9811-1", "pnen-lm|mgmt-ihc"):
        assert token in joined


def test_core_keys_come_first_and_every_declared_key_is_there() -> None:
    plan = prefetch_plan(terms())
    assert list(plan.core) == ["patient", "conditions"]
    for key in (
        "specimens",
        "reports",
        "medications",
        "medicationstatements",
        "medicationadministrations",
        "servicerequests",
        "procedures",
        "allergies",
    ):
        assert key in plan.rest
    assert plan.templates["servicerequests"].endswith("&status=draft,active,on-hold,completed")
    assert plan.templates["medicationadministrations"] == (
        "MedicationAdministration?patient={{context.patientId}}"
    )


def test_site_codes_appear_in_the_prefetch(tmp_path: Path) -> None:
    site = {
        "resourceType": "ValueSet",
        "url": "http://pnen-cds.org/fhir/ValueSet/ki67",
        "compose": {"include": [{"system": "urn:site", "concept": [{"code": "K67"}]}]},
    }
    (tmp_path / "ki67.json").write_text(json.dumps(site))
    templates = prefetch_plan(load_terminology(tmp_path)).templates
    assert any("urn:site|K67" in q for q in templates.values())


def _body(hook: str, **context: object) -> dict[str, object]:
    return {"hook": hook, "hookInstance": "h", "context": {"patientId": "p1", **context}}


def test_order_sign_reads_every_draft_medication_and_service_request() -> None:
    drafts = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": {"resourceType": "ServiceRequest", "id": "a"}},
            {"resource": {"resourceType": "MedicationRequest", "id": "b"}},
        ],
    }
    request = parse_request("order-sign", _body("order-sign", draftOrders=drafts))
    assert [d["id"] for d in request.draft_orders] == ["a", "b"]


def test_order_select_requires_selections_matching_drafts() -> None:
    drafts = {
        "resourceType": "Bundle",
        "entry": [{"resource": {"resourceType": "ServiceRequest", "id": "a"}}],
    }
    with pytest.raises(RequestError) as caught:
        parse_request(
            "order-select",
            _body("order-select", draftOrders=drafts, selections=["ServiceRequest/z"]),
        )
    assert [p.path for p in caught.value.problems] == ["context.selections[0]"]
    ok = parse_request(
        "order-select", _body("order-select", draftOrders=drafts, selections=["ServiceRequest/a"])
    )
    assert ok.selections == ("ServiceRequest/a",)


def test_order_hooks_need_draft_orders() -> None:
    with pytest.raises(RequestError) as caught:
        parse_request("order-sign", _body("order-sign"))
    assert [p.path for p in caught.value.problems] == ["context.draftOrders"]
