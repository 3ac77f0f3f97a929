"""FHIR fetches stay under the FHIR base path and within bounds: page bytes, resources, deadline."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from cds_service import create_app
from cds_service.config import Config
from cds_service.fhir_client import FetchError, FetchLimit, FhirClient, remove_dot_segments
from fhir_mappings import bundles
from tests.support.cds_requests import hook_request, searchset
from tests.support.fhir_server import serve_fhir

PV = "/cds-services/pnen-patient-view"
PATIENT = {"resourceType": "Patient", "id": "p1"}
PNEN = {
    "resourceType": "Condition",
    "id": "pnen",
    "subject": {"reference": "Patient/p1"},
    "code": {"coding": [{"system": "http://snomed.info/sct", "code": "1290080008"}]},
}


def observations(count: int) -> list[dict[str, Any]]:
    """Plain Observations of the patient (about 200 bytes each)."""
    return [
        {
            "resourceType": "Observation",
            "id": f"obs-{n}",
            "status": "final",
            "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "29593-1"}]},
            "valueString": "x" * 40,
        }
        for n in range(count)
    ]


def make_app(tmp_path: Path, **overrides: Any) -> Flask:
    """--dev (loopback FHIR servers allowed) with fetch limits overridden."""
    return create_app(
        {"dev": True, "auth": "off", "database_url": f"sqlite:///{tmp_path / 's.sqlite3'}"}
        | overrides
    )


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[Flask]:
    app = make_app(tmp_path, fhir_max_page_bytes=20_000, fhir_max_resources=50)
    yield app
    app.extensions["pnen_cds"].store.close()


def _fetching(base: str, **prefetch: Any) -> dict[str, Any]:
    return hook_request(
        "patient-view",
        "p1",
        prefetch={"patient": PATIENT, "conditions": searchset([PNEN]), **prefetch},
        fhir_server=base,
        token="t",
    )


# Next links


@pytest.mark.parametrize(
    "link",
    [
        "{base}/../admin/secret",
        "{base}/Specimen/../../admin/secret",
        "{base}/%2e%2e/admin/secret",
        "{base}/%2E%2E%2Fadmin",
        "{base}/..;/admin/secret",
        "{base}/Specimen/..;x=1/..;/admin/secret",
        "{base}/%252e%252e/admin/secret",
        "{base}/%252E%252E%252Fadmin",
        "{base}/..%3b/admin/secret",
        "{base}evil/Specimen?page=2",
        "{base}",
    ],
)
def test_a_next_link_outside_the_fhir_base_path_is_never_requested(
    limited: Flask, link: str
) -> None:
    with serve_fhir([PATIENT, PNEN]) as (base, data):
        specimens = searchset([])
        specimens["link"] = [{"relation": "next", "url": link.format(base=base)}]
        response = limited.test_client().post(PV, json=_fetching(base, specimens=specimens))
        requested = list(data.requests)
    assert response.status_code == 412
    assert response.get_json()["missing"] == ["specimens"]
    assert not any("admin" in p or "evil" in p or p.rstrip("/") == "/fhir" for p in requested)


def test_a_next_link_under_the_base_path_is_followed_normalised(limited: Flask) -> None:
    with serve_fhir([PATIENT, PNEN]) as (base, data):
        specimens = searchset([])
        specimens["link"] = [{"relation": "next", "url": f"{base}/x/../Specimen?patient=p1"}]
        response = limited.test_client().post(PV, json=_fetching(base, specimens=specimens))
        requested = list(data.requests)
    assert response.status_code == 200, response.get_json()
    assert "/fhir/Specimen?patient=p1" in requested


@pytest.mark.parametrize(
    ("path", "normalised"),
    [
        ("/fhir/R4/../../admin/secret", "/admin/secret"),
        ("/fhir/R4/./Observation", "/fhir/R4/Observation"),
        ("/fhir/R4/a/..", "/fhir/R4/"),
        ("/../..", "/"),
        ("/fhir/R4/Observation", "/fhir/R4/Observation"),
    ],
)
def test_dot_segments_are_removed_as_rfc_3986_says(path: str, normalised: str) -> None:
    assert remove_dot_segments(path) == normalised


def test_a_link_to_a_sibling_path_sharing_the_base_prefix_is_refused() -> None:
    client = FhirClient(requests.Session(), "https://ehr.example/fhir/R4", None, 5, 5)
    assert client.confined("https://ehr.example/fhir/R4/Condition?x=1").endswith("?x=1")
    for url in (
        "https://ehr.example/fhir/R4evil/Condition",
        "https://user@ehr.example/fhir/R4/Condition",
        "http://ehr.example/fhir/R4/Condition",
        "https://ehr.example/fhir/R4/..%2fadmin",
        "https://ehr.example/fhir/R4/..\\admin",
        "https://ehr.example/fhir/R4/..;/admin",
        "https://ehr.example/fhir/R4/Condition;jsessionid=1",
        "https://ehr.example/fhir/R4/%252e%252e/admin",
    ):
        with pytest.raises(FetchError):
            client.confined(url)


# Bounds


def test_a_page_over_the_byte_cap_is_a_412_naming_the_limit(limited: Flask) -> None:
    with serve_fhir([PATIENT, PNEN, *observations(200)], page_size=1000) as (base, _):
        response = limited.test_client().post(PV, json=_fetching(base))
    assert response.status_code == 412
    body = response.get_json()
    assert "observations" in body["missing"]
    assert "a FHIR page over the 20000-byte limit" in body["error"]


def test_more_resources_than_the_cap_in_one_call_is_a_412_naming_the_limit(
    limited: Flask,
) -> None:
    with serve_fhir([PATIENT, PNEN, *observations(60)], page_size=20) as (base, _):
        response = limited.test_client().post(PV, json=_fetching(base))
    assert response.status_code == 412
    assert "more than 50 resources fetched in one call" in response.get_json()["error"]


def test_the_default_caps_match_the_request_limit_and_leave_room_for_big_records() -> None:
    config = Config()
    assert config.fhir_max_page_bytes == config.max_request_bytes == 5 * 1024 * 1024
    assert config.fhir_max_resources >= 20_000


def test_the_deadline_covers_parsing_the_page_too(monkeypatch: pytest.MonkeyPatch) -> None:
    slow_parse_seconds = 0.6
    real_read_page = bundles.read_page

    def slow_read_page(key: str, value: Any) -> bundles.Page:
        time.sleep(slow_parse_seconds)  # a page that parses slowly, after a quick download
        return real_read_page(key, value)

    monkeypatch.setattr("cds_service.fhir_client.read_page", slow_read_page)
    with serve_fhir([PATIENT]) as (base, _):
        client = FhirClient(requests.Session(), base, None, 0.3, 5)
        with pytest.raises(FetchLimit, match="over the 0.3-second deadline"):
            client.search("patient", "Patient?_id=p1")
