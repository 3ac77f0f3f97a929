"""F. Systemic therapy: conversion, adjuvant, SSA, targeted, PRRT, platinum (spec section F)."""

from __future__ import annotations

from typing import Any

import pytest

from cards import CardOptions, build_card
from consensus import Recommendation
from consensus.recommendation import OS, PV, SIGN, Indicator
from consensus.settings import Settings
from fhir_mappings.terminology import ICD10CM, PNEN, RXNORM
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    PATIENT_REF,
    base_pnen_lm,
    condition,
    days_ago,
    differentiation,
    disease_status,
    enets,
    fired,
    flag,
    ki67,
    medication,
    number,
    patient,
    pnen,
    pnen_obs,
    procedure,
    run,
    service_request,
    study,
)

WORSENED, STABLE = "271299001", "359746009"
LANREOTIDE = (RXNORM, "68092", "lanreotide")
OCTREOTIDE = (RXNORM, "7617", "octreotide")
OMEPRAZOLE = (RXNORM, "7646", "omeprazole")
EVEROLIMUS = (RXNORM, "141704", "everolimus")
CISPLATIN = (RXNORM, "2555", "cisplatin")
CARBOPLATIN = (RXNORM, "40048", "carboplatin")
ETOPOSIDE = (RXNORM, "4179", "etoposide")
TMZ = (RXNORM, "37776", "temozolomide")
PRRT = (RXNORM, "1999682", "lutetium Lu 177 dotatate")
PV_RULES = (
    "preop-systemic-mgmt",
    "adjuvant-ssa",
    "adjuvant-continue-regimen",
    "ssa-first-line",
    "ssa-hormone-control",
    "targeted-therapy",
    "prrt-candidate",
)


def card_of(rec: Recommendation) -> dict[str, Any]:
    """The CDS Hooks card of a recommendation, checked against the schema and FHIR R4B."""
    card = build_card(rec, PATIENT_REF, CardOptions())
    assert_valid_response({"cards": [card]})
    assert len(card["summary"]) < 140 and not card["summary"].endswith("…")
    return card


def statuses(rec: Recommendation) -> dict[str, str]:
    """Each criterion's name → 'met' / 'not met' / 'unknown'."""
    return {c.name: c.status.value for c in rec.criteria}


def created(card: dict[str, Any]) -> list[str]:
    """The codes of the resources the card's suggestions create, in order."""
    codes = []
    for suggestion in card.get("suggestions", []):
        for action in suggestion["actions"]:
            resource = action["resource"]
            concept = resource.get("medicationCodeableConcept") or resource["code"]
            codes.append(concept["coding"][0]["code"])
    return codes


def net_lm(*extra: dict[str, Any], ki: float = 8) -> list[dict[str, Any]]:
    """A well-differentiated NET with liver metastases and a liver Ki-67."""
    return [*base_pnen_lm(), differentiation("well"), ki67(ki, "liver"), *extra]


def mgmt(value: str) -> dict[str, Any]:
    """An MGMT IHC result as valueString."""
    return pnen_obs("mgmt-ihc", valueString=value)


def sstr_ihc(value: str) -> dict[str, Any]:
    """An SSTR2 IHC result as valueString ('3+', '1+', 'negative', …)."""
    return pnen_obs("sstr2-ihc", valueString=value)


def sstr_pet(result: str | None = "positive", days: int = 90) -> dict[str, Any]:
    """A 68Ga-SSA PET/CT report ('positive', 'negative' or None for no coded result)."""
    return study("pet-ssa", result=result, when=days_ago(days))


def ned(value: bool = True, days: int = 60) -> dict[str, Any]:
    """NED recorded as reached (or not) `days` ago."""
    return flag("ned", value, when=days_ago(days))


def resected(days: int = 200, code: str = "hepatectomy-parenchymal-sparing") -> dict[str, Any]:
    """A completed liver resection `days` ago."""
    return procedure(code, when=days_ago(days), rid=f"{code}-{days}")


def ssa(start_days: int = 400, **kw: Any) -> dict[str, Any]:
    """Lanreotide started `start_days` ago (active unless told otherwise)."""
    return medication(LANREOTIDE, start=days_ago(start_days), rid=kw.pop("rid", "ssa-1"), **kw)


def extrahepatic() -> dict[str, Any]:
    """A lung metastasis Condition (extrahepatic disease → advanced)."""
    return condition(ICD10CM, "C78.0", rid="lung-met")


def unresectable() -> list[dict[str, Any]]:
    """R0/R1 recorded as not feasible."""
    return [flag("r0-r1-feasible", False)]


def resectable() -> list[dict[str, Any]]:
    """R0/R1 feasible with remnant liver volume 40 %."""
    return [flag("r0-r1-feasible", True), number("remnant-liver-volume", 40)]


def type3_potential() -> list[dict[str, Any]]:
    """ENETS type III meeting C 11 criteria (1) and (3): potentially resectable."""
    return [
        enets("III"),
        flag("most-lesions-within-2cm-of-surface", True),
        number("deep-lesion-count", 3, unit="1"),
        flag("ned-achievable", True),
        number("remnant-liver-volume", 35),
    ]


def draft(code: tuple[str, ...], rid: str) -> dict[str, Any]:
    """A drafted MedicationRequest."""
    return medication(code, status="draft", rid=rid)


def actions(rec: Recommendation) -> list[list[tuple[str, str | None]]]:
    """(type, order key or resourceId) of every suggestion's actions."""
    return [[(a.type, a.order or a.resource_id) for a in s.actions] for s in rec.suggestions]


def pv_records() -> dict[str, list[dict[str, Any]]]:
    """For each patient-view rule, a record on which it fires."""
    progression = disease_status(WORSENED, when=days_ago(20))
    return {
        "preop-systemic-mgmt": net_lm(enets("II"), mgmt("1+")),
        "adjuvant-ssa": net_lm(
            enets("I"),
            procedure("distal-pancreatectomy", when=days_ago(100)),
            resected(100),
            ned(True),
            sstr_pet(),
        ),
        "adjuvant-continue-regimen": net_lm(enets("II"), procedure("tae"), ned(True)),
        "ssa-first-line": net_lm(extrahepatic(), sstr_pet()),
        "ssa-hormone-control": net_lm(condition(PNEN, "gastrinoma")),
        "targeted-therapy": net_lm(extrahepatic(), sstr_pet("negative")),
        "prrt-candidate": net_lm(extrahepatic(), sstr_pet(), ssa(), progression),
    }


@pytest.mark.parametrize("rule_id", PV_RULES)
def test_systemic_patient_view_rules_never_fire_on_order_hooks(rule_id: str) -> None:
    record = pv_records()[rule_id]
    assert rule_id in fired(record)
    for hook in (OS, SIGN):
        assert rule_id not in fired(record, hook=hook, drafts=[draft(TMZ, "tmz-1")])


def test_no_systemic_card_without_pnen() -> None:
    record = [patient(), condition(PNEN, "gastrinoma"), extrahepatic(), ki67(5), sstr_pet()]
    assert not fired(record) & set(PV_RULES)


# --- preop-systemic-mgmt --------------------------------------------------------------------
@pytest.mark.parametrize("score", ["0", "1+", "negative"])
def test_preop_mgmt_low_recommends_tmz_based_conversion(score: str) -> None:
    rec = run(net_lm(enets("II"), *unresectable(), mgmt(score)))["preop-systemic-mgmt"]
    assert rec.indicator is Indicator.INFO
    assert "STEM" in rec.summary and "CAPTEM" in rec.summary
    assert "S-1" in rec.advice and "MDT" in rec.advice
    assert statuses(rec)["MGMT 0/1+"] == "met"
    assert statuses(rec)["NED not recorded"] == "met"
    assert rec.suggestions == () and rec.missing == ()
    card = card_of(rec)
    assert "ENETS type II | **met**" in card["detail"]
    assert "rule out" not in card["summary"]


@pytest.mark.parametrize("score", ["2+", "3+"])
def test_preop_mgmt_high_recommends_conversion_without_tmz(score: str) -> None:
    rec = run(net_lm(enets("II"), *unresectable(), mgmt(score)))["preop-systemic-mgmt"]
    assert f"MGMT {score}" in rec.summary and "without TMZ" in rec.summary
    assert "surufatinib" in rec.advice and "oxaliplatin" in rec.advice
    assert "8–19 %" in rec.advice and "limited" in rec.advice
    assert statuses(rec)["MGMT 0/1+"] == "not met"
    assert rec.suggestions == ()
    card_of(rec)


def test_preop_mgmt_unknown_says_test_first_and_leaves_the_order_to_mgmt_test() -> None:
    rec = run(net_lm(enets("II"), *unresectable()))["preop-systemic-mgmt"]
    assert "test MGMT" in rec.summary
    assert "test MGMT by IHC first (C 3)" in rec.advice
    assert "MGMT IHC score (0, 1+, 2+ or 3+)" in rec.missing
    assert rec.suggestions == ()
    card = card_of(rec)
    assert "suggestions" not in card
    assert "MGMT 0/1+ | **unknown**" in card["detail"]


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(unresectable(), id="unresectable"),
        pytest.param([], id="resectability-unknown"),
    ],
)
def test_type_ii_net_without_mgmt_gets_one_mgmt_ihc_suggestion_in_the_whole_response(
    extra: list[dict[str, Any]],
) -> None:
    result = run(net_lm(enets("II"), *extra))
    assert {"preop-systemic-mgmt", "mgmt-test"} <= set(result)
    suggesting = [
        rule_id
        for rule_id, rec in result.items()
        for code in created(card_of(rec))
        if code == "mgmt-ihc"
    ]
    assert suggesting == ["mgmt-test"]


def test_preop_mgmt_unknown_with_mgmt_ordered_names_the_order_and_suggests_nothing() -> None:
    order = service_request("mgmt-ihc", status="active", rid="mgmt-order")
    rec = run(net_lm(enets("II"), *unresectable(), order))["preop-systemic-mgmt"]
    assert rec.suggestions == ()
    assert "pending" in rec.advice
    assert "ServiceRequest/mgmt-order" in [f.ref for f in rec.evidence]
    card_of(rec)


def test_preop_resectability_unknown_says_rule_out_upfront_resection_and_lists_data() -> None:
    rec = run(net_lm(enets("II"), mgmt("1+")))["preop-systemic-mgmt"]
    assert "resectability unknown: assess upfront resection first" in rec.summary
    assert "assess first whether the metastases can be resected upfront" in rec.advice
    assert statuses(rec)["liver metastases resectable"] == "unknown"
    assert set(rec.missing) == {
        "R0/R1 resection feasibility (surgical assessment)",
        "expected remnant liver volume (%)",
    }
    card = card_of(rec)
    assert "Missing data" in card["detail"]


def test_preop_partly_known_resectability_lists_only_the_missing_part() -> None:
    rec = run(net_lm(enets("II"), mgmt("1+"), flag("r0-r1-feasible", True)))
    assert rec["preop-systemic-mgmt"].missing == ("expected remnant liver volume (%)",)


def test_preop_silent_when_liver_metastases_are_resectable() -> None:
    assert "preop-systemic-mgmt" not in fired(net_lm(enets("II"), *resectable(), mgmt("1+")))


def test_preop_remnant_below_30_counts_as_not_resectable_upfront() -> None:
    record = net_lm(enets("II"), flag("r0-r1-feasible", True), number("remnant-liver-volume", 25))
    rec = run(record)["preop-systemic-mgmt"]
    assert statuses(rec)["liver metastases resectable"] == "not met"
    assert "rule out" not in rec.summary


def test_preop_for_potentially_resectable_type_iii_reassesses_after_conversion() -> None:
    rec = run(net_lm(*type3_potential(), mgmt("0")))["preop-systemic-mgmt"]
    assert rec.summary.startswith("Type III liver metastases")
    assert "potentially resectable (C 11)" in rec.advice and "after conversion" in rec.advice
    assert "upfront resection must be ruled out" not in rec.advice
    assert statuses(rec)["ENETS type III, potentially resectable (C 11)"] == "met"
    card_of(rec)


def test_preop_silent_for_type_iii_not_potentially_resectable() -> None:
    record = net_lm(
        enets("III"),
        flag("most-lesions-within-2cm-of-surface", False),
        number("liver-segments-involved", 6, unit="1"),
        flag("confined-to-one-lobe", False),
        flag("cytoreduction-90-achievable", False),
        mgmt("1+"),
    )
    assert "preop-systemic-mgmt" not in fired(record)


def test_preop_silent_for_type_iii_with_c11_data_unknown() -> None:
    result = fired(net_lm(enets("III"), mgmt("1+")))
    assert "preop-systemic-mgmt" not in result
    assert "type3-potentially-resectable" in result  # that card asks for the C 11 data


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(net_lm(enets("I"), *unresectable()), id="type-I"),
        pytest.param(net_lm(*unresectable()), id="type-unknown"),
        pytest.param(
            net_lm(enets("II"), *unresectable(), resected(100, "hepatectomy-anatomic")),
            id="liver-resected",
        ),
        pytest.param(net_lm(enets("II"), *unresectable(), ned(True)), id="NED-recorded"),
        pytest.param([*base_pnen_lm(), differentiation("poorly"), ki67(60), enets("II")], id="NEC"),
        pytest.param([*base_pnen_lm(), ki67(40), enets("II")], id="G3-differentiation-unknown"),
        pytest.param([*base_pnen_lm(), enets("II")], id="differentiation-unknown"),
        pytest.param([patient(), pnen(), differentiation("well"), ki67(5)], id="no-liver-mets"),
    ],
)
def test_preop_silent_outside_its_population(record: list[dict[str, Any]]) -> None:
    assert "preop-systemic-mgmt" not in fired(record)


def test_preop_fires_when_progression_follows_a_recorded_ned() -> None:
    record = net_lm(
        enets("II"),
        *unresectable(),
        ned(True, days=200),
        disease_status(WORSENED, when=days_ago(9)),
    )
    assert "preop-systemic-mgmt" in fired(record)


def test_preop_fires_when_ned_recorded_as_not_reached() -> None:
    rec = run(net_lm(enets("II"), *unresectable(), mgmt("1+"), ned(False)))["preop-systemic-mgmt"]
    assert statuses(rec)["NED not recorded"] == "met"


def test_preop_fires_for_g3_net_and_names_current_therapy() -> None:
    record = [*base_pnen_lm(), differentiation("well"), ki67(25), enets("II"), mgmt("3+"), ssa()]
    rec = run([*record, *unresectable()])["preop-systemic-mgmt"]
    assert "Current systemic therapy: lanreotide" in rec.advice


def test_preop_fires_for_net_inferred_from_low_ki67_and_says_so() -> None:
    rec = run([*base_pnen_lm(), ki67(5), enets("II"), *unresectable()])["preop-systemic-mgmt"]
    assert "inferred from grade" in card_of(rec)["detail"]


def test_preop_names_a_temozolomide_regimen_already_given_as_a_re_challenge_question_cr_5() -> None:
    given = medication(
        (RXNORM, "37776"), status="completed", start=days_ago(300), end=days_ago(120)
    )
    record = [*base_pnen_lm(), ki67(5), enets("II"), *unresectable(), given]
    rec = run(record)["preop-systemic-mgmt"]
    assert "temozolomide-based regimen was already given" in rec.advice
    assert "re-challenge" in rec.advice


# --- adjuvant-continue-regimen --------------------------------------------------------------
@pytest.mark.parametrize("enets_type", ["II", "III"])
@pytest.mark.parametrize(
    "code", ["hepatectomy-parenchymal-sparing", "hepatectomy-anatomic", "liver-ablation", "tae"]
)
def test_continue_regimen_after_ned_by_surgery_or_local_therapy(enets_type: str, code: str) -> None:
    record = net_lm(enets(enets_type), procedure(code, when=days_ago(150)), ned(True))
    rec = run(record)["adjuvant-continue-regimen"]
    assert rec.indicator is Indicator.INFO
    assert "continue the effective regimen" in rec.summary
    assert "clinical study" in rec.advice
    assert statuses(rec)["NED after surgery or local therapy"] == "met"
    assert rec.missing == () and rec.suggestions == ()
    card_of(rec)


def test_continue_regimen_after_tace_names_the_running_regimen() -> None:
    record = net_lm(enets("II"), procedure("tace"), ned(True), medication(TMZ, rid="tmz"))
    rec = run(record)["adjuvant-continue-regimen"]
    assert "Current systemic therapy: temozolomide" in rec.advice
    assert "MedicationRequest/tmz" in card_of(rec)["detail"]


def test_continue_regimen_names_a_past_regimen_when_none_is_active() -> None:
    past = medication(TMZ, status="completed", rid="tmz-past")
    rec = run(net_lm(enets("III"), procedure("tae"), ned(True), past))["adjuvant-continue-regimen"]
    assert "Systemic therapy on record (not active): temozolomide" in rec.advice


def test_continue_regimen_with_ned_not_recorded_fires_conditionally() -> None:
    rec = run(net_lm(enets("II"), procedure("liver-ablation")))["adjuvant-continue-regimen"]
    assert "if NED was reached" in rec.summary
    assert rec.missing == ("NED status after the surgery or local therapy",)
    assert statuses(rec)["NED after surgery or local therapy"] == "unknown"
    card_of(rec)


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(net_lm(enets("II"), procedure("tae"), ned(False)), id="NED-not-reached"),
        pytest.param(
            net_lm(
                enets("II"),
                procedure("tae", when=days_ago(300)),
                ned(True),
                disease_status(WORSENED, when=days_ago(5)),
            ),
            id="progression-after-NED",
        ),
        pytest.param(net_lm(enets("I"), resected(), ned(True)), id="type-I"),
        pytest.param(net_lm(resected(), ned(True)), id="type-unknown"),
        pytest.param(net_lm(enets("II"), ned(True)), id="no-procedure"),
        pytest.param(
            net_lm(enets("II"), procedure("tae", status="in-progress"), ned(True)),
            id="procedure-not-completed",
        ),
        pytest.param(
            [*base_pnen_lm(), differentiation("poorly"), enets("II"), procedure("tae"), ned()],
            id="NEC",
        ),
    ],
)
def test_continue_regimen_silent_outside_its_population(record: list[dict[str, Any]]) -> None:
    assert "adjuvant-continue-regimen" not in fired(record)


# --- ssa-first-line -------------------------------------------------------------------------
@pytest.mark.parametrize("ki", [1, 5, 9.9])
def test_ssa_first_line_for_advanced_net_with_ki67_below_10_and_sstr_positive(ki: float) -> None:
    rec = run(net_lm(extrahepatic(), sstr_pet(), ki=ki))["ssa-first-line"]
    assert rec.indicator is Indicator.INFO
    assert f"Ki-67 {ki:g} %" in rec.summary
    assert actions(rec) == [[("create", "lanreotide")], [("create", "octreotide-lar")]]
    card = card_of(rec)
    assert created(card) == ["68092", "7617"] and card["selectionBehavior"] == "at-most-one"
    assert "CLARINET" in card["detail"]


@pytest.mark.parametrize("ki", [10, 10.1, 18])
def test_ssa_first_line_silent_with_ki67_10_or_more(ki: float) -> None:
    assert "ssa-first-line" not in fired(net_lm(extrahepatic(), sstr_pet(), ki=ki))


def test_ssa_first_line_when_unresectable_liver_metastases_make_it_advanced() -> None:
    rec = run(net_lm(*unresectable(), sstr_ihc("2+")))["ssa-first-line"]
    assert statuses(rec)["advanced disease"] == "met"


def test_ssa_first_line_type_iii_with_c11_unknown_lists_the_c11_data() -> None:
    rec = run(net_lm(enets("III"), sstr_pet()))["ssa-first-line"]
    assert any(m.startswith("C 11 potential-resectability data") for m in rec.missing)
    assert rec.suggestions  # advanced is met: type III counts as unresectable
    card_of(rec)


@pytest.mark.parametrize(("score", "fires"), [("1+", False), ("2+", True), ("3+", True)])
def test_ssa_first_line_sstr2_ihc_cut_off_is_local_policy(score: str, fires: bool) -> None:
    result = run(net_lm(extrahepatic(), sstr_ihc(score)))
    assert ("ssa-first-line" in result) is fires
    if fires:
        rec = result["ssa-first-line"]
        assert rec.local_policy == (
            "SSTR2 IHC score counted as positive: 2+ (local policy, configurable)",
        )
        assert "Local policy" in card_of(rec)["detail"]


def test_ssa_first_line_sstr2_ihc_cut_off_follows_the_site_setting() -> None:
    record = net_lm(extrahepatic(), sstr_ihc("2+"))
    assert "ssa-first-line" not in fired(record, settings=Settings({"sstr2-ihc-positive-score": 3}))


def test_ssa_first_line_on_sstr_pet_alone_has_no_local_policy() -> None:
    assert run(net_lm(extrahepatic(), sstr_pet()))["ssa-first-line"].local_policy == ()


def test_ssa_first_line_silent_while_advanced_is_unknown() -> None:
    assert "ssa-first-line" not in fired(net_lm(enets("II"), sstr_pet()))


def test_ssa_first_line_silent_when_not_advanced() -> None:
    assert "ssa-first-line" not in fired(net_lm(*resectable(), sstr_pet()))


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param([sstr_pet("negative")], id="SSTR-negative"),
        pytest.param([sstr_pet(), ssa()], id="SSA-active"),
        pytest.param([sstr_pet(), medication(OCTREOTIDE, rid="oct")], id="octreotide-active"),
    ],
)
def test_ssa_first_line_silent_when_sstr_negative_or_on_ssa(extra: list[dict[str, Any]]) -> None:
    assert "ssa-first-line" not in fired(net_lm(extrahepatic(), *extra))


def test_ssa_first_line_with_sstr_unknown_fires_naming_it_without_suggestions() -> None:
    rec = run(net_lm(extrahepatic()))["ssa-first-line"]
    assert "if SSTR positive" in rec.summary
    assert rec.missing == ("SSTR status (SSTR2 IHC, 68Ga-SSA PET or SSTR scintigraphy result)",)
    assert rec.suggestions == ()
    card_of(rec)


def test_ssa_first_line_with_ki67_unknown_fires_naming_it() -> None:
    record = [*base_pnen_lm(), differentiation("well"), extrahepatic(), sstr_pet()]
    rec = run(record)["ssa-first-line"]
    assert rec.missing == ("Ki-67 index",) and rec.suggestions == ()


def test_ssa_first_line_silent_for_nec() -> None:
    record = [*base_pnen_lm(), differentiation("poorly"), ki67(8), extrahepatic(), sstr_pet()]
    assert "ssa-first-line" not in fired(record)


def insulinoma_lm(*extra: dict[str, Any], ki: float = 8) -> list[dict[str, Any]]:
    """An advanced insulinoma NET (extrahepatic metastasis) with a liver Ki-67."""
    return net_lm(extrahepatic(), condition(PNEN, "insulinoma"), *extra, ki=ki)


def test_ssa_first_line_for_insulinoma_warns_of_hypoglycaemia_and_suggests_no_ssa() -> None:
    rec = run(insulinoma_lm(sstr_pet()))["ssa-first-line"]
    assert rec.summary == (
        "Advanced insulinoma: SSAs can worsen hypoglycaemia — monitor glucose; no SSA suggested"
    )
    assert rec.advice.startswith("An insulinoma is recorded: SSAs can worsen hypoglycaemia")
    assert "monitor blood glucose" in rec.advice and "`ssa-hormone-control`" in rec.advice
    assert rec.suggestions == ()
    card_of(rec)


@pytest.mark.parametrize(("ki", "fires"), [(9.9, True), (10, False)])
def test_ssa_first_line_insulinoma_warning_at_the_ki67_cut_off(ki: float, fires: bool) -> None:
    assert ("ssa-first-line" in fired(insulinoma_lm(sstr_pet(), ki=ki))) is fires


def test_ssa_first_line_insulinoma_warning_with_sstr_unknown_names_it() -> None:
    rec = run(insulinoma_lm())["ssa-first-line"]
    assert "hypoglycaemia" in rec.summary and rec.suggestions == ()
    assert "Not yet established: SSTR positive." in rec.advice


def test_ssa_first_line_insulinoma_silent_when_sstr_negative() -> None:
    assert "ssa-first-line" not in fired(insulinoma_lm(sstr_pet("negative")))


# --- ssa-hormone-control --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("syndrome", "name"),
    [("gastrinoma", "gastrinoma"), ("vipoma", "VIPoma"), ("glucagonoma", "glucagonoma")],
)
def test_ssa_hormone_control_for_functional_pnet(syndrome: str, name: str) -> None:
    rec = run(net_lm(condition(PNEN, syndrome)))["ssa-hormone-control"]
    assert rec.indicator is Indicator.INFO
    assert f"Functional pNET ({name})" in rec.summary
    assert actions(rec) == [[("create", "lanreotide")], [("create", "octreotide-lar")]]
    card = card_of(rec)
    assert created(card) == ["68092", "7617"]


def test_ssa_hormone_control_for_gastrinoma_mentions_ppi_and_whether_one_is_active() -> None:
    rec = run(net_lm(condition(PNEN, "gastrinoma")))["ssa-hormone-control"]
    assert "PPI" in rec.summary and "no active PPI recorded" in rec.advice
    on_ppi = net_lm(condition(PNEN, "gastrinoma"), medication(OMEPRAZOLE, rid="ppi"))
    rec = run(on_ppi)["ssa-hormone-control"]
    assert "active: omeprazole" in rec.advice
    assert "MedicationRequest/ppi" in [f.ref for f in rec.evidence]


def test_ssa_hormone_control_summary_with_many_syndromes_stays_short() -> None:
    syndromes = ["gastrinoma", "vipoma", "glucagonoma", "acthoma", "somatostatinoma"]
    rec = run(net_lm(*(condition(PNEN, s) for s in syndromes)))["ssa-hormone-control"]
    assert rec.summary.startswith("Functional pNET (5 syndromes)")
    assert "VIPoma" in card_of(rec)["detail"]


def test_ssa_hormone_control_for_acthoma_mentions_metyrapone() -> None:
    rec = run(net_lm(condition(PNEN, "acthoma")))["ssa-hormone-control"]
    assert "metyrapone" in rec.advice


def test_ssa_hormone_control_silent_for_insulinoma_alone() -> None:
    assert "ssa-hormone-control" not in fired(net_lm(condition(PNEN, "insulinoma")))


def test_ssa_hormone_control_insulinoma_with_another_syndrome_cautions_without_ssa() -> None:
    record = net_lm(condition(PNEN, "insulinoma"), condition(PNEN, "gastrinoma"))
    rec = run(record)["ssa-hormone-control"]
    assert "(gastrinoma)" in rec.summary
    assert rec.suggestions == () and "worsen hypoglycaemia" in rec.advice
    card_of(rec)


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(net_lm(), id="non-functional"),
        pytest.param(net_lm(condition(PNEN, "gastrinoma"), ssa()), id="SSA-active"),
        pytest.param(
            [*base_pnen_lm(), differentiation("poorly"), condition(PNEN, "gastrinoma")], id="NEC"
        ),
    ],
)
def test_ssa_hormone_control_silent(record: list[dict[str, Any]]) -> None:
    assert "ssa-hormone-control" not in fired(record)


def test_ssa_hormone_control_does_not_need_liver_metastases() -> None:
    record = [patient(), pnen(), differentiation("well"), condition(PNEN, "gastrinoma")]
    assert "ssa-hormone-control" in fired(record)


# --- targeted-therapy -----------------------------------------------------------------------
def test_targeted_therapy_first_line_for_sstr_negative_advanced_net() -> None:
    rec = run(net_lm(extrahepatic(), sstr_pet("negative")))["targeted-therapy"]
    assert rec.indicator is Indicator.INFO
    assert "SSTR negative" in rec.summary and "first-line" in rec.summary
    assert "**first line**" in rec.advice and "surufatinib" in rec.summary
    assert statuses(rec)["SSTR negative"] == "met"
    assert rec.suggestions == ()
    card_of(rec)


def test_targeted_therapy_second_line_after_progression_on_ssa() -> None:
    record = net_lm(*unresectable(), sstr_pet(), ssa(), disease_status(WORSENED, when=days_ago(20)))
    rec = run(record)["targeted-therapy"]
    assert "progression on SSA" in rec.summary and "second-line" in rec.summary
    assert statuses(rec)["progression on SSA"] == "met"
    # The second line does not depend on SSTR: the positive SSTR PET is evidence, not a criterion.
    assert "SSTR negative" not in statuses(rec)
    assert any(f.kind == "imaging:pet-ssa" for f in rec.evidence)
    card = card_of(rec)
    assert "MedicationRequest/ssa-1" in card["detail"]


def test_targeted_therapy_second_line_with_sstr_unknown_does_not_ask_for_sstr() -> None:
    record = net_lm(extrahepatic(), ssa(), disease_status(WORSENED, when=days_ago(20)))
    rec = run(record)["targeted-therapy"]
    assert "second-line" in rec.summary
    assert "SSTR negative" not in statuses(rec) and rec.missing == ()


def test_targeted_therapy_first_line_from_sstr2_ihc_1_plus_names_the_local_cut_off() -> None:
    rec = run(net_lm(extrahepatic(), sstr_ihc("1+")))["targeted-therapy"]
    assert "first-line" in rec.summary and rec.local_policy


def test_targeted_therapy_progression_before_the_ssa_is_not_progression_on_ssa() -> None:
    record = net_lm(
        extrahepatic(),
        sstr_pet(),
        ssa(start_days=100),
        disease_status(WORSENED, when=days_ago(200)),
    )
    assert "targeted-therapy" not in fired(record)


def test_targeted_therapy_progression_after_the_ssa_stopped_does_not_count() -> None:
    stopped = ssa(start_days=400, status="stopped")
    record = net_lm(extrahepatic(), sstr_pet(), stopped, disease_status(WORSENED, when=days_ago(9)))
    assert "targeted-therapy" not in fired(record)


def test_targeted_therapy_silent_with_sstr_unknown_and_no_progression_on_ssa() -> None:
    assert "targeted-therapy" not in fired(net_lm(extrahepatic()))


def test_targeted_therapy_silent_while_advanced_is_unknown() -> None:
    record = net_lm(enets("II"), sstr_pet(), ssa(), disease_status(WORSENED, when=days_ago(20)))
    assert "targeted-therapy" not in fired(record)


def test_targeted_therapy_silent_when_not_advanced() -> None:
    assert "targeted-therapy" not in fired(net_lm(*resectable(), sstr_pet("negative")))


def test_targeted_therapy_silent_when_a_targeted_agent_is_active() -> None:
    record = net_lm(extrahepatic(), sstr_pet("negative"), medication(EVEROLIMUS, rid="evero"))
    assert "targeted-therapy" not in fired(record)


def test_targeted_therapy_silent_for_nec() -> None:
    record = [*base_pnen_lm(), differentiation("poorly"), extrahepatic(), sstr_pet("negative")]
    assert "targeted-therapy" not in fired(record)


def test_targeted_therapy_type_iii_with_c11_unknown_lists_the_c11_data() -> None:
    rec = run(net_lm(enets("III"), sstr_pet("negative")))["targeted-therapy"]
    assert any(m.startswith("C 11 potential-resectability data") for m in rec.missing)


# --- prrt-candidate -------------------------------------------------------------------------
def progressing_on_ssa(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """Advanced NET (extrahepatic disease) progressing on lanreotide."""
    return net_lm(extrahepatic(), ssa(), disease_status(WORSENED, when=days_ago(20)), *extra)


def test_prrt_candidate_with_avid_sstr_pet_and_progression_on_ssa() -> None:
    rec = run(progressing_on_ssa(sstr_pet()))["prrt-candidate"]
    assert rec.indicator is Indicator.INFO
    assert "177Lu-DOTATATE" in rec.summary
    assert statuses(rec)["SSTR PET avid"] == "met" and rec.missing == ()
    assert rec.suggestions == ()
    card_of(rec)


def test_prrt_candidate_reads_the_latest_sstr_pet() -> None:
    newer_negative = [sstr_pet("positive", days=400), sstr_pet("negative", days=30)]
    assert "prrt-candidate" not in fired(progressing_on_ssa(*newer_negative))
    newer_positive = [sstr_pet("negative", days=400), sstr_pet("positive", days=30)]
    assert "prrt-candidate" in fired(progressing_on_ssa(*newer_positive))


def test_prrt_candidate_with_no_sstr_pet_result_fires_naming_it() -> None:
    for extra in ([], [sstr_pet(None)], [sstr_ihc("3+")]):
        rec = run(progressing_on_ssa(*extra))["prrt-candidate"]
        assert rec.missing == ("68Ga-SSA PET/CT result",)
        assert "if SSTR PET is avid" in rec.summary
        card_of(rec)


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(net_lm(extrahepatic(), sstr_pet(), ssa()), id="no-progression"),
        pytest.param(
            net_lm(extrahepatic(), sstr_pet(), disease_status(WORSENED, when=days_ago(20))),
            id="progression-without-SSA",
        ),
        pytest.param(progressing_on_ssa(sstr_pet("negative")), id="SSTR-PET-negative"),
        pytest.param(progressing_on_ssa(sstr_pet(), medication(PRRT, rid="lu")), id="on-PRRT"),
        pytest.param(
            net_lm(enets("II"), sstr_pet(), ssa(), disease_status(WORSENED, when=days_ago(20))),
            id="advanced-unknown",
        ),
    ],
)
def test_prrt_candidate_silent(record: list[dict[str, Any]]) -> None:
    assert "prrt-candidate" not in fired(record)


def test_prrt_candidate_progression_then_stable_on_ssa_still_counts() -> None:
    record = progressing_on_ssa(sstr_pet(), disease_status(STABLE, when=days_ago(5)))
    assert "prrt-candidate" in fired(record)


# --- platinum-for-net (more in test_platinum_for_net.py) ------------------------------------
def test_platinum_for_net_is_an_order_rule_only() -> None:
    record = net_lm(medication(CISPLATIN, rid="cis"), medication(ETOPOSIDE, rid="etop"))
    assert "platinum-for-net" not in fired(record, hook=PV)
