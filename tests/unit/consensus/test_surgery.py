"""E. Surgery and liver-directed therapy (consensus-rules.md E; C 6–12, R Surgical management)."""

from __future__ import annotations

from typing import Any

import pytest

from cards import CardOptions, build_card
from consensus import Recommendation
from consensus.recommendation import OS, PV, SIGN, Indicator
from fhir_mappings.terminology import ICD10CM, ICDO3, LOINC, PNEN, RXNORM, SNOMED
from pnen_i18n import use_locale
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    PATIENT_REF,
    base_pnen_lm,
    birth_date_for_age,
    condition,
    days_ago,
    differentiation,
    disease_status,
    enets,
    fired,
    flag,
    ki67,
    liver_mets,
    medication,
    mitoses,
    number,
    observation,
    patient,
    patient_view,
    pnen,
    pnen_obs,
    procedure,
    run,
    service_request,
    study,
    variant,
    vessel_contact,
)

WORSENED, STABLE, IMPROVED = "271299001", "359746009", "268910001"
HEAD, TAIL = "64163001", "73239005"


def card_of(rec: Recommendation) -> dict[str, Any]:
    """The CDS Hooks card of a recommendation, checked against the schema and FHIR R4B."""
    card = build_card(rec, PATIENT_REF, CardOptions())
    assert_valid_response({"cards": [card]})
    return card


def statuses(rec: Recommendation) -> dict[str, str]:
    """Each criterion's name → 'met' / 'not met' / 'unknown'."""
    return {c.name: c.status.value for c in rec.criteria}


def net_lm(*extra: dict[str, Any], ki: float = 8, **pnen_kw: Any) -> list[dict[str, Any]]:
    """A well-differentiated NET with liver metastases and a liver Ki-67."""
    return [
        patient(),
        pnen(**pnen_kw),
        liver_mets(),
        differentiation("well"),
        ki67(ki, "liver"),
        *extra,
    ]


def nec_lm(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """A poorly differentiated NEC with liver metastases."""
    return [*base_pnen_lm(), differentiation("poorly"), ki67(60, "liver"), *extra]


def resectable(rlv: float = 40) -> list[dict[str, Any]]:
    """R0/R1 feasible with the given remnant liver volume."""
    return [flag("r0-r1-feasible", True), number("remnant-liver-volume", rlv)]


def unresectable() -> list[dict[str, Any]]:
    """R0/R1 recorded as not feasible."""
    return [flag("r0-r1-feasible", False)]


def draft(code: str, rid: str | None = None) -> dict[str, Any]:
    """A drafted ServiceRequest coded pnen-lm#code."""
    return service_request(code, rid=rid or f"{code}-draft")


# --- primary-resectability ------------------------------------------------------------------
ALL_NONE = {"SMV": "none", "PV": "none", "SMA": "none", "CT": "none", "CHA": "none"}


@pytest.mark.parametrize(
    ("contact", "tier"),
    [
        ({}, "resectable"),
        ({"SMV": "abutment"}, "resectable"),
        ({"PV": "abutment"}, "resectable"),
        ({"SMV": "encasement"}, "borderline"),
        ({"PV": "encasement"}, "borderline"),
        ({"SMA": "abutment"}, "borderline"),
        ({"CT": "abutment"}, "borderline"),
        ({"CHA": "abutment"}, "borderline"),
        ({"CHA": "encasement"}, "borderline"),
        ({"SMV": "encasement", "SMA": "abutment", "CHA": "encasement"}, "borderline"),
        ({"SMA": "encasement"}, "locally advanced"),
        ({"CT": "encasement"}, "locally advanced"),
        ({"SMA": "occlusion"}, "locally advanced"),
        ({"CT": "occlusion"}, "locally advanced"),
        ({"SMV": "occlusion"}, "locally advanced"),
        ({"PV": "occlusion"}, "locally advanced"),
        ({"CHA": "encasement", "SMA": "encasement"}, "locally advanced"),
    ],
)
def test_primary_tier_by_vessel_contact_with_every_vessel_recorded(
    contact: dict[str, str], tier: str
) -> None:
    rec = run(net_lm(vessel_contact(**(ALL_NONE | contact))))["primary-resectability"]
    assert rec.summary == f"Primary tumour {tier} by vessel contact (C 6.1)"
    assert f"**{tier}**" in rec.advice
    assert rec.missing == ()
    assert len(rec.evidence) == 5
    card_of(rec)


def test_primary_tier_card_shows_each_vessel_and_the_unrecorded_ones() -> None:
    rec = run(net_lm(vessel_contact(SMV="abutment", SMA="none")))["primary-resectability"]
    assert "superior mesenteric vein (SMV): abutment" in rec.advice
    assert "superior mesenteric artery (SMA): none" in rec.advice
    assert "celiac trunk (CT): not recorded" in rec.advice
    assert "portal vein (PV): not recorded" in rec.advice


def test_primary_resectable_with_arteries_unrecorded_is_not_taken_as_resectable() -> None:
    rec = run(net_lm(vessel_contact(SMV="none")))["primary-resectability"]
    assert "resectable by the vessels recorded" in rec.advice
    assert rec.summary.endswith("so far (C 6.1); PV, SMA, CT, CHA not recorded")
    assert rec.missing == ("contact of the primary with PV, SMA, CT, CHA (could change the tier)",)


def test_an_smv_result_leaves_the_portal_vein_open_clinical_review_cr_2() -> None:
    record = net_lm(vessel_contact(SMV="abutment", SMA="none", CT="none", CHA="none"))
    rec = run(record)["primary-resectability"]
    assert rec.summary == (
        "Primary tumour resectable by the vessels recorded so far (C 6.1); PV not recorded"
    )
    assert rec.missing == ("contact of the primary with PV (could change the tier)",)


def test_borderline_tier_stays_open_only_for_vessels_that_could_make_it_locally_advanced() -> None:
    rec = run(net_lm(vessel_contact(SMV="none", SMA="abutment")))["primary-resectability"]
    assert rec.missing == ("contact of the primary with PV, CT (could change the tier)",)


def test_venous_axis_unrecorded_keeps_the_tier_open() -> None:
    rec = run(net_lm(vessel_contact(SMA="none", CT="none", CHA="none")))["primary-resectability"]
    assert rec.missing == ("contact of the primary with SMV, PV (could change the tier)",)


def test_locally_advanced_is_settled_whatever_else_is_unrecorded() -> None:
    rec = run(net_lm(vessel_contact(SMA="encasement")))["primary-resectability"]
    assert rec.summary == "Primary tumour locally advanced by vessel contact (C 6.1)"
    assert rec.missing == ()


def test_latest_contact_per_vessel_counts() -> None:
    old = vessel_contact(**(ALL_NONE | {"SMA": "encasement"})) | {
        "effectiveDateTime": days_ago(300)
    }
    new = vessel_contact(**(ALL_NONE | {"SMA": "abutment"})) | {"effectiveDateTime": days_ago(10)}
    assert "borderline" in run(net_lm(old, new))["primary-resectability"].summary


def test_primary_resectability_mentions_specialised_centres() -> None:
    rec = run(net_lm(vessel_contact(**(ALL_NONE | {"SMV": "encasement"}))))
    assert "specialised centres" in rec["primary-resectability"].advice


@pytest.mark.parametrize(
    ("record", "hook"),
    [
        pytest.param(net_lm(), PV, id="no-vessel-contact"),
        pytest.param(
            net_lm(vessel_contact(**ALL_NONE), procedure("distal-pancreatectomy")),
            PV,
            id="primary-resected",
        ),
        pytest.param([patient(), vessel_contact(**ALL_NONE)], PV, id="no-pnen"),
        pytest.param(net_lm(vessel_contact(**ALL_NONE)), OS, id="order-select"),
    ],
)
def test_primary_resectability_silent(record: list[dict[str, Any]], hook: str) -> None:
    assert "primary-resectability" not in fired(record, hook=hook)


def test_primary_resectability_fires_without_liver_metastases() -> None:
    record = [patient(), pnen(), differentiation("well"), vessel_contact(**ALL_NONE)]
    assert "primary-resectability" in fired(record)


def test_patient_primary_unresectable_three_valued() -> None:
    assert patient_view(net_lm(vessel_contact(SMA="encasement"))).primary_unresectable.met
    assert patient_view(net_lm(vessel_contact(**ALL_NONE))).primary_unresectable.not_met
    partial = patient_view(net_lm(vessel_contact(SMV="none"))).primary_unresectable
    assert partial.unknown and partial.missing == ("contact of the primary with PV, SMA, CT, CHA",)
    assert patient_view(net_lm()).primary_unresectable.unknown
    recorded = patient_view(net_lm(flag("primary-resectable", False), vessel_contact(SMV="none")))
    assert recorded.primary_unresectable.met


# --- liver-resectable-ned -------------------------------------------------------------------
@pytest.mark.parametrize(("rlv", "fires"), [(29.9, False), (30, True), (30.1, True)])
def test_resectable_liver_metastases_need_remnant_of_30_percent(rlv: float, fires: bool) -> None:
    assert ("liver-resectable-ned" in fired(net_lm(*resectable(rlv)))) is fires


def test_resectable_liver_metastases_card_aims_for_ned_with_psh() -> None:
    rec = run(net_lm(*resectable()))["liver-resectable-ned"]
    assert rec.indicator is Indicator.INFO
    assert "NED" in rec.advice and "parenchymal-sparing" in rec.advice
    assert "extra-abdominal" in rec.advice
    assert statuses(rec) == {
        "well-differentiated NET G1–G2": "met",
        "liver metastases resectable": "met",
        "no extrahepatic metastasis": "met",
    }
    assert "none recorded" in card_of(rec)["detail"]


def test_resectable_with_major_vessel_invasion_says_anatomic_resection() -> None:
    rec = run(net_lm(*resectable(), flag("major-vessel-invasion", True)))["liver-resectable-ned"]
    assert "anatomic resection may be needed" in rec.advice


def test_resectable_net_without_grade_lists_grade_missing() -> None:
    record = [*base_pnen_lm(), differentiation("well"), *resectable()]
    rec = run(record)["liver-resectable-ned"]
    assert statuses(rec)["well-differentiated NET G1–G2"] == "unknown"
    assert rec.missing == ("grade (Ki-67 or mitotic count)",)
    assert "g3-net-surgery" in rec.advice


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(
            net_lm(flag("r0-r1-feasible", False), number("remnant-liver-volume", 40)),
            id="r0-not-feasible",
        ),
        pytest.param(net_lm(number("remnant-liver-volume", 40)), id="r0-unknown"),
        pytest.param(net_lm(flag("r0-r1-feasible", True)), id="rlv-unknown"),
        pytest.param(
            net_lm(*resectable(), condition(ICD10CM, "C78.0", rid="lung")), id="extrahepatic"
        ),
        pytest.param(net_lm(*resectable(), ki=25), id="G3-NET"),
        pytest.param(nec_lm(*resectable()), id="NEC"),
        pytest.param([*base_pnen_lm(), *resectable()], id="differentiation-unknown"),
        pytest.param(
            [patient(), pnen(), differentiation("well"), ki67(5), *resectable()], id="no-liver-mets"
        ),
    ],
)
def test_liver_resectable_ned_silent(record: list[dict[str, Any]]) -> None:
    assert "liver-resectable-ned" not in fired(record)


# --- liver-remnant-insufficient -------------------------------------------------------------
@pytest.mark.parametrize(("rlv", "fires"), [(29.9, True), (30, False)])
def test_remnant_below_30_with_a_planned_liver_resection_warns(rlv: float, fires: bool) -> None:
    record = net_lm(
        number("remnant-liver-volume", rlv),
        service_request("hepatectomy-parenchymal-sparing", status="active", rid="plan"),
    )
    result = run(record)
    assert ("liver-remnant-insufficient" in result) is fires
    if fires:
        rec = result["liver-remnant-insufficient"]
        assert rec.indicator is Indicator.WARNING
        assert "29.9 %" in rec.summary
        assert "portal vein embolisation" in rec.advice and "ALPPS" in rec.advice
        card = card_of(rec)
        assert "ServiceRequest/plan" in card["detail"] and card["overrideReasons"]


def test_remnant_insufficient_silent_without_a_planned_resection() -> None:
    assert "liver-remnant-insufficient" not in fired(net_lm(number("remnant-liver-volume", 20)))


def test_remnant_insufficient_silent_when_remnant_unknown() -> None:
    record = net_lm(service_request("hepatectomy-anatomic", status="active"))
    assert "liver-remnant-insufficient" not in fired(record)


def test_remnant_insufficient_reads_the_latest_volume() -> None:
    record = net_lm(
        number("remnant-liver-volume", 20, when=days_ago(200)),
        number("remnant-liver-volume", 35, when=days_ago(10)),
        service_request("hepatectomy-anatomic", status="active"),
    )
    assert "liver-remnant-insufficient" not in fired(record)


@pytest.mark.parametrize("hook", [OS, SIGN])
@pytest.mark.parametrize("kind", ["hepatectomy-anatomic", "hepatectomy-parenchymal-sparing"])
def test_remnant_insufficient_on_a_drafted_hepatectomy(hook: str, kind: str) -> None:
    record = net_lm(number("remnant-liver-volume", 25))
    rec = run(record, hook=hook, drafts=[draft(kind, "hx")])["liver-remnant-insufficient"]
    assert statuses(rec) == {"hepatectomy drafted": "met", "remnant liver volume ≥ 30 %": "not met"}
    assert "ServiceRequest/hx" in [f.ref for f in rec.evidence]


def test_remnant_insufficient_on_orders_ignores_plans_in_the_record() -> None:
    record = net_lm(
        number("remnant-liver-volume", 25),
        service_request("hepatectomy-anatomic", status="active"),
    )
    assert "liver-remnant-insufficient" not in fired(record, hook=OS, drafts=[draft("tace")])
    assert "liver-remnant-insufficient" not in fired(record, hook=OS)


# --- psh-preferred --------------------------------------------------------------------------
@pytest.mark.parametrize("hook", [OS, SIGN])
def test_anatomic_hepatectomy_drafted_with_vessel_invasion_unknown(hook: str) -> None:
    rec = run(net_lm(), hook=hook, drafts=[draft("hepatectomy-anatomic", "ah")])["psh-preferred"]
    assert rec.indicator is Indicator.INFO
    assert statuses(rec)["major intrahepatic vessel invasion"] == "unknown"
    assert rec.missing == ("major intrahepatic vessel invasion (present or absent)",)
    assert "unknown" in rec.summary
    assert "ServiceRequest/ah" in card_of(rec)["detail"]


@pytest.mark.parametrize(
    "invasion",
    [
        {"valueBoolean": False},
        {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "373067005"}]}},
    ],
)
def test_anatomic_hepatectomy_drafted_without_vessel_invasion(invasion: dict[str, Any]) -> None:
    record = net_lm(observation((PNEN, "major-vessel-invasion"), **invasion))
    rec = run(record, hook=OS, drafts=[draft("hepatectomy-anatomic")])["psh-preferred"]
    assert statuses(rec)["major intrahepatic vessel invasion"] == "not met"
    assert rec.missing == ()


@pytest.mark.parametrize(
    "invasion",
    [
        {"valueBoolean": True},
        {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "373066001"}]}},
    ],
)
def test_psh_silent_when_major_vessel_invasion_is_present(invasion: dict[str, Any]) -> None:
    record = net_lm(observation((PNEN, "major-vessel-invasion"), **invasion))
    assert "psh-preferred" not in fired(record, hook=OS, drafts=[draft("hepatectomy-anatomic")])


@pytest.mark.parametrize(
    ("record", "hook", "drafts"),
    [
        pytest.param(net_lm(), OS, [draft("hepatectomy-parenchymal-sparing")], id="psh-drafted"),
        pytest.param(net_lm(), OS, [], id="nothing-drafted"),
        pytest.param(
            net_lm(service_request("hepatectomy-anatomic", status="active")),
            PV,
            [],
            id="patient-view",
        ),
        pytest.param(
            [patient(), pnen(), ki67(5)], OS, [draft("hepatectomy-anatomic")], id="no-liver-mets"
        ),
    ],
)
def test_psh_preferred_silent(
    record: list[dict[str, Any]], hook: str, drafts: list[dict[str, Any]]
) -> None:
    assert "psh-preferred" not in fired(record, hook=hook, drafts=drafts)


# --- g3-net-surgery -------------------------------------------------------------------------
@pytest.mark.parametrize(("ki", "fires"), [(20, False), (20.1, True), (35, True)])
def test_g3_net_with_resectable_liver_metastases(ki: float, fires: bool) -> None:
    result = run(net_lm(*resectable(), ki=ki))
    assert ("g3-net-surgery" in result) is fires
    assert ("liver-resectable-ned" in result) is not fires


def test_g3_net_surgery_card_gives_prognosis_and_review_caution() -> None:
    rec = run(net_lm(*resectable(), ki=30))["g3-net-surgery"]
    assert "39" in rec.advice and "strict evaluation" in rec.advice
    assert "palliative hepatectomy" in rec.advice
    assert statuses(rec) == {"NET G3": "met", "liver metastases resectable": "met"}
    card_of(rec)


def test_g3_by_mitoses_counts() -> None:
    record = net_lm(*resectable(), mitoses(21, "liver"), ki=10)
    assert "g3-net-surgery" in fired(record)


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(net_lm(*unresectable(), ki=30), id="unresectable"),
        pytest.param(net_lm(ki=30), id="resectability-unknown"),
        pytest.param([*base_pnen_lm(), ki67(30), *resectable()], id="G3-differentiation-unknown"),
        pytest.param(nec_lm(*resectable()), id="NEC"),
    ],
)
def test_g3_net_surgery_silent_on_patient_view(record: list[dict[str, Any]]) -> None:
    assert "g3-net-surgery" not in fired(record)


@pytest.mark.parametrize(
    "kind",
    [
        "pancreatoduodenectomy",
        "distal-pancreatectomy",
        "pancreatectomy",
        "hepatectomy-anatomic",
        "hepatectomy-parenchymal-sparing",
    ],
)
def test_g3_net_surgery_on_a_drafted_resection(kind: str) -> None:
    rec = run(net_lm(ki=30), hook=OS, drafts=[draft(kind)])["g3-net-surgery"]
    assert statuses(rec)["liver metastases resectable"] == "unknown"
    assert rec.missing == (
        "R0/R1 resection feasibility (surgical assessment)",
        "expected remnant liver volume (%)",
    )


def test_g3_net_surgery_silent_on_orders_without_a_resection_drafted() -> None:
    assert "g3-net-surgery" not in fired(
        net_lm(*resectable(), ki=30), hook=OS, drafts=[draft("tace")]
    )


# --- nec-medical-first ----------------------------------------------------------------------
def test_nec_with_liver_metastases_warns_medical_therapy_first() -> None:
    rec = run(nec_lm())["nec-medical-first"]
    assert rec.indicator is Indicator.WARNING
    assert "etoposide" in rec.advice and "FOLFOX" in rec.advice
    assert "No current systemic therapy recorded" in rec.advice
    assert card_of(rec)["overrideReasons"]


def test_nec_by_diagnosis_code_counts() -> None:
    record = [patient(), condition(SNOMED, "1186869002", rid="nec"), liver_mets()]
    assert "nec-medical-first" in fired(record)


def test_nec_card_notes_large_cell_and_current_therapy() -> None:
    record = nec_lm(condition(ICDO3, "8013/3", rid="lcnec"), medication((RXNORM, "4179")))
    rec = run(record)["nec-medical-first"]
    assert "Large-cell NEC is recorded" in rec.advice
    assert "Current systemic therapy" in rec.advice
    assert "Condition/lcnec" in [f.ref for f in rec.evidence]


@pytest.mark.parametrize("hook", [OS, SIGN])
@pytest.mark.parametrize("kind", ["pancreatoduodenectomy", "hepatectomy-anatomic"])
def test_nec_medical_first_on_a_drafted_resection(hook: str, kind: str) -> None:
    rec = run(nec_lm(), hook=hook, drafts=[draft(kind, "res")])["nec-medical-first"]
    assert statuses(rec) == {"NEC": "met", "pancreatectomy or hepatectomy drafted": "met"}


@pytest.mark.parametrize("hook", [OS, SIGN])
@pytest.mark.parametrize("kind", ["hepatectomy-anatomic", "hepatectomy-parenchymal-sparing"])
def test_nec_medical_first_on_a_drafted_hepatectomy_without_liver_metastases_on_record(
    hook: str, kind: str
) -> None:
    record = [patient(), pnen(), differentiation("poorly")]
    rec = run(record, hook=hook, drafts=[draft(kind, "hx")])["nec-medical-first"]
    assert rec.indicator is Indicator.WARNING
    assert rec.summary == (
        "Hepatectomy drafted for a NEC: medical therapy (platinum + etoposide) is first-line, "
        "not surgery"
    )
    assert statuses(rec) == {"NEC": "met", "pancreatectomy or hepatectomy drafted": "met"}
    assert "ServiceRequest/hx" in [f.ref for f in rec.evidence]
    card_of(rec)


def test_nec_without_liver_metastases_lists_only_the_drafted_hepatectomy() -> None:
    record = [patient(), pnen(), differentiation("poorly")]
    drafts = [draft("pancreatoduodenectomy", "px"), draft("hepatectomy-anatomic", "hx")]
    rec = run(record, hook=SIGN, drafts=drafts)["nec-medical-first"]
    refs = [f.ref for f in rec.evidence]
    assert "ServiceRequest/hx" in refs and "ServiceRequest/px" not in refs


def test_nec_with_liver_metastases_lists_every_drafted_resection() -> None:
    drafts = [draft("pancreatoduodenectomy", "px"), draft("hepatectomy-anatomic", "hx")]
    rec = run(nec_lm(), hook=SIGN, drafts=drafts)["nec-medical-first"]
    assert {"ServiceRequest/hx", "ServiceRequest/px"} <= {f.ref for f in rec.evidence}
    assert rec.summary.startswith("NEC with liver metastases:")


@pytest.mark.parametrize(
    ("record", "hook", "drafts"),
    [
        pytest.param(nec_lm(), OS, [draft("tae")], id="other-draft"),
        pytest.param(nec_lm(), OS, [], id="no-draft"),
        pytest.param([patient(), pnen(), differentiation("poorly")], PV, [], id="no-liver-mets"),
        pytest.param(
            [patient(), pnen(), differentiation("poorly")],
            OS,
            [draft("pancreatoduodenectomy")],
            id="no-liver-mets-pancreatectomy-drafted",
        ),
        pytest.param(
            [patient(), pnen(), differentiation("poorly")],
            SIGN,
            [draft("distal-pancreatectomy")],
            id="no-liver-mets-distal-pancreatectomy-drafted",
        ),
        pytest.param(
            [patient(), pnen(), differentiation("well"), ki67(8)],
            OS,
            [draft("hepatectomy-anatomic")],
            id="hepatectomy-drafted-for-a-NET",
        ),
        pytest.param(
            [patient(), differentiation("poorly")],
            OS,
            [draft("hepatectomy-anatomic")],
            id="hepatectomy-drafted-without-pnen",
        ),
        pytest.param(
            [patient(), pnen(), differentiation("poorly")],
            OS,
            [draft("tace")],
            id="no-liver-mets-other-draft",
        ),
        pytest.param(net_lm(ki=30), PV, [], id="NET-G3"),
        pytest.param([*base_pnen_lm(), ki67(40)], PV, [], id="G3-differentiation-unknown"),
    ],
)
def test_nec_medical_first_silent(
    record: list[dict[str, Any]], hook: str, drafts: list[dict[str, Any]]
) -> None:
    assert "nec-medical-first" not in fired(record, hook=hook, drafts=drafts)


# --- primary-resection-low-priority ---------------------------------------------------------
def test_primary_resection_low_priority_for_nonfunctional_net_with_unresectable_mets() -> None:
    record = [patient(birth_date_for_age(70)), *net_lm(*unresectable())[1:]]
    rec = run(record)["primary-resection-low-priority"]
    assert rec.indicator is Indicator.INFO
    assert statuses(rec) == {
        "non-functional": "met",
        "well-differentiated NET G1–G2": "met",
        "liver metastases unresectable": "met",
        "primary in place": "met",
        "primary not known to be unresectable": "unknown",
    }
    assert (
        "Age 70 years; of the comorbidities this service reads (renal or liver failure, IBD, "
        "chronic gastritis, pancreatitis): none recorded. Other comorbidities and the operative "
        "risk are not assessed here: assess them clinically."
    ) in rec.advice
    assert "no listed comorbidity" not in rec.advice
    assert "Primary location not recorded" in rec.advice
    card_of(rec)


def test_primary_resection_head_location_lowers_priority() -> None:
    rec = run(net_lm(*unresectable(), body_site=(SNOMED, HEAD)))["primary-resection-low-priority"]
    assert "pancreatoduodenectomy" in rec.advice and "bypass" in rec.advice


def test_primary_resection_tail_location_is_more_favourable() -> None:
    rec = run(net_lm(*unresectable(), body_site=(SNOMED, TAIL)))["primary-resection-low-priority"]
    assert "pancreatic tail: distal pancreatectomy" in rec.advice


def test_primary_resection_names_age_and_comorbidity() -> None:
    record = net_lm(*unresectable(), condition(ICD10CM, "N18.5", rid="ckd"))
    rec = run(record)["primary-resection-low-priority"]
    assert "chronic gastritis, pancreatitis): renal failure. Other comorbidities" in rec.advice
    assert "Condition/ckd" in [f.ref for f in rec.evidence]


def test_primary_resection_with_type_iii_and_c11_unknown_lists_c11_data() -> None:
    rec = run(net_lm(enets("III")))["primary-resection-low-priority"]
    assert any(m.startswith("C 11 potential-resectability data") for m in rec.missing)


def test_primary_resection_recorded_non_functional_is_shown() -> None:
    record = net_lm(*unresectable(), condition(PNEN, "non-functional", rid="nf"))
    rec = run(record)["primary-resection-low-priority"]
    assert "Condition/nf" in [f.ref for f in rec.evidence]


def test_primary_resection_with_primary_known_resectable_by_vessels() -> None:
    rec = run(net_lm(*unresectable(), vessel_contact(**ALL_NONE)))
    name = "primary not known to be unresectable"
    assert statuses(rec["primary-resection-low-priority"])[name] == "met"


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(net_lm(*unresectable(), condition(PNEN, "gastrinoma")), id="functional"),
        pytest.param(net_lm(*resectable()), id="mets-resectable"),
        pytest.param(net_lm(), id="resectability-unknown"),
        pytest.param(
            net_lm(*unresectable(), procedure("pancreatoduodenectomy")), id="primary-resected"
        ),
        pytest.param(
            net_lm(*unresectable(), flag("primary-resectable", False)),
            id="primary-recorded-unresectable",
        ),
        pytest.param(
            net_lm(*unresectable(), vessel_contact(SMA="encasement")), id="primary-locally-advanced"
        ),
        pytest.param(net_lm(*unresectable(), ki=25), id="G3"),
        pytest.param(nec_lm(*unresectable()), id="NEC"),
    ],
)
def test_primary_resection_low_priority_silent(record: list[dict[str, Any]]) -> None:
    assert "primary-resection-low-priority" not in fired(record)


@pytest.mark.parametrize(
    "kind", ["pancreatoduodenectomy", "distal-pancreatectomy", "pancreatectomy"]
)
def test_primary_resection_low_priority_on_a_drafted_pancreatectomy(kind: str) -> None:
    rec = run(net_lm(*unresectable()), hook=SIGN, drafts=[draft(kind, "px")])[
        "primary-resection-low-priority"
    ]
    assert statuses(rec)["pancreatectomy drafted"] == "met"


def test_primary_resection_low_priority_silent_on_orders_without_pancreatectomy() -> None:
    record = net_lm(*unresectable())
    assert "primary-resection-low-priority" not in fired(
        record, hook=OS, drafts=[draft("hepatectomy-anatomic")]
    )
    assert "primary-resection-low-priority" not in fired(record, hook=OS)


# --- debulking-functional -------------------------------------------------------------------
def functional_lm(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """A gastrinoma NET with unresectable liver metastases."""
    return net_lm(condition(PNEN, "gastrinoma", rid="gastrinoma"), *unresectable(), *extra)


def test_debulking_for_refractory_hormone_symptoms() -> None:
    rec = run(functional_lm(flag("hormone-symptoms-refractory", True)))["debulking-functional"]
    assert "90 %" in rec.advice and "70 %" in rec.advice and "TAE" in rec.advice
    assert statuses(rec)["functional pNET (gastrinoma)"] == "met"
    assert statuses(rec)["> 90 % cytoreduction achievable"] == "unknown"
    card_of(rec)


def test_debulking_says_an_ssa_comes_first_when_none_is_on_record_cr_10() -> None:
    rec = run(functional_lm(flag("hormone-symptoms-refractory", True)))["debulking-functional"]
    assert "No somatostatin analogue is on record" in rec.advice
    assert rec.summary.endswith("or TAE with resection of the primary")


def test_debulking_shows_whether_90_percent_cytoreduction_is_achievable() -> None:
    record = functional_lm(
        flag("hormone-symptoms-refractory", True), flag("cytoreduction-90-achievable", True)
    )
    assert statuses(run(record)["debulking-functional"])["> 90 % cytoreduction achievable"] == "met"


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(functional_lm(flag("hormone-symptoms-refractory", False)), id="controlled"),
        pytest.param(functional_lm(), id="refractory-unknown"),
        pytest.param(
            net_lm(*unresectable(), flag("hormone-symptoms-refractory", True)), id="non-functional"
        ),
        pytest.param(
            net_lm(
                condition(PNEN, "insulinoma"),
                *resectable(),
                flag("hormone-symptoms-refractory", True),
            ),
            id="resectable",
        ),
        pytest.param(
            nec_lm(
                condition(PNEN, "vipoma"),
                *unresectable(),
                flag("hormone-symptoms-refractory", True),
            ),
            id="NEC",
        ),
    ],
)
def test_debulking_functional_silent(record: list[dict[str, Any]]) -> None:
    assert "debulking-functional" not in fired(record)


# --- splenectomy-decision -------------------------------------------------------------------
def test_splenectomy_advisable_names_the_risk_factor_recorded() -> None:
    record = net_lm(flag("splenic-vessel-invasion", True))
    rec = run(record, hook=OS, drafts=[draft("distal-pancreatectomy", "dp")])[
        "splenectomy-decision"
    ]
    assert "splenectomy advisable (splenic-vessel invasion)" in rec.summary
    assert statuses(rec)["splenic-vessel invasion"] == "met"
    assert statuses(rec)["tumour thrombus"] == "unknown"
    card = card_of(rec)
    assert "ServiceRequest/dp" in card["detail"] and "Warshaw" in card["detail"]


@pytest.mark.parametrize(
    ("extra", "factor"),
    [
        (flag("high-nodal-risk", True), "high risk of nodal metastasis"),
        (observation((LOINC, "21906-3"), valueString="N1"), "high risk of nodal metastasis"),
        (flag("tumor-thrombus", True), "tumour thrombus"),
        (condition(ICD10CM, "K86.1"), "chronic pancreatitis or peripancreatic inflammation"),
    ],
)
def test_each_splenectomy_risk_factor_counts(extra: dict[str, Any], factor: str) -> None:
    rec = run(net_lm(extra), hook=SIGN, drafts=[draft("distal-pancreatectomy")])[
        "splenectomy-decision"
    ]
    assert statuses(rec)[factor] == "met"
    assert factor in rec.summary


def test_no_splenectomy_risk_factor_suggests_spleen_preservation() -> None:
    record = net_lm(
        flag("high-nodal-risk", False),
        flag("splenic-vessel-invasion", False),
        flag("tumor-thrombus", False),
    )
    rec = run(record, hook=OS, drafts=[draft("distal-pancreatectomy")])["splenectomy-decision"]
    assert "consider spleen preservation" in rec.summary
    assert "preserve the splenic vessels" in rec.advice
    assert rec.missing == ()


def test_unknown_splenectomy_risk_factors_are_named() -> None:
    record = net_lm(flag("high-nodal-risk", False))
    rec = run(record, hook=OS, drafts=[draft("distal-pancreatectomy")])["splenectomy-decision"]
    assert rec.summary == (
        "Distal pancreatectomy: splenectomy risk factors unknown "
        "(splenic-vessel invasion, tumour thrombus)"
    )
    assert rec.missing == (
        "splenic-vessel invasion (present or absent)",
        "tumour thrombus (present or absent)",
    )


@pytest.mark.parametrize(
    ("hook", "drafts"),
    [
        pytest.param(OS, [draft("pancreatoduodenectomy")], id="whipple"),
        pytest.param(OS, [], id="no-draft"),
        pytest.param(PV, [], id="patient-view"),
    ],
)
def test_splenectomy_decision_silent(hook: str, drafts: list[dict[str, Any]]) -> None:
    record = net_lm(service_request("distal-pancreatectomy", status="active"))
    assert "splenectomy-decision" not in fired(record, hook=hook, drafts=drafts)


# --- lymph-node-dissection ------------------------------------------------------------------
def t_stage(value: str) -> dict[str, Any]:
    """A clinical T category."""
    return observation((LOINC, "21905-5"), valueString=value)


def size(mm: float, unit: str = "mm") -> dict[str, Any]:
    """Primary tumour size."""
    return number("primary-tumor-size", mm, unit=unit)


LND = "lymph-node-dissection"


@pytest.mark.parametrize(
    ("mm", "band"),
    [
        pytest.param(9, "< 1 cm", id="0.9-cm"),
        pytest.param(9.9, "< 1 cm", id="0.99-cm"),
        pytest.param(10, "1–2 cm", id="1.0-cm"),
        pytest.param(20, "1–2 cm", id="2.0-cm"),
        pytest.param(21, "> 2 cm", id="2.1-cm"),
        pytest.param(20.1, "> 2 cm", id="2.01-cm"),
    ],
)
def test_lymph_node_dissection_by_size_of_a_nonfunctional_primary(mm: float, band: str) -> None:
    rec = run(net_lm(size(mm)), hook=OS, drafts=[draft("distal-pancreatectomy")])[LND]
    assert f"NF-pNET {band}" in rec.summary
    card_of(rec)


def test_lymph_node_dissection_recommended_over_2_cm() -> None:
    rec = run(net_lm(size(30)), hook=OS, drafts=[draft("pancreatoduodenectomy", "pd")])[LND]
    assert "regional lymph-node dissection recommended" in rec.summary
    assert statuses(rec)["primary > 2 cm or T2+"] == "met"
    assert "ServiceRequest/pd" in card_of(rec)["detail"]


def test_lymph_node_dissection_also_applies_from_1_to_2_cm() -> None:
    rec = run(net_lm(size(15)), hook=OS, drafts=[draft("distal-pancreatectomy")])[LND]
    assert "also applies to NF-pNET 1–2 cm" in rec.advice
    assert statuses(rec)["primary 1–2 cm"] == "met"


def test_lymph_node_dissection_under_1_cm_lists_the_high_risk_factors_on_record() -> None:
    record = net_lm(size(8), observation((LOINC, "21900-6"), valueString="N0"), ki=4)
    rec = run(record, hook=SIGN, drafts=[draft("distal-pancreatectomy")])[LND]
    assert rec.summary.startswith("Pancreatectomy drafted for NF-pNET < 1 cm: no lymphadenectomy")
    assert "grade G2 (liver metastasis); N category N0; highest Ki-67 4 %" in rec.advice
    card_of(rec)


def test_lymph_node_dissection_under_1_cm_names_unrecorded_factors() -> None:
    record = [patient(), pnen(), differentiation("well"), size(8)]
    rec = run(record, hook=OS, drafts=[draft("pancreatectomy")])[LND]
    assert "grade not recorded; N category not recorded; Ki-67 not recorded" in rec.advice


@pytest.mark.parametrize(
    ("t", "band"),
    [("T2", "> 2 cm"), ("T3", "> 2 cm"), ("T4", "> 2 cm"), ("T1", None), ("T1c", None)],
)
def test_lymph_node_dissection_t2_or_higher_counts_as_over_2_cm(t: str, band: str | None) -> None:
    rec = run(net_lm(t_stage(t)), hook=SIGN, drafts=[draft("pancreatoduodenectomy")])[LND]
    if band:
        assert f"NF-pNET {band}" in rec.summary
    else:
        assert "the primary size decides" in rec.summary
        assert rec.missing == ("primary tumour size (mm)",)


@pytest.mark.parametrize(
    ("records", "band"),
    [
        ([size(15), t_stage("T2")], "> 2 cm"),
        ([size(25), t_stage("T1")], "> 2 cm"),
        ([size(20), t_stage("T1")], "1–2 cm"),
        ([size(15), t_stage("TX")], "1–2 cm"),
        ([size(2.1, "cm")], "> 2 cm"),
        ([size(2.0, "cm")], "1–2 cm"),
        ([size(0.9, "cm")], "< 1 cm"),
    ],
)
def test_lymph_node_size_or_t_either_sets_the_band(
    records: list[dict[str, Any]], band: str
) -> None:
    rec = run(net_lm(*records), hook=OS, drafts=[draft("pancreatectomy")])[LND]
    assert f"NF-pNET {band}" in rec.summary


def test_lymph_node_dissection_with_size_unknown_says_the_size_decides() -> None:
    rec = run(net_lm(), hook=OS, drafts=[draft("distal-pancreatectomy")])[LND]
    assert rec.summary == (
        "Pancreatectomy drafted: the primary size decides on lymph-node dissection"
    )
    assert rec.missing == ("primary tumour size (mm)",)
    assert "for > 2 cm, also for 1–2 cm; none for < 1 cm" in rec.advice
    card_of(rec)


def test_lymph_node_dissection_with_a_size_bound_straddling_1_cm_asks_for_the_exact_size() -> None:
    bound = pnen_obs(
        "primary-tumor-size",
        valueQuantity={"value": 15, "unit": "mm", "comparator": "<"},
    )
    rec = run(net_lm(bound), hook=OS, drafts=[draft("distal-pancreatectomy")])[LND]
    assert rec.missing == ("exact primary tumour size (reported as < 15 mm)",)


@pytest.mark.parametrize(
    ("syndromes", "fires"),
    [(["gastrinoma"], True), (["insulinoma"], False), (["insulinoma", "vipoma"], True)],
)
def test_lymph_node_dissection_for_functional_pnet_except_insulinoma(
    syndromes: list[str], fires: bool
) -> None:
    record = net_lm(size(10), *(condition(PNEN, s, rid=s) for s in syndromes))
    result = run(record, hook=OS, drafts=[draft("distal-pancreatectomy")])
    assert ("lymph-node-dissection" in result) is fires
    if fires:
        others = ", ".join(s for s in syndromes if s != "insulinoma")
        assert result["lymph-node-dissection"].criteria[1].name.endswith(f"insulinoma ({others})")


@pytest.mark.parametrize(
    ("record", "hook", "drafts"),
    [
        pytest.param(nec_lm(size(40)), OS, [draft("distal-pancreatectomy")], id="NEC"),
        pytest.param(net_lm(size(40)), OS, [draft("hepatectomy-anatomic")], id="hepatectomy"),
        pytest.param(
            net_lm(size(40), service_request("pancreatectomy", status="active")),
            PV,
            [],
            id="patient-view",
        ),
    ],
)
def test_lymph_node_dissection_silent(
    record: list[dict[str, Any]], hook: str, drafts: list[dict[str, Any]]
) -> None:
    assert "lymph-node-dissection" not in fired(record, hook=hook, drafts=drafts)


def test_lymph_node_dissection_needs_no_liver_metastases() -> None:
    record = [patient(), pnen(), differentiation("well"), size(25)]
    assert LND in fired(record, hook=OS, drafts=[draft("pancreatectomy")])


# --- type3-potentially-resectable -----------------------------------------------------------
C1 = "(1) most metastases on or within 2 cm of the surface and ≤ 5 deep lesions"
C2 = "(2) most metastases within 3 segments or one lobe"
C3 = "(3) NED achievable with functional remnant liver ≥ 30 %"
DEBULK = "> 90 % tumour reduction achievable"


def type3(*extra: dict[str, Any], ki: float = 8) -> list[dict[str, Any]]:
    """A NET with ENETS type III liver metastases."""
    return net_lm(enets("III"), *extra, ki=ki)


def c3_met(rlv: float = 35) -> list[dict[str, Any]]:
    """NED achievable with the given remnant."""
    return [flag("ned-achievable", True), number("remnant-liver-volume", rlv)]


def surface(deep: int) -> list[dict[str, Any]]:
    """Most lesions within 2 cm of the surface, with `deep` deep lesions."""
    return [flag("most-lesions-within-2cm-of-surface", True), pnen_count("deep-lesion-count", deep)]


def pnen_count(code: str, value: int) -> dict[str, Any]:
    """An integer project Observation."""
    return observation((PNEN, code), valueInteger=value)


@pytest.mark.parametrize(("deep", "c1", "verdict"), [(5, "met", "met"), (6, "not met", "unknown")])
def test_type3_deep_lesions_at_most_5(deep: int, c1: str, verdict: str) -> None:
    rec = run(type3(*surface(deep), *c3_met()))["type3-potentially-resectable"]
    assert statuses(rec)[C1] == c1
    assert statuses(rec)["potentially resectable"] == verdict


@pytest.mark.parametrize(("segments", "c2"), [(3, "met"), (4, "unknown")])
def test_type3_at_most_3_segments(segments: int, c2: str) -> None:
    rec = run(type3(pnen_count("liver-segments-involved", segments), *c3_met()))
    assert statuses(rec["type3-potentially-resectable"])[C2] == c2


def test_type3_four_segments_in_both_lobes_leaves_criterion_2_unknown() -> None:
    # C 11 (2) allows oligometastases beyond the 3 segments or lobe that hold most of the
    # disease: four segments in both lobes neither meets nor refutes it (clinical review).
    record = type3(pnen_count("liver-segments-involved", 4), flag("confined-to-one-lobe", False))
    rec = run(record)["type3-potentially-resectable"]
    assert statuses(rec)[C2] == "unknown"
    assert any("most metastases lie within 3 segments or one lobe" in m for m in rec.missing)


def test_type3_with_five_segments_and_c11_data_otherwise_failing_is_not_called_unresectable() -> (
    None
):
    record = type3(
        pnen_count("liver-segments-involved", 5),
        flag("confined-to-one-lobe", False),
        flag("most-lesions-within-2cm-of-surface", False),
        pnen_count("deep-lesion-count", 8),
        *c3_met(),
        flag("cytoreduction-90-achievable", False),
    )
    p = patient_view(record)
    verdict = p.type3_potential[0]
    assert verdict.unknown, "potential resectability hinges on the distribution of the disease"


def test_type3_one_lobe_meets_criterion_2() -> None:
    rec = run(type3(flag("confined-to-one-lobe", True), *c3_met()))["type3-potentially-resectable"]
    assert statuses(rec)[C2] == "met" and statuses(rec)["potentially resectable"] == "met"
    assert "conversion therapy" in rec.summary
    assert "preop-systemic-mgmt" in rec.advice


@pytest.mark.parametrize(("rlv", "c3"), [(29.9, "not met"), (30, "met")])
def test_type3_remnant_30_percent_for_criterion_3(rlv: float, c3: str) -> None:
    rec = run(type3(*surface(2), *c3_met(rlv)))["type3-potentially-resectable"]
    assert statuses(rec)[C3] == c3


def test_type3_ned_not_achievable_without_debulking_is_not_potentially_resectable() -> None:
    record = type3(
        *surface(2), flag("ned-achievable", False), flag("cytoreduction-90-achievable", False)
    )
    rec = run(record)["type3-potentially-resectable"]
    assert statuses(rec)["potentially resectable"] == "not met"
    assert rec.summary == "Type III liver metastases not potentially resectable by C 11 criteria"


def test_type3_90_percent_cytoreduction_alone_makes_it_potentially_resectable() -> None:
    rec = run(type3(flag("cytoreduction-90-achievable", True)))["type3-potentially-resectable"]
    assert statuses(rec)["potentially resectable"] == "met"
    assert statuses(rec)[C1] == "unknown"


def test_type3_with_no_c11_data_shows_every_criterion_unknown_and_what_is_missing() -> None:
    rec = run(type3())["type3-potentially-resectable"]
    assert set(statuses(rec).values()) == {"unknown"}
    assert list(statuses(rec)) == ["potentially resectable", C1, C2, C3, DEBULK]
    assert "C 11 data missing" in rec.summary
    detail = card_of(rec)["detail"]
    for missing in (
        "number of deep liver lesions",
        "number of liver segments involved",
        "expected remnant liver volume (%)",
        "whether NED is achievable",
        "whether > 90 % cytoreduction is achievable",
    ):
        assert missing in detail


def test_type3_criterion_rows_carry_their_facts() -> None:
    rec = run(type3(*surface(6)))["type3-potentially-resectable"]
    c1 = next(c for c in rec.criteria if c.name == C1)
    assert [f.text for f in c1.evidence] == ["Deep liver lesions (count): 6"]


def test_type3_g3_net_notes_only_some_g3_qualify() -> None:
    rec = run(type3(ki=30))["type3-potentially-resectable"]
    assert '"some G3"' in rec.advice


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(net_lm(enets("II")), id="type-II"),
        pytest.param(net_lm(), id="type-unknown"),
        pytest.param(nec_lm(enets("III")), id="NEC"),
        pytest.param([*base_pnen_lm(), ki67(30), enets("III")], id="G3-differentiation-unknown"),
    ],
)
def test_type3_silent(record: list[dict[str, Any]]) -> None:
    assert "type3-potentially-resectable" not in fired(record)


# --- transplant-milan -----------------------------------------------------------------------
MILAN = [
    "(1) no extrahepatic disease",
    "(2) well-differentiated G1–G2 NET with Ki-67 < 10 %",
    "(3) primary tumour resected",
    "(4) liver tumour burden < 50 %",
    "(5) stable disease or stable response ≥ 6 months",
    "(6) age < 60 years",
]


def milan(
    *,
    age: str | None = None,
    ki: float = 5,
    burden: float = 30,
    stable_days: int = 200,
    extra: tuple[dict[str, Any], ...] = (),
) -> list[dict[str, Any]]:
    """A patient meeting every Milan-NET criterion, with unresectable liver metastases."""
    return [
        patient(age or birth_date_for_age(50)),
        pnen(),
        liver_mets(),
        differentiation("well"),
        ki67(ki, "liver"),
        procedure("distal-pancreatectomy", rid="dp"),
        number("liver-tumor-burden", burden),
        disease_status(STABLE, when=days_ago(stable_days)),
        study("pet-ssa", when=days_ago(100), result="positive", rid="ssa-pet"),
        *unresectable(),
        *extra,
    ]


def test_milan_extrahepatic_disease_is_unconfirmed_without_whole_body_staging_cr_4() -> None:
    record = [r for r in milan() if r.get("id") != "ssa-pet"]
    rec = run(record)["transplant-milan"]
    assert "5 of 6 Milan-NET criteria met, none known to fail" in rec.summary
    assert any("whole-body staging" in m for m in rec.missing)


def test_milan_names_an_rb1_alteration_against_well_differentiated_cr_4() -> None:
    rec = run(milan(extra=(variant("RB1"),)))["transplant-milan"]
    assert "RB1 alteration recorded: more typical of NEC" in rec.advice


def milan_status(record: list[dict[str, Any]], **kw: Any) -> dict[str, str]:
    """Milan criterion statuses of the transplant-referral card on order-select."""
    rec = run(record, hook=OS, drafts=[draft("liver-transplant-referral")], **kw)
    return {k: v for k, v in statuses(rec["transplant-milan"]).items() if k in MILAN}


def test_milan_all_met_on_patient_view_is_info_with_every_criterion_shown() -> None:
    rec = run(milan())["transplant-milan"]
    assert rec.indicator is Indicator.INFO
    assert "6 of 6 Milan-NET criteria met" in rec.summary
    assert [c.name for c in rec.criteria] == ["liver metastases unresectable", *MILAN]
    assert all(c.met for c in rec.criteria)
    detail = card_of(rec)["detail"]
    assert "(3) primary tumour resected | **met** | " in detail
    assert "Procedure/dp" in detail
    assert "age 50 years" in detail
    assert "strictly controlled" in detail


@pytest.mark.parametrize(("ki", "status"), [(9.9, "met"), (10, "not met"), (10.1, "not met")])
def test_milan_ki67_below_10_percent(ki: float, status: str) -> None:
    assert milan_status(milan(ki=ki))[MILAN[1]] == status
    assert ("transplant-milan" in fired(milan(ki=ki))) is (status == "met")


@pytest.mark.parametrize(("burden", "status"), [(49.9, "met"), (50, "not met")])
def test_milan_tumour_burden_below_50_percent(burden: float, status: str) -> None:
    assert milan_status(milan(burden=burden))[MILAN[3]] == status


@pytest.mark.parametrize(
    ("age", "status"),
    [
        (birth_date_for_age(59), "met"),
        (birth_date_for_age(60, days=1), "met"),
        (birth_date_for_age(60), "not met"),
        (birth_date_for_age(61), "not met"),
    ],
)
def test_milan_age_below_60(age: str, status: str) -> None:
    assert milan_status(milan(age=age))[MILAN[5]] == status


def test_milan_age_unknown_without_birth_date() -> None:
    record = milan()
    del record[0]["birthDate"]
    rec = run(record)["transplant-milan"]
    assert statuses(rec)[MILAN[5]] == "unknown"
    assert "date of birth" in rec.missing


@pytest.mark.parametrize(("days", "status"), [(184, "met"), (183, "met"), (182, "unknown")])
def test_milan_stable_for_6_months(days: int, status: str) -> None:
    assert milan_status(milan(stable_days=days))[MILAN[4]] == status


@pytest.mark.parametrize(("days", "status"), [(182, "not met"), (184, "met")])
def test_milan_progression_within_6_months_fails(days: int, status: str) -> None:
    record = milan(stable_days=183, extra=(disease_status(WORSENED, when=days_ago(days)),))
    assert milan_status(record)[MILAN[4]] == status


def test_milan_stable_status_before_a_later_progression_does_not_count() -> None:
    record = milan(stable_days=400, extra=(disease_status(WORSENED, when=days_ago(300)),))
    assert milan_status(record)[MILAN[4]] == "unknown"


def test_milan_improved_status_counts_as_stable_response() -> None:
    record = milan(stable_days=10, extra=(disease_status(IMPROVED, when=days_ago(190)),))
    assert milan_status(record)[MILAN[4]] == "met"


def test_milan_extrahepatic_disease_fails_criterion_1() -> None:
    record = milan(extra=(condition(ICD10CM, "C79.51", rid="bone"),))
    assert milan_status(record)[MILAN[0]] == "not met"
    assert "transplant-milan" not in fired(record)


def test_milan_primary_not_resected_fails_criterion_3() -> None:
    record = [r for r in milan() if r.get("resourceType") != "Procedure"]
    assert milan_status(record)[MILAN[2]] == "not met"


def test_milan_nec_fails_criterion_2() -> None:
    record = milan(extra=(differentiation("poorly", when=days_ago(1)),))
    assert milan_status(record)[MILAN[1]] == "not met"
    rec = run(record, hook=OS, drafts=[draft("liver-transplant-referral")])["transplant-milan"]
    assert next(c for c in rec.criteria if c.name == MILAN[1]).note == "NEC"


def test_milan_g3_by_mitoses_fails_criterion_2_despite_low_ki67() -> None:
    assert milan_status(milan(extra=(mitoses(25, "liver"),)))[MILAN[1]] == "not met"


def test_milan_net_inferred_from_grade_says_so() -> None:
    record = [
        r
        for r in milan()
        if r.get("code", {}).get("coding", [{}])[0].get("code") != "differentiation"
    ]
    rec = run(record)["transplant-milan"]
    criterion = next(c for c in rec.criteria if c.name == MILAN[1])
    assert criterion.met
    assert criterion.note == "inferred from grade; no differentiation recorded"
    assert "inferred from grade" in card_of(rec)["detail"]


def test_milan_unknown_criteria_still_fire_on_patient_view_and_list_missing() -> None:
    record = [r for r in milan() if "liver-tumor-burden" not in str(r.get("code"))]
    rec = run(record)["transplant-milan"]
    assert statuses(rec)[MILAN[3]] == "unknown"
    assert "5 of 6" in rec.summary
    assert "liver tumour burden (% of liver volume)" in rec.missing


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(milan(ki=12), id="criterion-fails"),
        pytest.param(
            [r for r in milan() if "r0-r1" not in str(r.get("code"))], id="resectability-unknown"
        ),
        pytest.param(
            milan(
                extra=(
                    number("remnant-liver-volume", 40),
                    flag("r0-r1-feasible", True, when=days_ago(1)),
                )
            ),
            id="resectable",
        ),
    ],
)
def test_milan_silent_on_patient_view(record: list[dict[str, Any]]) -> None:
    assert "transplant-milan" not in fired(record)


@pytest.mark.parametrize("hook", [OS, SIGN])
@pytest.mark.parametrize("kind", ["liver-transplant-referral", "liver-transplant"])
def test_milan_on_a_drafted_referral_warns_when_a_criterion_fails(hook: str, kind: str) -> None:
    record = milan(age=birth_date_for_age(65), ki=12)
    rec = run(record, hook=hook, drafts=[draft(kind, "ltx")])["transplant-milan"]
    assert rec.indicator is Indicator.WARNING
    assert rec.summary == (
        "Liver transplant referral: Milan-NET criteria not met "
        "(well-differentiated G1–G2 NET with Ki-67 < 10 %, age < 60 years)"
    )
    card = card_of(rec)
    assert card["overrideReasons"] and "ServiceRequest/ltx" in card["detail"]
    assert "(6) age < 60 years | **not met** | age 65 years" in card["detail"]


def test_milan_on_a_drafted_referral_is_info_when_none_fails() -> None:
    rec = run(milan(), hook=OS, drafts=[draft("liver-transplant-referral")])["transplant-milan"]
    assert rec.indicator is Indicator.INFO


def test_milan_on_orders_silent_without_a_transplant_draft() -> None:
    assert "transplant-milan" not in fired(milan(), hook=OS, drafts=[draft("tace")])


def test_milan_silent_without_liver_metastases() -> None:
    record = [r for r in milan() if r.get("id") != "lm-1"]
    assert "transplant-milan" not in fired(
        record, hook=OS, drafts=[draft("liver-transplant-referral")]
    )


# --- tae-over-tace --------------------------------------------------------------------------
@pytest.mark.parametrize("hook", [OS, SIGN])
def test_tace_drafted_suggests_swapping_to_tae(hook: str) -> None:
    rec = run(net_lm(), hook=hook, drafts=[draft("tace", "tace-1")])["tae-over-tace"]
    assert rec.indicator is Indicator.INFO
    (suggestion,) = rec.suggestions
    assert suggestion.is_recommended is False
    assert [(a.type, a.order or a.resource_id) for a in suggestion.actions] == [
        ("delete", "ServiceRequest/tace-1"),
        ("create", "tae"),
    ]
    assert rec.summary == (
        "TACE drafted: TAE and TACE are both effective; TAE is preferred for its slightly better "
        "toxicity"
    )
    assert len(rec.summary) < 140
    card = card_of(rec)
    created = card["suggestions"][0]["actions"][1]["resource"]
    assert created["resourceType"] == "ServiceRequest"
    assert created["code"]["coding"][0]["code"] == "tae"
    assert card["suggestions"][0]["isRecommended"] is False


def test_two_tace_drafts_are_both_replaced() -> None:
    rec = run(net_lm(), hook=SIGN, drafts=[draft("tace", "a"), draft("tace", "b")])["tae-over-tace"]
    assert [a.resource_id for a in rec.suggestions[0].actions[:2]] == [
        "ServiceRequest/a",
        "ServiceRequest/b",
    ]


@pytest.mark.parametrize(
    ("record", "hook", "drafts"),
    [
        pytest.param(net_lm(), OS, [draft("tae")], id="tae-drafted"),
        pytest.param(net_lm(service_request("tace", status="active")), PV, [], id="patient-view"),
        pytest.param(
            net_lm(service_request("tace", status="active")), OS, [], id="planned-not-drafted"
        ),
        pytest.param([patient(), pnen(), ki67(5)], OS, [draft("tace")], id="no-liver-mets"),
        pytest.param([patient(), liver_mets()], OS, [draft("tace")], id="no-pnen"),
        # R states the TAE preference for NET liver metastases only (clinical review, 2026-11-27)
        pytest.param(nec_lm(), SIGN, [draft("tace")], id="NEC"),
    ],
)
def test_tae_over_tace_silent(
    record: list[dict[str, Any]], hook: str, drafts: list[dict[str, Any]]
) -> None:
    assert "tae-over-tace" not in fired(record, hook=hook, drafts=drafts)


def test_milan_summary_with_many_failures_names_criteria_by_number_under_140_chars() -> None:
    record = milan(
        age=birth_date_for_age(65),
        ki=12,
        burden=60,
        extra=(condition(ICD10CM, "C78.0", rid="lung"),),
    )
    rec = run(record, hook=OS, drafts=[draft("liver-transplant-referral")])["transplant-milan"]
    assert rec.summary == "Liver transplant referral: Milan-NET criteria (1), (2), (4), (6) not met"


# --- zh-CN: the same rules speak Chinese without their logic reading the text ---------------
@pytest.mark.parametrize("hook", [OS, SIGN])
def test_milan_referral_in_chinese_names_the_failed_criteria_from_the_catalogue(hook: str) -> None:
    record = milan(age=birth_date_for_age(65), ki=12)
    with use_locale("zh-CN"):
        rec = run(record, hook=hook, drafts=[draft("liver-transplant-referral", "ltx")])[
            "transplant-milan"
        ]
        card = card_of(rec)
    assert rec.indicator is Indicator.WARNING
    assert rec.summary == (
        "肝移植转诊：不满足肝移植 Milan 标准（Milan-NET）"
        "（高分化 G1–G2 神经内分泌瘤（NET），Ki-67 指数 < 10 %, 年龄 < 60 岁）"
    )
    assert len(rec.summary) < 140
    assert "（6）年龄 < 60 岁 | **不满足** | 年龄 65 岁" in card["detail"]


def test_milan_referral_in_chinese_with_four_failures_names_them_under_140_chars() -> None:
    record = milan(
        age=birth_date_for_age(65),
        ki=12,
        burden=60,
        extra=(condition(ICD10CM, "C78.0", rid="lung"),),
    )
    with use_locale("zh-CN"):
        rec = run(record, hook=OS, drafts=[draft("liver-transplant-referral")])["transplant-milan"]
    assert rec.summary == (
        "肝移植转诊：不满足肝移植 Milan 标准（Milan-NET）（无肝外转移, "
        "高分化 G1–G2 神经内分泌瘤（NET），Ki-67 指数 < 10 %, 肝脏肿瘤负荷 < 50 %, 年龄 < 60 岁）"
    )
    assert len(rec.summary) < 140


def test_remnant_liver_card_in_chinese_keeps_the_30_percent_threshold_and_operator() -> None:
    record = net_lm(
        number("remnant-liver-volume", 25), service_request("hepatectomy-anatomic", status="active")
    )
    with use_locale("zh-CN"):
        rec = run(record)["liver-remnant-insufficient"]
        card = card_of(rec)
    assert rec.summary == "剩余肝体积 25 %（< 30 %）：按原计划无法进行肝切除"
    assert "剩余肝体积 ≥ 30 % 时肝转移才可切除（共识问题 6.2）" in card["detail"]


def test_primary_tier_in_chinese_names_vessels_contact_and_the_open_ones() -> None:
    record = net_lm(vessel_contact(SMA="abutment", SMV="none"))
    with use_locale("zh-CN"):
        rec = run(record)["primary-resectability"]
    assert rec.summary == (
        "按目前已记录的血管，原发肿瘤为交界可切除（共识问题 6.1）；未记录 PV, CT"
    )
    assert "- 肠系膜上动脉（SMA）：接触" in rec.advice
    assert "- 肠系膜上静脉（SMV）：无" in rec.advice
    assert "- 门静脉（PV）：未记录" in rec.advice
    assert rec.missing == ("原发灶与 PV, CT 的关系（可能改变可切除性分类）",)


def test_surgery_cards_outside_a_locale_are_the_english_message_ids() -> None:
    record = net_lm(vessel_contact(SMA="abutment", SMV="none"))
    rec = run(record)["primary-resectability"]
    assert rec.summary == (
        "Primary tumour borderline by the vessels recorded so far (C 6.1); PV, CT not recorded"
    )
    assert "- superior mesenteric vein (SMV): none" in rec.advice
