"""CPT/SNOMED procedures, RxNorm clinical drugs, PRRT by text, MedicationAdministration courses."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from consensus.patient import taken_during
from fhir_mappings.drug_table import clinical_drugs, parse_table
from fhir_mappings.facts import BY_TEXT, MEDICATION_CLASSES, Fact
from fhir_mappings.medications import classify_medication
from fhir_mappings.terminology import RXNORM, SNOMED
from tests.fhir_builders import (
    PATIENT_REF,
    TODAY,
    base_pnen_lm,
    cc,
    days_ago,
    facts_for,
    patient_view,
    service_request,
    terms,
)

CPT = "http://www.ama-assn.org/go/cpt"


def cpt_procedure(code: str, status: str = "completed", **extra: Any) -> dict[str, Any]:
    """A Procedure coded in CPT, performed 100 days ago."""
    return {
        "resourceType": "Procedure",
        "id": f"cpt-{code}-{status}",
        "status": status,
        "subject": {"reference": PATIENT_REF},
        "code": cc(CPT, code),
        "performedDateTime": days_ago(100),
        **extra,
    }


def administration(
    medication: dict[str, Any],
    *,
    days: int | None = 30,
    status: str = "completed",
    rid: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A MedicationAdministration given `days` ago (None: undated)."""
    res: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": rid or f"ma-{status}-{days}",
        "status": status,
        "subject": {"reference": PATIENT_REF},
        "medicationCodeableConcept": medication,
        **extra,
    }
    if days is not None:
        res["effectiveDateTime"] = days_ago(days)
    return res


LUTATHERA = cc(RXNORM, "1999687", "Lutathera")
OMEPRAZOLE_IV = cc(RXNORM, "7646", "omeprazole")


def kinds(facts_kinds: dict[str, Any], prefix: str) -> set[str]:
    """The kinds with this prefix ('procedure:', 'planned:') among the mapped facts."""
    return {k.removeprefix(prefix) for k in facts_kinds if k.startswith(prefix)}


# --- procedures ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("48150", "pancreatoduodenectomy"),
        ("48152", "pancreatoduodenectomy"),
        ("48153", "pancreatoduodenectomy"),
        ("48154", "pancreatoduodenectomy"),
        ("48140", "distal-pancreatectomy"),
        ("48145", "distal-pancreatectomy"),
        ("48146", "distal-pancreatectomy"),
        ("48155", "pancreatectomy"),
        ("48120", "enucleation"),
        ("47120", "hepatectomy-parenchymal-sparing"),
        ("47122", "hepatectomy-anatomic"),
        ("47125", "hepatectomy-anatomic"),
        ("47130", "hepatectomy-anatomic"),
        ("47370", "liver-ablation"),
        ("47371", "liver-ablation"),
        ("47380", "liver-ablation"),
        ("47381", "liver-ablation"),
        ("47382", "liver-ablation"),
        ("47383", "liver-ablation"),
        ("47000", "liver-biopsy-percutaneous"),
        ("47001", "liver-biopsy-percutaneous"),
        ("47135", "liver-transplant"),
        ("37243", "tae"),
    ],
)
def test_a_cpt_coded_procedure_and_order_map_to_their_kind(code: str, kind: str) -> None:
    facts = facts_for([cpt_procedure(code), service_request(cc(CPT, code), status="active")])
    assert kinds(facts.by_kind, "procedure:") == {kind}
    assert kinds(facts.by_kind, "planned:") == {kind}


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("116241004", "pancreatoduodenectomy"),
        ("33149006", "pancreatectomy"),
        ("18027006", "liver-transplant"),
        ("86259008", "liver-biopsy-percutaneous"),
    ],
)
def test_a_snomed_coded_procedure_maps_to_its_kind(code: str, kind: str) -> None:
    procedure = cpt_procedure("0") | {"code": cc(SNOMED, code)}
    assert kinds(facts_for([procedure]).by_kind, "procedure:") == {kind}


def test_an_unlisted_cpt_code_and_a_procedure_not_completed_create_no_history() -> None:
    records = [cpt_procedure("48100"), cpt_procedure("48150", status="in-progress")]
    assert kinds(facts_for(records).by_kind, "procedure:") == set()


@pytest.mark.parametrize(
    ("site", "counts"),
    [
        (None, True),
        (cc(SNOMED, "10200004", "Liver structure"), True),
        ({"text": "Right hepatic lobe"}, True),
        (cc(SNOMED, "35039007", "Uterine structure"), False),
        ({"text": "Kidney"}, False),
    ],
)
def test_cpt_embolisation_is_tae_unless_sited_outside_the_liver(
    site: dict[str, Any] | None, counts: bool
) -> None:
    extra = {"bodySite": [site]} if site else {}
    found = kinds(facts_for([cpt_procedure("37243", **extra)]).by_kind, "procedure:")
    assert found == ({"tae"} if counts else set())


def test_an_enucleation_removes_the_primary_like_a_pancreatectomy() -> None:
    assert patient_view(base_pnen_lm()).primary_in_place
    assert not patient_view([*base_pnen_lm(), cpt_procedure("48120")]).primary_in_place


# --- RxNorm clinical drugs -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("198051", "ppi"),  # omeprazole 20 MG Delayed Release Oral Capsule
        ("314200", "ppi"),  # pantoprazole 40 MG Delayed Release Oral Tablet
        ("845507", "everolimus"),  # everolimus 10 MG Oral Tablet
        ("616289", "sunitinib"),  # sunitinib 50 MG Oral Capsule
        ("309311", "cisplatin"),  # cisplatin 1 MG/ML Injectable Solution
        ("597195", "carboplatin"),  # carboplatin 10 MG/ML Injectable Solution
        ("105592", "etoposide"),  # etoposide 50 MG Oral Capsule [Vepesid]
        ("312617", "corticosteroid"),  # prednisone 5 MG Oral Tablet
        ("1743704", "corticosteroid"),  # methylprednisolone 125 MG Injection
    ],
)
def test_an_rxnorm_clinical_drug_code_alone_is_read_as_its_ingredient(code: str, cls: str) -> None:
    assert classify_medication(cc(RXNORM, code), terms()) == (frozenset({cls}), False)


def test_a_tabled_systemic_corticosteroid_needs_no_route_but_an_untabled_one_is_flagged() -> None:
    tabled = administration(cc(RXNORM, "312617"), status="in-progress", rid="pred")
    by_name = administration({"text": "prednisone 5 mg"}, status="in-progress", rid="pred-text")
    facts = facts_for([tabled, by_name]).by_kind["medication:corticosteroid"]
    flags = {f.ref: f.flags for f in facts}
    assert flags["MedicationAdministration/pred"] == ()
    assert flags["MedicationAdministration/pred-text"] == (BY_TEXT, "route not recorded")


def test_every_tabled_drug_names_its_ingredient_and_reads_as_exactly_one_class() -> None:
    table = clinical_drugs()
    assert len(table) > 100
    for code, drug in table.items():
        assert drug.ingredient_name in drug.name.lower(), code
        classes, by_text = classify_medication(cc(RXNORM, code), terms())
        assert len(classes) == 1 and not by_text and classes <= set(MEDICATION_CLASSES), code


def test_a_malformed_drug_table_is_refused() -> None:
    good = {"ingredients": {"7646": "omeprazole"}, "drugs": [{"code": "1", "ingredient": "7646"}]}
    assert parse_table(good)["1"].ingredient_name == "omeprazole"
    for bad in (
        [],
        {"drugs": []},
        {"ingredients": {}, "drugs": [{"code": "1", "ingredient": "7646"}]},
        {"ingredients": {"7646": "omeprazole"}, "drugs": [{"ingredient": "7646"}]},
    ):
        with pytest.raises(ValueError):
            parse_table(json.loads(json.dumps(bad)))


# --- PRRT by text ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Lutathera 7.4 GBq IV",
        "lutetium Lu 177 dotatate",
        "Lu-177 DOTATATE",
        "177Lu-DOTATATE",
        "[177Lu]Lu-DOTA-TATE",
        "lutetium (177Lu) oxodotreotide",
        "177Lu-DOTATOC",
        "90Y-DOTATOC",
    ],
)
def test_prrt_is_recognised_by_its_names(text: str) -> None:
    assert classify_medication({"text": text}, terms()) == (frozenset({"prrt"}), True)


@pytest.mark.parametrize(
    "text",
    [
        "lutetium Lu 177 vipivotide tetraxetan",  # Pluvicto: PSMA-directed
        "Pluvicto 7.4 GBq",
        "177Lu-PSMA-617",
        "lutetium-177",
        "gallium Ga 68 dotatate (NETSPOT)",  # diagnostic PET tracer
        "68Ga-DOTATATE",
        "Cu-64 DOTATATE (Detectnet)",
        "Ga-68 DOTATOC",
    ],
)
def test_psma_lutetium_and_diagnostic_dotatate_are_not_prrt(text: str) -> None:
    assert "prrt" not in classify_medication({"text": text}, terms())[0]


# --- MedicationAdministration ----------------------------------------------------------------
def only(facts: list[Fact]) -> Fact:
    """The single fact of a list."""
    assert len(facts) == 1, facts
    return facts[0]


def test_an_in_progress_administration_is_current_therapy() -> None:
    given = administration(OMEPRAZOLE_IV, status="in-progress", days=2)
    medication = only(facts_for([given]).by_kind["medication:ppi"]).value
    assert medication.active and medication.start == TODAY - timedelta(days=2)
    assert medication.end is None


def test_a_completed_ppi_administration_is_given_on_its_date_only() -> None:
    medication = only(facts_for([administration(OMEPRAZOLE_IV, days=10)]).by_kind["medication:ppi"])
    day = TODAY - timedelta(days=10)
    assert not medication.value.active
    assert (medication.value.start, medication.value.end) == (day, day)
    assert taken_during(medication.value, day, day, TODAY) is True
    assert taken_during(medication.value, day + timedelta(days=1), TODAY, TODAY) is False


@pytest.mark.parametrize(("last_cycle", "active"), [(59, True), (60, True), (61, False)])
def test_a_prrt_course_runs_until_60_days_after_its_last_cycle(
    last_cycle: int, active: bool
) -> None:
    cycles = [administration(LUTATHERA, days=last_cycle + 56 * n, rid=f"lu-{n}") for n in (2, 1, 0)]
    fact = only(facts_for(cycles).by_kind["medication:prrt"])
    last = TODAY - timedelta(days=last_cycle)
    assert fact.value.active is active
    assert fact.value.start == last - timedelta(days=112)
    assert fact.value.end == last + timedelta(days=60)
    assert fact.ref == "MedicationAdministration/lu-0"
    assert "3 administrations" in fact.text


def test_cycles_more_than_60_days_apart_are_separate_courses() -> None:
    cycles = [administration(LUTATHERA, days=d, rid=f"lu-{d}") for d in (300, 239, 200)]
    facts = facts_for(cycles).by_kind["medication:prrt"]
    assert sorted((f.value.start, f.value.end) for f in facts) == [
        (date.fromisoformat(days_ago(300)), date.fromisoformat(days_ago(240))),
        (date.fromisoformat(days_ago(239)), date.fromisoformat(days_ago(140))),
    ]
    assert not any(f.value.active for f in facts)


def test_a_course_with_a_cycle_in_progress_is_open() -> None:
    cycles = [
        administration(LUTATHERA, days=50, rid="lu-1"),
        administration(LUTATHERA, days=0, status="in-progress", rid="lu-2"),
    ]
    fact = only(facts_for(cycles).by_kind["medication:prrt"])
    assert fact.value.active and fact.value.end is None and "in progress" in fact.text


def test_administrations_not_given_create_no_therapy() -> None:
    records = [
        administration(LUTATHERA, status=status, rid=f"lu-{status}")
        for status in ("not-done", "entered-in-error", "unknown")
    ]
    assert facts_for(records).by_kind.get("medication:prrt", []) == []


def test_an_undated_administration_leaves_its_timing_unknown() -> None:
    fact = only(facts_for([administration(LUTATHERA, days=None)]).by_kind["medication:prrt"])
    assert fact.value.start is None and not fact.value.active
    assert taken_during(fact.value, TODAY - timedelta(days=30), TODAY, TODAY) is None


def test_an_administration_of_a_contained_medication_is_resolved() -> None:
    given = administration(LUTATHERA, rid="lu-contained")
    del given["medicationCodeableConcept"]
    given["medicationReference"] = {"reference": "#med"}
    given["contained"] = [{"resourceType": "Medication", "id": "med", "code": LUTATHERA}]
    assert only(facts_for([given]).by_kind["medication:prrt"]).value.active


def test_pluvicto_given_is_not_prrt() -> None:
    pluvicto = administration({"text": "lutetium Lu 177 vipivotide tetraxetan (Pluvicto)"})
    assert "medication:prrt" not in facts_for([pluvicto]).by_kind


def test_an_unreadable_administration_is_a_data_issue_and_others_still_count() -> None:
    broken = administration(LUTATHERA, rid="lu-broken") | {"effectiveDateTime": "soon"}
    facts = facts_for([broken, administration(LUTATHERA, rid="lu-ok")])
    assert [i.reference for i in facts.data_issues] == ["MedicationAdministration/lu-broken"]
    assert only(facts.by_kind["medication:prrt"]).ref == "MedicationAdministration/lu-ok"
    assert "MedicationAdministration/lu-ok" in " ".join(facts.resources_used)


def test_a_clinical_drug_sent_as_a_bare_code_reads_by_its_rxnorm_name_in_the_evidence() -> None:
    given = administration({"coding": [{"system": RXNORM, "code": "309311"}]}, rid="cis-bare")
    fact = only(facts_for([given]).by_kind["medication:cisplatin"])
    assert fact.text.startswith("cisplatin 1 MG/ML Injectable Solution (1 administration")
