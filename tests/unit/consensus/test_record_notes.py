"""The summary card's words about the record: unreadable resources and attribution."""

from __future__ import annotations

from dataclasses import replace

from consensus.patient import Patient
from consensus.record_notes import record_notes, unreadable_lines
from consensus.settings import Settings
from fhir_mappings.facts import DataIssue
from tests.fhir_builders import TODAY, facts_for, pnen


def _with_issues(*issues: DataIssue) -> Patient:
    facts = replace(facts_for([pnen()]), data_issues=issues)
    return Patient(facts, TODAY, Settings())


def test_a_complete_record_adds_no_lines() -> None:
    assert record_notes(_with_issues()) == []


def test_one_unreadable_report_is_named_in_words() -> None:
    p = _with_issues(DataIssue("reports", "DiagnosticReport/path-1", "status: expected a string"))
    assert unreadable_lines(p) == [
        "- 1 report could not be fully read: DiagnosticReport/path-1 (what was unreadable is not "
        "used; see the data issues)"
    ]


def test_several_issues_of_one_resource_count_it_once() -> None:
    p = _with_issues(
        DataIssue("observations", "Observation/a", "valueQuantity: expected an object"),
        DataIssue("observations", "Observation/a", "effectiveDateTime: not a FHIR date"),
        DataIssue("observations", "Observation/b", "code: missing"),
    )
    (line,) = unreadable_lines(p)
    assert line.startswith("- 2 results could not be fully read: Observation/a, Observation/b ")


def test_long_lists_name_five_and_count_the_rest() -> None:
    p = _with_issues(*(DataIssue("procedures", f"Procedure/p{i}", "x") for i in range(8)))
    (line,) = unreadable_lines(p)
    assert "Procedure/p4 and 3 more" in line and "Procedure/p5" not in line


def test_entries_without_a_reference_are_counted_as_record_entries() -> None:
    p = _with_issues(DataIssue("conditions", "?", "resourceType: missing"))
    assert unreadable_lines(p)[0].startswith("- 1 record entry could not be fully read: ?")


def test_problem_text_never_reaches_the_card() -> None:
    p = _with_issues(DataIssue("reports", "DiagnosticReport/x", "conclusion: secret words"))
    assert "secret" not in " ".join(record_notes(p))
