"""Resources fetched from fhirServer in parallel are read in the request's language."""

from __future__ import annotations

from typing import Any

from cds_service.records import gather
from fhir_mappings.bundles import read_page
from pnen_i18n import use_locale


class _Server:
    """A FHIR client stand-in whose every search answers a Bundle with one broken entry."""

    def search(self, key: str, query: str) -> Any:
        bundle = {"resourceType": "Bundle", "type": "searchset", "entry": ["not an entry"]}
        return read_page(key, bundle)


def test_data_issues_of_pages_fetched_in_worker_threads_speak_the_request_language() -> None:
    templates = {"conditions": "Condition?patient={{context.patientId}}", "obs": "Observation"}
    with use_locale("zh-CN"):
        chinese = gather({}, templates, "p1", lambda: _Server())  # type: ignore[arg-type,return-value]
    english = gather({}, templates, "p1", lambda: _Server())  # type: ignore[arg-type,return-value]
    assert sorted(i.prefetch_key for i in chinese.issues) == ["conditions", "obs"]
    assert all(i.problem != j.problem for i, j in zip(chinese.issues, english.issues, strict=True))
    assert {i.problem for i in english.issues} == {"entry: expected an object"}
