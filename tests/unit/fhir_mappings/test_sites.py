"""Body sites of specimens and results: coded, ICD-O-3 topography in any form, or text."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings.sites import (
    LIVER,
    LYMPH_NODE,
    OTHER_ORGAN,
    PANCREAS,
    site_class,
    topography_site,
)
from tests.fhir_builders import SNOMED, cc, terms


@pytest.mark.parametrize(
    ("code", "site"),
    [
        ("C25.0", PANCREAS),
        ("C259", PANCREAS),
        ("C22.0", LIVER),
        ("C220", LIVER),
        ("C22", LIVER),
        ("C22.1", None),  # intrahepatic bile ducts: not the liver parenchyma
        ("C77.2", LYMPH_NODE),
        ("C50.9", OTHER_ORGAN),
        ("8240/3", None),  # a morphology, not a topography
        ("", None),
    ],
)
def test_icdo3_topography(code: str, site: str | None) -> None:
    assert topography_site(code) == site


@pytest.mark.parametrize(
    ("concept", "site"),
    [
        (cc(SNOMED, "10200004"), LIVER),
        (cc(SNOMED, "64163001"), PANCREAS),
        (cc(SNOMED, "59441001"), LYMPH_NODE),
        (cc(SNOMED, "76752008"), OTHER_ORGAN),
        (cc(SNOMED, "123456"), None),  # an unknown SNOMED site is never "another organ"
        ({"text": "Peripancreatic lymph node"}, LYMPH_NODE),
        ({"text": "Liver, right lobe"}, LIVER),
        ({"text": "pancreatic tail mass"}, PANCREAS),
        ({"text": "Breast, left, 2 o'clock"}, OTHER_ORGAN),
        ({"text": "胰腺"}, PANCREAS),
        ({"text": "淋巴结"}, LYMPH_NODE),
        ({"coding": [{"system": SNOMED, "code": "1", "display": "Liver structure"}]}, LIVER),
        ({"text": "delivery"}, None),  # whole words only
        (None, None),
        ("liver", None),  # not a CodeableConcept
    ],
)
def test_site_class_from_codes_and_text(concept: Any, site: str | None) -> None:
    assert site_class(concept, terms()) == site
