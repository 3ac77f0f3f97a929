"""order-select reads only the selected drafts; order-sign reads every draft."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.cds_schema import assert_valid_response
from tests.fhir_builders import PATIENT_ID, base_pnen_lm, differentiation, ki67, service_request
from tests.support.cds_requests import hook_request, prefetch_for


def _nec_patient() -> list[dict[str, Any]]:
    return [*base_pnen_lm(), differentiation("poorly"), ki67(60, "liver")]


def _post(client: FlaskClient, service: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/cds-services/{service}", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    result: dict[str, Any] = response.get_json()
    assert_valid_response(result)
    return result


def _cards(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {card["source"]["topic"]["code"]: card for card in body["cards"]}


def test_selected_sstr_pet_for_nec_gets_a_swap_to_fdg(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    sstr = service_request("pet-ssa", rid="sr-sstr")
    other = service_request("ct-chest", rid="sr-ct")
    body = hook_request(
        "order-select",
        PATIENT_ID,
        prefetch=prefetch_for(_nec_patient(), prefetch_keys),
        drafts=[sstr, other],
        selections=["ServiceRequest/sr-sstr"],
    )
    card = _cards(_post(client, "pnen-order-select", body))["pet-tracer-mismatch"]
    assert card["indicator"] == "warning"
    actions = card["suggestions"][0]["actions"]
    assert {"type": "delete", "resourceId": "ServiceRequest/sr-sstr"}.items() <= actions[0].items()
    assert actions[1]["type"] == "create"
    assert actions[1]["resource"]["code"]["coding"][0]["code"] == "pet-fdg"


def test_unselected_draft_is_ignored_on_order_select(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    sstr = service_request("pet-ssa", rid="sr-sstr")
    other = service_request("ct-chest", rid="sr-ct")
    body = hook_request(
        "order-select",
        PATIENT_ID,
        prefetch=prefetch_for(_nec_patient(), prefetch_keys),
        drafts=[sstr, other],
        selections=["ServiceRequest/sr-ct"],
    )
    assert "pet-tracer-mismatch" not in _cards(_post(client, "pnen-order-select", body))


def test_order_sign_checks_every_draft(client: FlaskClient, prefetch_keys: list[str]) -> None:
    sstr = service_request("pet-ssa", rid="sr-sstr")
    other = service_request("ct-chest", rid="sr-ct")
    body = hook_request(
        "order-sign",
        PATIENT_ID,
        prefetch=prefetch_for(_nec_patient(), prefetch_keys),
        drafts=[other, sstr],
    )
    cards = _cards(_post(client, "pnen-order-sign", body))
    assert "pet-tracer-mismatch" in cards
    assert "summary" not in cards, "patient-view clauses never fire on order hooks"


def test_order_hook_without_matching_draft_has_no_cards(
    client: FlaskClient, prefetch_keys: list[str]
) -> None:
    body = hook_request(
        "order-sign",
        PATIENT_ID,
        prefetch=prefetch_for(_nec_patient(), prefetch_keys),
        drafts=[service_request("ct-chest", rid="sr-ct")],
    )
    assert _post(client, "pnen-order-sign", body) == {"cards": []}
