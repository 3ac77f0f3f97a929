"""A record of resources → facts: one bad resource never loses the others."""

from __future__ import annotations

from fhir_mappings.bundles import read_page
from fhir_mappings.record import RecordMapper
from tests.fhir_builders import PATIENT_ID, TODAY, facts_for, ki67, pnen, terms


def test_resource_without_id_is_reported_and_others_kept() -> None:
    bad = ki67(5)
    del bad["id"]
    facts = facts_for([pnen(), bad, ki67(7)])
    assert [f.value.value for f in facts.all("ki67")] == [7]
    assert [(i.reference, i.problem) for i in facts.data_issues] == [
        ("Observation/?", "id: missing or not a FHIR id")
    ]


def test_non_object_resource_is_reported() -> None:
    facts = RecordMapper(terms()).map(PATIENT_ID, [("observations", 42)], TODAY)
    assert facts.data_issues[0].problem == "resource: expected an object"


def test_duplicate_resources_count_once() -> None:
    obs = ki67(5, rid="same")
    assert len(facts_for([obs, dict(obs)]).all("ki67")) == 1


def test_resources_of_another_patient_are_skipped() -> None:
    obs = ki67(5)
    obs["subject"] = {"reference": "Patient/other"}
    facts = facts_for([obs])
    assert not facts.has("ki67")
    assert facts.data_issues[0].problem == "subject is another patient"


def test_absolute_subject_reference_of_the_patient_counts() -> None:
    obs = ki67(5)
    obs["subject"] = {"reference": f"https://ehr.example/fhir/Patient/{PATIENT_ID}"}
    assert facts_for([obs]).has("ki67")


def test_resources_used_are_listed_for_the_audit_with_versions() -> None:
    obs = ki67(5, rid="k1")
    obs["meta"] = {"versionId": "3"}
    assert "Observation/k1/_history/3" in facts_for([obs]).resources_used


def test_has_pnen_is_a_cheap_first_look() -> None:
    mapper = RecordMapper(terms())
    assert mapper.has_pnen(PATIENT_ID, [("conditions", pnen())])
    assert not mapper.has_pnen(PATIENT_ID, [("observations", ki67(5))])


def test_prefetch_null_is_no_data_and_outcome_is_failure() -> None:
    assert read_page("k", None).resources == [] and not read_page("k", None).failed
    assert read_page("k", {"resourceType": "OperationOutcome", "issue": []}).failed


def test_bundle_with_error_outcome_entry_is_failure() -> None:
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {
                "resource": {"resourceType": "OperationOutcome", "issue": [{"severity": "error"}]},
                "search": {"mode": "outcome"},
            }
        ],
    }
    assert read_page("k", bundle).failed


def test_bundle_with_warning_outcome_entry_keeps_the_results() -> None:
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {
                "resource": {
                    "resourceType": "OperationOutcome",
                    "issue": [{"severity": "warning"}],
                },
                "search": {"mode": "outcome"},
            },
            {"resource": ki67(3)},
        ],
    }
    page = read_page("k", bundle)
    assert not page.failed and len(page.resources) == 1


def test_next_link_is_read() -> None:
    page = read_page("k", {"resourceType": "Bundle", "link": [{"relation": "next", "url": "u"}]})
    assert page.next_url == "u"
