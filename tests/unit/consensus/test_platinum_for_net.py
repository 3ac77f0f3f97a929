"""platinum-for-net: cisplatin, carboplatin or etoposide drafted for a NET of any grade (R
Chemotherapy); suggestions replace the drafts by the regimen MGMT points to (C 13)."""

from __future__ import annotations

from typing import Any

import pytest

from cards import CardOptions, build_card
from consensus import Recommendation
from consensus.recommendation import OS, SIGN, Indicator
from fhir_mappings.terminology import RXNORM
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    PATIENT_REF,
    base_pnen_lm,
    condition,
    differentiation,
    ki67,
    medication,
    patient,
    pnen_obs,
    run,
    service_request,
    variant,
)

RULE = "platinum-for-net"
CISPLATIN = (RXNORM, "2555", "cisplatin")
CARBOPLATIN = (RXNORM, "40048", "carboplatin")
ETOPOSIDE = (RXNORM, "4179", "etoposide")


def card_of(rec: Recommendation) -> dict[str, Any]:
    """The CDS Hooks card, checked against the schema; suggested resources against FHIR R4B."""
    card = build_card(rec, PATIENT_REF, CardOptions())
    assert_valid_response({"cards": [card]})
    assert len(card["summary"]) < 140
    return card


def draft(code: tuple[str, ...], rid: str) -> dict[str, Any]:
    """A drafted MedicationRequest."""
    return medication(code, status="draft", rid=rid)


def mgmt(score: str) -> dict[str, Any]:
    """An MGMT IHC result."""
    return pnen_obs("mgmt-ihc", valueString=score)


def net(*extra: dict[str, Any], ki: float = 8, well: bool = True) -> list[dict[str, Any]]:
    """A NET with liver metastases (well differentiated recorded unless `well` is False)."""
    return [
        *base_pnen_lm(),
        *([differentiation("well")] if well else []),
        ki67(ki, "liver"),
        *extra,
    ]


def actions(rec: Recommendation) -> list[tuple[str | None, list[tuple[str, str | None]]]]:
    """(isRecommended, [(type, order key or resourceId)]) of every suggestion."""
    return [
        (s.is_recommended, [(a.type, a.order or a.resource_id) for a in s.actions])
        for s in rec.suggestions
    ]


PAIR = [draft(CISPLATIN, "cis"), draft(ETOPOSIDE, "etop")]
REMOVE = [("delete", "MedicationRequest/cis"), ("delete", "MedicationRequest/etop")]


# --- positive: any grade, CAPTEM for MGMT 0/1+ ------------------------------------------------
@pytest.mark.parametrize("hook", [OS, SIGN])
@pytest.mark.parametrize("ki", [2, 15, 25])
def test_platinum_etoposide_for_net_of_any_grade_suggests_captem_when_mgmt_low(
    hook: str, ki: float
) -> None:
    rec = run(net(mgmt("1+"), ki=ki), hook=hook, drafts=PAIR)[RULE]
    assert rec.indicator is Indicator.INFO
    grade = 1 if ki < 3 else 2 if ki <= 20 else 3
    assert f"well-differentiated NET G{grade}: a scheme for NEC; consider CAPTEM" in rec.summary
    assert actions(rec) == [
        (False, [*REMOVE, ("create", "capecitabine"), ("create", "temozolomide")])
    ]
    card = card_of(rec)
    created = [
        a["resource"]["medicationCodeableConcept"]["coding"][0]["code"]
        for a in card["suggestions"][0]["actions"]
        if a["type"] == "create"
    ]
    assert created == ["194000", "37776"]
    assert card["suggestions"][0]["isRecommended"] is False


@pytest.mark.parametrize("code", [CISPLATIN, CARBOPLATIN, ETOPOSIDE])
def test_any_one_of_platinum_or_etoposide_drafted_fires(code: tuple[str, ...]) -> None:
    rec = run(net(mgmt("0")), hook=SIGN, drafts=[draft(code, "one")])[RULE]
    assert rec.summary.startswith(f"{code[2].capitalize()} drafted for")
    assert actions(rec)[0][1][0] == ("delete", "MedicationRequest/one")


def test_platinum_for_net_suggests_non_tmz_regimens_when_mgmt_high() -> None:
    rec = run(net(mgmt("3+")), hook=SIGN, drafts=PAIR)[RULE]
    assert actions(rec) == [
        (False, [*REMOVE, ("create", "surufatinib")]),
        (False, [*REMOVE, ("create", "oxaliplatin"), ("create", "fluorouracil")]),
    ]
    assert "surufatinib or oxaliplatin + fluoropyrimidine" in rec.summary
    card_of(rec)


TMZ_GIVEN = medication(
    (RXNORM, "37776", "temozolomide"), status="completed", start="2025-09-01", end="2026-03-01"
)


@pytest.mark.parametrize("score", ["1+", None])
def test_captem_swap_says_a_temozolomide_regimen_was_already_given_cr_5(
    score: str | None,
) -> None:
    extra = [mgmt(score)] if score else []
    rec = run(net(*extra, TMZ_GIVEN), hook=SIGN, drafts=PAIR)[RULE]
    assert (
        "A temozolomide-based regimen was already given (from 2025-09-01): whether to "
        "re-challenge it or to choose a regimen without TMZ is for the MDT to judge"
    ) in rec.advice
    assert "MedicationRequest/" in " ".join(f.ref for f in rec.evidence)
    assert any(f.value.name == "temozolomide" for f in rec.evidence if f.kind.startswith("med"))
    card_of(rec)


def test_non_tmz_swap_for_mgmt_high_does_not_raise_the_re_challenge_question() -> None:
    rec = run(net(mgmt("3+"), TMZ_GIVEN), hook=SIGN, drafts=PAIR)[RULE]
    assert "already given" not in rec.advice


def test_no_re_challenge_sentence_without_an_earlier_temozolomide_regimen() -> None:
    rec = run(net(mgmt("1+")), hook=SIGN, drafts=PAIR)[RULE]
    assert "already given" not in rec.advice


def test_platinum_for_net_with_rb1_altered_says_platinum_response_may_be_predicted() -> None:
    rec = run(net(mgmt("1+"), variant("RB1")), hook=SIGN, drafts=PAIR)[RULE]
    assert "RB1 alteration recorded" in rec.advice and "(C 3)" in rec.advice


def test_platinum_for_net_fires_for_a_net_inferred_from_ki67_at_20_percent() -> None:
    rec = run(net(mgmt("1+"), ki=20, well=False), hook=SIGN, drafts=PAIR)[RULE]
    assert "inferred from grade" in card_of(rec)["detail"]


# --- unknown: MGMT not tested -------------------------------------------------------------------
def test_platinum_for_net_with_mgmt_unknown_suggests_the_mgmt_test_and_deletes_nothing() -> None:
    rec = run(net(), hook=SIGN, drafts=PAIR)[RULE]
    assert actions(rec) == [(None, [("create", "mgmt-ihc")])]
    assert rec.missing == ("MGMT IHC score (0, 1+, 2+ or 3+)",)
    assert "test MGMT to choose" in rec.summary
    card_of(rec)


def test_platinum_for_net_does_not_suggest_a_second_mgmt_test() -> None:
    record = net(service_request("mgmt-ihc", status="active", rid="mgmt-order"))
    rec = run(record, hook=SIGN, drafts=PAIR)[RULE]
    assert rec.suggestions == () and "already on record" in rec.advice


# --- negative -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "record",
    [
        pytest.param([*base_pnen_lm(), differentiation("poorly"), ki67(60)], id="NEC"),
        pytest.param(net(ki=20.1, well=False), id="G3-differentiation-unknown"),
        pytest.param(base_pnen_lm(), id="differentiation-unknown"),
        pytest.param(
            [*net(), condition("http://snomed.info/sct", "1186869002", rid="nec-code")],
            id="conflicting-differentiation",
        ),
        pytest.param([patient(), differentiation("well"), ki67(5)], id="no-pnen"),
    ],
)
def test_platinum_for_net_silent_outside_net(record: list[dict[str, Any]]) -> None:
    assert RULE not in run(record, hook=SIGN, drafts=PAIR)


def test_platinum_for_net_silent_without_a_platinum_or_etoposide_draft() -> None:
    drafts = [medication((RXNORM, "37776", "temozolomide"), status="draft", rid="tmz")]
    assert RULE not in run(net(mgmt("1+")), hook=SIGN, drafts=drafts)
