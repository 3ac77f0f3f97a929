"""C. Pathology and biopsy (consensus-rules.md C; C 2, C 4, C 5)."""

from __future__ import annotations

from typing import Any

import pytest

from cards import CardOptions, build_card
from consensus import Recommendation
from consensus.recommendation import OS, PV, SIGN, Indicator
from consensus.settings import Settings
from fhir_mappings.terminology import PNEN, RXNORM, SNOMED
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    PATIENT_REF,
    base_pnen_lm,
    cc,
    coded,
    condition,
    days_ago,
    differentiation,
    disease_status,
    fired,
    flag,
    ki67,
    liver_mets,
    medication,
    mitoses,
    number,
    patient,
    pnen,
    pnen_obs,
    procedure,
    run,
    service_request,
    study,
    variant,
)

WORSENED, STABLE = "271299001", "359746009"
OCTREOTIDE = (RXNORM, "7617")
NEC_CODE = (SNOMED, "1186869002")
LIVER_SITE = cc(SNOMED, "10200004", "Liver")


def card_of(rec: Recommendation) -> dict[str, Any]:
    """The CDS Hooks card of a recommendation, checked against the schema and FHIR R4B."""
    assert len(rec.summary) < 140, rec.summary
    card = build_card(rec, PATIENT_REF, CardOptions())
    assert_valid_response({"cards": [card]})
    return card


def statuses(rec: Recommendation) -> dict[str, str]:
    """Each criterion's name → 'met' / 'not met' / 'unknown'."""
    return {c.name: c.status.value for c in rec.criteria}


def reported_grade(value: str, site: str) -> dict[str, Any]:
    """A reported WHO grade at 'primary' or 'liver'."""
    body = LIVER_SITE if site == "liver" else cc(SNOMED, "15776009")
    return pnen_obs("who-grade", **coded(PNEN, value), bodySite=body)


def undated(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource without its effective or performed date."""
    for key in ("effectiveDateTime", "performedDateTime"):
        resource.pop(key, None)
    return resource


def draft(code: str, rid: str | None = None, *, liver: bool = False) -> dict[str, Any]:
    """A drafted ServiceRequest coded pnen-lm#code, optionally naming the liver as body site."""
    order = service_request(code, rid=rid or f"{code}-draft")
    if liver:
        order["bodySite"] = [LIVER_SITE]
    return order


def unresectable() -> list[dict[str, Any]]:
    """R0/R1 recorded as not feasible."""
    return [flag("r0-r1-feasible", False)]


def resectable() -> list[dict[str, Any]]:
    """R0/R1 feasible with remnant liver volume 40 %."""
    return [flag("r0-r1-feasible", True), number("remnant-liver-volume", 40)]


# --- grade-discordant -------------------------------------------------------------------------
def test_discordant_grades_warn_and_name_both_grades_sites_and_dates() -> None:
    record = [
        *base_pnen_lm(),
        ki67(2, "primary", when=days_ago(300), rid="ki-p"),
        ki67(15, "liver", when=days_ago(30), rid="ki-l"),
    ]
    rec = run(record)["grade-discordant"]
    assert rec.indicator is Indicator.WARNING
    assert rec.summary == (
        "Grade differs: primary G1, liver metastasis G2; treat by the higher grade (G2)"
    )
    assert days_ago(300) in rec.advice and days_ago(30) in rec.advice
    assert "set by the liver metastasis (C 2)" in rec.advice
    assert [f.ref for f in rec.evidence] == ["Observation/ki-p", "Observation/ki-l"]
    card = card_of(rec)
    assert card["overrideReasons"]
    assert "Ki-67 15 % (liver metastasis)" in card["detail"]


def test_discordant_grades_follow_the_primary_when_it_is_higher() -> None:
    record = [*base_pnen_lm(), ki67(25, "primary"), mitoses(5, "liver")]
    rec = run(record)["grade-discordant"]
    assert rec.summary.endswith("primary G3, liver metastasis G2; treat by the higher grade (G3)")
    assert "set by the primary" in rec.advice
    card_of(rec)


def test_reported_grade_counts_where_a_site_has_no_ki67_or_mitoses() -> None:
    rec = run([*base_pnen_lm(), reported_grade("G1", "primary"), ki67(8, "liver")])
    assert "primary G1, liver metastasis G2" in rec["grade-discordant"].summary


@pytest.mark.parametrize(("liver_ki67", "discordant"), [(2.9, False), (3, True)])
def test_discordance_at_the_g1_g2_cut_off(liver_ki67: float, discordant: bool) -> None:
    record = [*base_pnen_lm(), ki67(1, "primary"), ki67(liver_ki67, "liver")]
    assert ("grade-discordant" in fired(record)) is discordant


@pytest.mark.parametrize(("liver_ki67", "discordant"), [(20, False), (20.1, True)])
def test_discordance_at_the_g2_g3_cut_off(liver_ki67: float, discordant: bool) -> None:
    record = [*base_pnen_lm(), ki67(10, "primary"), ki67(liver_ki67, "liver")]
    assert ("grade-discordant" in fired(record)) is discordant


def test_same_grade_at_both_sites_is_not_discordant_even_with_different_ki67() -> None:
    assert "grade-discordant" not in fired([*base_pnen_lm(), ki67(4, "primary"), ki67(19, "liver")])


@pytest.mark.parametrize(
    "results",
    [[ki67(2, "primary")], [ki67(25, "liver")], [ki67(2, None), ki67(25, "liver")], []],
    ids=["primary only", "liver only", "other site unknown", "none"],
)
def test_no_discordance_without_a_grade_at_both_sites(results: list[dict[str, Any]]) -> None:
    assert "grade-discordant" not in fired([*base_pnen_lm(), *results])


def test_discordance_mentions_a_higher_result_of_unknown_site() -> None:
    record = [*base_pnen_lm(), ki67(2, "primary"), ki67(8, "liver"), ki67(30, None, rid="ki-u")]
    rec = run(record)["grade-discordant"]
    assert "site is not recorded grades higher still (G3" in rec.advice
    assert "Observation/ki-u" in [f.ref for f in rec.evidence]


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_grade_discordant_is_patient_view_only(hook: str) -> None:
    record = [*base_pnen_lm(), ki67(2, "primary"), ki67(25, "liver")]
    assert "grade-discordant" not in fired(record, hook=hook, drafts=[draft("eus-fnb")])


def test_no_pathology_cards_without_pnen() -> None:
    record = [patient(), liver_mets(), ki67(2, "primary"), ki67(25, "liver")]
    assert not fired(record) & {"grade-discordant", "g3-net-vs-nec", "biopsy-both-sites"}


# --- biopsy-both-sites ------------------------------------------------------------------------
def test_biopsy_both_sites_suggested_when_only_the_liver_is_graded() -> None:
    rec = run([*base_pnen_lm(), ki67(12, "liver"), *unresectable()])["biopsy-both-sites"]
    assert rec.indicator is Indicator.INFO
    assert rec.summary == (
        "Biopsy both primary and liver metastases: no Ki-67 or grade of the primary on record"
    )
    assert statuses(rec) == {
        "pNEN with liver metastases": "met",
        "liver metastases not known to be resectable": "met",
        "no resection done or planned": "met",
        "Ki-67 or grade of the primary on record": "not met",
        "Ki-67 or grade of the liver metastasis on record": "met",
    }
    assert [[(a.type, a.order) for a in s.actions] for s in rec.suggestions] == [
        [("create", "eus-fnb")]
    ]
    card = card_of(rec)
    resource = card["suggestions"][0]["actions"][0]["resource"]
    assert resource["code"]["coding"][0] == {
        "system": PNEN,
        "code": "eus-fnb",
        "display": "EUS-guided fine-needle biopsy (FNB needle)",
    }
    assert "C 5.2" in rec.advice and "C 5.3" in rec.advice and "C 5.4" in rec.advice


def test_biopsy_both_sites_names_the_liver_when_only_the_primary_is_graded() -> None:
    rec = run([*base_pnen_lm(), mitoses(1, "primary"), *unresectable()])["biopsy-both-sites"]
    assert rec.summary.endswith("no Ki-67 or grade of the liver metastasis on record")


def test_biopsy_both_sites_names_both_when_neither_is_graded() -> None:
    rec = run([*base_pnen_lm(), *unresectable()])["biopsy-both-sites"]
    assert "of the primary or liver metastasis on record" in rec.summary
    card_of(rec)


def test_biopsy_both_sites_with_resectability_unknown_says_what_is_missing() -> None:
    rec = run([*base_pnen_lm(), ki67(12, "liver")])["biopsy-both-sites"]
    criterion = rec.criteria[1]
    assert criterion.note == "resectability unknown"
    assert "R0/R1 resection feasibility (surgical assessment)" in rec.missing
    assert "Liver resectability is not recorded" in rec.advice
    assert "missing: R0/R1 resection feasibility (surgical assessment)" in card_of(rec)["detail"]


def test_a_result_of_unknown_site_counts_for_neither_site_and_is_named() -> None:
    record = [*base_pnen_lm(), ki67(12, "liver"), ki67(30, None, rid="ki-u"), *unresectable()]
    rec = run(record)["biopsy-both-sites"]
    assert "of the primary on record" in rec.summary
    assert "cannot show which lesion was sampled" in rec.advice
    assert "Observation/ki-u" in [f.ref for f in rec.evidence]


def test_biopsy_both_sites_names_a_planned_biopsy_instead_of_suggesting_one() -> None:
    planned = service_request("eus-fnb", status="active", rid="fnb-1")
    rec = run([*base_pnen_lm(), ki67(12, "liver"), planned])["biopsy-both-sites"]
    assert rec.suggestions == ()
    assert "already planned" in rec.advice
    assert "ServiceRequest/fnb-1" in [f.ref for f in rec.evidence]
    card_of(rec)


def test_no_biopsy_both_sites_when_both_sites_are_graded() -> None:
    record = [*base_pnen_lm(), ki67(2, "primary"), reported_grade("G2", "liver")]
    assert "biopsy-both-sites" not in fired([*record, *unresectable()])


def test_no_biopsy_both_sites_when_liver_metastases_are_resectable() -> None:
    assert "biopsy-both-sites" not in fired([*base_pnen_lm(), ki67(12, "liver"), *resectable()])


@pytest.mark.parametrize(
    "resection",
    [
        procedure("distal-pancreatectomy"),
        procedure("hepatectomy-parenchymal-sparing"),
        service_request("pancreatoduodenectomy", status="active"),
        service_request("hepatectomy-anatomic", status="draft"),
    ],
    ids=["pancreatectomy done", "hepatectomy done", "whipple planned", "hepatectomy drafted"],
)
def test_no_biopsy_both_sites_when_a_resection_is_done_or_planned(
    resection: dict[str, Any],
) -> None:
    record = [*base_pnen_lm(), ki67(12, "liver"), *unresectable(), resection]
    assert "biopsy-both-sites" not in fired(record)


def test_no_biopsy_both_sites_without_liver_metastases() -> None:
    assert "biopsy-both-sites" not in fired([patient(), pnen(), ki67(12, None)])


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_biopsy_both_sites_is_patient_view_only(hook: str) -> None:
    record = [*base_pnen_lm(), *unresectable()]
    assert "biopsy-both-sites" not in fired(record, hook=hook, drafts=[draft("eus-fnb")])


# --- liver-biopsy-approach --------------------------------------------------------------------
def test_liver_biopsy_approach_when_no_liver_pathology_is_on_record() -> None:
    rec = run([*base_pnen_lm(), ki67(5, "primary")])["liver-biopsy-approach"]
    assert rec.indicator is Indicator.INFO
    assert rec.summary == (
        "No liver-metastasis pathology on record: ultrasound-guided percutaneous liver biopsy is "
        "preferred"
    )
    assert "EUS-guided liver biopsy (EUS-FNA/B) is favoured" in rec.advice
    assert "No Ki-67 or grade of the primary" not in rec.advice
    assert rec.suggestions == ()
    assert [f.ref for f in rec.evidence] == ["Condition/pnen-1", "Condition/lm-1"]
    card_of(rec)


def test_liver_biopsy_approach_says_eus_can_sample_both_when_the_primary_lacks_pathology() -> None:
    rec = run(base_pnen_lm())["liver-biopsy-approach"]
    assert "sample the primary and the liver metastases together" in rec.advice


def test_liver_biopsy_approach_names_a_liver_biopsy_without_result() -> None:
    record = [*base_pnen_lm(), procedure("liver-biopsy-percutaneous", rid="lb", when=days_ago(5))]
    rec = run(record)["liver-biopsy-approach"]
    assert "no liver pathology result yet" in rec.advice
    assert "Procedure/lb" in [f.ref for f in rec.evidence]


@pytest.mark.parametrize(
    "result",
    [
        ki67(5, "liver"),
        mitoses(1, "liver"),
        reported_grade("G2", "liver"),
        differentiation("well", bodySite=LIVER_SITE),
    ],
    ids=["Ki-67", "mitoses", "reported grade", "differentiation"],
)
def test_no_liver_biopsy_approach_with_liver_pathology_on_record(result: dict[str, Any]) -> None:
    assert "liver-biopsy-approach" not in fired([*base_pnen_lm(), result])


def test_a_result_of_unknown_site_may_be_the_liver_pathology() -> None:
    assert "liver-biopsy-approach" not in fired([*base_pnen_lm(), ki67(5, None)])


def test_no_liver_biopsy_approach_on_patient_view_without_liver_metastases() -> None:
    assert "liver-biopsy-approach" not in fired([patient(), pnen()])


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_drafted_percutaneous_liver_biopsy_gets_the_approach(hook: str) -> None:
    record = [*base_pnen_lm(), ki67(5, "primary"), ki67(8, "liver")]
    rec = run(record, hook=hook, drafts=[draft("liver-biopsy-percutaneous", "lb-1")])[
        "liver-biopsy-approach"
    ]
    assert rec.summary.startswith("Liver biopsy drafted: percutaneous ultrasound-guided")
    assert [f.ref for f in rec.evidence] == ["ServiceRequest/lb-1"]
    card_of(rec)


def test_drafted_liver_biopsy_counts_for_a_pnen_without_recorded_liver_metastases() -> None:
    rec = run([patient(), pnen()], hook=SIGN, drafts=[draft("liver-biopsy-percutaneous")])
    assert "sample the primary and the liver metastases together" in (
        rec["liver-biopsy-approach"].advice
    )


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_drafted_eus_biopsy_of_the_liver_gets_the_approach(hook: str) -> None:
    record = [*base_pnen_lm(), ki67(5, "primary")]
    rec = run(record, hook=hook, drafts=[draft("eus-fnb", "fnb", liver=True)])[
        "liver-biopsy-approach"
    ]
    assert rec.summary.startswith("EUS-guided liver biopsy drafted: percutaneous")
    assert "C 5.4" not in rec.advice
    card_of(rec)


def test_drafted_eus_fna_of_the_liver_is_advised_to_use_a_biopsy_needle() -> None:
    rec = run(base_pnen_lm(), hook=SIGN, drafts=[draft("eus-fna", liver=True)])
    assert "biopsy (FNB) needle obtains more tissue" in rec["liver-biopsy-approach"].advice


def test_drafted_eus_biopsy_without_a_liver_body_site_is_not_a_liver_biopsy() -> None:
    assert "liver-biopsy-approach" not in fired(
        [*base_pnen_lm(), ki67(5, "liver")], hook=SIGN, drafts=[draft("eus-fnb")]
    )


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_patient_view_clause_of_liver_biopsy_approach_does_not_fire_on_orders(hook: str) -> None:
    assert "liver-biopsy-approach" not in fired(base_pnen_lm(), hook=hook, drafts=[draft("tae")])


def test_drafted_liver_biopsy_without_pnen_gets_no_card() -> None:
    record = [patient(), liver_mets()]
    assert not fired(record, hook=SIGN, drafts=[draft("liver-biopsy-percutaneous")])


# --- rebiopsy-progression ---------------------------------------------------------------------
def progressed(
    tissue_days: int = 300, biopsy_days: int = 300, status_days: int = 30
) -> list[dict[str, Any]]:
    """A pNEN-LM graded and biopsied `tissue_days`/`biopsy_days` ago, progressing since."""
    return [
        *base_pnen_lm(),
        ki67(8, "liver", when=days_ago(tissue_days), rid="ki"),
        procedure("eus-fnb", when=days_ago(biopsy_days), rid="bx"),
        disease_status(WORSENED, when=days_ago(status_days), rid="pd"),
    ]


def test_rebiopsy_on_progression_after_the_last_biopsy() -> None:
    rec = run(progressed())["rebiopsy-progression"]
    assert rec.indicator is Indicator.WARNING
    assert rec.summary == (
        "Progression since the last biopsy: re-biopsy primary and metastases; no FDG PET on "
        "record to guide it (combined 68Ga-SSA + FDG PET, C 2)"
    )
    assert set(statuses(rec).values()) == {"met"}

    assert {"Observation/pd", "Observation/ki", "Procedure/bx"} <= {f.ref for f in rec.evidence}
    assert "No FDG PET is on record" in rec.advice
    assert "combined 68Ga-SSA and FDG PET" in rec.advice
    card = card_of(rec)
    assert card["overrideReasons"]


def test_rebiopsy_names_the_fdg_pet_on_record() -> None:
    rec = run([*progressed(), study("pet-fdg", result="positive", rid="fdg")])
    rec_p = rec["rebiopsy-progression"]
    assert "An FDG PET is on record: sample the most FDG-avid lesion" in rec_p.advice
    assert "DiagnosticReport/fdg" in [f.ref for f in rec_p.evidence]


def test_rebiopsy_after_resection_of_the_primary_names_the_metastases() -> None:
    rec = run([*progressed(), procedure("distal-pancreatectomy")])["rebiopsy-progression"]
    assert rec.summary.startswith("Progression since the last biopsy: re-biopsy metastases;")
    assert "Re-biopsy of the metastases is recommended" in rec.advice
    card_of(rec)


def test_rebiopsy_on_progression_with_no_pathology_or_biopsy_on_record() -> None:
    rec = run([*base_pnen_lm(), disease_status(WORSENED, when=days_ago(10))])
    criteria = rec["rebiopsy-progression"].criteria
    assert [c.note for c in criteria[1:]] == ["none recorded", "none recorded"]


def test_imaging_progressive_disease_counts_as_progression() -> None:
    record = [
        *base_pnen_lm(),
        ki67(8, "liver", when=days_ago(300)),
        study("ct-abdomen-pelvis-multiphase", result="PD", when=days_ago(20)),
    ]
    assert "rebiopsy-progression" in fired(record)


@pytest.mark.parametrize(("offset", "fires"), [(1, True), (0, False), (-1, False)])
def test_tissue_result_at_and_around_the_progression_date(offset: int, fires: bool) -> None:
    record = progressed(tissue_days=30 + offset)
    assert ("rebiopsy-progression" in fired(record)) is fires


@pytest.mark.parametrize(("offset", "fires"), [(1, True), (0, False), (-1, False)])
def test_biopsy_at_and_around_the_progression_date(offset: int, fires: bool) -> None:
    record = progressed(biopsy_days=30 + offset)
    assert ("rebiopsy-progression" in fired(record)) is fires


@pytest.mark.parametrize(
    "later",
    [
        mitoses(3, "primary", when=days_ago(10)),
        reported_grade("G2", "primary") | {"effectiveDateTime": days_ago(10)},
        differentiation("well", when=days_ago(10)),
        ki67(9, None, when=days_ago(10)),
        procedure("liver-biopsy-percutaneous", when=days_ago(10)),
        procedure("eus-fna", when=days_ago(10)),
    ],
    ids=["mitoses", "grade", "differentiation", "Ki-67 site unknown", "liver biopsy", "EUS-FNA"],
)
def test_no_rebiopsy_card_when_tissue_or_a_biopsy_follows_the_progression(
    later: dict[str, Any],
) -> None:
    assert "rebiopsy-progression" not in fired([*progressed(), later])


def test_no_rebiopsy_card_when_the_latest_status_is_not_progression() -> None:
    record = [*progressed(), disease_status(STABLE, when=days_ago(5))]
    assert "rebiopsy-progression" not in fired(record)


def test_undated_progression_cannot_be_placed() -> None:
    record = [
        *base_pnen_lm(),
        ki67(8, "liver", when=days_ago(300)),
        undated(disease_status(WORSENED)),
    ]
    assert "rebiopsy-progression" not in fired(record)


@pytest.mark.parametrize(
    "unplaced",
    [undated(ki67(8, "primary")), undated(procedure("eus-fnb"))],
    ids=["undated tissue result", "undated biopsy"],
)
def test_undated_tissue_or_biopsy_may_be_the_rebiopsy(unplaced: dict[str, Any]) -> None:
    assert "rebiopsy-progression" not in fired([*progressed(), unplaced])


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_rebiopsy_progression_is_patient_view_only(hook: str) -> None:
    assert "rebiopsy-progression" not in fired(progressed(), hook=hook, drafts=[draft("eus-fnb")])


# --- rebiopsy-inconsistent --------------------------------------------------------------------
def test_fdg_avid_disease_with_grade_g1_calls_for_rebiopsy() -> None:
    record = [*base_pnen_lm(), ki67(2, "liver"), study("pet-fdg", result="positive", rid="fdg")]
    rec = run(record)["rebiopsy-inconsistent"]
    assert rec.indicator is Indicator.WARNING
    assert rec.summary == "FDG-avid disease with grade G1: re-biopsy to re-grade (C 2)"
    assert "FDG-avid disease with grade G1" in rec.advice
    assert "DiagnosticReport/fdg" in [f.ref for f in rec.evidence]
    assert rec.local_policy == ()
    card_of(rec)


@pytest.mark.parametrize(("ki", "fires"), [(2.9, True), (3, False)])
def test_fdg_avid_disease_only_with_g1(ki: float, fires: bool) -> None:
    record = [*base_pnen_lm(), ki67(ki, "liver"), study("pet-fdg", result="positive")]
    assert ("rebiopsy-inconsistent" in fired(record)) is fires


@pytest.mark.parametrize("result", ["negative", None])
def test_fdg_pet_not_avid_is_consistent_with_g1(result: str | None) -> None:
    record = [*base_pnen_lm(), ki67(2, "liver"), study("pet-fdg", result=result)]
    assert "rebiopsy-inconsistent" not in fired(record)


def test_a_later_negative_fdg_pet_supersedes_an_earlier_positive_one() -> None:
    record = [
        *base_pnen_lm(),
        ki67(2, "liver"),
        study("pet-fdg", result="positive", when=days_ago(300)),
        study("pet-fdg", result="negative", when=days_ago(20)),
    ]
    assert "rebiopsy-inconsistent" not in fired(record)


def test_fdg_avid_disease_without_a_grade_is_left_alone() -> None:
    record = [*base_pnen_lm(), differentiation("well"), study("pet-fdg", result="positive")]
    assert "rebiopsy-inconsistent" not in fired(record)


def fdg_avid_g1(*extra: dict[str, Any], pet_days: int = 60) -> list[dict[str, Any]]:
    """Ki-67 2 % at the liver 100 days ago and a positive FDG PET `pet_days` ago."""
    pet = study("pet-fdg", result="positive", when=days_ago(pet_days), rid="fdg")
    return [*base_pnen_lm(), ki67(2, "liver", when=days_ago(100)), pet, *extra]


@pytest.mark.parametrize(
    "rebiopsy",
    [
        pytest.param(ki67(1.5, "liver", when=days_ago(30)), id="ki67"),
        pytest.param(mitoses(1, "liver", when=days_ago(30)), id="mitoses"),
        pytest.param(
            reported_grade("G1", "primary") | {"effectiveDateTime": days_ago(30)}, id="grade"
        ),
        pytest.param(differentiation("well", when=days_ago(30)), id="differentiation"),
        pytest.param(procedure("eus-fnb", when=days_ago(30)), id="eus-fnb"),
        pytest.param(procedure("liver-biopsy-percutaneous", when=days_ago(30)), id="liver-biopsy"),
        pytest.param(ki67(1.5, "liver", when=days_ago(60)), id="same-day-as-the-pet"),
    ],
)
def test_fdg_avid_g1_silent_once_re_biopsied_after_the_pet(rebiopsy: dict[str, Any]) -> None:
    assert "rebiopsy-inconsistent" not in fired(fdg_avid_g1(rebiopsy))


@pytest.mark.parametrize(
    "earlier",
    [
        pytest.param(ki67(1.5, "liver", when=days_ago(61)), id="ki67-the-day-before"),
        pytest.param(procedure("eus-fnb", when=days_ago(61)), id="biopsy-the-day-before"),
    ],
)
def test_fdg_avid_g1_still_fires_with_tissue_only_before_the_pet(earlier: dict[str, Any]) -> None:
    rec = run(fdg_avid_g1(earlier))["rebiopsy-inconsistent"]
    assert "no tissue result or biopsy is recorded since" in rec.advice
    card_of(rec)


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(fdg_avid_g1(undated(differentiation("well"))), id="undated-tissue-result"),
        pytest.param(fdg_avid_g1(undated(procedure("eus-fnb"))), id="undated-biopsy"),
        pytest.param(
            [
                *base_pnen_lm(),
                ki67(2, "liver", when=days_ago(100)),
                undated(study("pet-fdg", result="positive")),
            ],
            id="undated-fdg-pet",
        ),
    ],
)
def test_fdg_avid_g1_silent_while_the_re_biopsy_cannot_be_placed(
    record: list[dict[str, Any]],
) -> None:
    assert "rebiopsy-inconsistent" not in fired(record)


def on_ssa(start_days: int, progression_days: int, ki: float = 8) -> list[dict[str, Any]]:
    """Octreotide started `start_days` ago, progression `progression_days` ago."""
    ssa = medication(OCTREOTIDE, start=days_ago(start_days), rid="ssa")
    ssa["medicationCodeableConcept"] = cc(*OCTREOTIDE, "octreotide")
    return [
        *base_pnen_lm(),
        ki67(ki, "liver", when=days_ago(400)),
        ssa,
        disease_status(WORSENED, when=days_ago(progression_days), rid="pd"),
    ]


@pytest.mark.parametrize("ki", [2, 8, 20])
def test_rapid_progression_on_therapy_with_g1_or_g2_calls_for_rebiopsy(ki: float) -> None:
    rec = run(on_ssa(150, 30, ki))["rebiopsy-inconsistent"]
    grade = 1 if ki < 3 else 2
    assert rec.summary == (
        f"Rapid progression on therapy with grade G{grade}: re-biopsy to re-grade (C 2)"
    )
    assert f"progression 120 days after starting octreotide (started {days_ago(150)})" in (
        rec.advice
    )
    assert {"MedicationRequest/ssa", "Observation/pd"} <= {f.ref for f in rec.evidence}
    assert rec.local_policy == (
        "'rapid' progression after starting therapy: 6 months (local policy, configurable)",
    )
    assert "Local policy" in card_of(rec)["detail"]


def test_rapid_progression_window_follows_the_local_setting() -> None:
    record = on_ssa(150, 30)
    assert "rebiopsy-inconsistent" not in fired(
        record, settings=Settings({"rapid-progression-months": 3})
    )
    rec = run(record, settings=Settings({"rapid-progression-months": 5}))["rebiopsy-inconsistent"]
    assert rec.local_policy == (
        "'rapid' progression after starting therapy: 5 months (local policy, configurable)",
    )


def test_rapid_progression_with_g3_is_consistent() -> None:
    assert "rebiopsy-inconsistent" not in fired(on_ssa(150, 30, ki=25))


def test_progression_before_starting_therapy_is_not_progression_on_therapy() -> None:
    assert "rebiopsy-inconsistent" not in fired(on_ssa(100, 120))


def test_progression_on_a_stopped_therapy_does_not_count() -> None:
    record = [
        *base_pnen_lm(),
        ki67(8, "liver"),
        medication(OCTREOTIDE, start=days_ago(150), end=days_ago(60)),
        disease_status(WORSENED, when=days_ago(30)),
    ]
    assert "rebiopsy-inconsistent" not in fired(record)


def test_therapy_start_unknown_cannot_time_the_progression() -> None:
    ssa = medication(OCTREOTIDE, rid="ssa")
    del ssa["authoredOn"]
    record = [*base_pnen_lm(), ki67(8, "liver"), ssa, disease_status(WORSENED, when=days_ago(30))]
    assert "rebiopsy-inconsistent" not in fired(record)


@pytest.mark.parametrize(
    "rebiopsy",
    [
        pytest.param(ki67(8, "liver", when=days_ago(10)), id="ki67"),
        pytest.param(mitoses(5, "liver", when=days_ago(10)), id="mitoses"),
        pytest.param(procedure("eus-fna", when=days_ago(10)), id="eus-fna"),
        pytest.param(procedure("liver-biopsy-percutaneous", when=days_ago(30)), id="same-day"),
    ],
)
def test_rapid_progression_silent_once_re_biopsied_after_it(rebiopsy: dict[str, Any]) -> None:
    assert "rebiopsy-inconsistent" not in fired([*on_ssa(150, 30), rebiopsy])


def test_rapid_progression_with_a_biopsy_only_before_it_still_fires() -> None:
    record = [*on_ssa(150, 30), procedure("eus-fnb", when=days_ago(31))]
    assert "rebiopsy-inconsistent" in fired(record)


@pytest.mark.parametrize(
    "undated_result",
    [
        pytest.param(undated(procedure("eus-fnb")), id="biopsy"),
        pytest.param(undated(mitoses(5, "liver")), id="mitoses"),
    ],
)
def test_rapid_progression_silent_while_the_re_biopsy_cannot_be_placed(
    undated_result: dict[str, Any],
) -> None:
    assert "rebiopsy-inconsistent" not in fired([*on_ssa(150, 30), undated_result])


def test_a_later_rapid_progression_after_the_re_biopsy_fires_again() -> None:
    record = [
        *on_ssa(150, 30),
        disease_status(WORSENED, when=days_ago(100), rid="pd-1"),
        procedure("eus-fnb", when=days_ago(90)),
    ]
    rec = run(record)["rebiopsy-inconsistent"]
    assert "progression 120 days after starting octreotide" in rec.advice
    assert "Observation/pd" in [f.ref for f in rec.evidence]


def test_both_inconsistencies_are_listed_together() -> None:
    record = [*on_ssa(150, 30, ki=2), study("pet-fdg", result="positive")]
    rec = run(record)["rebiopsy-inconsistent"]
    assert "FDG-avid disease with grade G1; and progression 120 days" in rec.advice
    card_of(rec)


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_rebiopsy_inconsistent_is_patient_view_only(hook: str) -> None:
    assert "rebiopsy-inconsistent" not in fired(on_ssa(150, 30), hook=hook)


# --- g3-net-vs-nec ----------------------------------------------------------------------------
def test_g3_with_differentiation_unknown_asks_for_mdt_review() -> None:
    rec = run([*base_pnen_lm(), ki67(35, "liver", rid="ki")])["g3-net-vs-nec"]
    assert rec.indicator is Indicator.WARNING
    assert rec.summary == (
        "G3, differentiation unknown: NET or NEC changes treatment; review morphology, SSTR2 and "
        "genetics at MDT"
    )
    assert "- Favours G3 NET: none on record" in rec.advice
    assert "- Favours NEC: none on record" in rec.advice
    assert "MDT review" in rec.advice
    assert rec.missing == (
        "morphology (well or poorly differentiated)",
        "SSTR2 expression (SSTR2 IHC or 68Ga-SSA PET)",
        "DAXX/ATRX/MEN1 and TP53/RB1 status",
        "CgA immunostaining intensity (stronger in G3 NET)",
    )
    assert [f.ref for f in rec.evidence] == ["Observation/ki"]
    card_of(rec)


def test_g3_unknown_lists_the_evidence_for_each_side() -> None:
    record = [
        *base_pnen_lm(),
        ki67(35, "liver"),
        pnen_obs("sstr2-ihc", valueString="3+", rid="sstr"),
        variant("DAXX", rid="daxx"),
        variant("TP53", rid="tp53"),
    ]
    rec = run(record)["g3-net-vs-nec"]
    net_line = next(line for line in rec.advice.splitlines() if "Favours G3 NET" in line)
    nec_line = next(line for line in rec.advice.splitlines() if "Favours NEC" in line)
    assert "SSTR2 IHC 3+" in net_line and "DAXX alteration present" in net_line
    assert "TP53 alteration present" in nec_line
    assert rec.missing == (
        "morphology (well or poorly differentiated)",
        "CgA immunostaining intensity (stronger in G3 NET)",
    )


@pytest.mark.parametrize("ki", [20.1, 60])
def test_g3_unknown_from_ki67_above_20(ki: float) -> None:
    assert "g3-net-vs-nec" in fired([*base_pnen_lm(), ki67(ki, "liver")])


def test_ki67_20_without_differentiation_is_an_inferred_net_not_g3() -> None:
    assert "g3-net-vs-nec" not in fired([*base_pnen_lm(), ki67(20, "liver")])


@pytest.mark.parametrize(
    ("evidence", "marker"),
    [
        (variant("DAXX"), "DAXX altered"),
        (variant("ATRX"), "ATRX altered"),
        (variant("MEN1"), "MEN1 altered"),
        (pnen_obs("sstr2-ihc", valueString="3+"), "SSTR2 strongly positive"),
        (study("pet-ssa", result="positive"), "SSTR2 strongly positive"),
    ],
)
def test_nec_recorded_with_net_markers_is_conflicting(
    evidence: dict[str, Any], marker: str
) -> None:
    record = [*base_pnen_lm(), differentiation("poorly"), ki67(60, "liver"), evidence]
    rec = run(record)["g3-net-vs-nec"]
    assert rec.summary.startswith("Conflicting evidence for G3 NET vs NEC")
    assert f"NEC recorded but {marker}" in rec.advice
    assert "poorly differentiated" in next(
        line for line in rec.advice.splitlines() if "Favours NEC" in line
    )
    card_of(rec)


def test_nec_code_with_net_markers_is_conflicting() -> None:
    record = [*base_pnen_lm(), condition(*NEC_CODE), variant("MEN1")]
    assert "g3-net-vs-nec" in fired(record)


@pytest.mark.parametrize("score", ["2+", "1+", "negative"])
def test_nec_with_sstr2_below_3_plus_is_not_conflicting(score: str) -> None:
    record = [*base_pnen_lm(), differentiation("poorly"), pnen_obs("sstr2-ihc", valueString=score)]
    assert "g3-net-vs-nec" not in fired(record)


@pytest.mark.parametrize("gene", ["TP53", "RB1"])
def test_net_g3_recorded_with_tp53_or_rb1_altered_is_conflicting(gene: str) -> None:
    record = [*base_pnen_lm(), differentiation("well"), ki67(30, "liver"), variant(gene)]
    rec = run(record)["g3-net-vs-nec"]
    assert f"NET G3 recorded but {gene} altered" in rec.advice
    assert "well differentiated" in next(
        line for line in rec.advice.splitlines() if "Favours G3 NET" in line
    )
    card_of(rec)


def test_net_g2_with_tp53_altered_is_not_a_g3_question() -> None:
    record = [*base_pnen_lm(), differentiation("well"), ki67(15, "liver"), variant("TP53")]
    assert "g3-net-vs-nec" not in fired(record)


def test_well_differentiated_recorded_with_an_nec_code_is_conflicting() -> None:
    record = [*base_pnen_lm(), differentiation("well"), condition(*NEC_CODE, rid="nec")]
    rec = run(record)["g3-net-vs-nec"]
    assert "well differentiated recorded but an NEC diagnosis is coded" in rec.advice
    assert "Condition/nec" in [f.ref for f in rec.evidence]


@pytest.mark.parametrize(
    "record",
    [
        [differentiation("poorly"), ki67(60, "liver")],
        [differentiation("well"), ki67(30, "liver")],
        [differentiation("well"), ki67(10, "liver")],
        [ki67(12, "liver")],
        [],
    ],
    ids=["NEC alone", "NET G3 alone", "NET G2", "inferred NET", "no pathology"],
)
def test_no_g3_card_without_g3_unknown_or_conflict(record: list[dict[str, Any]]) -> None:
    assert "g3-net-vs-nec" not in fired([*base_pnen_lm(), *record])


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_g3_net_vs_nec_is_patient_view_only(hook: str) -> None:
    assert "g3-net-vs-nec" not in fired([*base_pnen_lm(), ki67(35, "liver")], hook=hook)


# --- eus-ablation-not-first-line --------------------------------------------------------------
@pytest.mark.parametrize("hook", [OS, SIGN])
def test_drafted_eus_ablation_is_not_first_line(hook: str) -> None:
    rec = run(base_pnen_lm(), hook=hook, drafts=[draft("eus-ablation", "abl")])[
        "eus-ablation-not-first-line"
    ]
    assert rec.indicator is Indicator.INFO
    assert rec.summary == (
        "EUS-guided ablation drafted: it can reduce tumour load but is not a first-line "
        "treatment (C 5.5)"
    )
    assert [f.ref for f in rec.evidence] == ["ServiceRequest/abl"]
    assert rec.suggestions == ()
    card_of(rec)


def test_eus_ablation_card_needs_a_drafted_ablation() -> None:
    record = base_pnen_lm()
    assert "eus-ablation-not-first-line" not in fired(record, hook=SIGN, drafts=[draft("eus-fnb")])
    assert "eus-ablation-not-first-line" not in fired(record, hook=SIGN)


def test_planned_eus_ablation_does_not_fire_on_patient_view() -> None:
    record = [*base_pnen_lm(), service_request("eus-ablation", status="active")]
    assert "eus-ablation-not-first-line" not in fired(record, hook=PV)


def test_eus_ablation_without_pnen_gets_no_card() -> None:
    assert not fired([patient()], hook=SIGN, drafts=[draft("eus-ablation")])


def test_rebiopsy_targets_the_most_fdg_avid_lesion_when_an_fdg_pet_is_on_record() -> None:
    record = [*progressed(), study("pet-fdg", when=days_ago(5), result="positive")]
    rec = run(record)["rebiopsy-progression"]
    assert rec.summary.endswith("targeting the most FDG-avid lesion")
