"""D. Molecular: mgmt-test, mgmt-tmz-mismatch, molecular-actionable (consensus-rules.md D)."""

from __future__ import annotations

from typing import Any

import pytest

from cards import CardOptions, build_card
from consensus import Recommendation
from consensus.recommendation import OS, PV, SIGN, Indicator
from consensus.settings import Settings
from fhir_mappings.terminology import LOINC, PNEN, RXNORM, SNOMED
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    PATIENT_REF,
    base_pnen_lm,
    cc,
    condition,
    differentiation,
    disease_status,
    enets,
    fired,
    ki67,
    medication,
    observation,
    patient,
    pnen,
    pnen_obs,
    report,
    run,
    service_request,
    variant,
)

WORSENED, STABLE = "271299001", "359746009"
TMZ = (RXNORM, "37776")
CAPECITABINE = (RXNORM, "194000")


def card_of(rec: Recommendation) -> dict[str, Any]:
    """The CDS Hooks card of a recommendation, checked against the schema and FHIR R4B."""
    card = build_card(rec, PATIENT_REF, CardOptions())
    assert_valid_response({"cards": [card]})
    return card


def mgmt(value: str, **kw: Any) -> dict[str, Any]:
    """An MGMT IHC result as valueString."""
    return pnen_obs("mgmt-ihc", valueString=value, **kw)


def net_lm(*extra: dict[str, Any], ki: float = 8) -> list[dict[str, Any]]:
    """A well-differentiated NET with liver metastases and a liver Ki-67."""
    return [*base_pnen_lm(), differentiation("well"), ki67(ki, "liver"), *extra]


def tmz_draft(rid: str = "tmz-1", **kw: Any) -> dict[str, Any]:
    """A drafted temozolomide MedicationRequest."""
    return medication(TMZ, status="draft", rid=rid, **kw)


def actions(rec: Recommendation, index: int) -> list[tuple[str, str | None]]:
    """(type, order key or resourceId) of one suggestion's actions, in order."""
    return [(a.type, a.order or a.resource_id) for a in rec.suggestions[index].actions]


# --- mgmt-test ------------------------------------------------------------------------------
@pytest.mark.parametrize("enets_type", ["II", "III"])
def test_mgmt_test_suggested_for_net_with_type_ii_or_iii_liver_metastases(enets_type: str) -> None:
    rec = run(net_lm(enets(enets_type)))["mgmt-test"]
    assert rec.indicator is Indicator.INFO
    assert [actions(rec, 0)] == [[("create", "mgmt-ihc")]]
    card = card_of(rec)
    assert "TMZ" in card["detail"] and "ENETS type II or III | **met**" in card["detail"]
    resource = card["suggestions"][0]["actions"][0]["resource"]
    assert resource["code"]["coding"][0]["code"] == "mgmt-ihc"


def test_mgmt_test_suggested_after_progression_with_type_i() -> None:
    rec = run(net_lm(enets("I"), disease_status(WORSENED)))["mgmt-test"]
    statuses = {c.name: c.status.value for c in rec.criteria}
    assert statuses["ENETS type II or III"] == "not met"
    assert statuses["progression recorded"] == "met"


def test_mgmt_test_counts_a_past_progression_followed_by_stable_disease() -> None:
    record = net_lm(disease_status(WORSENED, when="2020-01-01"), disease_status(STABLE))
    assert "mgmt-test" in fired(record)


def test_mgmt_test_counts_progression_coded_on_an_imaging_report() -> None:
    ct = report(cc(LOINC, "36813-4", "CT abdomen and pelvis W contrast IV"), result="PD")
    assert "mgmt-test" in fired(net_lm(ct))


def test_mgmt_test_with_enets_type_unknown_but_progression_says_type_unknown() -> None:
    rec = run(net_lm(disease_status(WORSENED)))["mgmt-test"]
    enets_row = next(c for c in rec.criteria if c.name == "ENETS type II or III")
    assert enets_row.unknown and enets_row.missing == ("ENETS liver-metastasis type",)


def test_mgmt_test_silent_for_type_i_without_progression() -> None:
    assert "mgmt-test" not in fired(net_lm(enets("I"), disease_status(STABLE)))


def test_mgmt_test_silent_when_enets_type_and_progression_are_both_unknown() -> None:
    assert "mgmt-test" not in fired(net_lm())


@pytest.mark.parametrize("score", ["0", "1+", "2+", "3+", "loss"])
def test_mgmt_test_silent_once_any_mgmt_result_is_on_record(score: str) -> None:
    assert "mgmt-test" not in fired(net_lm(enets("III"), mgmt(score)))


def test_mgmt_test_with_an_mgmt_order_pending_names_it_and_suggests_nothing() -> None:
    order = service_request("mgmt-ihc", status="active", rid="mgmt-order")
    rec = run(net_lm(enets("II"), order))["mgmt-test"]
    assert rec.suggestions == ()
    assert "ServiceRequest/mgmt-order" in [f.ref for f in rec.evidence]
    assert "pending" in rec.advice


@pytest.mark.parametrize(
    "record",
    [
        pytest.param([*base_pnen_lm(), differentiation("poorly"), enets("III")], id="NEC"),
        pytest.param([*base_pnen_lm(), ki67(30), enets("III")], id="G3-differentiation-unknown"),
        pytest.param([*base_pnen_lm(), enets("III")], id="differentiation-unknown"),
        pytest.param([patient(), pnen(), differentiation("well"), ki67(5)], id="no-liver-mets"),
        pytest.param(
            [patient(), condition(SNOMED, "94381002"), ki67(5), enets("III")], id="no-pnen"
        ),
    ],
)
def test_mgmt_test_silent_unless_net_with_liver_metastases(record: list[dict[str, Any]]) -> None:
    assert "mgmt-test" not in fired(record)


def test_mgmt_test_is_a_patient_view_rule_only() -> None:
    assert "mgmt-test" not in fired(net_lm(enets("III")), hook=OS, drafts=[tmz_draft()])


def test_mgmt_test_inferred_net_from_low_ki67_counts() -> None:
    assert "mgmt-test" in fired([*base_pnen_lm(), ki67(5), enets("II")])


# --- mgmt-tmz-mismatch ----------------------------------------------------------------------
@pytest.mark.parametrize("hook", [OS, SIGN])
@pytest.mark.parametrize("score", ["2", "2+", "3+"])
def test_tmz_drafted_with_mgmt_high_warns_and_offers_two_swaps(hook: str, score: str) -> None:
    rec = run(net_lm(mgmt(score)), hook=hook, drafts=[tmz_draft()])["mgmt-tmz-mismatch"]
    assert rec.indicator is Indicator.WARNING
    assert [s.is_recommended for s in rec.suggestions] == [False, False]
    assert actions(rec, 0) == [
        ("delete", "MedicationRequest/tmz-1"),
        ("create", "oxaliplatin"),
        ("create", "fluorouracil"),
    ]
    assert actions(rec, 1) == [("delete", "MedicationRequest/tmz-1"), ("create", "surufatinib")]
    card = card_of(rec)
    assert card["indicator"] == "warning" and card["overrideReasons"]
    assert "8–19 %" in card["detail"] and "limited" in card["detail"]
    created = [
        a["resource"]["medicationCodeableConcept"]["coding"][0]["code"]
        for s in card["suggestions"]
        for a in s["actions"]
        if a["type"] == "create"
    ]
    assert created == ["32592", "4492", "surufatinib"]
    assert all(s["isRecommended"] is False for s in card["suggestions"])


@pytest.mark.parametrize("score", ["0", "1+", "negative"])
def test_tmz_drafted_with_mgmt_low_is_silent(score: str) -> None:
    assert "mgmt-tmz-mismatch" not in fired(net_lm(mgmt(score)), hook=OS, drafts=[tmz_draft()])


def test_tmz_mismatch_reads_the_latest_mgmt_result() -> None:
    record = net_lm(mgmt("3+", when="2022-01-01"), mgmt("1+", when="2024-01-01"))
    assert "mgmt-tmz-mismatch" not in fired(record, hook=OS, drafts=[tmz_draft()])
    record = net_lm(mgmt("1+", when="2022-01-01"), mgmt("3+", when="2024-01-01"))
    assert "mgmt-tmz-mismatch" in fired(record, hook=OS, drafts=[tmz_draft()])


def test_tmz_drafted_with_mgmt_unknown_says_test_mgmt_first() -> None:
    rec = run(net_lm(), hook=OS, drafts=[tmz_draft()])["mgmt-tmz-mismatch"]
    assert rec.indicator is Indicator.INFO
    assert "Test MGMT first" in rec.advice
    assert rec.missing == ("MGMT IHC score (0, 1+, 2+ or 3+)",)
    assert [actions(rec, 0)] == [[("create", "mgmt-ihc")]]
    assert rec.suggestions[0].is_recommended is None
    card = card_of(rec)
    assert "MGMT 0/1+ | **unknown**" in card["detail"]
    assert "MedicationRequest/tmz-1" in card["detail"]


def test_tmz_mgmt_unknown_with_mgmt_ordered_in_the_record_suggests_nothing() -> None:
    order = service_request("mgmt-ihc", status="active", rid="mgmt-1")
    rec = run(net_lm(order), hook=OS, drafts=[tmz_draft()])["mgmt-tmz-mismatch"]
    assert rec.suggestions == ()
    assert "ServiceRequest/mgmt-1" in [f.ref for f in rec.evidence]


def test_tmz_mgmt_unknown_with_mgmt_drafted_alongside_suggests_nothing() -> None:
    drafts = [tmz_draft(), service_request("mgmt-ihc", rid="mgmt-draft")]
    rec = run(net_lm(), hook=SIGN, drafts=drafts)["mgmt-tmz-mismatch"]
    assert rec.suggestions == ()
    assert "ServiceRequest/mgmt-draft" in [f.ref for f in rec.evidence]


def test_captem_draft_keeps_capecitabine_as_the_oxaliplatin_partner() -> None:
    drafts = [tmz_draft(), medication(CAPECITABINE, status="draft", rid="cape-1")]
    rec = run(net_lm(mgmt("3+")), hook=SIGN, drafts=drafts)["mgmt-tmz-mismatch"]
    assert actions(rec, 0) == [("delete", "MedicationRequest/tmz-1"), ("create", "oxaliplatin")]
    assert "keep the drafted capecitabine" in rec.suggestions[0].label
    assert actions(rec, 1) == [
        ("delete", "MedicationRequest/tmz-1"),
        ("delete", "MedicationRequest/cape-1"),
        ("create", "surufatinib"),
    ]
    card_of(rec)


def test_combined_tmz_capecitabine_product_is_replaced_whole() -> None:
    combined = medication((PNEN, "x"), status="draft", rid="captem")
    combined["medicationCodeableConcept"] = {"text": "capecitabine + temozolomide (CAPTEM)"}
    rec = run(net_lm(mgmt("2+")), hook=OS, drafts=[combined])["mgmt-tmz-mismatch"]
    assert actions(rec, 0) == [
        ("delete", "MedicationRequest/captem"),
        ("create", "oxaliplatin"),
        ("create", "fluorouracil"),
    ]


def test_tmz_recognised_by_name_in_the_draft() -> None:
    draft = tmz_draft()
    draft["medicationCodeableConcept"] = {"text": "Temodar 100 mg capsule"}
    rec = run(net_lm(mgmt("3+")), hook=OS, drafts=[draft])["mgmt-tmz-mismatch"]
    assert rec.evidence[0].flags == ("recognised by text",)


def test_tmz_mismatch_silent_without_a_tmz_draft() -> None:
    drafts = [medication(CAPECITABINE, status="draft")]
    assert "mgmt-tmz-mismatch" not in fired(net_lm(mgmt("3+")), hook=OS, drafts=drafts)
    assert "mgmt-tmz-mismatch" not in fired(net_lm(mgmt("3+")), hook=OS)


def test_tmz_mismatch_never_fires_on_patient_view_even_with_active_tmz() -> None:
    assert "mgmt-tmz-mismatch" not in fired(net_lm(mgmt("3+"), medication(TMZ)))


def test_tmz_mismatch_silent_without_pnen() -> None:
    record = [patient(), mgmt("3+")]
    assert "mgmt-tmz-mismatch" not in fired(record, hook=OS, drafts=[tmz_draft()])


# --- molecular-actionable -------------------------------------------------------------------
def tmb(value: float) -> dict[str, Any]:
    """A TMB result in mutations/Mb."""
    return observation((LOINC, "94076-7"), valueQuantity={"value": value, "unit": "/Mb"})


def cps(value: float) -> dict[str, Any]:
    """A PD-L1 combined positive score."""
    return pnen_obs("pdl1-cps", valueQuantity={"value": value})


def msi(value: dict[str, Any]) -> dict[str, Any]:
    """An MSI result."""
    return observation((LOINC, "81695-9"), **value)


@pytest.mark.parametrize("gene", ["RB1", "BRCA2"])
def test_rb1_or_brca2_alteration_points_to_platinum(gene: str) -> None:
    rec = run(net_lm(variant(gene)))["molecular-actionable"]
    assert f"{gene} alteration" in rec.summary
    assert "platinum" in rec.advice
    assert "immunotherapy" not in rec.advice
    card_of(rec)


def test_rb1_in_a_net_says_platinum_is_not_standard_and_to_review_differentiation_cr_13() -> None:
    rec = run(net_lm(variant("RB1")))["molecular-actionable"]
    assert "platinum-etoposide is not a standard regimen" in rec.advice
    assert "review the differentiation" in rec.advice


@pytest.mark.parametrize("gene", ["TP53", "DAXX", "ATRX", "MEN1"])
def test_alterations_without_a_therapy_link_are_silent(gene: str) -> None:
    assert "molecular-actionable" not in fired(net_lm(variant(gene)))


def test_absent_variant_is_silent() -> None:
    assert "molecular-actionable" not in fired(net_lm(variant("RB1", present=False)))


def test_msi_high_suggests_immunotherapy_with_the_review_caution() -> None:
    rec = run(net_lm(msi({"valueCodeableConcept": cc(LOINC, "LA26203-2", "MSI-H")})))[
        "molecular-actionable"
    ]
    assert "MSI-H" in rec.summary
    assert "ORR < 10 %" in rec.advice and "poorly differentiated" in rec.advice
    assert rec.local_policy == ()


def test_microsatellite_stable_is_silent() -> None:
    assert "molecular-actionable" not in fired(net_lm(msi({"valueString": "MSS"})))


def test_latest_msi_result_counts() -> None:
    old = msi({"valueString": "MSI-H"}) | {"effectiveDateTime": "2020-01-01"}
    new = msi({"valueString": "MSS"}) | {"effectiveDateTime": "2024-01-01"}
    assert "molecular-actionable" not in fired(net_lm(old, new))


@pytest.mark.parametrize(("value", "fires"), [(9.9, False), (10, True), (10.1, True)])
def test_tmb_high_from_10_mutations_per_megabase(value: float, fires: bool) -> None:
    result = run(net_lm(tmb(value)))
    assert ("molecular-actionable" in result) is fires
    if fires:
        rec = result["molecular-actionable"]
        assert "TMB-high" in rec.summary
        assert rec.local_policy == (Settings().describe("tmb-high"),)
        assert "local policy" in card_of(rec)["detail"]


def test_tmb_threshold_is_a_configurable_local_default() -> None:
    settings = Settings({"tmb-high": 20})
    assert "molecular-actionable" not in fired(net_lm(tmb(12)), settings=settings)
    rec = run(net_lm(tmb(20)), settings=settings)["molecular-actionable"]
    assert "20 mutations/Mb" in rec.local_policy[0]


@pytest.mark.parametrize(("value", "fires"), [(0.9, False), (1, True), (1.1, True)])
def test_pdl1_cps_positive_from_1(value: float, fires: bool) -> None:
    result = run(net_lm(cps(value)))
    assert ("molecular-actionable" in result) is fires
    if fires:
        assert result["molecular-actionable"].local_policy == (
            Settings().describe("pdl1-cps-positive"),
        )


def test_pdl1_cps_below_1_as_text_is_silent() -> None:
    assert "molecular-actionable" not in fired(net_lm(pnen_obs("pdl1-cps", valueString="<1")))


def test_ntrk_fusion_is_called_a_fusion() -> None:
    fusion = variant(
        "NTRK1",
        components=[{"code": cc(LOINC, "81252-9"), "valueCodeableConcept": {"text": "fusion"}}],
    )
    rec = run(net_lm(fusion))["molecular-actionable"]
    assert "NTRK1 fusion" in rec.summary and "targeted therapy" in rec.advice


def test_ret_alteration_not_reported_as_fusion_is_not_called_one() -> None:
    rec = run(net_lm(variant("RET")))["molecular-actionable"]
    assert "RET alteration" in rec.summary
    assert "fusion" not in rec.summary + rec.advice


def test_one_card_lists_every_actionable_finding() -> None:
    record = net_lm(
        variant("RB1"), variant("NTRK3"), msi({"valueString": "MSI-H"}), tmb(12), cps(5)
    )
    rec = run(record)["molecular-actionable"]
    for text in ("RB1 alteration", "MSI-H", "TMB-high", "PD-L1 CPS 5", "NTRK3 alteration"):
        assert text in rec.summary
    assert len(rec.evidence) == 5
    assert len(rec.local_policy) == 2
    detail = card_of(rec)["detail"]
    assert detail.count("Observation/") >= 5


def test_molecular_actionable_fires_without_liver_metastases_for_any_pnen() -> None:
    assert "molecular-actionable" in fired([patient(), pnen(), variant("BRCA2")])


def test_molecular_actionable_silent_without_pnen_or_on_orders() -> None:
    assert "molecular-actionable" not in fired([patient(), variant("RB1")])
    assert "molecular-actionable" not in fired(net_lm(variant("RB1")), hook=OS)


def test_molecular_actionable_silent_with_no_molecular_data() -> None:
    assert "molecular-actionable" not in fired(net_lm())


def test_patient_view_has_no_order_hook_cards() -> None:
    assert not {"mgmt-tmz-mismatch"} & fired(net_lm(mgmt("3+")), hook=PV)
