"""Pathology Observations → facts: Ki-67, mitoses, reported grade, differentiation, result site."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings.facts import LIVER, PRELIMINARY, PRIMARY, UNKNOWN_SITE, Fact
from fhir_mappings.observations import MappingOptions
from fhir_mappings.orders import map_drafts
from fhir_mappings.record import RecordMapper
from fhir_mappings.terminology import ICDO3, LOINC, PNEN, SNOMED
from tests.fhir_builders import (
    PATIENT_ID,
    PATIENT_REF,
    TODAY,
    cc,
    coded,
    facts_for,
    liver_mets,
    observation,
    patient,
    pnen,
    pnen_obs,
    service_request,
    terms,
)

KI67 = (LOINC, "29593-1")
LIVER_SITE = cc(SNOMED, "10200004", "Liver")
PANCREAS_SITE = cc(SNOMED, "64163001", "Head of pancreas")


def facts(resources: list[dict[str, Any]], kind: str) -> tuple[Fact, ...]:
    """The facts of one kind that the resources map to."""
    return facts_for(resources).all(kind)


def only(resource: dict[str, Any], kind: str = "ki67") -> Fact:
    """The single fact of a kind a resource maps to."""
    found = facts([resource], kind)
    assert len(found) == 1, found
    return found[0]


def specimen(rid: str, site: dict[str, Any] | None) -> dict[str, Any]:
    """A Specimen collected from a body site (or without one)."""
    res: dict[str, Any] = {
        "resourceType": "Specimen",
        "id": rid,
        "subject": {"reference": PATIENT_REF},
    }
    if site is not None:
        res["collection"] = {"bodySite": site}
    return res


def ki67_obs(**kw: Any) -> dict[str, Any]:
    """A Ki-67 Observation of 12 % with the given extra elements."""
    return observation(KI67, valueQuantity={"value": 12, "unit": "%"}, **kw)


# --- Ki-67 value shapes ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "number", "comparator"),
    [
        ({"valueQuantity": {"value": 15, "unit": "%"}}, 15, None),
        (
            {"valueQuantity": {"value": 15, "system": "http://unitsofmeasure.org", "code": "%"}},
            15,
            None,
        ),
        ({"valueQuantity": {"value": 0.15, "unit": "1"}}, 15, None),
        ({"valueQuantity": {"value": 1, "unit": "1"}}, 100, None),
        ({"valueQuantity": {"value": 0.5, "unit": "%"}}, 0.5, None),
        ({"valueString": "15%"}, 15, None),
        ({"valueString": "15 %"}, 15, None),
        ({"valueString": "<2%"}, 2, "<"),
        ({"valueString": "< 2 %"}, 2, "<"),
        ({"valueString": "≤2%"}, 2, "<="),
        ({"valueString": ">20%"}, 20, ">"),
        ({"valueQuantity": {"value": 2, "unit": "%", "comparator": "<"}}, 2, "<"),
        ({"valueQuantity": {"value": 20, "unit": "%", "comparator": ">"}}, 20, ">"),
    ],
    ids=[
        "percent",
        "UCUM code only",
        "fraction",
        "fraction of one",
        "half a percent stays percent",
        "string",
        "string with space",
        "string below",
        "string below with spaces",
        "string at most",
        "string above",
        "comparator below",
        "comparator above",
    ],
)
def test_ki67_value_shapes(value: dict[str, Any], number: float, comparator: str | None) -> None:
    fact = only(observation(KI67, **value))
    assert (fact.value.value, fact.value.unit, fact.value.comparator) == (number, "%", comparator)
    assert fact.value.low is None


def test_ki67_below_2_percent_reads_below_2_in_the_evidence() -> None:
    fact = only(observation(KI67, valueString="<2%"))
    assert fact.value.effective < 2
    assert fact.text == "Ki-67 < 2 %"


@pytest.mark.parametrize(
    "value",
    [
        {"valueRange": {"low": {"value": 10, "unit": "%"}, "high": {"value": 25, "unit": "%"}}},
        {"valueString": "10-25%"},
        {"valueString": "10–25 %"},
        {"valueString": "10 to 25%"},
    ],
    ids=["valueRange", "hyphen", "en dash", "to"],
)
def test_ki67_range_keeps_both_ends_as_reported(value: dict[str, Any]) -> None:
    fact = only(observation(KI67, **value))
    assert (fact.value.low, fact.value.value) == (10, 25)
    assert fact.text == "Ki-67 10–25 %"
    # A bound of each end: a threshold between them is unknown, one outside them is known.
    assert fact.value.compare(">", 20) is None
    assert fact.value.compare(">", 5) is True and fact.value.compare(">", 30) is False


def test_ki67_range_with_only_a_high_end_is_at_most_that() -> None:
    fact = only(observation(KI67, valueRange={"high": {"value": 2, "unit": "%"}}))
    assert (fact.value.value, fact.value.comparator) == (2, "<=")


def test_ki67_range_with_only_a_low_end_is_at_least_that() -> None:
    fact = only(observation(KI67, valueRange={"low": {"value": 20, "unit": "%"}}))
    assert (fact.value.value, fact.value.comparator) == (20, ">=")


def test_ki67_in_a_panel_component_counts_like_an_observation() -> None:
    panel = observation(
        (LOINC, "60568-3"),
        component=[
            {"code": cc(LOINC, "00000-0"), "valueString": "ignored"},
            {"code": cc(*KI67), "valueQuantity": {"value": 18, "unit": "%"}},
        ],
        bodySite=LIVER_SITE,
    )
    fact = only(panel)
    assert (fact.value.value, fact.site) == (18, LIVER)


def test_ki67_with_the_project_code_counts() -> None:
    assert only(pnen_obs("ki67", valueQuantity={"value": 7, "unit": "%"})).value.value == 7


@pytest.mark.parametrize("text", ["high", "see report", ""])
def test_ki67_unreadable_string_gives_no_fact(text: str) -> None:
    assert facts([observation(KI67, valueString=text)], "ki67") == ()


# --- mitotic count --------------------------------------------------------------------------
def test_mitotic_count_per_2_mm2() -> None:
    fact = only(
        pnen_obs("mitotic-count", valueQuantity={"value": 4, "unit": "/2 mm2"}), "mitotic-count"
    )
    assert (fact.value.value, fact.value.unit) == (4, "/2 mm²")
    assert fact.text == "mitoses 4 /2 mm²"


@pytest.mark.parametrize(
    "value",
    [
        {"valueQuantity": {"value": 5, "unit": "/10 HPF"}},
        {"valueQuantity": {"value": 5, "unit": "per 10 hpf"}},
        {"valueQuantity": {"value": 5, "unit": "/10 high-power fields"}},
        {"valueString": "5/10 HPF"},
    ],
    ids=["HPF", "lower-case hpf", "high-power fields", "string"],
)
def test_mitoses_per_10_hpf_are_ignored_with_a_data_issue(value: dict[str, Any]) -> None:
    mapped = facts_for([pnen_obs("mitotic-count", rid="mit-hpf", **value)])
    assert mapped.all("mitotic-count") == ()
    issues = [i for i in mapped.data_issues if i.reference == "Observation/mit-hpf"]
    assert len(issues) == 1
    assert "per 10 HPF need a site conversion; ignored" in issues[0].problem
    assert issues[0].problem.startswith(next(iter(value)))


def test_mitoses_per_10_hpf_convert_with_a_site_conversion() -> None:
    mapper = RecordMapper(terms(), MappingOptions(mitoses_per_10hpf_to_2mm2=0.8))
    resource = pnen_obs("mitotic-count", valueQuantity={"value": 5, "unit": "/10 HPF"})
    mapped = mapper.map(PATIENT_ID, [("test", patient()), ("test", resource)], TODAY)
    (fact,) = mapped.all("mitotic-count")
    assert (fact.value.value, fact.value.unit) == (4, "/2 mm²")
    assert "converted from per 10 HPF ×0.8" in fact.flags
    assert mapped.data_issues == ()


# --- reported grade and differentiation ------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "grade"),
    [
        (coded(PNEN, "G1"), 1),
        (coded(PNEN, "G2"), 2),
        (coded(PNEN, "G3"), 3),
        ({"valueString": "G2"}, 2),
        ({"valueString": "g3"}, 3),
        ({"valueString": "WHO G1"}, 1),
        ({"valueString": "Grade 2"}, 2),
        ({"valueCodeableConcept": {"text": "G3"}}, 3),
    ],
)
def test_reported_who_grade(value: dict[str, Any], grade: int) -> None:
    fact = only(pnen_obs("who-grade", **value), "who-grade")
    assert fact.value == grade
    assert fact.text == f"reported WHO grade G{grade}"


@pytest.mark.parametrize(
    ("value", "grade", "differentiation"),
    [
        ({"valueString": "NET G2"}, 2, "well"),
        ({"valueString": "NET, G3"}, 3, "well"),
        ({"valueCodeableConcept": {"text": "NET G3"}}, 3, "well"),
        ({"valueString": "NEC G3"}, 3, "poorly"),
    ],
)
def test_a_grade_printed_with_net_or_nec_also_gives_the_differentiation(
    value: dict[str, Any], grade: int, differentiation: str
) -> None:
    # WHO 2019: a NET (G1-G3) is well differentiated, a NEC poorly.
    mapped = facts([pnen_obs("who-grade", **value)], "who-grade")
    assert [f.value for f in mapped] == [grade]
    record = facts_for([pnen_obs("who-grade", **value)])
    assert [f.value for f in record.all("differentiation")] == [differentiation]


def test_a_plain_g3_says_nothing_of_differentiation() -> None:
    assert not facts_for([pnen_obs("who-grade", valueString="G3")]).all("differentiation")


@pytest.mark.parametrize("text", ["G4", "high grade", "GX"])
def test_reported_grade_outside_g1_to_g3_gives_no_fact(text: str) -> None:
    assert facts([pnen_obs("who-grade", valueString=text)], "who-grade") == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (coded(PNEN, "well"), "well"),
        (coded(PNEN, "poorly"), "poorly"),
        ({"valueString": "Well differentiated"}, "well"),
        ({"valueString": "poorly differentiated"}, "poorly"),
        (coded(ICDO3, "8246/3"), "poorly"),
        (coded(ICDO3, "8041/3"), "poorly"),
        (coded(ICDO3, "8013/3"), "poorly"),
    ],
)
def test_differentiation_coded_string_or_icdo3_morphology(
    value: dict[str, Any], expected: str
) -> None:
    assert only(pnen_obs("differentiation", **value), "differentiation").value == expected


@pytest.mark.parametrize("morphology", ["8246/3", "8041/3", "8013/3"])
def test_nec_morphology_in_any_pathology_observation_is_poorly_differentiated(
    morphology: str,
) -> None:
    histology = observation((LOINC, "31205-8"), **coded(ICDO3, morphology))
    assert only(histology, "differentiation").value == "poorly"


def test_net_morphology_is_not_read_as_a_differentiation() -> None:
    assert facts([pnen_obs("differentiation", **coded(ICDO3, "8240/3"))], "differentiation") == ()


# --- site of a result -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("site", "expected"),
    [
        (LIVER_SITE, LIVER),
        (cc(ICDO3, "C22.0"), LIVER),
        (PANCREAS_SITE, PRIMARY),
        (cc(SNOMED, "15776009"), PRIMARY),
        (cc(ICDO3, "C25.2"), PRIMARY),
        (cc(SNOMED, "39607008", "Lung"), UNKNOWN_SITE),
    ],
)
def test_site_from_the_specimen_body_site(site: dict[str, Any], expected: str) -> None:
    resources = [specimen("sp-1", site), ki67_obs(specimen={"reference": "Specimen/sp-1"})]
    assert facts(resources, "ki67")[0].site == expected


@pytest.mark.parametrize(
    "ref",
    [
        "https://ehr.example.org/fhir/Specimen/sp-2",
        "Specimen/sp-2/_history/3",
    ],
)
def test_specimen_reference_may_be_absolute_or_versioned(ref: str) -> None:
    resources = [specimen("sp-2", LIVER_SITE), ki67_obs(specimen={"reference": ref})]
    assert facts(resources, "ki67")[0].site == LIVER


@pytest.mark.parametrize(("site", "expected"), [(LIVER_SITE, LIVER), (PANCREAS_SITE, PRIMARY)])
def test_a_contained_specimen_referenced_as_a_fragment_gives_its_site(
    site: dict[str, Any], expected: str
) -> None:
    # Held-out review h16: Observation.specimen {"reference": "#s1"} with the Specimen contained.
    obs = ki67_obs(specimen={"reference": "#s1"})
    obs["contained"] = [{"resourceType": "Specimen", "id": "s1", "collection": {"bodySite": site}}]
    assert facts([obs], "ki67")[0].site == expected


def test_a_fragment_reference_to_no_contained_specimen_leaves_the_site_unknown() -> None:
    obs = ki67_obs(specimen={"reference": "#missing"})
    obs["contained"] = [{"resourceType": "Specimen", "id": "s1"}]
    assert facts([obs], "ki67")[0].site == UNKNOWN_SITE


def test_specimen_site_comes_before_the_observation_body_site() -> None:
    resources = [
        specimen("sp-3", LIVER_SITE),
        ki67_obs(specimen={"reference": "Specimen/sp-3"}, bodySite=PANCREAS_SITE),
    ]
    assert facts(resources, "ki67")[0].site == LIVER


def test_specimen_without_a_body_site_falls_back_to_the_observation_body_site() -> None:
    resources = [
        specimen("sp-4", None),
        ki67_obs(specimen={"reference": "Specimen/sp-4"}, bodySite=PANCREAS_SITE),
    ]
    assert facts(resources, "ki67")[0].site == PRIMARY


@pytest.mark.parametrize(
    ("target", "expected"),
    [("Condition/pnen-1", PRIMARY), ("Condition/lm-1", LIVER), ("Condition/other", UNKNOWN_SITE)],
)
def test_site_from_focus_on_the_primary_or_liver_metastasis_condition(
    target: str, expected: str
) -> None:
    resources = [pnen(), liver_mets(), ki67_obs(focus=[{"reference": target}])]
    assert facts(resources, "ki67")[0].site == expected


@pytest.mark.parametrize(("target", "expected"), [("pnen-1", PRIMARY), ("lm-1", LIVER)])
def test_site_from_the_mcode_related_condition_extension(target: str, expected: str) -> None:
    extension = {
        "url": "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-related-condition",
        "valueReference": {"reference": f"Condition/{target}"},
    }
    resources = [pnen(), liver_mets(), ki67_obs(extension=[extension])]
    assert facts(resources, "ki67")[0].site == expected


def test_focus_may_be_an_absolute_reference() -> None:
    focus = [{"reference": "https://ehr.example.org/fhir/Condition/lm-1"}]
    resources = [pnen(), liver_mets(), ki67_obs(focus=focus)]
    assert facts(resources, "ki67")[0].site == LIVER


def test_site_is_unknown_without_specimen_body_site_or_focus() -> None:
    fact = facts([pnen(), liver_mets(), ki67_obs()], "ki67")[0]
    assert fact.site == UNKNOWN_SITE
    assert fact.text == "Ki-67 12 %"


def test_site_appears_in_the_fact_text() -> None:
    assert only(ki67_obs(bodySite=LIVER_SITE)).text == "Ki-67 12 % (liver metastasis)"
    assert only(ki67_obs(bodySite=PANCREAS_SITE)).text == "Ki-67 12 % (primary)"


def test_every_pathology_kind_carries_the_site() -> None:
    resources = [
        pnen_obs(
            "mitotic-count", valueQuantity={"value": 3, "unit": "/2 mm2"}, bodySite=LIVER_SITE
        ),
        pnen_obs("who-grade", valueString="G2", bodySite=LIVER_SITE),
        pnen_obs("differentiation", **coded(PNEN, "well"), bodySite=LIVER_SITE),
    ]
    mapped = facts_for(resources)
    for kind in ("mitotic-count", "who-grade", "differentiation"):
        assert [f.site for f in mapped.all(kind)] == [LIVER]


# --- result status ----------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["final", "amended", "corrected"])
def test_final_results_count_unflagged(status: str) -> None:
    assert only(ki67_obs(status=status)).flags == ()


def test_preliminary_result_counts_and_is_flagged() -> None:
    fact = only(ki67_obs(status="preliminary"))
    assert fact.flags == (PRELIMINARY,)
    assert "[preliminary]" in fact.evidence()


@pytest.mark.parametrize("status", ["entered-in-error", "cancelled", "registered"])
def test_results_not_final_or_preliminary_never_count(status: str) -> None:
    assert facts([ki67_obs(status=status)], "ki67") == ()


# --- body site of a drafted biopsy order -------------------------------------------------------
@pytest.mark.parametrize(
    ("sites", "expected"),
    [
        ([LIVER_SITE], {LIVER}),
        ([PANCREAS_SITE, LIVER_SITE], {PRIMARY, LIVER}),
        ([], set()),
        ([cc(SNOMED, "39607008")], set()),
    ],
)
def test_drafted_eus_biopsy_keeps_the_body_sites_it_names(
    sites: list[dict[str, Any]], expected: set[str]
) -> None:
    order = service_request("eus-fnb", rid="fnb")
    if sites:
        order["bodySite"] = sites
    (draft,), issues = map_drafts([order], terms())
    assert issues == ()
    assert draft.order is not None and draft.order.sites == frozenset(expected)
