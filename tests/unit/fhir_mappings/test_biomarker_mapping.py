"""What the biomarker and follow-up rules read: CgA, gastrin and PP results, their reference
ranges, laboratory orders, and PPI / SSA / corticosteroid medications (fhir-mapping.md)."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings.facts import BY_TEXT, Medication, Quantity
from fhir_mappings.orders import map_drafts
from fhir_mappings.terminology import ATC, LOINC, PNEN, RXNORM
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
