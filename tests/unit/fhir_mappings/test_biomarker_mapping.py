"""What the biomarker and follow-up rules read: CgA, gastrin and PP results, their reference
ranges, laboratory orders, and PPI / SSA / corticosteroid medications (fhir-mapping.md)."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings.facts import BY_TEXT, Fact, Medication, Quantity
from fhir_mappings.medications import ROUTE_NOT_RECOGNISED, ROUTE_NOT_RECORDED
from fhir_mappings.orders import map_drafts
from fhir_mappings.terminology import ATC, LOINC, PNEN, RXNORM, SNOMED
from tests.fhir_builders import (
    PATIENT_REF,
    cc,
    days_ago,
    facts_for,
    medication,
    observation,
    service_request,
    terms,
)


def lab(code: tuple[str, str], value: float, unit: str, **kw: Any) -> dict[str, Any]:
    """A laboratory Observation with a valueQuantity."""
    return observation(code, valueQuantity={"value": value, "unit": unit}, **kw)


def quantities(resource: dict[str, Any], kind: str) -> list[Quantity]:
    """The Quantity values of the facts of one kind that a resource maps to."""
    return [f.value for f in facts_for([resource]).all(kind)]


def medications(resource: dict[str, Any], kind: str) -> list[Medication]:
    """The Medication values of the facts of one medication class."""
    return [f.value for f in facts_for([resource]).all(f"medication:{kind}")]


# --- chromogranin A -------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["9811-1", "25587-7", "30169-7"])
def test_cga_recognised_by_each_loinc_code(code: str) -> None:
    assert len(quantities(lab((LOINC, code), 80, "ng/mL"), "cga")) == 1


@pytest.mark.parametrize("unit", ["ng/mL", "ng/ml", "µg/L", "ug/L", "μg/L"])
def test_cga_mass_units_ng_per_ml_and_microgram_per_litre_are_one_unit(unit: str) -> None:
    assert quantities(lab((LOINC, "9811-1"), 80, unit), "cga") == [Quantity(80, "ng/mL")]


@pytest.mark.parametrize(
    ("code", "unit", "expected"),
    [
        ("25587-7", "nmol/L", "nmol/L"),
        ("25587-7", "nmol/l", "nmol/L"),
        ("30169-7", "U/L", "U/L"),
    ],
)
def test_cga_other_assays_keep_their_value_and_unit(code: str, unit: str, expected: str) -> None:
    assert quantities(lab((LOINC, code), 3.2, unit), "cga") == [Quantity(3.2, expected)]


def test_cga_keeps_the_upper_reference_limit() -> None:
    result = lab(
        (LOINC, "9811-1"),
        150,
        "ng/mL",
        referenceRange=[{"low": {"value": 0}, "high": {"value": 100, "unit": "ng/mL"}}],
    )
    assert quantities(result, "cga") == [Quantity(150, "ng/mL", None, 100)]


def test_cga_fact_reads_as_the_result_with_its_date() -> None:
    fact = facts_for([lab((LOINC, "9811-1"), 80, "ng/mL", when=days_ago(3))]).all("cga")[0]
    assert fact.text == "Chromogranin A 80 ng/mL" and fact.when is not None


def test_cga_preliminary_result_counts_and_is_flagged() -> None:
    facts = facts_for([lab((LOINC, "9811-1"), 80, "ng/mL", status="preliminary")]).all("cga")
    assert facts[0].flags


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
def test_cga_withdrawn_results_never_count(status: str) -> None:
    assert quantities(lab((LOINC, "9811-1"), 80, "ng/mL", status=status), "cga") == []


# --- gastrin and pancreatic polypeptide -----------------------------------------------------
@pytest.mark.parametrize(
    ("code", "unit", "expected"),
    [
        ("2333-3", "pg/mL", "pg/mL"),
        ("2333-3", "ng/L", "pg/mL"),
        ("2333-3", "pg/ml", "pg/mL"),
        ("15072-2", "pmol/L", "pmol/L"),
    ],
)
def test_gastrin_mass_and_molar_codes(code: str, unit: str, expected: str) -> None:
    assert quantities(lab((LOINC, code), 250, unit), "gastrin") == [Quantity(250, expected)]


def test_pancreatic_polypeptide_read_from_the_project_code() -> None:
    result = lab((PNEN, "pancreatic-polypeptide"), 300, "pmol/l")
    assert quantities(result, "pancreatic-polypeptide") == [Quantity(300, "pmol/L")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("<20 pg/mL", Quantity(20, "pg/mL", "<")), (">1000 pg/mL", Quantity(1000, "pg/mL", ">"))],
)
def test_bounded_marker_values_keep_their_comparator(text: str, expected: Quantity) -> None:
    result = observation((PNEN, "pancreatic-polypeptide"), valueString=text)
    assert quantities(result, "pancreatic-polypeptide") == [expected]


def test_marker_in_a_panel_component_counts() -> None:
    panel = observation(
        (PNEN, "nen-panel"),
        component=[
            {
                "code": cc(LOINC, "2333-3"),
                "valueQuantity": {"value": 90, "unit": "pg/mL"},
                "referenceRange": [{"high": {"value": 100}}],
            }
        ],
    )
    assert quantities(panel, "gastrin") == [Quantity(90, "pg/mL", None, 100)]


# --- laboratory orders ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ((LOINC, "9811-1"), "cga"),
        ((LOINC, "25587-7"), "cga"),
        ((LOINC, "2333-3"), "gastrin"),
        ((LOINC, "15072-2"), "gastrin"),
        ((PNEN, "pancreatic-polypeptide"), "pancreatic-polypeptide"),
    ],
)
def test_drafted_laboratory_orders_are_classified_by_their_code(
    code: tuple[str, str], kind: str
) -> None:
    drafts, issues = map_drafts([service_request(cc(*code), rid="lab")], terms())
    assert not issues
    assert drafts[0].order is not None and kind in drafts[0].order.kinds


def test_planned_laboratory_order_on_record_is_a_planned_fact() -> None:
    facts = facts_for([service_request(cc(LOINC, "9811-1"), status="active")])
    assert facts.has("planned:cga")


# --- PPI, SSA and corticosteroid medications ------------------------------------------------
@pytest.mark.parametrize("rxnorm", ["7646", "283742", "40790", "17128", "114979"])
def test_ppi_recognised_by_rxnorm_ingredient(rxnorm: str) -> None:
    assert len(medications(medication((RXNORM, rxnorm)), "ppi")) == 1


@pytest.mark.parametrize("atc", ["A02BC", "A02BC01", "A02BC05"])
def test_ppi_recognised_by_atc_prefix(atc: str) -> None:
    assert len(medications(medication((ATC, atc)), "ppi")) == 1


def test_h2_blocker_is_not_a_ppi() -> None:
    assert medications(medication((ATC, "A02BA03")), "ppi") == []


@pytest.mark.parametrize(("code", "kind"), [((RXNORM, "7617"), "ssa"), ((ATC, "H01CB02"), "ssa")])
def test_ssa_recognised_by_code(code: tuple[str, str], kind: str) -> None:
    assert len(medications(medication(code), kind)) == 1


@pytest.mark.parametrize("atc", ["H02AB", "H02AB06", "H02AB02"])
def test_systemic_corticosteroid_recognised_by_atc_h02ab(atc: str) -> None:
    assert len(medications(medication((ATC, atc)), "corticosteroid")) == 1


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Prednisone 20 mg tablet", "corticosteroid"),
        ("methylprednisolone IV", "corticosteroid"),
        ("Dexamethasone 4 mg", "corticosteroid"),
        ("Hydrocortisone 20 mg", "corticosteroid"),
        ("Pantoprazole 40 mg", "ppi"),
        ("dexlansoprazole", "ppi"),
        ("Sandostatin LAR 30 mg", "ssa"),
    ],
)
def test_medication_recognised_by_ingredient_name(text: str, kind: str) -> None:
    resource = medication((RXNORM, "000000"))
    resource["medicationCodeableConcept"] = {"text": text}
    facts = facts_for([resource]).all(f"medication:{kind}")
    assert len(facts) == 1 and BY_TEXT in facts[0].flags


# --- corticosteroids: systemic only ---------------------------------------------------------
def steroid(
    text: str,
    route: dict[str, Any] | None = None,
    resource_type: str = "MedicationRequest",
    code: tuple[str, str] = (RXNORM, "000000"),
) -> dict[str, Any]:
    """A corticosteroid known by its name (`text`) only, with an optional dosage route."""
    resource = medication(code, resource_type=resource_type)
    resource["medicationCodeableConcept"]["text"] = text
    if route is not None:
        key = "dosage" if resource_type == "MedicationStatement" else "dosageInstruction"
        resource[key] = [{"text": "as directed"}, {"route": route}]
    return resource


def steroid_facts(resource: dict[str, Any]) -> tuple[Fact, ...]:
    """The corticosteroid facts a resource maps to."""
    return facts_for([resource]).all("medication:corticosteroid")


@pytest.mark.parametrize(
    "text",
    [
        "hydrocortisone 1 % cream, topical",
        "Hydrocortisone ointment 2.5%",
        "Prednisolone acetate 1% eye drops",
        "Dexamethasone ophthalmic suspension 0.1%",
        "Dexamethasone ear drops",
        "Methylprednisolone aceponate lotion",
        "Hydrocortisone rectal foam",
        "Prednisolone enema",
        "Hydrocortisone suppository",
        "dexamethasone nasal spray",
        "Hydrocortisone gel",
    ],
)
def test_corticosteroid_named_with_a_local_form_is_not_a_systemic_corticosteroid(
    text: str,
) -> None:
    assert steroid_facts(steroid(text)) == ()


@pytest.mark.parametrize(
    "text",
    [
        "Prednisone 20 mg tablet",
        "Dexamethasone 4 mg/mL injection",
        "methylprednisolone IV",
        "Hydrocortisone 100 mg infusion",
        "Prednisolone oral solution",
        "Dexamethasone 8 mg i.m.",
    ],
)
def test_corticosteroid_named_with_a_systemic_form_counts_without_a_flag(text: str) -> None:
    (fact,) = steroid_facts(steroid(text))
    assert fact.flags == (BY_TEXT,)


@pytest.mark.parametrize("resource_type", ["MedicationRequest", "MedicationStatement"])
@pytest.mark.parametrize(
    ("route", "systemic"),
    [
        pytest.param(cc(SNOMED, "26643006"), True, id="oral-coded"),
        pytest.param(cc(SNOMED, "47625008"), True, id="intravenous-coded"),
        pytest.param(cc(SNOMED, "78421000"), True, id="intramuscular-coded"),
        pytest.param({"text": "by mouth"}, True, id="by-mouth-text"),
        pytest.param({"text": "IV"}, True, id="iv-text"),
        pytest.param(cc(SNOMED, "6064005"), False, id="topical-coded"),
        pytest.param(cc(SNOMED, "54485002"), False, id="ophthalmic-coded"),
        pytest.param(cc(SNOMED, "10547007"), False, id="otic-coded"),
        pytest.param(cc(SNOMED, "46713006"), False, id="nasal-coded"),
        pytest.param(cc(SNOMED, "447694001"), False, id="respiratory-coded"),
        pytest.param(cc(SNOMED, "37161004"), False, id="rectal-coded"),
        pytest.param({"text": "Inhalation"}, False, id="inhalation-text"),
        pytest.param({"text": "Cutaneous use"}, False, id="cutaneous-text"),
        pytest.param(
            {"coding": [{"system": "urn:local", "code": "9", "display": "Topical route"}]},
            False,
            id="topical-local-code-display",
        ),
    ],
)
def test_corticosteroid_named_is_judged_by_its_dosage_route(
    resource_type: str, route: dict[str, Any], systemic: bool
) -> None:
    facts = steroid_facts(steroid("Hydrocortisone 20 mg", route, resource_type))
    assert (len(facts) == 1) is systemic
    if systemic:
        assert facts[0].flags == (BY_TEXT,)


def test_corticosteroid_route_wins_over_the_product_text() -> None:
    assert steroid_facts(steroid("Hydrocortisone cream", cc(SNOMED, "26643006")))
    assert not steroid_facts(steroid("Dexamethasone 4 mg tablet", {"text": "topical"}))


def test_corticosteroid_with_a_systemic_and_a_local_form_counts() -> None:
    assert steroid_facts(steroid("Dexamethasone eye drops and tablets"))


def test_corticosteroid_named_without_route_or_form_counts_flagged_route_not_recorded() -> None:
    (fact,) = steroid_facts(steroid("Hydrocortisone 20 mg"))
    assert fact.flags == (BY_TEXT, ROUTE_NOT_RECORDED)
    assert fact.evidence().endswith("[recognised by text; route not recorded]")


def test_corticosteroid_named_with_an_unknown_route_counts_flagged_route_not_recognised() -> None:
    (fact,) = steroid_facts(steroid("Dexamethasone 4 mg", {"text": "intra-articular"}))
    assert fact.flags == (BY_TEXT, ROUTE_NOT_RECOGNISED)


def test_corticosteroid_form_of_a_contained_medication_is_read() -> None:
    resource = steroid("ignored")
    del resource["medicationCodeableConcept"]
    resource["contained"] = [
        {
            "resourceType": "Medication",
            "id": "m1",
            "code": {"text": "hydrocortisone"},
            "form": cc("urn:local:dose-form", "CRM", "Cutaneous cream"),
        }
    ]
    resource["medicationReference"] = {"reference": "#m1"}
    assert steroid_facts(resource) == ()


def test_corticosteroid_coded_h02ab_is_systemic_whatever_its_route() -> None:
    resource = steroid("Hydrocortisone", cc(SNOMED, "6064005"), code=(ATC, "H02AB09"))
    (fact,) = steroid_facts(resource)
    assert fact.flags == ()


def test_other_classes_named_with_a_local_route_still_count() -> None:
    resource = steroid("omeprazole 20 mg", {"text": "topical"})
    assert len(facts_for([resource]).all("medication:ppi")) == 1


def test_medication_name_inside_another_word_is_not_matched() -> None:
    resource = medication((RXNORM, "000000"))
    resource["medicationCodeableConcept"] = {"text": "prednisonex placebo"}
    assert medications(resource, "corticosteroid") == []


def test_contained_medication_reference_is_resolved() -> None:
    resource = medication((RXNORM, "7646"))
    del resource["medicationCodeableConcept"]
    resource["contained"] = [
        {"resourceType": "Medication", "id": "m1", "code": cc(RXNORM, "7646", "omeprazole")}
    ]
    resource["medicationReference"] = {"reference": "#m1"}
    assert len(medications(resource, "ppi")) == 1


# --- statuses and dates: active vs ended ----------------------------------------------------
@pytest.mark.parametrize(
    ("resource_type", "status", "active"),
    [
        ("MedicationRequest", "active", True),
        ("MedicationRequest", "on-hold", True),
        ("MedicationRequest", "completed", False),
        ("MedicationRequest", "stopped", False),
        ("MedicationRequest", "cancelled", False),
        ("MedicationRequest", "draft", False),
        ("MedicationStatement", "active", True),
        ("MedicationStatement", "on-hold", False),
        ("MedicationStatement", "completed", False),
        ("MedicationStatement", "not-taken", False),
        ("MedicationStatement", "intended", False),
    ],
)
def test_medication_active_by_status(resource_type: str, status: str, active: bool) -> None:
    resource = medication((RXNORM, "7646"), status=status, resource_type=resource_type)
    [med] = medications(resource, "ppi")
    assert med.active is active and med.status == status


def test_medication_request_start_is_authored_on_and_end_is_the_validity_end() -> None:
    resource = medication((RXNORM, "7646"), start=days_ago(100), end=days_ago(10))
    [med] = medications(resource, "ppi")
    assert (str(med.start), str(med.end)) == (days_ago(100), days_ago(10))
    assert med.active is False


def test_medication_request_ending_today_is_still_active() -> None:
    [med] = medications(medication((RXNORM, "7646"), end=days_ago(0)), "ppi")
    assert med.active is True


def test_medication_request_bounds_period_end_ends_it() -> None:
    resource = medication((RXNORM, "7646"))
    resource["dosageInstruction"] = [
        {"timing": {"repeat": {"boundsPeriod": {"start": days_ago(90), "end": days_ago(30)}}}}
    ]
    [med] = medications(resource, "ppi")
    assert str(med.end) == days_ago(30) and med.active is False


def test_medication_statement_period_gives_start_and_end() -> None:
    resource = medication(
        (RXNORM, "7646"),
        start=days_ago(200),
        end=days_ago(20),
        status="completed",
        resource_type="MedicationStatement",
    )
    [med] = medications(resource, "ppi")
    assert (str(med.start), str(med.end), med.status) == (days_ago(200), days_ago(20), "completed")


def test_medication_statement_effective_date_time_is_its_start() -> None:
    resource = {
        "resourceType": "MedicationStatement",
        "id": "ms-1",
        "status": "active",
        "subject": {"reference": PATIENT_REF},
        "medicationCodeableConcept": cc(ATC, "H02AB06"),
        "effectiveDateTime": days_ago(15),
    }
    [med] = medications(resource, "corticosteroid")
    assert str(med.start) == days_ago(15) and med.end is None
