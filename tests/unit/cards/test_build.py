"""Cards carry the rule id, the dated evidence, the missing data and the source section."""

from __future__ import annotations

from datetime import date

from cards import CardOptions, build_card
from consensus.criteria import known, unknown
from consensus.recommendation import (
    PV,
    Indicator,
    Recommendation,
    RuleInfo,
    Suggestion,
    create,
    delete,
)
from fhir_mappings.facts import Fact, Quantity

INFO = RuleInfo("pet-fdg", "18F-FDG PET/CT indicated", frozenset({PV}), "C 1.4; C 3; R PRRT", "B")
FACT = Fact(
    "ki67", Quantity(25, "%"), date(2026, 9, 10), "Observation/ki67-2", "Ki-67 25 % (liver)"
)


def _rec(**kw: object) -> Recommendation:
    base: dict[str, object] = {
        "rule": INFO,
        "indicator": Indicator.INFO,
        "summary": "Order FDG PET",
        "advice": "FDG PET is indicated.",
    }
    base.update(kw)
    return Recommendation(**base)  # type: ignore[arg-type]


def test_card_topic_is_the_rule_id_coding() -> None:
    card = build_card(_rec(), "Patient/p", CardOptions())
    assert card["source"]["topic"] == {
        "system": "http://pnen-cds.org/fhir/CodeSystem/pnen-rule",
        "code": "pet-fdg",
        "display": "18F-FDG PET/CT indicated",
    }


def test_detail_says_why_with_value_date_and_reference_and_cites_the_source() -> None:
    card = build_card(_rec(evidence=(FACT,)), "Patient/p", CardOptions())
    assert "Ki-67 25 % (liver), 2026-09-10, Observation/ki67-2" in card["detail"]
    assert "questions 1.4, 3" in card["detail"]
    assert "PRRT" in card["detail"]


def test_criteria_table_shows_met_not_met_and_unknown_with_missing_data() -> None:
    criteria = (known("a", True, [FACT]), known("b", False), unknown("c", "remnant liver volume"))
    detail = build_card(_rec(criteria=criteria), "Patient/p", CardOptions())["detail"]
    assert "| a | **met** |" in detail
    assert "| b | **not met** |" in detail
    assert "| c | **unknown** | missing: remnant liver volume |" in detail


def test_info_cards_have_no_override_reasons_warnings_do() -> None:
    assert "overrideReasons" not in build_card(_rec(), "Patient/p", CardOptions())
    card = build_card(_rec(indicator=Indicator.WARNING), "Patient/p", CardOptions())
    for reason in card["overrideReasons"]:
        assert set(reason) == {"system", "code", "display"}


def test_suggestion_creates_a_draft_resource_and_deletes_by_reference() -> None:
    suggestion = Suggestion(
        "Swap", (delete("ServiceRequest/sr-1", "remove SSTR PET"), create("pet-fdg", "FDG PET"))
    )
    card = build_card(_rec(suggestions=(suggestion,)), "Patient/p", CardOptions())
    actions = card["suggestions"][0]["actions"]
    assert actions[0] == {
        "type": "delete",
        "description": "remove SSTR PET",
        "resourceId": "ServiceRequest/sr-1",
    }
    resource = actions[1]["resource"]
    assert resource["status"] == "draft" and resource["subject"] == {"reference": "Patient/p"}
    assert resource["code"]["coding"][0]["code"] == "pet-fdg"
    assert card["selectionBehavior"] == "at-most-one"


def test_long_summary_is_cut_below_140_characters() -> None:
    card = build_card(_rec(summary="x" * 200), "Patient/p", CardOptions())
    assert len(card["summary"]) < 140


def test_source_url_and_dashboard_link_only_when_configured() -> None:
    plain = build_card(_rec(dashboard_link=True), "Patient/p", CardOptions())
    assert "url" not in plain["source"] and "links" not in plain
    options = CardOptions(
        rule_url_base="https://docs.example/rules", smart_app_url="https://app/launch"
    )
    card = build_card(_rec(dashboard_link=True), "Patient/p", options)
    assert card["source"]["url"] == "https://docs.example/rules/pet-fdg"
    assert card["links"] == [
        {"label": "Open the pNEN dashboard", "url": "https://app/launch", "type": "smart"}
    ]


def test_card_and_suggestion_ids_are_random_version_4_uuids() -> None:
    import uuid

    from cards.build import _new_id

    ids = {_new_id() for _ in range(2000)}
    assert len(ids) == 2000
    for text in ids:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
