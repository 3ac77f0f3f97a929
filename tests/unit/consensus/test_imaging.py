"""B. Imaging: staging-imaging, liver-mri-hepatobiliary, the PET rules (consensus-rules.md B)."""

from __future__ import annotations

from typing import Any

import pytest

from cards import CardOptions, build_card
from cards.orders import order_resource
from consensus import Recommendation
from consensus.recommendation import OS, SIGN, Indicator
from consensus.settings import Settings
from fhir_mappings.facts import BY_TEXT
from fhir_mappings.orders import map_drafts
from fhir_mappings.terminology import ICDO3, LOINC, PNEN, SNOMED
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    PATIENT_REF,
    base_pnen_lm,
    cc,
    coded,
    condition,
    days_ago,
    differentiation,
    enets,
    facts_for,
    fired,
    flag,
    ki67,
    liver_mets,
    mitoses,
    number,
    observation,
    patient,
    pnen,
    pnen_obs,
    report,
    run,
    service_request,
    study,
    terms,
)

STAGING = "staging-imaging"
MRI = "liver-mri-hepatobiliary"
DIAGNOSED = 400  # base_pnen_lm(): pNEN and liver metastases both with onset 400 days ago


def card_of(rec: Recommendation) -> dict[str, Any]:
    """The CDS Hooks card of a recommendation, checked against the schema and FHIR R4B."""
    card = build_card(rec, PATIENT_REF, CardOptions())
    assert_valid_response({"cards": [card]})
    return card


def actions(rec: Recommendation, index: int = 0) -> list[tuple[str, str | None]]:
    """(type, order key or resourceId) of one suggestion's actions, in order."""
    return [(a.type, a.order or a.resource_id) for a in rec.suggestions[index].actions]


def statuses(rec: Recommendation) -> dict[str, str]:
    """Criterion name → 'met' / 'not met' / 'unknown'."""
    return {c.name: c.status.value for c in rec.criteria}


def created_codes(card: dict[str, Any]) -> list[str]:
    """The codes of every resource the card's suggestions create."""
    return [
        a["resource"]["code"]["coding"][0]["code"]
        for s in card.get("suggestions", [])
        for a in s["actions"]
        if a["type"] == "create"
    ]


def net_lm(*extra: dict[str, Any], ki: float | None = 8) -> list[dict[str, Any]]:
    """A well-differentiated NET with liver metastases (and a liver Ki-67 unless None)."""
    grade = [ki67(ki, "liver")] if ki is not None else []
    return [*base_pnen_lm(), differentiation("well"), *grade, *extra]


def nec_lm(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """A poorly differentiated NEC with liver metastases."""
    return [*base_pnen_lm(), differentiation("poorly"), ki67(60, "liver"), *extra]


def insulinoma_lm(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """A NET G1 insulinoma with liver metastases."""
    return net_lm(condition(PNEN, "insulinoma", rid="ins-1"), *extra, ki=2)


def ct_abdomen(days: int = 30, **kw: Any) -> dict[str, Any]:
    """A multiphasic contrast CT of abdomen and pelvis (LOINC 36813-4)."""
    return report(
        cc(LOINC, "36813-4", "CT Abdomen and Pelvis W contrast IV"), when=days_ago(days), **kw
    )


def ct_chest(days: int = 30, **kw: Any) -> dict[str, Any]:
    """A chest CT (pnen-lm#ct-chest)."""
    return study("ct-chest", when=days_ago(days), **kw)


def undated(resource: dict[str, Any], *keys: str) -> dict[str, Any]:
    """The resource without the given date elements."""
    return {k: v for k, v in resource.items() if k not in keys}


def allergy(code: str = "contrast-allergy", status: str = "active") -> dict[str, Any]:
    """A contrast AllergyIntolerance."""
    return {
        "resourceType": "AllergyIntolerance",
        "id": "allergy-1",
        "patient": {"reference": PATIENT_REF},
        "clinicalStatus": cc(
            "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", status
        ),
        "code": cc(PNEN, code, "Allergy to iodinated contrast"),
        "recordedDate": days_ago(1000),
    }


def egfr(value: float, **kw: Any) -> dict[str, Any]:
    """An eGFR result (CKD-EPI) in mL/min/1.73 m²."""
    quantity = {"value": value, "unit": "mL/min/{1.73_m2}"}
    return observation((LOINC, "62238-1"), valueQuantity=quantity, **kw)


def hepatobiliary_mri(**kw: Any) -> dict[str, Any]:
    """A liver MRI with hepatobiliary contrast (pnen-lm code)."""
    return study("mri-liver-hepatobiliary", **kw)


# --- staging-imaging ------------------------------------------------------------------------
def test_staging_imaging_without_any_ct_suggests_both_studies() -> None:
    rec = run(base_pnen_lm())[STAGING]
    assert rec.indicator is Indicator.INFO
    assert "multiphasic contrast CT abdomen/pelvis or chest CT" in rec.summary
    assert days_ago(DIAGNOSED + 90) in rec.summary
    assert actions(rec) == [("create", "ct-abdomen-pelvis-multiphase"), ("create", "ct-chest")]
    assert rec.local_policy == (Settings().describe("staging-imaging-window-days"),)
    card = card_of(rec)
    assert created_codes(card) == ["ct-abdomen-pelvis-multiphase", "ct-chest"]
    assert "preferred examination" in card["detail"] and "local policy" in card["detail"]
    assert "Condition/pnen-1" in card["detail"] and "Condition/lm-1" in card["detail"]


def test_staging_imaging_names_the_missing_chest_ct_only() -> None:
    rec = run([*base_pnen_lm(), ct_abdomen(rid="ct-abd")])[STAGING]
    assert "no chest CT on record" in rec.summary
    assert "abdomen" not in rec.summary
    assert actions(rec) == [("create", "ct-chest")]
    assert "Missing: chest CT." in rec.advice
    assert "DiagnosticReport/ct-abd" in card_of(rec)["detail"]


def test_staging_imaging_names_the_missing_abdominal_ct_only() -> None:
    rec = run([*base_pnen_lm(), ct_chest()])[STAGING]
    assert "no multiphasic contrast CT abdomen/pelvis on record" in rec.summary
    assert actions(rec) == [("create", "ct-abdomen-pelvis-multiphase")]
    card_of(rec)


def test_staging_imaging_silent_when_both_studies_are_in_the_window() -> None:
    assert STAGING not in fired([*base_pnen_lm(), ct_abdomen(), ct_chest()])


@pytest.mark.parametrize(
    ("before_diagnosis", "counts"), [(0, True), (89, True), (90, True), (91, False)]
)
def test_staging_window_starts_90_days_before_the_diagnosis(
    before_diagnosis: int, counts: bool
) -> None:
    record = [*base_pnen_lm(), ct_abdomen(), ct_chest(DIAGNOSED + before_diagnosis, rid="old")]
    result = run(record)
    assert (STAGING not in result) is counts
    if not counts:
        chest = next(c for c in result[STAGING].criteria if c.name.startswith("chest CT"))
        assert chest.not_met and chest.note == "none recorded in the window"
        assert [f.ref for f in chest.evidence] == ["DiagnosticReport/old"]


def test_staging_window_is_a_configurable_local_default() -> None:
    settings = Settings({"staging-imaging-window-days": 30})
    record = [*base_pnen_lm(), ct_abdomen(), ct_chest(DIAGNOSED + 60)]
    rec = run(record, settings=settings)[STAGING]
    assert "30 days" in rec.local_policy[0] and "local policy" in rec.local_policy[0]
    assert days_ago(DIAGNOSED + 30) in rec.summary


def test_staging_diagnosis_date_is_the_later_of_the_two_onsets() -> None:
    record = [patient(), pnen(onset=days_ago(1000)), liver_mets(onset=days_ago(DIAGNOSED))]
    assert STAGING not in fired([*record, ct_abdomen(DIAGNOSED + 80), ct_chest(DIAGNOSED + 80)])
    assert STAGING in fired([*record, ct_abdomen(DIAGNOSED + 100), ct_chest(DIAGNOSED + 80)])


def test_staging_study_dated_after_today_does_not_count() -> None:
    assert STAGING in fired([*base_pnen_lm(), ct_abdomen(), ct_chest(-5)])


def test_staging_cancelled_report_does_not_count() -> None:
    rec = run([*base_pnen_lm(), ct_abdomen(), ct_chest(status="cancelled")])[STAGING]
    assert actions(rec) == [("create", "ct-chest")]


def _no_onsets() -> list[dict[str, Any]]:
    return [
        patient(),
        undated(pnen(), "onsetDateTime"),
        undated(liver_mets(), "onsetDateTime"),
    ]


def test_staging_with_diagnosis_date_unknown_and_no_ct_says_so_and_suggests_both() -> None:
    rec = run(_no_onsets())[STAGING]
    assert actions(rec) == [("create", "ct-abdomen-pelvis-multiphase"), ("create", "ct-chest")]
    assert any("diagnosis date" in m for m in rec.missing)
    assert "diagnosis date is not recorded" in rec.advice
    card = card_of(rec)
    assert "pNEN-LM diagnosis date known | **unknown**" in card["detail"]


def test_staging_with_diagnosis_date_unknown_and_older_cts_cannot_confirm_them() -> None:
    rec = run([*_no_onsets(), ct_abdomen(200), ct_chest(200)])[STAGING]
    assert "cannot confirm" in rec.summary and "diagnosis date unknown" in rec.summary
    assert rec.suggestions == ()
    assert set(statuses(rec).values()) == {"unknown"}
    card_of(rec)


def test_staging_with_diagnosis_date_unknown_counts_cts_of_the_last_90_days() -> None:
    assert STAGING not in fired([*_no_onsets(), ct_abdomen(90), ct_chest(10)])


def test_staging_with_the_recorded_date_as_diagnosis_date() -> None:
    record = [
        patient(),
        undated(pnen(), "onsetDateTime") | {"recordedDate": days_ago(DIAGNOSED)},
        liver_mets(),
    ]
    assert STAGING not in fired([*record, ct_abdomen(DIAGNOSED + 90), ct_chest()])


def test_staging_undated_study_asks_for_its_date() -> None:
    chest = undated(ct_chest(rid="ct-x"), "effectiveDateTime")
    rec = run([*base_pnen_lm(), ct_abdomen(), chest])[STAGING]
    assert rec.missing == ("date of the chest CT (DiagnosticReport/ct-x)",)
    assert "study date missing" in rec.summary and rec.suggestions == ()
    card_of(rec)


def test_staging_pending_chest_ct_is_named_not_suggested_again() -> None:
    order = service_request("ct-chest", status="active", rid="ct-order")
    rec = run([*base_pnen_lm(), order])[STAGING]
    assert actions(rec) == [("create", "ct-abdomen-pelvis-multiphase")]
    assert "ServiceRequest/ct-order" in rec.advice
    assert "ServiceRequest/ct-order" in [f.ref for f in rec.evidence]


def test_staging_with_every_missing_study_pending_suggests_nothing() -> None:
    order = service_request("ct-chest", status="active", rid="ct-order")
    rec = run([*base_pnen_lm(), ct_abdomen(), order])[STAGING]
    assert rec.suggestions == ()
    assert rec.summary == "Staging imaging: chest CT ordered, not yet reported"
    card_of(rec)


def test_staging_chest_ct_recognised_by_text_counts_and_is_flagged() -> None:
    chest = report({"text": "CT thorax with contrast"}, when=days_ago(20), rid="ct-text")
    rec = run([*base_pnen_lm(), chest])[STAGING]
    assert actions(rec) == [("create", "ct-abdomen-pelvis-multiphase")]
    chest_fact = next(f for f in rec.evidence if f.ref == "DiagnosticReport/ct-text")
    assert BY_TEXT in chest_fact.flags
    assert "recognised by text" in card_of(rec)["detail"]


def test_staging_abdominal_ct_without_contrast_does_not_count() -> None:
    plain = report({"text": "CT abdomen without"}, when=days_ago(20))
    assert "abdomen" in run([*base_pnen_lm(), plain, ct_chest()])[STAGING].summary


@pytest.mark.parametrize(
    "record",
    [
        pytest.param([patient(), pnen()], id="no-liver-metastases"),
        pytest.param([patient(), liver_mets()], id="no-pnen"),
    ],
)
def test_staging_imaging_needs_pnen_with_liver_metastases(record: list[dict[str, Any]]) -> None:
    assert STAGING not in fired(record)


def test_staging_imaging_is_a_patient_view_rule_only() -> None:
    drafts = [service_request("ct-chest")]
    assert STAGING not in fired(base_pnen_lm(), hook=SIGN, drafts=drafts)


# --- liver-mri-hepatobiliary ----------------------------------------------------------------
@pytest.mark.parametrize("enets_type", ["I", "II"])
def test_liver_mri_suggested_for_enets_type_i_or_ii(enets_type: str) -> None:
    rec = run(net_lm(enets(enets_type)))[MRI]
    assert rec.indicator is Indicator.INFO
    assert actions(rec) == [("create", "mri-liver-hepatobiliary")]
    assert rec.summary.startswith(f"ENETS type {enets_type} liver metastases: liver MRI")
    assert "hepatobiliary" in rec.summary and len(rec.summary) < 140
    card = card_of(rec)
    assert created_codes(card) == ["mri-liver-hepatobiliary"]
    assert "ENETS type I or II | **met**" in card["detail"]
    assert "liver-specific" in card["detail"]


def test_liver_mri_silent_for_type_iii_without_a_resectability_assessment() -> None:
    assert MRI not in fired(net_lm(enets("III")))


def test_liver_mri_silent_when_enets_type_and_assessment_are_both_unknown() -> None:
    assert MRI not in fired(net_lm())


@pytest.mark.parametrize(
    "assessment",
    [
        pytest.param(flag("r0-r1-feasible", True), id="r0-r1-feasible"),
        pytest.param(flag("r0-r1-feasible", False), id="r0-r1-not-feasible"),
        pytest.param(number("remnant-liver-volume", 35), id="remnant-liver-volume"),
        pytest.param(flag("ned-achievable", True), id="ned-achievable"),
        pytest.param(flag("cytoreduction-90-achievable", True), id="cytoreduction"),
        pytest.param(flag("most-lesions-within-2cm-of-surface", True), id="surface"),
        pytest.param(number("deep-lesion-count", 3, unit="1"), id="deep-lesions"),
        pytest.param(number("liver-segments-involved", 2, unit="1"), id="segments"),
        pytest.param(flag("confined-to-one-lobe", False), id="one-lobe"),
    ],
)
def test_liver_mri_suggested_while_resectability_is_assessed(assessment: dict[str, Any]) -> None:
    rec = run(net_lm(enets("III"), assessment))[MRI]
    assert statuses(rec)["liver resectability being assessed"] == "met"
    assert rec.summary.startswith("Liver resectability under assessment")
    assert actions(rec) == [("create", "mri-liver-hepatobiliary")]
    card_of(rec)


def test_liver_mri_resectability_assessment_counts_with_enets_type_unknown() -> None:
    assert MRI in fired(net_lm(number("remnant-liver-volume", 25)))


@pytest.mark.parametrize(
    "other",
    [
        pytest.param(flag("ned", True), id="ned-reached"),
        pytest.param(number("liver-tumor-burden", 30), id="tumour-burden"),
        pytest.param(flag("major-vessel-invasion", False), id="vessel-invasion"),
    ],
)
def test_liver_mri_other_assessments_do_not_count(other: dict[str, Any]) -> None:
    assert MRI not in fired(net_lm(enets("III"), other))


def test_liver_mri_silent_with_a_hepatobiliary_mri_on_record() -> None:
    assert MRI not in fired(net_lm(enets("II"), hepatobiliary_mri()))


def test_liver_mri_with_agent_named_in_the_conclusion_counts_and_is_flagged() -> None:
    mr = report(
        cc(LOINC, "30670-4", "MR Liver"), conclusion="Gadoxetate-enhanced study.", rid="mr-1"
    )
    record = net_lm(enets("II"), mr)
    assert MRI not in fired(record)
    fact = facts_for(record).latest("imaging:mri-liver-hepatobiliary")
    assert fact is not None and fact.ref == "DiagnosticReport/mr-1"
    assert BY_TEXT in fact.flags


def test_liver_mri_plain_liver_mri_does_not_count() -> None:
    assert MRI in fired(net_lm(enets("II"), report(cc(LOINC, "30670-4", "MR Liver"))))


def test_liver_mri_with_contrast_allergy_suggests_dwi_first() -> None:
    rec = run(net_lm(enets("II"), allergy()))[MRI]
    assert [actions(rec, 0), actions(rec, 1)] == [
        [("create", "mri-liver-dwi")],
        [("create", "mri-liver-hepatobiliary")],
    ]
    assert [s.is_recommended for s in rec.suggestions] == [None, False]
    assert "DWI" in rec.summary and "without contrast" in rec.advice
    assert rec.local_policy == ()
    card = card_of(rec)
    assert card["suggestions"][1]["isRecommended"] is False
    assert "AllergyIntolerance/allergy-1" in card["detail"]


def test_liver_mri_inactive_contrast_allergy_does_not_count() -> None:
    rec = run(net_lm(enets("II"), allergy(status="resolved")))[MRI]
    assert actions(rec) == [("create", "mri-liver-hepatobiliary")]


@pytest.mark.parametrize(("value", "contraindicated"), [(29.9, True), (30, False), (30.1, False)])
def test_liver_mri_egfr_below_30_contraindicates_contrast(
    value: float, contraindicated: bool
) -> None:
    rec = run(net_lm(enets("II"), egfr(value, rid="egfr-1")))[MRI]
    assert statuses(rec)["contrast contraindicated (contrast allergy or low eGFR)"] == (
        "met" if contraindicated else "not met"
    )
    first = actions(rec)[0][1]
    assert first == ("mri-liver-dwi" if contraindicated else "mri-liver-hepatobiliary")
    assert rec.local_policy == (Settings().describe("contrast-egfr-threshold"),)
    assert "Observation/egfr-1" in card_of(rec)["detail"]


def test_liver_mri_reads_the_latest_egfr() -> None:
    record = net_lm(enets("II"), egfr(20, when=days_ago(300)), egfr(55, when=days_ago(10)))
    assert actions(run(record)[MRI]) == [("create", "mri-liver-hepatobiliary")]


def test_liver_mri_egfr_threshold_is_configurable() -> None:
    settings = Settings({"contrast-egfr-threshold": 45})
    rec = run(net_lm(enets("II"), egfr(40)), settings=settings)[MRI]
    assert actions(rec) == [("create", "mri-liver-dwi")]
    assert "45" in rec.local_policy[0]


def test_liver_mri_pending_order_is_named_on_patient_view() -> None:
    order = service_request("mri-liver-hepatobiliary", status="active", rid="mri-order")
    rec = run(net_lm(enets("II"), order))[MRI]
    assert rec.suggestions == ()
    assert "ServiceRequest/mri-order" in rec.advice
    card_of(rec)


@pytest.mark.parametrize("hook", [OS, SIGN])
@pytest.mark.parametrize(
    "surgery", ["hepatectomy-parenchymal-sparing", "hepatectomy-anatomic", "liver-ablation"]
)
def test_liver_mri_on_a_drafted_liver_resection_or_ablation(hook: str, surgery: str) -> None:
    draft = service_request(surgery, rid="surgery-1")
    rec = run(net_lm(enets("III")), hook=hook, drafts=[draft])[MRI]
    assert statuses(rec)["hepatectomy or liver ablation drafted"] == "met"
    assert rec.summary.startswith("Liver resection drafted")
    assert actions(rec) == [("create", "mri-liver-hepatobiliary")]
    assert "ServiceRequest/surgery-1" in card_of(rec)["detail"]


def test_liver_mri_on_orders_with_contrast_contraindicated_suggests_dwi() -> None:
    draft = service_request("hepatectomy-anatomic")
    rec = run(net_lm(egfr(15)), hook=SIGN, drafts=[draft])[MRI]
    assert actions(rec) == [("create", "mri-liver-dwi")]
    card_of(rec)


def test_liver_mri_on_orders_ignores_drafts_that_are_not_liver_surgery() -> None:
    drafts = [service_request("distal-pancreatectomy"), service_request("ct-chest")]
    assert MRI not in fired(net_lm(enets("II")), hook=SIGN, drafts=drafts)
    assert MRI not in fired(net_lm(enets("II")), hook=OS)


def test_liver_mri_on_orders_silent_when_drafted_alongside_or_already_ordered() -> None:
    drafts = [service_request("hepatectomy-anatomic"), service_request("mri-liver-hepatobiliary")]
    assert MRI not in fired(net_lm(), hook=SIGN, drafts=drafts)
    planned = service_request("mri-liver-hepatobiliary", status="active")
    assert MRI not in fired(net_lm(planned), hook=SIGN, drafts=drafts[:1])


def test_liver_mri_on_orders_silent_with_a_hepatobiliary_mri_on_record() -> None:
    drafts = [service_request("hepatectomy-anatomic")]
    assert MRI not in fired(net_lm(hepatobiliary_mri()), hook=OS, drafts=drafts)


def test_liver_mri_on_orders_needs_a_pnen() -> None:
    drafts = [service_request("hepatectomy-anatomic")]
    assert MRI not in fired([patient(), liver_mets()], hook=OS, drafts=drafts)
    assert MRI in fired([patient(), pnen()], hook=OS, drafts=drafts)


# --- pet-ssa ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("ki", "grade"), [(2, "G1"), (8, "G2"), (25, "G3")])
def test_pet_ssa_suggested_for_net_of_every_grade(ki: float, grade: str) -> None:
    rec = run(net_lm(ki=ki))["pet-ssa"]
    assert f"NET {grade}" in rec.summary
    assert actions(rec) == [("create", "pet-ssa")]
    assert "~92 %" in rec.advice and "67 %" in rec.advice
    assert "NEC" not in rec.advice
    card = card_of(rec)
    assert created_codes(card) == ["pet-ssa"]
    assert "SSTR PET on record | **not met**" in card["detail"]


def test_pet_ssa_for_net_inferred_from_a_low_ki67() -> None:
    assert "pet-ssa" in fired([*base_pnen_lm(), ki67(5)])


def test_pet_ssa_for_net_without_a_grade() -> None:
    rec = run(net_lm(ki=None))["pet-ssa"]
    assert "NET, grade unknown" in rec.summary


def test_pet_ssa_for_g3_differentiation_unknown_says_it_helps_separate_net_from_nec() -> None:
    rec = run([*base_pnen_lm(), ki67(35, "liver")])["pet-ssa"]
    assert "separate G3 NET from NEC" in rec.summary
    assert "C 4" in rec.advice
    assert actions(rec) == [("create", "pet-ssa")]
    card_of(rec)


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(nec_lm(), id="NEC"),
        pytest.param([*base_pnen_lm(), condition(ICDO3, "8246/3")], id="NEC-coded"),
        pytest.param(base_pnen_lm(), id="differentiation-unknown"),
        pytest.param(net_lm(condition(ICDO3, "8246/3")), id="conflicting-differentiation"),
        pytest.param(insulinoma_lm(), id="insulinoma"),
        pytest.param([patient(), differentiation("well"), ki67(5)], id="no-pnen"),
    ],
)
def test_pet_ssa_silent(record: list[dict[str, Any]]) -> None:
    assert "pet-ssa" not in fired(record)


@pytest.mark.parametrize("result", [None, "positive", "negative"])
def test_pet_ssa_silent_with_any_sstr_pet_on_record(result: str | None) -> None:
    assert "pet-ssa" not in fired(net_lm(study("pet-ssa", result=result)))


def test_pet_ssa_sstr_pet_recognised_by_text_counts_and_is_flagged() -> None:
    pet = report({"text": "Ga-68 DOTATATE PET/CT"}, rid="pet-text")
    record = net_lm(pet)
    assert "pet-ssa" not in fired(record)
    fact = facts_for(record).latest("imaging:pet-ssa")
    assert fact is not None and BY_TEXT in fact.flags


def test_pet_ssa_an_exendin_pet_is_not_an_sstr_pet() -> None:
    exendin = report({"text": "68Ga-exendin-4 PET/CT"})
    assert "pet-ssa" in fired(net_lm(exendin))


def test_pet_ssa_pending_order_is_named_not_suggested_again() -> None:
    order = service_request("pet-ssa", status="active", rid="ssa-order")
    rec = run(net_lm(order))["pet-ssa"]
    assert rec.suggestions == ()
    assert rec.summary.startswith("68Ga-SSA PET/CT ordered")
    assert "ServiceRequest/ssa-order" in [f.ref for f in rec.evidence]
    card_of(rec)


def test_pet_ssa_is_a_patient_view_rule_only() -> None:
    assert "pet-ssa" not in fired(net_lm(), hook=OS, drafts=[service_request("pet-fdg")])


# --- pet-fdg ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("ki", "fires"), [(9.9, False), (10, False), (10.1, True), (15, True)])
def test_pet_fdg_from_ki67_above_10(ki: float, fires: bool) -> None:
    result = run(net_lm(ki=ki))
    assert ("pet-fdg" in result) is fires
    if fires:
        rec = result["pet-fdg"]
        assert rec.indicator is Indicator.INFO
        assert "Ki-67 > 10 %" in rec.summary and "combined 68Ga-SSA and FDG PET" in rec.advice
        assert actions(rec) == [("create", "pet-fdg")]
        assert created_codes(card_of(rec)) == ["pet-fdg"]


def test_pet_fdg_ki67_given_as_below_10_is_not_above_10() -> None:
    text = ki67(10, "liver") | {"valueQuantity": {"value": 10, "comparator": "<", "unit": "%"}}
    assert "pet-fdg" not in fired([*base_pnen_lm(), differentiation("well"), text])


def test_pet_fdg_for_nec_is_a_warning() -> None:
    rec = run(nec_lm())["pet-fdg"]
    assert rec.indicator is Indicator.WARNING
    assert "NEC" in rec.summary
    assert "combined" not in rec.advice
    card = card_of(rec)
    assert card["overrideReasons"]


def test_pet_fdg_for_nec_without_ki67_shows_the_ki67_as_unknown() -> None:
    rec = run([*base_pnen_lm(), differentiation("poorly")])["pet-fdg"]
    assert statuses(rec) == {
        "NEC": "met",
        "highest Ki-67 > 10 %": "unknown",
        "FDG PET on record": "not met",
    }
    card_of(rec)


def test_pet_fdg_for_g3_differentiation_unknown() -> None:
    rec = run([*base_pnen_lm(), ki67(30)])["pet-fdg"]
    assert rec.indicator is Indicator.INFO
    assert "G3, differentiation unknown" in rec.summary


def test_pet_fdg_for_g3_by_mitoses_with_differentiation_unknown() -> None:
    assert "pet-fdg" in fired([*base_pnen_lm(), ki67(8), mitoses(25)])


def test_pet_fdg_silent_for_net_without_ki67() -> None:
    assert "pet-fdg" not in fired(net_lm(ki=None))


def reported_grade(value: str, site: str = "10200004") -> dict[str, Any]:
    """A reported WHO grade ('G1'…'G3') at a site (SNOMED; the liver unless given)."""
    return pnen_obs("who-grade", **coded(PNEN, value), bodySite=cc(SNOMED, site))


@pytest.mark.parametrize(("count", "fires"), [(20, False), (20.5, True), (25, True)])
def test_pet_fdg_for_net_g3_by_mitoses_with_ki67_up_to_10(count: float, fires: bool) -> None:
    result = run(net_lm(mitoses(count, "liver")))  # Ki-67 8 %: NET G3 only by mitoses > 20
    assert ("pet-fdg" in result) is fires
    if fires:
        rec = result["pet-fdg"]
        assert rec.summary == "Order 18F-FDG PET/CT: NET G3; no FDG PET on record"
        assert statuses(rec) == {
            "overall grade G3": "met",
            "highest Ki-67 > 10 %": "not met",
            "FDG PET on record": "not met",
        }
        assert "Ki-67 > 10 % or grade G3, combined 68Ga-SSA and FDG PET" in rec.advice
        assert actions(rec) == [("create", "pet-fdg")]
        card_of(rec)


def test_pet_fdg_for_net_with_a_reported_g3_and_no_ki67_shows_the_ki67_as_unknown() -> None:
    rec = run(net_lm(reported_grade("G3"), ki=None))["pet-fdg"]
    assert "NET G3" in rec.summary
    assert statuses(rec)["highest Ki-67 > 10 %"] == "unknown"
    card_of(rec)


@pytest.mark.parametrize("grade", ["G1", "G2"])
def test_pet_fdg_silent_for_net_with_a_reported_low_grade_and_no_ki67(grade: str) -> None:
    assert "pet-fdg" not in fired(net_lm(reported_grade(grade), ki=None))


def test_pet_fdg_silent_with_an_fdg_pet_on_record_recognised_by_text() -> None:
    pet = report({"text": "18F-FDG PET/CT whole body"})
    record = net_lm(pet, ki=15)
    assert "pet-fdg" not in fired(record)
    fact = facts_for(record).latest("imaging:pet-fdg")
    assert fact is not None and BY_TEXT in fact.flags


def test_pet_fdg_pending_order_is_named_not_suggested_again() -> None:
    order = service_request("pet-fdg", status="on-hold", rid="fdg-order")
    rec = run(nec_lm(order))["pet-fdg"]
    assert rec.suggestions == ()
    assert "ServiceRequest/fdg-order" in rec.advice
    card_of(rec)


def test_pet_fdg_silent_without_pnen() -> None:
    assert "pet-fdg" not in fired([patient(), differentiation("poorly")])


# --- pet-insulinoma ---------------------------------------------------------------------------
def test_pet_insulinoma_suggests_exendin_or_dopa_pet() -> None:
    rec = run(insulinoma_lm())["pet-insulinoma"]
    assert rec.indicator is Indicator.INFO
    assert [actions(rec, 0), actions(rec, 1)] == [
        [("create", "pet-exendin")],
        [("create", "pet-dopa")],
    ]
    assert "50–60 %" in rec.advice and "90 %" in rec.advice
    card = card_of(rec)
    assert card["selectionBehavior"] == "at-most-one"
    assert created_codes(card) == ["pet-exendin", "pet-dopa"]
    assert "Condition/ins-1" in card["detail"]


@pytest.mark.parametrize(
    "insulinoma",
    [
        pytest.param(condition(ICDO3, "8151/3"), id="ICD-O-3"),
        pytest.param(condition(PNEN, "insulinoma"), id="project-code"),
    ],
)
def test_pet_insulinoma_recognises_the_insulinoma_codes(insulinoma: dict[str, Any]) -> None:
    assert "pet-insulinoma" in fired([*base_pnen_lm(), insulinoma])


@pytest.mark.parametrize(
    "pet",
    [
        pytest.param(study("pet-exendin"), id="exendin-coded"),
        pytest.param(study("pet-dopa"), id="dopa-coded"),
        pytest.param(report({"text": "68Ga-exendin-4 PET/CT"}), id="exendin-text"),
        pytest.param(report({"text": "18F-DOPA PET/CT"}), id="dopa-text"),
        pytest.param(report(cc(SNOMED, "5811000122108")), id="dopa-snomed"),
    ],
)
def test_pet_insulinoma_silent_with_exendin_or_dopa_pet_on_record(pet: dict[str, Any]) -> None:
    assert "pet-insulinoma" not in fired(insulinoma_lm(pet))


def test_pet_insulinoma_silent_for_other_pnen() -> None:
    assert "pet-insulinoma" not in fired(net_lm(condition(PNEN, "gastrinoma")))
    assert "pet-insulinoma" not in fired([patient(), condition(PNEN, "insulinoma")])


def test_pet_insulinoma_an_sstr_pet_on_record_does_not_replace_exendin_or_dopa() -> None:
    assert "pet-insulinoma" in fired(insulinoma_lm(study("pet-ssa", result="positive")))


def test_pet_insulinoma_pending_order_is_named_on_patient_view() -> None:
    order = service_request("pet-dopa", status="active", rid="dopa-order")
    rec = run(insulinoma_lm(order))["pet-insulinoma"]
    assert rec.suggestions == ()
    assert "ServiceRequest/dopa-order" in rec.advice
    card_of(rec)


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_sstr_pet_drafted_for_insulinoma_adds_exendin_or_dopa_and_deletes_nothing(
    hook: str,
) -> None:
    draft = service_request("pet-ssa", rid="sstr-1")
    rec = run(insulinoma_lm(), hook=hook, drafts=[draft])["pet-insulinoma"]
    assert statuses(rec)["SSTR PET drafted"] == "met"
    assert [actions(rec, 0), actions(rec, 1)] == [
        [("create", "pet-exendin")],
        [("create", "pet-dopa")],
    ]
    assert "Keep the SSTR PET" in rec.advice
    assert rec.suggestions[0].label.startswith("Add")
    card = card_of(rec)
    assert all(a["type"] == "create" for s in card["suggestions"] for a in s["actions"])
    assert "ServiceRequest/sstr-1" in card["detail"]


def test_sstr_pet_drafted_by_text_for_insulinoma_fires_and_is_flagged() -> None:
    draft = service_request({"text": "Ga-68 DOTATATE PET/CT"}, rid="sstr-text")
    rec = run(insulinoma_lm(), hook=OS, drafts=[draft])["pet-insulinoma"]
    assert rec.evidence[0].ref == "ServiceRequest/sstr-text"
    assert BY_TEXT in rec.evidence[0].flags


def test_pet_insulinoma_on_orders_ignores_other_drafts() -> None:
    drafts = [service_request("pet-fdg"), service_request("ct-chest")]
    assert "pet-insulinoma" not in fired(insulinoma_lm(), hook=SIGN, drafts=drafts)
    assert "pet-insulinoma" not in fired(insulinoma_lm(), hook=OS)


def test_pet_insulinoma_on_orders_silent_when_exendin_or_dopa_drafted_alongside() -> None:
    drafts = [service_request("pet-ssa"), service_request("pet-exendin")]
    assert "pet-insulinoma" not in fired(insulinoma_lm(), hook=SIGN, drafts=drafts)


def test_pet_insulinoma_on_orders_silent_with_exendin_on_record() -> None:
    drafts = [service_request("pet-ssa")]
    assert "pet-insulinoma" not in fired(
        insulinoma_lm(study("pet-exendin")), hook=OS, drafts=drafts
    )


def test_pet_insulinoma_on_orders_silent_without_insulinoma() -> None:
    drafts = [service_request("pet-ssa")]
    assert "pet-insulinoma" not in fired(net_lm(), hook=SIGN, drafts=drafts)


# --- pet-tracer-mismatch ----------------------------------------------------------------------
@pytest.mark.parametrize("hook", [OS, SIGN])
def test_sstr_pet_drafted_for_nec_is_swapped_for_fdg(hook: str) -> None:
    draft = service_request("pet-ssa", rid="sstr-1")
    rec = run(nec_lm(), hook=hook, drafts=[draft])["pet-tracer-mismatch"]
    assert rec.indicator is Indicator.WARNING
    assert actions(rec) == [("delete", "ServiceRequest/sstr-1"), ("create", "pet-fdg")]
    assert "weakly or not at all" in rec.summary
    card = card_of(rec)
    assert card["overrideReasons"]
    first, second = card["suggestions"][0]["actions"]
    assert first["resourceId"] == "ServiceRequest/sstr-1" and "resource" not in first
    assert second["resource"]["code"]["coding"][0]["code"] == "pet-fdg"


def test_sstr_pet_drafted_by_text_for_nec_fires_and_is_flagged() -> None:
    draft = service_request({"text": "Ga-68 DOTATATE PET/CT"}, rid="sstr-text")
    rec = run(nec_lm(), hook=SIGN, drafts=[draft])["pet-tracer-mismatch"]
    assert actions(rec)[0] == ("delete", "ServiceRequest/sstr-text")
    assert BY_TEXT in rec.evidence[0].flags
    assert "recognised by text" in card_of(rec)["detail"]


def test_sstr_pet_for_nec_with_fdg_drafted_alongside_only_deletes() -> None:
    drafts = [service_request("pet-ssa", rid="sstr-1"), service_request("pet-fdg", rid="fdg-1")]
    rec = run(nec_lm(), hook=SIGN, drafts=drafts)["pet-tracer-mismatch"]
    assert actions(rec) == [("delete", "ServiceRequest/sstr-1")]
    assert "ServiceRequest/fdg-1" in rec.advice
    card_of(rec)


def test_sstr_pet_for_nec_deletes_every_drafted_sstr_pet() -> None:
    drafts = [service_request("pet-ssa", rid="a"), service_request("pet-ssa", rid="b")]
    rec = run(nec_lm(), hook=SIGN, drafts=drafts)["pet-tracer-mismatch"]
    assert actions(rec) == [
        ("delete", "ServiceRequest/a"),
        ("delete", "ServiceRequest/b"),
        ("create", "pet-fdg"),
    ]


@pytest.mark.parametrize(
    "record",
    [
        pytest.param([*base_pnen_lm(), ki67(40)], id="G3-differentiation-unknown"),
        pytest.param(net_lm(ki=30), id="NET-G3"),
        pytest.param(base_pnen_lm(), id="differentiation-unknown"),
    ],
)
def test_sstr_pet_drafted_for_a_non_nec_is_not_a_mismatch(record: list[dict[str, Any]]) -> None:
    drafts = [service_request("pet-ssa")]
    assert "pet-tracer-mismatch" not in fired(record, hook=SIGN, drafts=drafts)


def test_an_exendin_pet_drafted_for_nec_is_not_an_sstr_pet() -> None:
    draft = service_request({"text": "68Ga-exendin-4 PET/CT"})
    assert "pet-tracer-mismatch" not in fired(nec_lm(), hook=SIGN, drafts=[draft])


@pytest.mark.parametrize(("ki", "fires"), [(2, True), (10, True), (10.1, False), (25, False)])
def test_fdg_pet_drafted_for_net_with_ki67_up_to_10_adds_sstr_pet(ki: float, fires: bool) -> None:
    draft = service_request("pet-fdg", rid="fdg-1")
    result = run(net_lm(ki=ki), hook=OS, drafts=[draft])
    assert ("pet-tracer-mismatch" in result) is fires
    if fires:
        rec = result["pet-tracer-mismatch"]
        assert rec.indicator is Indicator.INFO
        assert actions(rec) == [("create", "pet-ssa")]
        assert "Ki-67 ≤ 10 %" in rec.summary and "complementary" in rec.advice
        card = card_of(rec)
        assert "overrideReasons" not in card
        assert created_codes(card) == ["pet-ssa"]
        assert "ServiceRequest/fdg-1" in card["detail"]


def test_fdg_pet_for_net_with_ki67_unknown_lists_the_missing_ki67() -> None:
    draft = service_request("pet-fdg")
    rec = run(net_lm(ki=None), hook=SIGN, drafts=[draft])["pet-tracer-mismatch"]
    assert rec.missing == ("Ki-67 index",)
    assert "Ki-67 not recorded" in rec.summary
    assert actions(rec) == [("create", "pet-ssa")]
    assert statuses(rec)["overall grade G1 or G2"] == "unknown"
    assert "highest Ki-67 ≤ 10 % | **unknown**" in card_of(rec)["detail"]


def test_fdg_pet_for_net_with_ki67_up_to_10_names_the_low_grade() -> None:
    drafts = [service_request("pet-fdg")]
    rec = run(net_lm(mitoses(5, "liver")), hook=SIGN, drafts=drafts)["pet-tracer-mismatch"]
    assert statuses(rec) == {
        "FDG PET drafted": "met",
        "NET": "met",
        "highest Ki-67 ≤ 10 %": "met",
        "overall grade G1 or G2": "met",
        "SSTR PET on record": "not met",
    }
    assert rec.missing == ()


def test_fdg_pet_for_net_with_a_reported_g2_and_no_ki67_lists_the_missing_ki67() -> None:
    drafts = [service_request("pet-fdg")]
    record = net_lm(reported_grade("G2"), ki=None)
    rec = run(record, hook=SIGN, drafts=drafts)["pet-tracer-mismatch"]
    assert statuses(rec)["overall grade G1 or G2"] == "met"
    assert rec.missing == ("Ki-67 index",)


def bounded_ki67(comparator: str, value: float) -> dict[str, Any]:
    """A liver Ki-67 reported as a bound ('<', '>')."""
    quantity = {"value": value, "comparator": comparator, "unit": "%"}
    return ki67(value, "liver") | {"valueQuantity": quantity}


@pytest.mark.parametrize(
    ("bound", "missing"),
    [
        pytest.param(
            bounded_ki67("<", 15), ("exact Ki-67 (reported as < 15 %)",), id="below-15-G1-G2"
        ),
        pytest.param(
            bounded_ki67("<", 25),
            ("exact Ki-67 (reported as < 25 %)", "exact grade (the results allow G1–G3)"),
            id="below-25-G1-G3",
        ),
    ],
)
def test_fdg_pet_for_net_with_a_bounded_ki67_fires_with_the_exact_values_missing(
    bound: dict[str, Any], missing: tuple[str, ...]
) -> None:
    drafts = [service_request("pet-fdg")]
    rec = run(net_lm(bound, ki=None), hook=SIGN, drafts=drafts)["pet-tracer-mismatch"]
    assert rec.summary.startswith("FDG PET drafted for a NET of unsettled grade")
    assert rec.missing == missing
    card_of(rec)


@pytest.mark.parametrize(
    ("record", "fires"),
    [
        pytest.param(net_lm(mitoses(20, "liver")), True, id="ki67-8-mitoses-20-G2"),
        pytest.param(net_lm(mitoses(21, "liver")), False, id="ki67-8-mitoses-21-G3"),
        pytest.param(net_lm(mitoses(25, "liver"), ki=2), False, id="ki67-2-mitoses-25-G3"),
        pytest.param(net_lm(mitoses(25), ki=None), False, id="no-ki67-mitoses-25-G3"),
        pytest.param(
            net_lm(reported_grade("G3", "15776009")), False, id="ki67-8-liver-reported-G3-primary"
        ),
        pytest.param(net_lm(reported_grade("G3"), ki=None), False, id="no-ki67-reported-G3"),
    ],
)
def test_fdg_pet_for_net_g3_is_not_a_mismatch_whatever_the_ki67(
    record: list[dict[str, Any]], fires: bool
) -> None:
    drafts = [service_request("pet-fdg")]
    assert ("pet-tracer-mismatch" in fired(record, hook=OS, drafts=drafts)) is fires


@pytest.mark.parametrize(
    "sstr",
    [
        pytest.param(study("pet-ssa", result="negative"), id="on-record"),
        pytest.param(service_request("pet-ssa", status="active"), id="ordered"),
    ],
)
def test_fdg_pet_for_low_grade_net_silent_when_sstr_pet_on_record_or_ordered(
    sstr: dict[str, Any],
) -> None:
    drafts = [service_request("pet-fdg")]
    assert "pet-tracer-mismatch" not in fired(net_lm(sstr), hook=SIGN, drafts=drafts)


def test_fdg_pet_for_low_grade_net_silent_when_sstr_pet_drafted_alongside() -> None:
    drafts = [service_request("pet-fdg"), service_request("pet-ssa")]
    assert "pet-tracer-mismatch" not in fired(net_lm(), hook=SIGN, drafts=drafts)


def test_fdg_pet_drafted_for_nec_is_not_a_mismatch() -> None:
    drafts = [service_request("pet-fdg")]
    assert "pet-tracer-mismatch" not in fired(nec_lm(), hook=SIGN, drafts=drafts)


def test_pet_tracer_mismatch_never_fires_on_patient_view() -> None:
    planned = service_request("pet-ssa", status="draft")
    assert "pet-tracer-mismatch" not in fired(nec_lm(planned))


def test_pet_tracer_mismatch_silent_without_pnen() -> None:
    drafts = [service_request("pet-ssa")]
    record = [patient(), differentiation("poorly")]
    assert "pet-tracer-mismatch" not in fired(record, hook=SIGN, drafts=drafts)


def test_order_hooks_never_fire_patient_view_imaging_rules() -> None:
    drafts = [service_request("ct-chest")]
    result = fired([*base_pnen_lm(), ki67(40), enets("II")], hook=SIGN, drafts=drafts)
    assert not result & {STAGING, MRI, "pet-ssa", "pet-fdg", "pet-insulinoma"}


# --- imaging recognition (fhir_mappings.reports) --------------------------------------------
def _kinds(code: dict[str, Any], conclusion: str | None = None) -> dict[str, bool]:
    """Imaging kinds of one report → recognised by text."""
    facts = facts_for([report(code, conclusion=conclusion)])
    return {
        kind.removeprefix("imaging:"): BY_TEXT in found[0].flags
        for kind, found in facts.by_kind.items()
        if kind.startswith("imaging:") and kind != "imaging:abdominal-imaging"
    }


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Ga-68 DOTATATE PET/CT", "pet-ssa"),
        ("68Ga-DOTATOC PET-CT", "pet-ssa"),
        ("SSTR PET/CT", "pet-ssa"),
        ("Somatostatin receptor PET", "pet-ssa"),
        ("18F-FDG PET/CT", "pet-fdg"),
        ("68Ga-exendin-4 PET/CT", "pet-exendin"),
        ("GLP-1R PET/CT", "pet-exendin"),
        ("18F-DOPA PET/CT", "pet-dopa"),
        ("18F-FDOPA PET/CT", "pet-dopa"),
        ("MRI liver, hepatobiliary phase (Gd-EOB-DTPA)", "mri-liver-hepatobiliary"),
        ("CT chest", "ct-chest"),
        ("Triphasic CT abdomen", "ct-abdomen-multiphase"),
    ],
)
def test_study_recognised_by_its_name_alone_is_flagged(text: str, kind: str) -> None:
    kinds = _kinds({"text": text})
    assert kinds[kind] is True
    assert not {k for k in kinds if k.startswith("pet-")} - {kind}


def test_gallium_pet_of_another_tracer_is_not_an_sstr_pet() -> None:
    assert "pet-ssa" not in _kinds({"text": "Ga-68 PSMA PET/CT"})
    assert _kinds({"text": "Ga-68 PET/CT"}) == {"pet-ssa": True}


def test_tracer_named_in_the_code_wins_over_tracers_compared_in_the_conclusion() -> None:
    conclusion = "SSTR-negative disease, unlike the prior 68Ga-DOTATATE PET."
    assert _kinds({"text": "FDG PET/CT"}, conclusion) == {"pet-fdg": True}
    assert _kinds(cc(SNOMED, "35321007"), conclusion) == {"pet-fdg": False}


def test_tracer_read_from_the_conclusion_when_the_code_names_none() -> None:
    assert _kinds({"text": "PET/CT"}, "Ga-68 DOTATATE-avid liver lesions.") == {"pet-ssa": True}


def test_coded_liver_mri_with_agent_in_the_conclusion_is_hepatobiliary_by_text() -> None:
    kinds = _kinds(cc(LOINC, "30670-4", "MR Liver"), "Primovist, hepatobiliary phase.")
    assert kinds == {"mri-liver": False, "mri-liver-hepatobiliary": True}
    assert _kinds(cc(LOINC, "30670-4", "MR Liver")) == {"mri-liver": False}


def test_glp1r_agonist_mentioned_in_a_ct_conclusion_is_not_an_exendin_pet() -> None:
    assert "pet-exendin" not in _kinds({"text": "CT abdomen"}, "On a GLP-1R agonist.")


@pytest.mark.parametrize(
    ("order", "kind"),
    [
        ("pet-ssa", "pet-ssa"),
        ("pet-fdg", "pet-fdg"),
        ("pet-exendin", "pet-exendin"),
        ("pet-dopa", "pet-dopa"),
        ("ct-abdomen-pelvis-multiphase", "ct-abdomen-multiphase"),
        ("ct-chest", "ct-chest"),
        ("mri-liver-hepatobiliary", "mri-liver-hepatobiliary"),
        ("mri-liver-dwi", "mri-liver"),
    ],
)
def test_suggested_orders_are_recognised_when_drafted_back(order: str, kind: str) -> None:
    drafts, issues = map_drafts([order_resource(order, PATIENT_REF, "x")], terms())
    assert issues == () and drafts[0].order is not None
    kinds = drafts[0].order.kinds
    assert kind in kinds
    assert not (kinds & {"pet-ssa", "pet-fdg", "pet-exendin", "pet-dopa"}) - {kind}
    assert "mri-liver-hepatobiliary" not in kinds or kind == "mri-liver-hepatobiliary"


def test_accepting_the_suggestions_silences_the_order_hook_cards() -> None:
    sstr = service_request("pet-ssa", rid="sstr-1")
    exendin = order_resource("pet-exendin", PATIENT_REF, "exendin-1")
    assert "pet-insulinoma" not in fired(insulinoma_lm(), hook=SIGN, drafts=[sstr, exendin])
    fdg = service_request("pet-fdg")
    ssa = order_resource("pet-ssa", PATIENT_REF, "ssa-1")
    assert "pet-tracer-mismatch" not in fired(net_lm(), hook=SIGN, drafts=[fdg, ssa])


def test_liver_mri_named_with_its_agent_in_text_only_counts() -> None:
    assert MRI not in fired(net_lm(enets("II"), report({"text": "MRI liver with gadoxetate"})))
