"""G. Serum biomarkers: cga-confounded, pp-rise, gastrin-on-ppi (consensus-rules.md G)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cards import CardOptions, build_card
from consensus import Recommendation
from consensus.patient import taken_during
from consensus.recommendation import OS, PV, SIGN, Indicator
from consensus.settings import Settings
from fhir_mappings.facts import Medication
from fhir_mappings.terminology import ATC, ICD10CM, LOINC, PNEN, RXNORM, SNOMED
from tests.cds_schema import assert_valid_response
from tests.fhir_builders import (
    PATIENT_REF,
    TODAY,
    base_pnen_lm,
    cc,
    condition,
    days_ago,
    fired,
    medication,
    observation,
    patient,
    pnen_obs,
    report,
    run,
    service_request,
)

OMEPRAZOLE = (RXNORM, "7646")
LANREOTIDE = (RXNORM, "68092")
PREDNISOLONE = (ATC, "H02AB06")
CGA = (LOINC, "9811-1")
GASTRIN = (LOINC, "2333-3")


def card_of(rec: Recommendation) -> dict[str, Any]:
    """The CDS Hooks card of a recommendation, checked against the schema and FHIR R4B."""
    card = build_card(rec, PATIENT_REF, CardOptions())
    assert_valid_response({"cards": [card]})
    assert len(card["summary"]) < 140
    return card


def cga(value: float = 120, unit: str = "ng/mL", *, when: int = 30, **kw: Any) -> dict[str, Any]:
    """A chromogranin A result `when` days ago."""
    return observation(CGA, when=days_ago(when), valueQuantity={"value": value, "unit": unit}, **kw)


def gastrin(value: float = 250, *, when: int = 30, **kw: Any) -> dict[str, Any]:
    """A serum gastrin result in pg/mL `when` days ago."""
    return observation(
        GASTRIN, when=days_ago(when), valueQuantity={"value": value, "unit": "pg/mL"}, **kw
    )


def pp(
    value: float, *, when: int, unit: str = "pg/mL", high: float | None = None
) -> dict[str, Any]:
    """A pancreatic polypeptide result, optionally with referenceRange.high."""
    extra: dict[str, Any] = {}
    if high is not None:
        extra["referenceRange"] = [{"high": {"value": high, "unit": unit}}]
    return pnen_obs(
        "pancreatic-polypeptide",
        when=days_ago(when),
        valueQuantity={"value": value, "unit": unit},
        **extra,
    )


def ppi(start: int = 200, end: int | None = None, **kw: Any) -> dict[str, Any]:
    """Omeprazole started `start` days ago (ended `end` days ago when given)."""
    return medication(
        OMEPRAZOLE, start=days_ago(start), end=days_ago(end) if end is not None else None, **kw
    )


def statement(code: tuple[str, str], status: str, **period: str) -> dict[str, Any]:
    """A MedicationStatement with exactly the effectivePeriod given (may be empty)."""
    res: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": f"ms-{status}-{len(period)}",
        "status": status,
        "subject": {"reference": PATIENT_REF},
        "medicationCodeableConcept": cc(*code),
    }
    if period:
        res["effectivePeriod"] = period
    return res


def drafted(code: tuple[str, str], rid: str = "lab-draft") -> dict[str, Any]:
    """A drafted laboratory ServiceRequest coded with LOINC."""
    return service_request(cc(*code), rid=rid)


def statuses(rec: Recommendation) -> dict[str, str]:
    """Criterion name → status value."""
    return {c.name: c.status.value for c in rec.criteria}


# --- active on a date (Patient.taking) ------------------------------------------------------
def _med(status: str, start: int | None, end: int | None) -> Medication:
    return Medication(
        frozenset({"ppi"}),
        "omeprazole",
        status == "active",
        TODAY - timedelta(days=start) if start is not None else None,
        TODAY - timedelta(days=end) if end is not None else None,
        status,
    )


@pytest.mark.parametrize(
    ("status", "start", "end", "expected"),
    [
        pytest.param("active", 100, None, True, id="active-since-before"),
        pytest.param("on-hold", 100, None, True, id="on-hold-counts-like-active"),
        pytest.param("active", 20, None, False, id="started-after-the-day"),
        pytest.param("active", 30, None, True, id="started-on-the-day"),
        pytest.param("active", 100, 30, True, id="ended-on-the-day"),
        pytest.param("active", 100, 31, False, id="ended-the-day-before"),
        pytest.param("completed", 100, 10, True, id="completed-course-covering-the-day"),
        pytest.param("stopped", 100, 40, False, id="stopped-before-the-day"),
        pytest.param("completed", 100, None, None, id="completed-end-unknown"),
        pytest.param("completed", 20, None, False, id="completed-started-after"),
        pytest.param("active", None, None, None, id="active-start-unknown"),
        pytest.param("stopped", None, 30, True, id="stopped-on-the-day-start-unknown"),
        pytest.param("cancelled", 100, None, False, id="cancelled"),
        pytest.param("draft", 100, None, False, id="draft"),
        pytest.param("not-taken", 100, None, False, id="not-taken"),
        pytest.param("entered-in-error", 100, None, False, id="entered-in-error"),
        pytest.param("intended", 100, None, False, id="intended"),
    ],
)
def test_medication_taken_on_a_past_day(
    status: str, start: int | None, end: int | None, expected: bool | None
) -> None:
    day = TODAY - timedelta(days=30)
    assert taken_during(_med(status, start, end), day, day, TODAY) is expected


def test_medication_active_today_without_start_is_taken_today() -> None:
    assert taken_during(_med("active", None, None), TODAY, TODAY, TODAY) is True


# --- cga-confounded -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("drug", "label"),
    [
        pytest.param(OMEPRAZOLE, "PPI", id="PPI-rxnorm"),
        pytest.param((ATC, "A02BC02"), "PPI", id="PPI-atc-prefix"),
        pytest.param(LANREOTIDE, "SSA", id="SSA"),
        pytest.param(PREDNISOLONE, "systemic corticosteroid", id="corticosteroid-atc"),
    ],
)
def test_cga_confounded_by_a_medication_taken_on_the_specimen_date(
    drug: tuple[str, str], label: str
) -> None:
    rec = run([*base_pnen_lm(), cga(when=30), medication(drug, start=days_ago(100))])[
        "cga-confounded"
    ]
    assert rec.indicator is Indicator.WARNING
    assert label in rec.summary and days_ago(30) in rec.summary
    assert statuses(rec)[f"{label} taken on {days_ago(30)}"] == "met"
    card = card_of(rec)
    assert card["overrideReasons"] and "not for diagnosis" in card["detail"]
    assert "recent CgA or gastrin result: 90 days (local policy" in card["detail"]


def test_cga_confounded_by_a_corticosteroid_recognised_by_name() -> None:
    steroid = medication((RXNORM, "999999"), start=days_ago(60))
    steroid["medicationCodeableConcept"]["text"] = "Dexamethasone 4 mg tablet"
    rec = run([*base_pnen_lm(), cga(), steroid])["cga-confounded"]
    assert "systemic corticosteroid" in rec.summary
    assert "recognised by text" in card_of(rec)["detail"]


def named_steroid(text: str, route: dict[str, Any] | None = None) -> dict[str, Any]:
    """A corticosteroid request known by name only, started 60 days ago."""
    steroid = medication((RXNORM, "999999"), start=days_ago(60), rid="steroid")
    steroid["medicationCodeableConcept"]["text"] = text
    if route is not None:
        steroid["dosageInstruction"] = [{"route": route}]
    return steroid


@pytest.mark.parametrize(
    "steroid",
    [
        pytest.param(named_steroid("hydrocortisone 1 % cream, topical"), id="topical-cream"),
        pytest.param(named_steroid("Prednisolone 1% eye drops"), id="eye-drops"),
        pytest.param(named_steroid("Dexamethasone", cc(SNOMED, "54485002")), id="ophthalmic"),
        pytest.param(named_steroid("Hydrocortisone", {"text": "rectal"}), id="rectal"),
        pytest.param(named_steroid("Hydrocortisone", {"text": "inhaled"}), id="inhaled"),
    ],
)
def test_cga_not_confounded_by_a_local_corticosteroid(steroid: dict[str, Any]) -> None:
    assert "cga-confounded" not in fired([*base_pnen_lm(), cga(when=10), steroid])


@pytest.mark.parametrize(
    "route",
    [
        pytest.param(cc(SNOMED, "26643006"), id="oral"),
        pytest.param(cc(SNOMED, "47625008"), id="intravenous"),
        pytest.param({"text": "intramuscular"}, id="intramuscular"),
    ],
)
def test_cga_confounded_by_a_corticosteroid_named_with_a_systemic_route(
    route: dict[str, Any],
) -> None:
    rec = run([*base_pnen_lm(), cga(when=10), named_steroid("Hydrocortisone", route)])
    assert "route not recorded" not in card_of(rec["cga-confounded"])["detail"]


def test_cga_confounded_by_a_corticosteroid_named_without_route_says_route_not_recorded() -> None:
    rec = run([*base_pnen_lm(), cga(when=10), named_steroid("Hydrocortisone 20 mg")])
    detail = card_of(rec["cga-confounded"])["detail"]
    assert "MedicationRequest/steroid [recognised by text; route not recorded]" in detail


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("N18.5", "renal failure"),
        ("N17.9", "renal failure"),
        ("K74.60", "liver failure/cirrhosis"),
        ("K72.10", "liver failure/cirrhosis"),
        ("K50.90", "IBD"),
        ("K51.90", "IBD"),
        ("K29.50", "chronic gastritis"),
        ("K86.1", "pancreatitis"),
        ("K85.90", "pancreatitis"),
    ],
)
def test_cga_confounded_by_a_recorded_comorbidity(code: str, name: str) -> None:
    rec = run([*base_pnen_lm(), cga(), condition(ICD10CM, code)])["cga-confounded"]
    assert name in rec.summary
    card_of(rec)


def test_cga_confounded_names_every_confounder_found() -> None:
    record = [
        *base_pnen_lm(),
        cga(),
        ppi(),
        medication(LANREOTIDE, start=days_ago(400)),
        condition(ICD10CM, "N18.5"),
    ]
    rec = run(record)["cga-confounded"]
    assert "PPI, SSA, renal failure" in rec.summary
    card_of(rec)


def test_cga_confounded_summary_stays_short_with_many_confounders() -> None:
    record = [
        *base_pnen_lm(),
        cga(),
        ppi(),
        medication(LANREOTIDE, start=days_ago(400)),
        medication(PREDNISOLONE, start=days_ago(40)),
        condition(ICD10CM, "N18.5"),
        condition(ICD10CM, "K74.60"),
        condition(ICD10CM, "K50.90"),
    ]
    rec = run(record)["cga-confounded"]
    assert "and 3 more" in rec.summary
    card_of(rec)


@pytest.mark.parametrize(("age", "fires"), [(90, True), (91, False)])
def test_cga_confounded_only_for_results_within_90_days(age: int, fires: bool) -> None:
    assert ("cga-confounded" in fired([*base_pnen_lm(), cga(when=age), ppi(400)])) is fires


def test_cga_recent_window_is_a_configurable_local_default() -> None:
    settings = Settings({"recent-marker-days": 30})
    record = [*base_pnen_lm(), cga(when=45), ppi(400)]
    assert "cga-confounded" not in fired(record, settings=settings)
    assert "cga-confounded" in fired(record)


@pytest.mark.parametrize(
    "drug",
    [
        pytest.param(ppi(start=20), id="started-after-the-specimen"),
        pytest.param(ppi(start=300, end=31), id="ended-the-day-before"),
        pytest.param(ppi(start=300, status="cancelled"), id="cancelled"),
        pytest.param(ppi(start=300, status="entered-in-error"), id="entered-in-error"),
        pytest.param(
            ppi(start=300, status="not-taken", resource_type="MedicationStatement"),
            id="statement-not-taken",
        ),
    ],
)
def test_cga_not_confounded_by_a_medication_not_taken_on_the_specimen_date(
    drug: dict[str, Any],
) -> None:
    assert "cga-confounded" not in fired([*base_pnen_lm(), cga(when=30), drug])


def test_cga_confounded_by_a_ppi_ending_on_the_specimen_date() -> None:
    assert "cga-confounded" in fired([*base_pnen_lm(), cga(when=30), ppi(300, end=30)])


def test_cga_confounded_by_a_completed_medication_statement_covering_the_specimen_date() -> None:
    course = ppi(300, end=10, status="completed", resource_type="MedicationStatement")
    assert "cga-confounded" in fired([*base_pnen_lm(), cga(when=30), course])


def test_cga_silent_without_confounders() -> None:
    record = [*base_pnen_lm(), cga(), medication((RXNORM, "860975"), start=days_ago(100))]
    assert "cga-confounded" not in fired(record)


def test_cga_silent_without_a_cga_result() -> None:
    assert "cga-confounded" not in fired([*base_pnen_lm(), ppi(), condition(ICD10CM, "N18.5")])


def test_cga_silent_without_pnen() -> None:
    assert "cga-confounded" not in fired([patient(), cga(), ppi()])


def test_cga_confounded_with_a_completed_course_of_unknown_end_says_possibly() -> None:
    course = statement(OMEPRAZOLE, "completed", start=days_ago(200))
    rec = run([*base_pnen_lm(), cga(when=30), course])["cga-confounded"]
    assert "possibly PPI (dates not recorded)" in rec.summary
    assert statuses(rec)[f"PPI taken on {days_ago(30)}"] == "unknown"
    assert any(m.startswith("end date of") for m in rec.missing)
    card = card_of(rec)
    assert "not recorded" in card["detail"]


def test_cga_confounded_with_an_active_statement_without_a_start_says_possibly() -> None:
    undated = statement(OMEPRAZOLE, "active")
    rec = run([*base_pnen_lm(), cga(when=30), undated])["cga-confounded"]
    assert "possibly PPI" in rec.summary
    assert any(m.startswith("start date of") for m in rec.missing)
    card_of(rec)


def test_cga_confounded_prefers_a_known_confounder_over_a_possible_one() -> None:
    course = statement(OMEPRAZOLE, "completed", start=days_ago(200))
    record = [*base_pnen_lm(), cga(when=30), course, condition(ICD10CM, "K29.50")]
    rec = run(record)["cga-confounded"]
    assert "chronic gastritis" in rec.summary and "possibly" not in rec.summary
    assert "Whether PPI was being taken" in rec.advice


def test_cga_confounded_names_the_newest_result_with_a_confounder() -> None:
    record = [*base_pnen_lm(), cga(when=10), cga(when=60), ppi(300, end=40)]
    rec = run(record)["cga-confounded"]
    assert days_ago(60) in rec.summary


def test_cga_confounded_uses_molar_and_unit_assays_too() -> None:
    molar = observation(
        (LOINC, "25587-7"), when=days_ago(20), valueQuantity={"value": 3, "unit": "nmol/L"}
    )
    assert "cga-confounded" in fired([*base_pnen_lm(), molar, ppi()])


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_cga_order_drafted_while_a_ppi_is_active_warns(hook: str) -> None:
    rec = run([*base_pnen_lm(), ppi()], hook=hook, drafts=[drafted(CGA)])["cga-confounded"]
    assert rec.indicator is Indicator.WARNING
    assert rec.summary.startswith("CgA ordered with PPI")
    assert statuses(rec)["PPI active today"] == "met"
    assert "ServiceRequest/lab-draft" in [f.ref for f in rec.evidence]
    card_of(rec)


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_cga_order_drafted_with_a_comorbidity_warns(hook: str) -> None:
    record = [*base_pnen_lm(), condition(ICD10CM, "K86.1")]
    rec = run(record, hook=hook, drafts=[drafted(CGA)])["cga-confounded"]
    assert "pancreatitis" in rec.summary
    card_of(rec)


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_cga_order_silent_when_the_ppi_has_ended(hook: str) -> None:
    record = [*base_pnen_lm(), ppi(300, end=5)]
    assert "cga-confounded" not in fired(record, hook=hook, drafts=[drafted(CGA)])


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_cga_patient_view_clause_does_not_fire_on_orders(hook: str) -> None:
    record = [*base_pnen_lm(), cga(), ppi()]
    assert "cga-confounded" not in fired(record, hook=hook, drafts=[drafted(GASTRIN)])


# --- pp-rise --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("before", "after", "fires"),
    [(100, 150, False), (100, 150.1, True), (100, 200, True), (100, 120, False), (100, 80, False)],
)
def test_pp_rise_fires_above_50_percent(before: float, after: float, fires: bool) -> None:
    record = [*base_pnen_lm(), pp(before, when=120), pp(after, when=10)]
    assert ("pp-rise" in fired(record)) is fires


def test_pp_rise_card_names_both_results_and_asks_for_imaging() -> None:
    ct = report(cc(LOINC, "36813-4", "CT abdomen and pelvis W contrast IV"), when=days_ago(60))
    record = [*base_pnen_lm(), pp(100, when=120), pp(180, when=10), ct]
    rec = run(record)["pp-rise"]
    assert rec.indicator is Indicator.INFO
    assert "80 %" in rec.summary and days_ago(120) in rec.summary
    assert "predates the rise" in rec.advice
    card = card_of(rec)
    assert "correlate with imaging" in card["detail"]
    assert [x["label"] for x in card["suggestions"]] == [
        "Order multiphasic contrast CT abdomen/pelvis"
    ]  # CR-11: the CT predates the rise


def test_pp_rise_exactly_50_percent_with_awkward_decimals_does_not_fire() -> None:
    record = [*base_pnen_lm(), pp(0.7, when=120, unit="ng/mL"), pp(1.05, when=10, unit="ng/mL")]
    assert "pp-rise" not in fired(record)


def test_pp_rise_compares_the_two_most_recent_results() -> None:
    record = [*base_pnen_lm(), pp(50, when=300), pp(150, when=120), pp(160, when=10)]
    assert "pp-rise" not in fired(record)


@pytest.mark.parametrize(
    ("after", "high_after", "fires"),
    [(150, 200, False), (151, 200, True)],
)
def test_pp_rise_compared_as_multiples_of_the_upper_reference_limit(
    after: float, high_after: float, fires: bool
) -> None:
    # 50 of ULN 100 = 0.5×; 150 of ULN 200 = 0.75× (+50 %); 151 = 0.755× (+51 %).
    record = [*base_pnen_lm(), pp(50, when=120, high=100), pp(after, when=10, high=high_after)]
    assert ("pp-rise" in fired(record)) is fires


def test_pp_rise_across_units_when_both_results_carry_a_reference_range() -> None:
    record = [
        *base_pnen_lm(),
        pp(20, when=120, unit="pmol/L", high=40),
        pp(200, when=10, unit="pg/mL", high=200),
    ]
    rec = run(record)["pp-rise"]
    assert "multiples of the upper reference limit" in rec.advice
    card_of(rec)


def test_pp_rise_silent_across_units_without_reference_ranges() -> None:
    record = [*base_pnen_lm(), pp(20, when=120, unit="pmol/L"), pp(200, when=10)]
    assert "pp-rise" not in fired(record)


def test_pp_rise_skips_an_earlier_result_in_another_unit_for_one_in_the_same_unit() -> None:
    record = [
        *base_pnen_lm(),
        pp(100, when=200),
        pp(30, when=120, unit="pmol/L"),
        pp(200, when=10),
    ]
    assert "pp-rise" in fired(record)


def test_pp_rise_treats_pg_per_ml_spellings_as_one_unit() -> None:
    record = [*base_pnen_lm(), pp(100, when=120, unit="pg/ml"), pp(200, when=10, unit="ng/L")]
    assert "pp-rise" in fired(record)


@pytest.mark.parametrize(
    ("before", "after", "fires"),
    [
        pytest.param("<20 pg/mL", "40 pg/mL", True, id="earlier-below-detection"),
        pytest.param(">100 pg/mL", "200 pg/mL", False, id="earlier-above-range"),
        pytest.param("20 pg/mL", "<50 pg/mL", False, id="later-below-a-bound"),
        pytest.param("100 pg/mL", ">160 pg/mL", True, id="later-above-range"),
    ],
)
def test_pp_rise_with_bounded_values_fires_only_when_the_bound_proves_it(
    before: str, after: str, fires: bool
) -> None:
    record = [
        *base_pnen_lm(),
        pnen_obs("pancreatic-polypeptide", when=days_ago(120), valueString=before),
        pnen_obs("pancreatic-polypeptide", when=days_ago(10), valueString=after),
    ]
    assert ("pp-rise" in fired(record)) is fires


def test_pp_rise_silent_with_a_single_result() -> None:
    assert "pp-rise" not in fired([*base_pnen_lm(), pp(300, when=10)])


def test_pp_rise_ignores_undated_results() -> None:
    undated = pp(10, when=300)
    del undated["effectiveDateTime"]
    assert "pp-rise" not in fired([*base_pnen_lm(), undated, pp(300, when=10)])


def test_pp_rise_is_a_patient_view_rule_only() -> None:
    record = [*base_pnen_lm(), pp(100, when=120), pp(200, when=10)]
    assert "pp-rise" in fired(record, hook=PV)
    assert "pp-rise" not in fired(record, hook=OS, drafts=[drafted(CGA)])


# --- gastrin-on-ppi -------------------------------------------------------------------------
def test_gastrin_measured_on_a_ppi_warns_to_stop_it_for_7_days() -> None:
    rec = run([*base_pnen_lm(), gastrin(when=30), ppi()])["gastrin-on-ppi"]
    assert rec.indicator is Indicator.WARNING
    assert "≥ 7 days" in rec.summary and days_ago(30) in rec.summary
    card = card_of(rec)
    assert "> 10×" in card["detail"] and "1000-fold" in card["detail"]
    assert "≥ 120 pg/mL" in card["detail"] and card["overrideReasons"]


@pytest.mark.parametrize("hook", [PV, OS])
def test_gastrin_on_a_ppi_in_a_known_gastrinoma_never_advises_stopping_the_ppi_cr_3(
    hook: str,
) -> None:
    gastrinoma = condition(PNEN, "gastrinoma", rid="gastrinoma")
    record = [*base_pnen_lm(), gastrinoma, gastrin(when=30), ppi()]
    drafts = [drafted(GASTRIN)] if hook == OS else []
    rec = run(record, hook=hook, drafts=drafts)["gastrin-on-ppi"]
    assert rec.indicator is Indicator.INFO
    assert "keep the PPI" in rec.summary and "stop the PPI" not in rec.summary.lower()
    assert "not advised here" in rec.advice and "≥ 7 days" not in rec.advice


@pytest.mark.parametrize(("ended", "fires"), [(36, True), (37, False)])
def test_gastrin_counts_a_ppi_stopped_less_than_7_days_before_the_specimen(
    ended: int, fires: bool
) -> None:
    # Specimen 30 days ago: a PPI ended 36 days ago stopped 6 days before it; 37 → 7 days.
    record = [*base_pnen_lm(), gastrin(when=30), ppi(300, end=ended)]
    assert ("gastrin-on-ppi" in fired(record)) is fires


@pytest.mark.parametrize(("age", "fires"), [(90, True), (91, False)])
def test_gastrin_on_ppi_only_for_results_within_90_days(age: int, fires: bool) -> None:
    assert ("gastrin-on-ppi" in fired([*base_pnen_lm(), gastrin(when=age), ppi(400)])) is fires


def test_gastrin_molar_result_counts() -> None:
    molar = observation(
        (LOINC, "15072-2"), when=days_ago(20), valueQuantity={"value": 120, "unit": "pmol/L"}
    )
    assert "gastrin-on-ppi" in fired([*base_pnen_lm(), molar, ppi()])


def test_gastrin_result_states_its_multiple_of_the_upper_reference_limit() -> None:
    result = gastrin(500, referenceRange=[{"high": {"value": 100, "unit": "pg/mL"}}])
    rec = run([*base_pnen_lm(), result, ppi()])["gastrin-on-ppi"]
    assert "5× the upper reference limit" in rec.advice


@pytest.mark.parametrize(
    "drug",
    [
        pytest.param(ppi(start=20), id="ppi-started-after"),
        pytest.param(medication(LANREOTIDE, start=days_ago(300)), id="ssa-only"),
        pytest.param(ppi(start=300, status="cancelled"), id="cancelled"),
    ],
)
def test_gastrin_silent_without_a_ppi_taken_before_the_specimen(drug: dict[str, Any]) -> None:
    assert "gastrin-on-ppi" not in fired([*base_pnen_lm(), gastrin(when=30), drug])


def test_gastrin_silent_without_a_gastrin_result() -> None:
    assert "gastrin-on-ppi" not in fired([*base_pnen_lm(), ppi()])


def test_gastrin_on_a_ppi_of_unknown_end_says_possibly() -> None:
    course = statement(OMEPRAZOLE, "stopped", start=days_ago(200))
    rec = run([*base_pnen_lm(), gastrin(when=30), course])["gastrin-on-ppi"]
    assert "possibly measured on a PPI" in rec.summary
    assert rec.missing and rec.criteria[1].unknown
    card_of(rec)


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_gastrin_order_drafted_while_a_ppi_is_active_warns(hook: str) -> None:
    rec = run([*base_pnen_lm(), ppi()], hook=hook, drafts=[drafted(GASTRIN)])["gastrin-on-ppi"]
    assert rec.summary.startswith("Gastrin ordered on a PPI")
    assert "ServiceRequest/lab-draft" in [f.ref for f in rec.evidence]
    card_of(rec)


@pytest.mark.parametrize("hook", [OS, SIGN])
@pytest.mark.parametrize(("ended", "fires"), [(6, True), (7, False)])
def test_gastrin_order_counts_a_ppi_stopped_in_the_last_week(
    hook: str, ended: int, fires: bool
) -> None:
    record = [*base_pnen_lm(), ppi(300, end=ended)]
    assert ("gastrin-on-ppi" in fired(record, hook=hook, drafts=[drafted(GASTRIN)])) is fires


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_gastrin_order_silent_without_a_ppi(hook: str) -> None:
    assert "gastrin-on-ppi" not in fired(base_pnen_lm(), hook=hook, drafts=[drafted(GASTRIN)])


@pytest.mark.parametrize("hook", [OS, SIGN])
def test_gastrin_patient_view_clause_does_not_fire_on_orders(hook: str) -> None:
    record = [*base_pnen_lm(), gastrin(), ppi()]
    assert "gastrin-on-ppi" not in fired(record, hook=hook, drafts=[drafted(CGA)])


def test_gastrin_silent_without_pnen() -> None:
    assert "gastrin-on-ppi" not in fired([patient(), gastrin(), ppi()])
